//! The platform's per-request work as one hand-written service: request id, request span, HTTPS
//! redirect, allowed hosts, CORS, error-body shaping, the D22 header set and the access-log line.
//!
//! One service instead of a stack of `from_fn` layers: a `from_fn` layer clones the whole service
//! below it on every request (and boxes a future), so five of them above CORS copied its header
//! vectors five times per request. Here the configuration is built once ([`Shared`], behind an
//! `Arc`: every header value precomputed), the inner service is called in place, and what the
//! response side needs from the request is a few cheap clones ([`Facts`]).

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes, HttpBody},
    http::{HeaderValue, Method, Request, Response, StatusCode, header},
};
use tower::{Layer, Service};
use tracing::{Instrument, Level, Span};

use crate::{
    config::LogFormat,
    logfmt::{self, RequestContext},
    metrics::RouteName,
    middleware::{
        REQUEST_ID, error_pages, hosts, redact_query, request_id,
        security_headers::{self, SecurityHeaders, is_api_path},
    },
    state::AppState,
};

/// Wraps the inner stack in [`Platform`].
#[derive(Clone)]
pub struct PlatformLayer {
    shared: Arc<Shared>,
}

impl PlatformLayer {
    pub fn new(state: &AppState) -> Self {
        Self {
            shared: Arc::new(Shared {
                cors: Cors::new(&state.config.cors_allowed_origins),
                security: SecurityHeaders::new(),
                direct_log: state.config.log_format == LogFormat::Json
                    && crate::log_writer::global().is_some(),
                state: state.clone(),
            }),
        }
    }
}

impl<S> Layer<S> for PlatformLayer {
    type Service = Platform<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Platform {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Clone)]
pub struct Platform<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Built once at start-up.
struct Shared {
    state: AppState,
    cors: Cors,
    security: SecurityHeaders,
    /// The JSON log of the running binary: the request's fields in a [`RequestContext`] instead
    /// of a span, and the access line written straight to the log writer (issue 8: with a span and
    /// a `tracing` event the JSON log cost a third of a static file's CPU time).
    direct_log: bool,
}

/// What the response side needs to know about the request.
struct Facts {
    started: Instant,
    method: Method,
    api: bool,
    /// `/health…`: logged at DEBUG only, so uptime checks don't flood the log (E12).
    quiet: bool,
    https: bool,
    /// The request's `Origin`, when it is one of `CORS_ALLOWED_ORIGINS`.
    origin: Option<HeaderValue>,
    content_type: Option<HeaderValue>,
    request_id: HeaderValue,
    /// The request's log context ([`Shared::direct_log`]).
    context: Option<Arc<RequestContext>>,
}

impl<S, B> Service<Request<Body>> for Platform<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let started = Instant::now();
        // A client's own id is kept; otherwise a cheap one of this instance.
        let request_id = match request.headers().get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = request_id::header_value();
                request.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let shared = &self.shared;
        let (span, context) = if shared.direct_log {
            let uri = request.uri();
            let query = redact_query(uri.query().unwrap_or("")).into_owned();
            let context = RequestContext::new(
                request.method().clone(),
                uri.clone(),
                query,
                request_id.clone(),
            );
            (Span::none(), Some(context))
        } else {
            (make_span(&request, &request_id), None)
        };
        let config = &shared.state.config;
        let path = request.uri().path();
        let facts = Facts {
            started,
            method: request.method().clone(),
            api: is_api_path(path),
            quiet: path.starts_with("/health"),
            https: security_headers::is_https(request.headers(), config.trust_forwarded_proto),
            origin: shared.cors.allowed(request.headers().get(header::ORIGIN)),
            content_type: request.headers().get(header::CONTENT_TYPE).cloned(),
            request_id,
            context,
        };
        // Answered here, before the handlers (in this order, as the layers were).
        let early = security_headers::https_redirect(config, &request)
            .or_else(|| hosts::check(config, &request))
            .or_else(|| (facts.method == Method::OPTIONS).then(|| shared.cors.preflight(&facts)));
        let inner = match early {
            Some(response) => Err(response),
            None => {
                let _entered = span.enter();
                let inner = &mut self.inner;
                Ok(logfmt::in_scope(facts.context.clone(), || {
                    inner.call(request)
                }))
            }
        };
        let shared = Arc::clone(&self.shared);
        let context = facts.context.clone();
        let future = async move {
            let response = match inner {
                Ok(future) => {
                    let mut response = future.await?.map(Body::new);
                    shared.cors.decorate(&facts, &mut response);
                    response
                }
                Err(response) => response,
            };
            Ok(shared.finish(response, &facts))
        };
        match context {
            Some(context) => Box::pin(logfmt::scoped(context, future)),
            None => Box::pin(future.instrument(span)),
        }
    }
}

impl Shared {
    /// Error-body shaping, the header set, the request id, the access-log line.
    fn finish(&self, response: Response<Body>, facts: &Facts) -> Response<Body> {
        // Taken before shaping: an error page replaces the response (and its extensions).
        let route = RouteName::of(&response);
        let mut response = error_pages::shape(
            &self.state.pages,
            response,
            error_pages::RequestFacts {
                api: facts.api,
                method: &facts.method,
                request_id: &facts.request_id,
                content_type: facts.content_type.as_ref(),
            },
        );
        let headers = response.headers_mut();
        self.security.apply(headers, facts.https, facts.api);
        if !headers.contains_key(&REQUEST_ID) {
            headers.insert(REQUEST_ID, facts.request_id.clone());
        }
        access_log(facts, &response, route.as_ref());
        if let Some(metrics) = &self.state.metrics {
            metrics.record(
                &facts.method,
                route.as_ref(),
                response.status().as_u16(),
                facts.started.elapsed(),
            );
        }
        response
    }
}

/// The request span: every log line of the request carries method, path, redacted query and id
/// (and the route template, recorded by [`super::route::RecordRoute`]).
fn make_span(request: &Request<Body>, request_id: &HeaderValue) -> Span {
    let request_id = request_id.to_str().unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        query = %redact_query(request.uri().query().unwrap_or("")),
        request_id = %logfmt::safe_id(request_id),
        route = tracing::field::Empty,
    )
}

/// One line per request, inside the request span (or written directly, [`Shared::direct_log`]).
fn access_log(facts: &Facts, response: &Response<Body>, route: Option<&RouteName>) {
    let status = response.status().as_u16();
    let latency_ms = facts.started.elapsed().as_secs_f64() * 1000.0;
    let route = route.map_or("-", RouteName::as_str);
    if let Some(context) = &facts.context {
        // The same levels and filter as the events below.
        let level = if status >= 500 {
            tracing::enabled!(Level::WARN).then_some("WARN")
        } else if facts.quiet {
            tracing::enabled!(Level::DEBUG).then_some("DEBUG")
        } else {
            tracing::enabled!(Level::INFO).then_some("INFO")
        };
        if let (Some(level), Some(writer)) = (level, crate::log_writer::global()) {
            let line = logfmt::AccessLine {
                level,
                status,
                latency_ms,
                route,
                target: module_path!(),
            }
            .render(context);
            writer.write_bytes(line.as_bytes());
        }
        return;
    }
    if status >= 500 {
        tracing::warn!(status, latency_ms, route = %route, "response");
    } else if facts.quiet {
        tracing::debug!(status, latency_ms, route = %route, "response");
    } else {
        tracing::info!(status, latency_ms, route = %route, "response");
    }
}

/// CORS as contract-A §2.5 with explicit origins only (D23), every header value built once. As
/// the original: a missing or disallowed origin gets no `access-control-*` header at all (only
/// `Vary`), and every `OPTIONS` request is answered here as a preflight (200, empty body).
struct Cors {
    origins: Vec<HeaderValue>,
    vary: HeaderValue,
    credentials: HeaderValue,
    methods: HeaderValue,
    headers: HeaderValue,
    expose: HeaderValue,
    max_age: HeaderValue,
}

const CORS_METHODS: [Method; 6] = [
    Method::DELETE,
    Method::GET,
    Method::OPTIONS,
    Method::PATCH,
    Method::POST,
    Method::PUT,
];

const CORS_HEADERS: [&str; 9] = [
    "accept",
    "accept-encoding",
    "authorization",
    "content-type",
    "dnt",
    "origin",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
];

const CORS_MAX_AGE: Duration = Duration::from_secs(86_400);

impl Cors {
    fn new(origins: &[String]) -> Self {
        let methods = CORS_METHODS
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(",");
        Self {
            origins: origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect(),
            vary: HeaderValue::from_static("origin"),
            credentials: HeaderValue::from_static("true"),
            methods: HeaderValue::from_str(&methods).unwrap_or(HeaderValue::from_static("GET")),
            headers: HeaderValue::from_str(&CORS_HEADERS.join(","))
                .unwrap_or(HeaderValue::from_static("content-type")),
            expose: HeaderValue::from_static("content-disposition"),
            max_age: HeaderValue::from(CORS_MAX_AGE.as_secs()),
        }
    }

    fn allowed(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        let origin = origin?;
        self.origins
            .iter()
            .any(|o| o == origin)
            .then(|| origin.clone())
    }

    fn preflight(&self, facts: &Facts) -> Response<Body> {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        if let Some(origin) = &facts.origin {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                self.credentials.clone(),
            );
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone());
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, self.headers.clone());
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        }
        headers.insert(header::VARY, self.vary.clone());
        response
    }

    fn decorate(&self, facts: &Facts, response: &mut Response<Body>) {
        let headers = response.headers_mut();
        headers.append(header::VARY, self.vary.clone());
        if let Some(origin) = &facts.origin {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                self.credentials.clone(),
            );
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, self.expose.clone());
        }
    }
}
