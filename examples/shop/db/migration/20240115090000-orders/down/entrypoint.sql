DROP FUNCTION shop.order_total(bigint);
DROP TABLE shop.order_line;
DROP TABLE shop.customer_order;
