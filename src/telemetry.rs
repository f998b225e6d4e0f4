//! Tracing (JSON in production, pretty in development) and Sentry (errors only, no PII, off without
//! `SENTRY_DSN`).

use std::{borrow::Cow, sync::Arc};

use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{LevelFilter, filter_fn},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

use crate::config::{Config, LogFormat};

/// Starts Sentry when `SENTRY_DSN` is set. Keep the guard alive until the process exits.
pub fn init_sentry(config: &Config) -> Option<sentry::ClientInitGuard> {
    let dsn = config.sentry_dsn.as_ref()?;
    let dsn = match dsn.expose().parse() {
        Ok(dsn) => dsn,
        Err(error) => {
            eprintln!("SENTRY_DSN is not a valid DSN ({error}); Sentry stays off");
            return None;
        }
    };
    let mut options = sentry::ClientOptions::default();
    options.dsn = Some(dsn);
    options.release = config
        .sentry_release
        .clone()
        .map(Cow::Owned)
        .or_else(|| sentry::release_name!());
    options.environment = Some(Cow::Owned(config.sentry_environment.clone()));
    options.send_default_pii = false;
    options.max_breadcrumbs = 20;
    options.before_send = Some(Arc::new(|mut event| {
        if let Some(request) = event.request.as_mut() {
            request.headers.retain(|name, _| {
                !name.eq_ignore_ascii_case("authorization") && !name.eq_ignore_ascii_case("cookie")
            });
            request.cookies = None;
            request.data = None;
            if let Some(query) = request.query_string.as_mut() {
                *query = crate::middleware::redact_query(query).into_owned();
            }
            if let Some(url) = request.url.as_mut()
                && let Some(query) = url
                    .query()
                    .map(|q| crate::middleware::redact_query(q).into_owned())
            {
                url.set_query(Some(&query));
            }
        }
        event.user = None;
        Some(event)
    }));
    Some(sentry::init(options))
}

/// Installs the global subscriber. `RUST_LOG` overrides the default filter.
///
/// Lines are formatted on the calling thread and written in batches by a worker thread
/// ([`crate::log_writer`]), so a request never waits on a `write(2)` to stdout nor wakes a thread.
/// Lossless: when the writer falls far behind, callers wait rather than lose lines. Keep the
/// returned guard alive until the process exits: dropping it flushes what is queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init_tracing(config: &Config) -> Option<crate::log_writer::Guard> {
    let (writer, guard) = match crate::log_writer::LogWriter::spawn(std::io::stdout()) {
        Ok(pair) => pair,
        Err(error) => {
            eprintln!("cannot start the log writer thread: {error}");
            return None;
        }
    };
    writer.install_global();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn,memory_serve=warn"));
    // Errors become Sentry events; info and warnings become breadcrumbs. Nothing else is sent.
    let sentry = config.sentry_dsn.is_some();
    let sentry_errors = sentry
        .then(|| sentry::integrations::tracing::ErrorLayer::new().with_filter(LevelFilter::ERROR));
    let sentry_breadcrumbs = sentry.then(|| {
        sentry::integrations::tracing::BreadcrumbLayer::new().with_filter(filter_fn(|m| {
            matches!(*m.level(), tracing::Level::WARN | tracing::Level::INFO)
        }))
    });
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(sentry_breadcrumbs)
        .with(sentry_errors);
    let result = match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .event_format(crate::logfmt::JsonLine)
                    .fmt_fields(crate::logfmt::JsonSpanFields),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .compact(),
            )
            .try_init(),
    };
    if let Err(error) = result {
        eprintln!("tracing was already initialised: {error}");
    }
    Some(guard)
}
