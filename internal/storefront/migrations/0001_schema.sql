-- 0001: products and carts.
--
-- Times are INTEGER microseconds since the Unix epoch, UTC. Prices are
-- INTEGER cents: no floating point near money.

CREATE TABLE products (
    sku         TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    position    INTEGER NOT NULL DEFAULT 0 -- listing order
) STRICT;

-- One row per user and product. user_id is the sub claim of the user's
-- Latch JWT; the storefront keeps no other trace of its users.
CREATE TABLE cart_items (
    user_id  TEXT    NOT NULL,
    sku      TEXT    NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added    INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    PRIMARY KEY (user_id, sku)
) STRICT;
CREATE INDEX cart_items_sku ON cart_items (sku);
