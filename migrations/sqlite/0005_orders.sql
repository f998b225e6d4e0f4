-- Orders and payments (contract-B §2.1–2.2, §2.7–2.9; D6, D18, D20). Money is integer paise.
CREATE TABLE orders (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER NOT NULL REFERENCES users (id),
    order_number         TEXT NOT NULL UNIQUE,
    total_paise          INTEGER NOT NULL CHECK (total_paise >= 0),
    status               TEXT NOT NULL DEFAULT 'pending_payment',
    payment_status       TEXT NOT NULL DEFAULT 'unpaid',
    razorpay_order_id    TEXT NOT NULL DEFAULT '',
    -- D18: one payment pays one order.
    razorpay_payment_id  TEXT UNIQUE,
    razorpay_signature   TEXT,
    payment_completed_at TEXT,
    assigned_to          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    is_manual_order      BOOLEAN NOT NULL DEFAULT 0,
    order_source         TEXT NOT NULL DEFAULT 'website',
    created_by           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    payment_reference    TEXT NOT NULL DEFAULT '',
    priority             TEXT NOT NULL DEFAULT 'normal',
    admin_notes          TEXT NOT NULL DEFAULT '',
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX orders_user_created ON orders (user_id, created_at DESC);
CREATE INDEX orders_created ON orders (created_at DESC);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_assigned_to ON orders (assigned_to);
CREATE INDEX orders_razorpay_order ON orders (razorpay_order_id) WHERE razorpay_order_id <> '';

CREATE TABLE order_items (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id           INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_type       TEXT NOT NULL CHECK (product_type IN ('package', 'campaign')),
    product_id         INTEGER NOT NULL,
    -- The product's name when the order was made (the live name is shown while the product exists).
    product_name       TEXT NOT NULL DEFAULT '',
    quantity           INTEGER NOT NULL CHECK (quantity >= 1),
    price_paise        INTEGER NOT NULL CHECK (price_paise >= 0),
    resources_uploaded BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX order_items_order ON order_items (order_id);

CREATE TABLE order_status_history (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    old_status       TEXT NOT NULL,
    new_status       TEXT NOT NULL,
    changed_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    changed_at       TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    is_manual_change BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, changed_at DESC);

-- One per order: the Razorpay payment and the invoice number (assigned once, D5).
CREATE TABLE payment_history (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id             INTEGER NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    payment_method       TEXT NOT NULL DEFAULT 'Razorpay',
    transaction_id       TEXT NOT NULL UNIQUE,
    amount_paise         INTEGER NOT NULL,
    currency             TEXT NOT NULL DEFAULT 'INR',
    status               TEXT NOT NULL DEFAULT 'pending',
    payment_date         TEXT NOT NULL,
    invoice_generated_at TEXT,
    invoice_number       TEXT NOT NULL UNIQUE,
    metadata             TEXT NOT NULL DEFAULT '{}',
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX payment_history_date ON payment_history (payment_date DESC);

-- Manual or partial payments recorded by staff (cash, UPI, …).
CREATE TABLE payment_records (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id          INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount_paise      INTEGER NOT NULL,
    payment_method    TEXT NOT NULL DEFAULT 'cash',
    payment_reference TEXT NOT NULL DEFAULT '',
    payment_proof     TEXT,
    recorded_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at       TEXT NOT NULL,
    notes             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payment_records_order ON payment_records (order_id, recorded_at DESC);

-- Razorpay webhook deliveries already handled (at-least-once delivery; dedup on x-razorpay-event-id).
CREATE TABLE webhook_events (
    event_id    TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- `Idempotency-Key` on order creation: the first answer, replayed for a repeat.
CREATE TABLE order_idempotency (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key   TEXT NOT NULL,
    order_id   INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    response   TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
