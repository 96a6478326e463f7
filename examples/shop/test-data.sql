-- test-data.sql: data for your local database, applied by `database patch`
-- (and by `database deploy` after the sources are hydrated, unless -P/--no-patch).
-- Re-runnable: applying it twice changes nothing.

INSERT INTO shop.customer (email, name) VALUES
    ('ada@example.com', 'Ada Lovelace'),
    ('alan@example.com', 'Alan Turing')
ON CONFLICT (email) DO NOTHING;

INSERT INTO shop.product (sku, name, price_minor, currency) VALUES
    ('BOOK-SQL', 'SQL for smarties', 3900, 'EUR'),
    ('PEN-BLUE', 'Blue pen', 250, 'EUR')
ON CONFLICT (sku) DO NOTHING;

-- One open order for Ada, made once.
INSERT INTO shop.customer_order (customer_id, note)
SELECT c.id, 'first order'
  FROM shop.customer AS c
 WHERE c.email = 'ada@example.com'
   AND NOT EXISTS (SELECT 1 FROM shop.customer_order AS o WHERE o.customer_id = c.id);

INSERT INTO shop.order_line (order_id, product_id, quantity)
SELECT o.id, p.id, q.quantity
  FROM shop.customer_order AS o
  JOIN shop.customer AS c ON c.id = o.customer_id AND c.email = 'ada@example.com'
  JOIN (VALUES ('BOOK-SQL', 1), ('PEN-BLUE', 4)) AS q (sku, quantity) ON true
  JOIN shop.product AS p ON p.sku = q.sku
ON CONFLICT (order_id, product_id) DO NOTHING;
