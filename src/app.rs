//! The application: a bound listener plus the HTTP/1.1 connection loop with a header-read timeout
//! and graceful shutdown. The state it serves is built in [`crate::state`].

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::{config::Config, router::build_router, state::AppState};

/// A bound server, ready to run (zero2prod's `Application`).
pub struct Application {
    listener: TcpListener,
    /// `METRICS_ADDR`'s listener, serving only `/metrics`.
    metrics_listener: Option<TcpListener>,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let state = AppState::build(config).await?;
        Self::with_state(state).await
    }

    pub async fn with_state(state: AppState) -> anyhow::Result<Self> {
        let listener = bind(state.config.bind_addr, state.config.port).await?;
        let metrics_listener = match state.config.metrics_addr {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            listener,
            metrics_listener,
            state,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The `METRICS_ADDR` listener's address, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to the grace
    /// period); `force` ends that drain early (the binary passes a second signal).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
        force: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let router = build_router(self.state.clone());
        let config = &self.state.config;
        let metrics = self.metrics_listener.map(|listener| {
            let app = Router::new()
                .fallback(crate::health::private_metrics)
                .with_state(self.state.clone());
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, app).await {
                    tracing::error!(%error, "the metrics listener stopped");
                }
            })
        });
        let result = serve(
            self.listener,
            router,
            config.header_read_timeout,
            config.shutdown_grace,
            shutdown,
            force,
        )
        .await;
        if let Some(task) = metrics {
            task.abort();
        }
        self.state.db.close().await;
        result
    }
}

async fn bind(addr: Option<IpAddr>, port: u16) -> std::io::Result<TcpListener> {
    match addr {
        Some(ip) => TcpListener::bind((ip, port)).await,
        // `[::]` accepts IPv4 too on dual-stack hosts; fall back to IPv4 where IPv6 is off.
        None => match TcpListener::bind((IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)).await {
            Ok(l) => Ok(l),
            Err(_) => TcpListener::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)).await,
        },
    }
}

/// The connection loop. hyper's HTTP/1 header-read timeout closes a connection that trickles its
/// headers or sits idle between requests; the graceful watcher drains connections at shutdown, for
/// at most `grace`, or until `force` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
    force: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection closed with an error");
            }
        });
    }

    drop(listener);
    tracing::info!("shutting down: waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!(?grace, "grace period over; closing remaining connections"),
        () = force => tracing::warn!("second signal: exiting without waiting for in-flight requests"),
    }
    Ok(())
}

/// Installs the SIGTERM/SIGINT handlers now (so a signal that arrives while the server is starting is
/// not lost to the default action) and returns two futures: the first signal, and a second one.
pub fn install_signal_handlers() -> std::io::Result<(
    impl Future<Output = ()> + Send + 'static,
    impl Future<Output = ()> + Send + 'static,
)> {
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    let (second_tx, second_rx) = tokio::sync::oneshot::channel::<()>();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            for tx in [first_tx, second_tx] {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                tracing::info!(signal = name, "signal received");
                let _ = tx.send(());
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        for tx in [first_tx, second_tx] {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            let _ = tx.send(());
        }
    });
    Ok((
        async move {
            let _ = first_rx.await;
        },
        async move {
            if second_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        },
    ))
}
