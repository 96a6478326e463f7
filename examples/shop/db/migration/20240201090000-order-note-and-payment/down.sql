DROP FUNCTION shop.payment_gateway_configured();
ALTER TABLE shop.customer_order DROP COLUMN note;
