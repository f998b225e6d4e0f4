//! A small pool of dedicated threads for CPU-heavy work (password hashing, later PDF rendering), so it
//! never runs on the async runtime. Its size bounds both CPU use (one core stays free for everything
//! else, DESIGN §10) and memory: each Argon2id verification holds 19 MiB, and a fixed set of threads
//! keeps the allocator from spreading those buffers over ever more arenas during a login flood.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Debug, Clone)]
pub struct BlockingPool {
    sender: mpsc::Sender<Job>,
    threads: usize,
}

impl BlockingPool {
    /// `threads` workers; up to `queue` jobs wait (callers beyond that wait asynchronously).
    pub fn new(name: &str, threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        let (sender, receiver) = mpsc::channel::<Job>(queue.max(1));
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let mut guard = match receiver.lock() {
                                Ok(g) => g,
                                Err(poisoned) => poisoned.into_inner(),
                            };
                            guard.blocking_recv()
                        };
                        match job {
                            Some(job) => job(),
                            None => break,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a worker thread");
            }
        }
        Self { sender, threads }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Jobs waiting in the queue for a worker (callers waiting beyond the queue not counted).
    pub fn queued(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Runs `f` on a worker and waits for its result without blocking the runtime. The job runs
    /// inside the caller's tracing span (and request context), so what it logs carries the request's
    /// fields.
    pub async fn run<R, F>(&self, f: F) -> Result<R, AppError>
    where
        R: Send + 'static,
        F: FnOnce() -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let context = crate::logfmt::current();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let job: Job = Box::new(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let _entered = span.enter();
                crate::logfmt::in_scope(context, || {
                    let _ = tx.send(f());
                });
            });
        });
        self.sender
            .send(job)
            .await
            .map_err(|_| AppError::Unavailable("worker pool stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("worker dropped its job")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_keep_the_callers_span() {
        let subscriber = tracing_subscriber::registry();
        let _guard = tracing::subscriber::set_default(subscriber);
        use tracing::Instrument;
        let pool = BlockingPool::new("span-test", 1, 4);
        let name = pool
            .run(|| tracing::Span::current().metadata().map(|m| m.name()))
            .instrument(tracing::info_span!("caller"))
            .await
            .expect("job");
        assert_eq!(name, Some("caller"));
    }

    #[tokio::test]
    async fn runs_jobs_off_the_runtime() {
        let pool = BlockingPool::new("test", 2, 4);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .expect("job");
        assert!(name.is_some_and(|n| n.starts_with("test-")));
        let results =
            futures_util::future::join_all((0..10).map(|i| pool.run(move || i * 2))).await;
        let sum: i32 = results.into_iter().map(|r| r.expect("job")).sum();
        assert_eq!(sum, 90);
    }
}
