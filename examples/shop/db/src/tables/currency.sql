-- Reference data that only migrations change: inheriting hectic.immutable blocks
-- INSERT/UPDATE/DELETE/TRUNCATE outside `SET LOCAL hectic.migration_mode = 'on'`.
CREATE TABLE IF NOT EXISTS shop.currency (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    name        text NOT NULL,
    minor_units smallint NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
) INHERITS (hectic.created_at, hectic.immutable);
