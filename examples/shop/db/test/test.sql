-- Tests of the shop database, printed as TAP (https://testanything.org).
-- `database test` runs this file like pg_prove does (psql unaligned, tuples only), so
-- every SELECT below prints one bare `ok N - …` / `not ok N - …` line.
-- Everything runs in one transaction that is rolled back: the database is untouched.

BEGIN;

-- ok(n, pass, description): one TAP line; a NULL result counts as a failure.
CREATE FUNCTION pg_temp.ok(n integer, pass boolean, description text)
RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN pass THEN '' ELSE 'not ' END || 'ok ' || n || ' - ' || description
$$;

-- raises(statement): true when the statement fails (its effects are undone).
CREATE FUNCTION pg_temp.raises(statement text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN false;
EXCEPTION WHEN OTHERS THEN
    RETURN true;
END
$$;

\echo 1..8

SELECT pg_temp.ok(1,
    (SELECT array_agg(code ORDER BY code) FROM shop.currency) = ARRAY['EUR', 'JPY', 'USD'],
    'the currencies are loaded');

SELECT pg_temp.ok(2,
    pg_temp.raises($$UPDATE shop.currency SET name = 'Euro!' WHERE code = 'EUR'$$),
    'currencies are immutable outside migration mode');

SELECT pg_temp.ok(3,
    NOT EXISTS (
        SELECT 1 FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE n.nspname = 'shop' AND c.relkind = 'r'
           AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i
                            WHERE i.inhrelid = c.oid AND i.inhparent = 'hectic.created_at'::regclass)),
    'every shop table inherits hectic.created_at');

-- Fixtures of the tests below (rolled back with everything else).
INSERT INTO shop.customer (email, name) VALUES ('test@example.com', 'Test');
INSERT INTO shop.product (sku, name, price_minor, currency) VALUES ('TEST-A', 'A', 1000, 'EUR'), ('TEST-B', 'B', 250, 'EUR');
INSERT INTO shop.customer_order (customer_id)
    SELECT id FROM shop.customer WHERE email = 'test@example.com';
INSERT INTO shop.order_line (order_id, product_id, quantity)
    SELECT o.id, p.id, q
      FROM shop.customer_order AS o
      JOIN shop.customer AS c ON c.id = o.customer_id AND c.email = 'test@example.com'
      JOIN (VALUES ('TEST-A', 2), ('TEST-B', 3)) AS v (sku, q) ON true
      JOIN shop.product AS p ON p.sku = v.sku;

SELECT pg_temp.ok(4,
    (SELECT created_at IS NOT NULL AND status = 'open' FROM shop.customer_order
      WHERE customer_id = (SELECT id FROM shop.customer WHERE email = 'test@example.com')),
    'a new order is open and has created_at');

UPDATE shop.customer SET name = 'Tested', updated_at = '2000-01-01' WHERE email = 'test@example.com';
SELECT pg_temp.ok(5,
    (SELECT updated_at > '2000-01-01' FROM shop.customer WHERE email = 'test@example.com'),
    'updating a customer sets updated_at');

SELECT pg_temp.ok(6,
    (SELECT shop.order_total(o.id) FROM shop.customer_order AS o
       JOIN shop.customer AS c ON c.id = o.customer_id AND c.email = 'test@example.com') = 2750,
    'order_total sums quantity × price');

SELECT pg_temp.ok(7,
    pg_temp.raises($$UPDATE shop.customer_order SET status = 'lost'$$),
    'an unknown order status is rejected');

-- A secret is only there when hydrate loaded a dotenv file: skip the test otherwise.
SELECT CASE
         WHEN hectic.get_secret('PAYMENT_API_KEY') IS NULL
           THEN 'ok 8 - payment gateway configured # SKIP no dotenv file loaded (ENVIRONMENT=example loads .env.example)'
         ELSE pg_temp.ok(8, shop.payment_gateway_configured(), 'payment gateway configured')
       END;

ROLLBACK;
