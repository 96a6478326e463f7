-- Mock catalogue for demos and UI work; loaded only with USE_MOCK (hydrate --mock).
INSERT INTO shop.product (sku, name, price_minor, currency) VALUES
    ('MOCK-MUG', 'Mock mug', 1200, 'EUR'),
    ('MOCK-TEE', 'Mock T-shirt', 2500, 'EUR'),
    ('MOCK-CAP', 'Mock cap', 1800, 'USD')
ON CONFLICT (sku) DO NOTHING;
