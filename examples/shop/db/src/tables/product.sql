CREATE TABLE IF NOT EXISTS shop.product (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    currency    text NOT NULL REFERENCES shop.currency (code)
) INHERITS (hectic.created_at, hectic.updated_at);
