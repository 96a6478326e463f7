-- A free-text note on orders, and whether the payment gateway's key is configured.
ALTER TABLE shop.customer_order ADD COLUMN note text;

CREATE FUNCTION shop.payment_gateway_configured()
RETURNS boolean
LANGUAGE sql
STABLE
AS $$
    SELECT hectic.get_secret('PAYMENT_API_KEY') IS NOT NULL
$$;
