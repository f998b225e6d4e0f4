//! Background work: the invalidation subscriber's callbacks and the once-a-second maintenance loop
//! (deferred invalidations, sweeping expired rows of the cache table).

use super::*;

impl Cache {
    pub(super) fn start_background(&self) {
        let inner = &*self.inner;
        if inner.background_started.load(Ordering::Acquire) || !inner.enabled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if inner.background_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        runtime.spawn(maintenance(weak.clone(), inner.stop.subscribe()));
        if let Some(redis) = &inner.redis {
            runtime.spawn(pubsub::run(
                weak,
                redis.client().clone(),
                redis_tier::channel(redis),
                redis.timeout(),
                inner.stop.subscribe(),
            ));
        }
    }
}

impl Inner {
    /// The invalidation channel is (re)subscribed: messages may have been missed, so the L1 starts
    /// empty.
    pub(super) fn subscribed(&self) {
        self.l1_generation.fetch_add(1, Ordering::AcqRel);
        self.l1.clear();
        if let Some(redis) = &self.redis {
            self.l1_outages_seen
                .store(redis.outages(), Ordering::Release);
        }
        self.l1_live.store(true, Ordering::Release);
        tracing::info!("cache invalidation channel subscribed; L1 on");
    }

    pub(super) fn unsubscribed(&self, why: &'static str) {
        self.l1_live.store(false, Ordering::Release);
        self.l1_generation.fetch_add(1, Ordering::AcqRel);
        self.l1.clear();
        // Usually Redis itself went away, and its breaker logs that WARN; the subscriber warns if
        // it cannot come back while Redis answers.
        tracing::info!(
            why,
            "cache invalidation channel lost; L1 off until it reconnects"
        );
    }

    pub(super) async fn on_message(&self, payload: &str) {
        let Some((instance, scope)) = Scope::parse(payload) else {
            tracing::debug!("cache invalidation channel: unknown message");
            return;
        };
        if instance == self.instance {
            return;
        }
        lock(&self.recent).note(scope.clone());
        match &scope {
            Scope::Key(k) => {
                self.l1.remove(k).await;
                self.memory.remove(k).await;
            }
            Scope::Prefix(p) => {
                self.l1.remove_prefix(p).await;
                self.memory.remove_prefix(p).await;
            }
        }
    }
}

/// Once a second: retry deferred invalidations; now and then sweep expired rows from the table.
pub(super) async fn maintenance(weak: Weak<Inner>, mut stop: watch::Receiver<()>) {
    // Connect early (and learn whether Redis is there) instead of on the first request.
    if let Some(inner) = weak.upgrade()
        && let Some(redis) = inner.redis.clone()
    {
        drop(inner);
        let _ = redis
            .run(|mut conn| async move {
                redis::cmd("PING")
                    .query_async::<redis::Value>(&mut conn)
                    .await
            })
            .await;
    }
    let mut tick = tokio::time::interval(MAINTENANCE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        ticks += 1;
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let cache = Cache { inner };
        if let Some(redis) = &cache.inner.redis
            && !redis.is_available()
        {
            redis.poke();
        }
        cache.replay_pending().await;
        if ticks.is_multiple_of(SWEEP_EVERY_TICKS)
            && cache.inner.sql_used.load(Ordering::Relaxed)
            && cache.sql_available()
        {
            match sql::sweep(&cache.inner.db, now_ms(), SQL_TIMEOUT).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "cache table: expired rows deleted"),
                Ok(_) => {}
                Err(error) => cache.sql_failed(&error),
            }
        }
    }
}
