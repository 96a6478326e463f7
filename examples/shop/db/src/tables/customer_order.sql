CREATE TABLE IF NOT EXISTS shop.customer_order (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customer (id),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'shipped', 'cancelled')),
    note        text
) INHERITS (hectic.created_at, hectic.updated_at);

CREATE TABLE IF NOT EXISTS shop.order_line (
    order_id   bigint NOT NULL REFERENCES shop.customer_order (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES shop.product (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
) INHERITS (hectic.created_at);
