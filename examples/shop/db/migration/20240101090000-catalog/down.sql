DROP TABLE shop.product;
DROP TABLE shop.customer;
DROP TABLE shop.currency;
DROP SCHEMA shop;
