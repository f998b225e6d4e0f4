//! Live events between the parts of the app and across instances: "user N has new notifications"
//! (what the bell's server-sent-event stream waits for). Every instance keeps an in-process
//! broadcast; with Redis configured, each publish also goes out on `{REDIS_KEY_PREFIX}events:notify`
//! and a background subscriber forwards other instances' messages into the local broadcast. Without
//! Redis (or while it is down) events stay on the instance that made them; the bell's 30 s polling
//! still sees everything.

use std::{
    sync::{
        Arc, Weak,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::redis_conn::Redis;

/// Waiting wakes a slow stream may fall behind by before it re-reads (it loses nothing: a stream
/// reads the rows after the last one it sent).
const CAPACITY: usize = 1024;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often a quiet subscriber checks that the app still exists.
const IDLE_CHECK: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    local: broadcast::Sender<i64>,
    /// Tells this instance's own messages apart on the shared channel.
    instance: String,
    redis: Option<Arc<Redis>>,
    channel: String,
    streams: AtomicI64,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("redis", &self.inner.redis.is_some())
            .field("streams", &self.streams())
            .finish()
    }
}

/// Counts one open stream while it lives.
pub struct StreamGuard(Arc<Inner>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Events {
    /// Starts the Redis subscriber when Redis is configured and a runtime is running.
    pub fn new(redis: Option<Arc<Redis>>) -> Self {
        let channel = redis
            .as_ref()
            .map(|r| r.key("events:notify"))
            .unwrap_or_default();
        let (local, _) = broadcast::channel(CAPACITY);
        let inner = Arc::new(Inner {
            local,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            redis,
            channel,
            streams: AtomicI64::new(0),
        });
        if let (Some(redis), Ok(runtime)) =
            (inner.redis.as_ref(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(subscribe(
                Arc::downgrade(&inner),
                redis.client().clone(),
                inner.channel.clone(),
            ));
        }
        Self { inner }
    }

    /// A receiver of the user ids woken from now on, and the guard that counts the stream.
    pub fn subscribe(&self) -> (broadcast::Receiver<i64>, StreamGuard) {
        self.inner.streams.fetch_add(1, Ordering::AcqRel);
        (
            self.inner.local.subscribe(),
            StreamGuard(Arc::clone(&self.inner)),
        )
    }

    /// Open streams on this instance.
    pub fn streams(&self) -> i64 {
        self.inner.streams.load(Ordering::Acquire)
    }

    /// Wakes the users' streams here and, through Redis, on every other instance.
    pub async fn publish(&self, user_ids: &[i64]) {
        for id in user_ids {
            // No receiver is not an error: nobody is listening.
            let _ = self.inner.local.send(*id);
        }
        let Some(redis) = &self.inner.redis else {
            return;
        };
        let ids: Vec<String> = user_ids.iter().map(i64::to_string).collect();
        let payload = format!("{}:{}", self.inner.instance, ids.join(","));
        let channel = self.inner.channel.clone();
        let sent = redis
            .run(|mut conn| async move {
                redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&payload)
                    .query_async::<i64>(&mut conn)
                    .await
            })
            .await;
        if let Err(error) = sent {
            tracing::debug!(%error, "events: publish failed (other instances poll)");
        }
    }
}

impl Inner {
    fn on_message(&self, payload: &str) {
        let Some((instance, ids)) = payload.split_once(':') else {
            return;
        };
        if instance == self.instance {
            return;
        }
        for id in ids.split(',').filter_map(|s| s.parse::<i64>().ok()) {
            let _ = self.local.send(id);
        }
    }
}

async fn subscribe(inner: Weak<Inner>, client: redis::Client, channel: String) {
    let mut backoff = MIN_BACKOFF;
    loop {
        if inner.strong_count() == 0 {
            return;
        }
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(Duration::from_secs(2), attempt).await {
            Ok(Ok(pubsub)) => {
                backoff = MIN_BACKOFF;
                let mut stream = pubsub.into_on_message();
                loop {
                    match tokio::time::timeout(IDLE_CHECK, stream.next()).await {
                        Ok(Some(message)) => {
                            let Some(inner) = inner.upgrade() else { return };
                            if let Ok(payload) = message.get_payload::<String>() {
                                inner.on_message(&payload);
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            if inner.strong_count() == 0 {
                                return;
                            }
                        }
                    }
                }
                tracing::debug!("events: subscription lost; resubscribing");
            }
            Ok(Err(error)) => tracing::debug!(%error, "events: subscribe failed"),
            Err(_) => tracing::debug!("events: subscribe timed out"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
