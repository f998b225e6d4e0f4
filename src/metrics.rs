//! Prometheus metrics (issue 14 item 3, DESIGN §7), with `prometheus-client` (the Prometheus
//! project's Rust client: families of labelled counters and histograms, the text format).
//!
//! Recorded per request by the platform service: `electioncart_http_requests_total{method, route,
//! status}` and `electioncart_http_request_duration_seconds{method, route}`, the route being the
//! matched template (`/api/packages/{id}/`; `unmatched` for anything no route matched, so a
//! scanner's random paths cannot grow the series). What other parts keep counting themselves —
//! cache, rate limits, pools, streams — is read at scrape time into a [`Snapshot`] and written
//! beside them. Nothing is recorded unless metrics are configured (`METRICS_TOKEN` or
//! `METRICS_ADDR`).

use std::{fmt::Write, time::Duration};

use axum::http::Method;

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder, prometheus_text::encode},
    metrics::{
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::{ConstGauge, Gauge},
        histogram::Histogram,
    },
    registry::Registry,
};

use axum::{extract::MatchedPath, http::Response};

/// The route template a response answered for (the metrics' `route` label, the access log's
/// `route`): the router's match, or a fixed name for what is
/// answered before routing (the embedded static files).
#[derive(Debug, Clone)]
pub enum RouteName {
    Matched(MatchedPath),
    Fixed(&'static str),
}

impl RouteName {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Matched(path) => path.as_str(),
            Self::Fixed(name) => name,
        }
    }

    /// The response's route (its `MatchedPath`, else a [`RouteName::Fixed`] in its extensions).
    pub fn of<B>(response: &Response<B>) -> Option<Self> {
        let extensions = response.extensions();
        extensions
            .get::<MatchedPath>()
            .cloned()
            .map(Self::Matched)
            .or_else(|| extensions.get::<Self>().cloned())
    }
}

/// Latency buckets in seconds: 1 ms to 10 s.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The method as a label (its text; an extension method is `other`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MethodLabel(Method);

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        let known = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
        ];
        let text = if known.contains(&self.0) {
            self.0.as_str()
        } else {
            "other"
        };
        encoder.write_str(text)
    }
}

/// The matched route template as a label (shared with the request: an `Arc` clone, no copy).
#[derive(Debug, Clone)]
pub struct RouteLabel(Option<RouteName>);

impl RouteLabel {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", RouteName::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: MethodLabel,
    route: RouteLabel,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: MethodLabel,
    route: RouteLabel,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The request metrics of this instance.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("electioncart");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template, to the response head",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
        }
    }

    /// Counts one response.
    pub fn record(
        &self,
        method: &Method,
        route: Option<&RouteName>,
        status: u16,
        elapsed: Duration,
    ) {
        let method = MethodLabel(method.clone());
        let route = RouteLabel(route.cloned());
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// The Prometheus text format (0.0.4): the request metrics, then the scrape-time figures.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        let _ = encode(&mut out, &snapshot.registry());
        out
    }
}

/// What the other parts count, read when `/metrics` is scraped.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub cache_tier: String,
    pub cache_l1_hits: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_errors: u64,
    pub cache_entries: u64,
    /// Refused requests per rate-limit rule.
    pub rate_limited: Vec<(&'static str, u64)>,
    /// Per pool (`main`, or SQLite's `read` and `write`): connections open and idle.
    pub db_pools: Vec<(&'static str, u32, u32)>,
    /// Jobs waiting per blocking pool (`hasher`, `documents`, `images`).
    pub blocking_queued: Vec<(&'static str, usize)>,
    pub sse_clients: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TierLabels {
    tier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RuleLabels {
    rule: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolStateLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Snapshot {
    fn registry(&self) -> Registry {
        let mut r = Registry::with_prefix("electioncart");
        let tier = Family::<TierLabels, Gauge>::default();
        tier.get_or_create(&TierLabels {
            tier: self.cache_tier.clone(),
        })
        .set(1);
        r.register("cache_tier", "The cache tier that answered last (1)", tier);
        let hits = Family::<TierLabels, Counter>::default();
        hits.get_or_create(&TierLabels { tier: "l1".into() })
            .inc_by(self.cache_l1_hits);
        hits.get_or_create(&TierLabels {
            tier: "shared".into(),
        })
        .inc_by(self.cache_hits.saturating_sub(self.cache_l1_hits));
        r.register(
            "cache_hits",
            "Cache hits by tier (l1: this instance's copy; shared: Redis, the SQL table or memory)",
            hits,
        );
        r.register(
            "cache_misses",
            "Cache misses (computed)",
            ConstCounter::new(self.cache_misses),
        );
        r.register(
            "cache_errors",
            "Failed cache tier operations (each skipped to the next tier)",
            ConstCounter::new(self.cache_errors),
        );
        r.register(
            "cache_entries",
            "Entries held in this process's cache tiers",
            ConstGauge::new(gauge(self.cache_entries)),
        );
        let limited = Family::<RuleLabels, Counter>::default();
        for (rule, n) in &self.rate_limited {
            limited.get_or_create(&RuleLabels { rule }).inc_by(*n);
        }
        r.register(
            "rate_limit_rejections",
            "Requests refused by a rate limit (429), by rule",
            limited,
        );
        let connections = Family::<PoolStateLabels, Gauge>::default();
        for (pool, size, idle) in &self.db_pools {
            connections
                .get_or_create(&PoolStateLabels {
                    pool,
                    state: "in_use",
                })
                .set(i64::from(size.saturating_sub(*idle)));
            connections
                .get_or_create(&PoolStateLabels {
                    pool,
                    state: "idle",
                })
                .set(i64::from(*idle));
        }
        r.register(
            "db_pool_connections",
            "Database pool connections by pool and state",
            connections,
        );
        let queued = Family::<PoolLabels, Gauge>::default();
        for (pool, n) in &self.blocking_queued {
            queued
                .get_or_create(&PoolLabels { pool })
                .set(gauge(*n as u64));
        }
        r.register(
            "blocking_pool_queued",
            "Jobs waiting for a worker thread, by blocking pool",
            queued,
        );
        r.register(
            "sse_clients",
            "Open notification streams (server-sent events)",
            ConstGauge::new(self.sse_clients),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_with_route_templates() {
        let m = Metrics::new();
        m.record(&Method::GET, None, 404, Duration::from_millis(3));
        m.record(&Method::GET, None, 404, Duration::from_millis(30));
        let text = m.render(&Snapshot {
            cache_tier: "redis".into(),
            rate_limited: vec![("login-ip", 2)],
            db_pools: vec![("main", 5, 3)],
            ..Snapshot::default()
        });
        assert!(text.contains(
            "electioncart_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "electioncart_http_request_duration_seconds_bucket{method=\"GET\",route=\"unmatched\",le=\"0.005\"} 1\n"
        ), "{text}");
        assert!(
            text.contains("electioncart_cache_tier{tier=\"redis\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("electioncart_rate_limit_rejections_total{rule=\"login-ip\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("electioncart_db_pool_connections{pool=\"main\",state=\"in_use\"} 2\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"));
    }
}
