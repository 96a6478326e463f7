-- Rows of an immutable table change only in migration mode, for one transaction.
BEGIN;
SET LOCAL hectic.migration_mode = 'on';
INSERT INTO shop.currency (code, name, minor_units) VALUES
    ('EUR', 'Euro', 2),
    ('JPY', 'Japanese yen', 0),
    ('USD', 'US dollar', 2)
ON CONFLICT (code) DO NOTHING;
COMMIT;
