-- Secrets come from the dotenv file hydrate loads (ENVIRONMENT=example reads
-- $LOCAL_DIR/.env.example); they are stored encrypted and read with hectic.get_secret.
CREATE OR REPLACE FUNCTION shop.payment_gateway_configured()
RETURNS boolean
LANGUAGE sql
STABLE
AS $$
    SELECT hectic.get_secret('PAYMENT_API_KEY') IS NOT NULL
$$;
