-- Platform tables shared by every feature: the SQL tier of the cache (D21) and the
-- rate-limit buckets used when Redis is absent (D17).
CREATE TABLE cache_entries (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL -- unix milliseconds
);
CREATE INDEX cache_entries_expires_at ON cache_entries (expires_at);

CREATE TABLE rate_limit_buckets (
    key        TEXT PRIMARY KEY NOT NULL,
    tat_ms     INTEGER NOT NULL, -- GCRA theoretical arrival time, unix milliseconds
    expires_at INTEGER NOT NULL  -- unix milliseconds
);
CREATE INDEX rate_limit_buckets_expires_at ON rate_limit_buckets (expires_at);
