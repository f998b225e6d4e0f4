-- Campaign resources (contract-B §2.3–2.4) and in-app notifications (§2.10).
-- The legacy fixed form: one per order item.
CREATE TABLE order_resources (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    order_item_id    INTEGER NOT NULL UNIQUE REFERENCES order_items (id) ON DELETE CASCADE,
    candidate_photo  TEXT NOT NULL,
    party_logo       TEXT NOT NULL,
    campaign_slogan  TEXT NOT NULL,
    preferred_date   TEXT NOT NULL,
    whatsapp_number  TEXT NOT NULL,
    additional_notes TEXT NOT NULL DEFAULT '',
    uploaded_at      TEXT NOT NULL
);

-- Dynamic-field submissions: one per (item, field); a definition with submissions cannot be deleted.
CREATE TABLE resource_submissions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_item_id INTEGER NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    field_id      INTEGER NOT NULL REFERENCES resource_field_definitions (id),
    text_value    TEXT,
    number_value  INTEGER,
    -- A generated storage name (area `resources`), never a client's file name.
    file_value    TEXT,
    uploaded_at   TEXT NOT NULL,
    UNIQUE (order_item_id, field_id)
);
CREATE INDEX resource_submissions_field ON resource_submissions (field_id);

CREATE TABLE notifications (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_type TEXT NOT NULL,
    title             TEXT NOT NULL,
    message           TEXT NOT NULL,
    order_id          INTEGER REFERENCES orders (id) ON DELETE CASCADE,
    is_read           BOOLEAN NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL
);
CREATE INDEX notifications_user_created ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_order ON notifications (order_id);
