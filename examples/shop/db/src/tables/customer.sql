-- hectic.updated_at: the bundle attaches a BEFORE UPDATE trigger keeping updated_at current.
CREATE TABLE IF NOT EXISTS shop.customer (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name  text NOT NULL
) INHERITS (hectic.created_at, hectic.updated_at);
