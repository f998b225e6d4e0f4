-- Accounts (contract-A §3.1). role is the only authority (D14); phone "" is stored as NULL (D15);
-- deleting a user deactivates it (D16).
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT NOT NULL UNIQUE,
    password            TEXT NOT NULL,
    email               TEXT NOT NULL DEFAULT '',
    first_name          TEXT NOT NULL DEFAULT '',
    last_name           TEXT NOT NULL DEFAULT '',
    phone_number        TEXT UNIQUE,
    firebase_uid        TEXT UNIQUE,
    role                TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'staff', 'admin')),
    is_active           BOOLEAN NOT NULL DEFAULT 1,
    last_login          TEXT,
    password_changed_at INTEGER, -- unix seconds; tokens issued before it are void
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX users_role ON users (role);
CREATE INDEX users_created_at ON users (created_at);
