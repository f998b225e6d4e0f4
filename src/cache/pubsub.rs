//! The invalidation channel: a dedicated RESP2 pub/sub connection per instance, subscribed to
//! `{REDIS_KEY_PREFIX}cache:invalidate`. It reconnects in the background (with backoff) when Redis
//! goes away, pings every [`PING_EVERY`] so that a hung Redis is noticed, and while it is not
//! subscribed the instance keeps no L1 (messages could be missed), so reads go to Redis itself.

use std::{sync::Weak, time::Duration};

use futures_util::StreamExt;
use tokio::sync::watch;

use super::Inner;

const PING_EVERY: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Failed (re)subscriptions, while Redis itself answers, before one WARN (the L1 stays off).
const WARN_AFTER_FAILURES: u32 = 5;

enum Ended {
    Stop,
    Lost(&'static str),
}

pub(super) async fn run(
    cache: Weak<Inner>,
    client: redis::Client,
    channel: String,
    op_timeout: Duration,
    mut stop: watch::Receiver<()>,
) {
    // Off the request path: a connection may take longer than a request's budget.
    let patience = op_timeout.max(Duration::from_secs(1));
    let mut backoff = MIN_BACKOFF;
    let mut failures: u32 = 0;
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let attempt = tokio::select! {
            _ = stop.changed() => return,
            r = tokio::time::timeout(patience, attempt) => r,
        };
        match attempt {
            Ok(Ok(pubsub)) => {
                backoff = MIN_BACKOFF;
                failures = 0;
                match cache.upgrade() {
                    Some(inner) => inner.subscribed(),
                    None => return,
                }
                let ended = listen(&cache, pubsub, patience, &mut stop).await;
                match (ended, cache.upgrade()) {
                    (Ended::Lost(why), Some(inner)) => inner.unsubscribed(why),
                    _ => return,
                }
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "cache invalidation channel: subscribe failed");
                failures += 1;
            }
            Err(_) => {
                tracing::debug!("cache invalidation channel: subscribe timed out");
                failures += 1;
            }
        }
        // Redis down is its breaker's WARN; a channel that fails while Redis answers is its own.
        if failures == WARN_AFTER_FAILURES
            && let Some(inner) = cache.upgrade()
            && inner.redis.as_ref().is_some_and(|r| r.is_connected())
        {
            tracing::warn!(
                "cache invalidation channel cannot subscribe although Redis answers; L1 off"
            );
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn listen(
    cache: &Weak<Inner>,
    pubsub: redis::aio::PubSub,
    patience: Duration,
    stop: &mut watch::Receiver<()>,
) -> Ended {
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return Ended::Stop,
            message = stream.next() => {
                let Some(message) = message else {
                    return Ended::Lost("connection closed");
                };
                let Some(inner) = cache.upgrade() else {
                    return Ended::Stop;
                };
                match message.get_payload::<String>() {
                    Ok(payload) => inner.on_message(&payload).await,
                    Err(error) => tracing::debug!(%error, "cache invalidation channel: bad payload"),
                }
            }
            _ = ping.tick() => {
                match tokio::time::timeout(patience, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => return Ended::Lost("ping failed"),
                    Err(_) => return Ended::Lost("ping timed out"),
                }
            }
        }
    }
}
