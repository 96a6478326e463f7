-- Orders, in several files joined with \ir (relative to this file).
\ir tables.sql
\ir order_total.sql
