-- The catalogue: currencies (immutable reference data), customers, products.
-- The migrator runs each migration in its own transaction, so SET LOCAL lasts until it commits.
CREATE SCHEMA shop;

CREATE TABLE shop.currency (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    name        text NOT NULL,
    minor_units smallint NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
) INHERITS (hectic.created_at, hectic.immutable);

SET LOCAL hectic.migration_mode = 'on';
INSERT INTO shop.currency (code, name, minor_units) VALUES
    ('EUR', 'Euro', 2),
    ('JPY', 'Japanese yen', 0),
    ('USD', 'US dollar', 2);

CREATE TABLE shop.customer (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name  text NOT NULL
) INHERITS (hectic.created_at, hectic.updated_at);

CREATE TABLE shop.product (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    currency    text NOT NULL REFERENCES shop.currency (code)
) INHERITS (hectic.created_at, hectic.updated_at);
