-- 0002: the catalogue a new storefront starts with. Applied once, on the
-- first start; an operator's later changes to products are kept.

INSERT INTO products (sku, name, price_cents, position) VALUES
    ('latch-mug',      'Latch mug',              1200, 1),
    ('latch-tshirt',   'Latch T-shirt',          2500, 2),
    ('latch-hoodie',   'Latch hoodie',           4900, 3),
    ('latch-cap',      'Latch cap',              1800, 4),
    ('sticker-pack',   'Sticker pack',            400, 5),
    ('jwt-handbook',   'The JWT handbook',       2900, 6);
