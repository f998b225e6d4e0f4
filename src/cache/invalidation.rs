//! Invalidation: what a key or prefix invalidation covers, the log of recent ones (so a computation
//! that overlapped one is not stored), and their delivery to every tier — retried later for a shared
//! tier that is away.

use super::*;

/// What an invalidation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scope {
    Key(String),
    Prefix(String),
}

impl Scope {
    pub(super) fn covers(&self, key: &str) -> bool {
        match self {
            Scope::Key(k) => k == key,
            Scope::Prefix(p) => key.starts_with(p.as_str()),
        }
    }

    /// `{instance}\t{k|p}\t{key or prefix}` on the channel.
    pub(super) fn message(&self, instance: &str) -> String {
        match self {
            Scope::Key(k) => format!("{instance}\tk\t{k}"),
            Scope::Prefix(p) => format!("{instance}\tp\t{p}"),
        }
    }

    pub(super) fn parse(message: &str) -> Option<(&str, Scope)> {
        let mut parts = message.splitn(3, '\t');
        let instance = parts.next()?;
        let kind = parts.next()?;
        let value = parts.next()?.to_string();
        match kind {
            "k" => Some((instance, Scope::Key(value))),
            "p" if !value.is_empty() => Some((instance, Scope::Prefix(value))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shared {
    Redis,
    Database,
}

#[derive(Debug, Default)]
pub(super) struct Recent {
    pub(super) seq: u64,
    pub(super) log: VecDeque<(u64, Scope)>,
}

impl Recent {
    pub(super) fn note(&mut self, scope: Scope) {
        self.seq += 1;
        self.log.push_back((self.seq, scope));
        if self.log.len() > RECENT_LOG {
            self.log.pop_front();
        }
    }

    /// Was `key` invalidated after `since` (conservatively yes when the log no longer reaches back)?
    pub(super) fn touched_since(&self, since: u64, key: &str) -> bool {
        if self.seq == since {
            return false;
        }
        match self.log.front() {
            Some((first, _)) if *first <= since + 1 => self
                .log
                .iter()
                .filter(|(seq, _)| *seq > since)
                .any(|(_, scope)| scope.covers(key)),
            _ => true,
        }
    }
}

impl Cache {
    pub(super) async fn invalidate_scope(&self, scope: Scope) {
        let inner = &*self.inner;
        if !inner.enabled {
            return;
        }
        self.start_background();
        bump(&inner.counters.invalidations);
        lock(&inner.recent).note(scope.clone());
        self.drop_local(&scope).await;
        if inner.redis.is_some() && !self.invalidate_redis(&scope).await {
            self.defer(Shared::Redis, scope.clone());
        }
        if !self.invalidate_sql(&scope).await {
            self.defer(Shared::Database, scope);
        }
    }

    pub(super) async fn drop_local(&self, scope: &Scope) {
        let inner = &*self.inner;
        match scope {
            Scope::Key(k) => {
                inner.l1.remove(k).await;
                inner.memory.remove(k).await;
            }
            Scope::Prefix(p) => {
                inner.l1.remove_prefix(p).await;
                inner.memory.remove_prefix(p).await;
            }
        }
    }

    pub(super) async fn invalidate_redis(&self, scope: &Scope) -> bool {
        let inner = &*self.inner;
        let Some(redis) = &inner.redis else {
            return true;
        };
        if !redis.is_available() {
            return false;
        }
        let message = scope.message(&inner.instance);
        let result = match scope {
            Scope::Key(k) => redis_tier::delete_and_publish(redis, k, &message).await,
            Scope::Prefix(p) => redis_tier::delete_prefix(redis, p, &message)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => true,
            Err(error) => {
                self.redis_failed(&error);
                false
            }
        }
    }

    pub(super) async fn invalidate_sql(&self, scope: &Scope) -> bool {
        let inner = &*self.inner;
        if !self.sql_available() {
            return false;
        }
        let result = match scope {
            Scope::Key(k) => sql::delete(&inner.db, k, SQL_TIMEOUT).await,
            Scope::Prefix(p) => sql::delete_prefix(&inner.db, p, SQL_TIMEOUT)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => {
                self.sql_ok();
                true
            }
            Err(error) => {
                self.sql_failed(&error);
                false
            }
        }
    }

    pub(super) fn defer(&self, tier: Shared, scope: Scope) {
        let inner = &*self.inner;
        let mut pending = lock(&inner.pending);
        if pending.iter().any(|(t, s)| *t == tier && *s == scope) {
            return;
        }
        if pending.len() >= MAX_PENDING {
            pending.pop_front();
            if !inner.pending_overflowed.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "cache: too many invalidations waiting for a tier to come back; the oldest are \
                     dropped (their entries expire with their TTL)"
                );
            }
        }
        pending.push_back((tier, scope));
    }

    /// Retries deferred invalidations on the tiers that answer again.
    pub(super) async fn replay_pending(&self) {
        let inner = &*self.inner;
        let batch: Vec<(Shared, Scope)> = lock(&inner.pending).drain(..).collect();
        if batch.is_empty() {
            return;
        }
        let mut redis_ok = inner.redis.as_ref().is_some_and(|r| r.is_available());
        let mut sql_ok = self.sql_available();
        for (tier, scope) in batch {
            let done = match tier {
                Shared::Redis if redis_ok => {
                    redis_ok = self.invalidate_redis(&scope).await;
                    redis_ok
                }
                Shared::Database if sql_ok => {
                    sql_ok = self.invalidate_sql(&scope).await;
                    sql_ok
                }
                _ => false,
            };
            if !done {
                self.defer(tier, scope);
            }
        }
        if lock(&inner.pending).is_empty() {
            inner.pending_overflowed.store(false, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_match() {
        let key = Scope::Key("catalog:list:1".into());
        let message = key.message("me");
        assert_eq!(Scope::parse(&message), Some(("me", key.clone())));
        assert!(key.covers("catalog:list:1"));
        assert!(!key.covers("catalog:list:10"));
        let prefix = Scope::Prefix("catalog:list:".into());
        assert!(prefix.covers("catalog:list:10"));
        assert!(!prefix.covers("catalog:lists"));
        assert_eq!(
            Scope::parse(&prefix.message("x")),
            Some(("x", prefix.clone()))
        );
        assert_eq!(
            Scope::parse("x\tp\t"),
            None,
            "an empty prefix is never accepted"
        );
        assert_eq!(Scope::parse("garbage"), None);
    }

    #[test]
    fn recent_log_answers_touched_since() {
        let mut recent = Recent::default();
        let start = recent.seq;
        assert!(!recent.touched_since(start, "a"));
        recent.note(Scope::Key("b".into()));
        assert!(!recent.touched_since(start, "a"));
        assert!(recent.touched_since(start, "b"));
        recent.note(Scope::Prefix("a".into()));
        assert!(recent.touched_since(start, "abc"));
        let later = recent.seq;
        assert!(!recent.touched_since(later, "abc"));
        for i in 0..(RECENT_LOG + 5) {
            recent.note(Scope::Key(format!("other{i}")));
        }
        // The log no longer reaches back to `later`: conservatively touched.
        assert!(recent.touched_since(later, "zzz"));
    }
}
