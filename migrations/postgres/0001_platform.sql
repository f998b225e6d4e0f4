-- Platform tables shared by every feature: the SQL tier of the cache (D21) and the
-- rate-limit buckets used when Redis is absent (D17).
CREATE TABLE cache_entries (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    expires_at BIGINT NOT NULL -- unix milliseconds
);
CREATE INDEX cache_entries_expires_at ON cache_entries (expires_at);

-- One row per counted request: an exact sliding-window log, shared by every instance.
CREATE TABLE rate_limit_hits (
    key    TEXT NOT NULL,
    hit_ms BIGINT NOT NULL -- unix milliseconds
);
CREATE INDEX rate_limit_hits_key_hit ON rate_limit_hits (key, hit_ms);
