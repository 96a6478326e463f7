-- The shop database, declared: `database hydrate` runs this file through psql
-- (ON_ERROR_STOP), after the hectic bundle and the dotenv secrets are loaded.
-- Every table inherits hectic.created_at (the bundle's event trigger insists).
-- The files are re-runnable, so `database hydrate` also works on a built database.

\ir schema.sql

\ir tables/currency.sql
\ir tables/customer.sql
\ir tables/product.sql
\ir tables/customer_order.sql

\ir functions/order_total.sql
\ir functions/payment.sql

\ir data/currency.sql

-- `database hydrate --mock` (and deploy/check --mock) pass -v USE_MOCK=1.
\if :{?USE_MOCK}
  \echo 'loading mock data (USE_MOCK)'
  \ir mock/catalog.sql
\endif
