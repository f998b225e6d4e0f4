//! The log writer: lines are appended to one shared buffer and a `log-writer` thread writes the
//! buffer to stdout every [`FLUSH_EVERY`] (sooner once [`SOFT_LIMIT`] bytes wait), in one `write(2)`.
//!
//! Why not `tracing-appender`'s non-blocking writer (used before, issue 8): it sends each line over
//! a channel to a thread that sleeps whenever the channel is empty, so under load nearly every
//! line woke that thread (a futex call and a context switch per request, on two cores). Here a
//! request only appends under an uncontended lock; nothing wakes the writer until a batch is due.
//! Lossless: beyond [`HARD_LIMIT`] waiting bytes (the disk or pipe stalled), callers wait for the
//! writer instead of dropping lines. The [`Guard`] flushes what is left at exit.

use std::{
    io::Write,
    sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock},
    thread::JoinHandle,
    time::Duration,
};

/// The longest a line waits in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(25);
/// Waiting bytes that wake the writer before its time.
const SOFT_LIMIT: usize = 256 * 1024;
/// Waiting bytes beyond which callers wait for the writer.
const HARD_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct State {
    buffer: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the writer (a batch is due, or the guard closed the writer).
    due: Condvar,
    /// Wakes callers waiting for room.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves only bytes behind: keep using them.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A cloneable handle appending whole lines (a `tracing_subscriber` `MakeWriter`).
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Flushes the buffer and stops the writer thread when dropped.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

static GLOBAL: OnceLock<LogWriter> = OnceLock::new();

impl LogWriter {
    /// A writer to `out` and its guard.
    pub fn spawn(out: impl Write + Send + 'static) -> std::io::Result<(Self, Guard)> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&shared, out)
            })?;
        let writer = Self {
            shared: Arc::clone(&shared),
        };
        Ok((
            writer,
            Guard {
                shared,
                thread: Some(thread),
            },
        ))
    }

    /// Makes this the process's writer ([`global`]), the one the access log writes to directly.
    pub fn install_global(&self) {
        let _ = GLOBAL.set(self.clone());
    }

    /// Appends `bytes` (whole lines).
    pub fn write_bytes(&self, bytes: &[u8]) {
        let mut state = self.shared.lock();
        while state.buffer.len() >= HARD_LIMIT && !state.closed {
            state = self
                .shared
                .drained
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        if state.closed {
            // After the guard: straight to stdout (nothing else will write it).
            drop(state);
            let _ = std::io::stdout().write_all(bytes);
            return;
        }
        state.buffer.extend_from_slice(bytes);
        if state.buffer.len() >= SOFT_LIMIT {
            self.shared.due.notify_one();
        }
    }
}

/// The writer of the running process, once [`LogWriter::spawn`] has made one.
pub fn global() -> Option<&'static LogWriter> {
    GLOBAL.get()
}

fn run(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::with_capacity(SOFT_LIMIT);
    loop {
        let closed = {
            let mut state = shared.lock();
            if state.buffer.len() < SOFT_LIMIT && !state.closed {
                state = shared
                    .due
                    .wait_timeout(state, FLUSH_EVERY)
                    .map_or_else(|e| e.into_inner().0, |(s, _)| s);
            }
            std::mem::swap(&mut state.buffer, &mut batch);
            state.closed
        };
        shared.drained.notify_all();
        if !batch.is_empty() {
            // Nowhere to report a failed log write; the next batch tries again.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            if batch.capacity() > 4 * SOFT_LIMIT {
                batch.shrink_to(SOFT_LIMIT);
            }
        }
        if closed && shared.lock().buffer.is_empty() {
            return;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.due.notify_one();
        self.shared.drained.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One `write` per formatted event.
pub struct LineSink<'a>(&'a LogWriter);

impl Write for LineSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LineSink<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineSink(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Out {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut out = self.0.lock().expect("out");
            out.0.extend_from_slice(buf);
            out.1 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_batched_in_order_and_flushed_by_the_guard() {
        let out = Out::default();
        let (writer, guard) = LogWriter::spawn(out.clone()).expect("spawn");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        writer.write_bytes(format!("{t} {i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
        drop(guard);
        let (bytes, writes) = out.0.lock().expect("out").clone();
        let text = String::from_utf8(bytes).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8_000, "every line, once");
        for t in 0..4 {
            let own: Vec<usize> = lines
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("{t} ")))
                .map(|i| i.parse().expect("index"))
                .collect();
            assert_eq!(own, (0..2_000).collect::<Vec<_>>(), "thread {t} in order");
        }
        assert!(
            writes < 8_000 / 10,
            "batched: {writes} writes for 8,000 lines"
        );
    }
}
