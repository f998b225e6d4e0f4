-- The catalog (contract-A §4.1). Money is integer paise. Django's generic relations become
-- (product_type, product_id) pairs with product_type in ('package', 'campaign').
CREATE TABLE packages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    price_paise   BIGINT NOT NULL,
    description   TEXT NOT NULL,
    features      TEXT NOT NULL,
    deliverables  TEXT NOT NULL,
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    is_popular    BOOLEAN NOT NULL DEFAULT 0,
    popular_order INTEGER NOT NULL DEFAULT 0,
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX packages_popular ON packages (is_popular, popular_order);
CREATE INDEX packages_created_at ON packages (created_at);

CREATE TABLE package_items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    quantity   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX package_items_package ON package_items (package_id);

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    price_paise   BIGINT NOT NULL,
    unit          TEXT NOT NULL,
    description   TEXT NOT NULL,
    features      TEXT NOT NULL,
    deliverables  TEXT NOT NULL,
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    is_popular    BOOLEAN NOT NULL DEFAULT 0,
    popular_order INTEGER NOT NULL DEFAULT 0,
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX campaigns_popular ON campaigns (is_popular, popular_order);
CREATE INDEX campaigns_created_at ON campaigns (created_at);

CREATE TABLE product_audit_logs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    product_type TEXT NOT NULL CHECK (product_type IN ('package', 'campaign')),
    product_id   INTEGER NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'activate', 'deactivate')),
    user_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    changes      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX product_audit_logs_product ON product_audit_logs (product_type, product_id);

CREATE TABLE resource_field_definitions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    product_type       TEXT NOT NULL CHECK (product_type IN ('package', 'campaign')),
    product_id         INTEGER NOT NULL,
    field_name         TEXT NOT NULL,
    field_type         TEXT NOT NULL CHECK (field_type IN ('image', 'text', 'number', 'document', 'phone', 'date')),
    is_required        BOOLEAN NOT NULL DEFAULT 1,
    sort_order         INTEGER NOT NULL DEFAULT 0,
    help_text          TEXT NOT NULL DEFAULT '',
    max_file_size_mb   INTEGER,
    max_length         INTEGER,
    min_value          INTEGER,
    max_value          INTEGER,
    allowed_extensions TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    UNIQUE (product_type, product_id, field_name)
);
CREATE INDEX resource_field_definitions_product ON resource_field_definitions (product_type, product_id);

CREATE TABLE checklist_template_items (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    product_type               TEXT NOT NULL CHECK (product_type IN ('package', 'campaign')),
    product_id                 INTEGER NOT NULL,
    name                       TEXT NOT NULL,
    description                TEXT NOT NULL,
    sort_order                 INTEGER NOT NULL DEFAULT 0,
    is_optional                BOOLEAN NOT NULL DEFAULT 0,
    estimated_duration_minutes INTEGER,
    created_at                 TEXT NOT NULL
);
CREATE INDEX checklist_template_items_product ON checklist_template_items (product_type, product_id);

CREATE TABLE product_images (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    product_type   TEXT NOT NULL CHECK (product_type IN ('package', 'campaign')),
    product_id     INTEGER NOT NULL,
    file_name      TEXT NOT NULL,
    thumbnail_name TEXT,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    is_primary     BOOLEAN NOT NULL DEFAULT 0,
    sort_order     INTEGER NOT NULL DEFAULT 0,
    alt_text       TEXT NOT NULL DEFAULT '',
    uploaded_at    TEXT NOT NULL
);
CREATE INDEX product_images_product ON product_images (product_type, product_id);
