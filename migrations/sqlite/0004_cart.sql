-- The cart (contract-A §5): one cart per user, one line per product, quantity 1..1000 per line.
CREATE TABLE carts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE cart_items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    cart_id      INTEGER NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_type TEXT NOT NULL CHECK (product_type IN ('package', 'campaign')),
    product_id   INTEGER NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity >= 1),
    added_at     TEXT NOT NULL,
    UNIQUE (cart_id, product_type, product_id)
);
