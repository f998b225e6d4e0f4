-- Fulfilment checklists (contract-B §2.5–2.6, §11.2): one per order, built once at assignment.
CREATE TABLE order_checklists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   INTEGER NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);

CREATE TABLE checklist_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    checklist_id  INTEGER NOT NULL REFERENCES order_checklists (id) ON DELETE CASCADE,
    -- The template row it was copied from (deleting the template keeps the copied item).
    template_item INTEGER REFERENCES checklist_template_items (id) ON DELETE SET NULL,
    description   TEXT NOT NULL,
    completed     BOOLEAN NOT NULL DEFAULT 0,
    completed_at  TEXT,
    completed_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    order_index   INTEGER NOT NULL,
    is_optional   BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX checklist_items_checklist ON checklist_items (checklist_id, order_index);
CREATE INDEX checklist_items_template ON checklist_items (template_item);

-- The admin list's filters and search (D1: newest first, bounded).
CREATE INDEX orders_payment_status ON orders (payment_status);
CREATE INDEX orders_source ON orders (order_source);

-- A manual order's customer address, as taken on the phone (shown on the detail and the invoice).
ALTER TABLE orders ADD COLUMN customer_address TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN customer_city TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN customer_state TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN customer_pincode TEXT NOT NULL DEFAULT '';
