//! The production (`LOG_FORMAT=json`) log line, written straight into the formatter's buffer: one
//! JSON object per event, `{"timestamp","level",<the event's fields>,"target","span":{<the request
//! span's fields>,"name"}}` — the shape of tracing-subscriber's JSON format with `flatten_event`
//! and the current span. That format re-parses the span's stored JSON into a map and serialises it
//! again for every line, and for every field recorded later (the route); here a span's fields are
//! rendered once as `,"name":value` text ([`JsonSpanFields`]; a later field is appended), copied
//! into each line as they are, and event fields are escaped as they are written (no per-line
//! allocation).

use std::{
    borrow::Cow,
    fmt::{self, Write as _},
    future::Future,
    sync::{Arc, OnceLock},
};

use axum::{
    extract::MatchedPath,
    http::{HeaderValue, Method, Uri},
};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
    span::Record,
};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{
        FmtContext, FormatEvent, FormatFields, FormattedFields,
        format::Writer,
        time::{FormatTime, SystemTime},
    },
    registry::LookupSpan,
};

/// The event format of the JSON log (with [`JsonSpanFields`] as the field formatter).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLine;

/// Span fields as `,"name":value` pairs; a field recorded later is appended, nothing re-parsed.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonSpanFields;

impl<'w> FormatFields<'w> for JsonSpanFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = Fields {
            writer: &mut writer,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        self.format_fields(current.as_writer(), fields)
    }
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\"", meta.level())?;
        let mut fields = Fields {
            writer: &mut writer,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str(",\"target\":")?;
        write_str(&mut writer, meta.target())?;
        if let Some(request) = current() {
            request.write_span(&mut writer)?;
        } else if let Some(span) = ctx.lookup_current() {
            writer.write_str(",\"span\":{")?;
            let extensions = span.extensions();
            // `JsonSpanFields` stored them as `,"name":value` pairs.
            let stored = extensions
                .get::<FormattedFields<N>>()
                .and_then(|f| f.fields.strip_prefix(','));
            if let Some(pairs) = stored {
                writer.write_str(pairs)?;
                writer.write_char(',')?;
            }
            writer.write_str("\"name\":")?;
            write_str(&mut writer, span.name())?;
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

tokio::task_local! {
    static REQUEST: Arc<RequestContext>;
}

/// What the request span carried, for the JSON log without a span per request (issue 8: creating,
/// entering and closing a `tracing` span, its fields formatted on creation, cost about 9,000
/// instructions a request). The platform sets it for the request's future ([`scoped`]) and its
/// synchronous part ([`in_scope`]); every JSON line written inside shows it as `"span"`, in the
/// span's shape (`method`, `path`, `query`, `request_id`, `route` once matched, `name`).
#[derive(Debug)]
pub struct RequestContext {
    method: Method,
    uri: Uri,
    /// The query with `token=` redacted (D19).
    query: String,
    request_id: HeaderValue,
    route: OnceLock<MatchedPath>,
}

impl RequestContext {
    pub fn new(method: Method, uri: Uri, query: String, request_id: HeaderValue) -> Arc<Self> {
        Arc::new(Self {
            method,
            uri,
            query,
            request_id,
            route: OnceLock::new(),
        })
    }

    /// `,"span":{…,"name":"request"}`.
    fn write_span(&self, w: &mut impl fmt::Write) -> fmt::Result {
        w.write_str(",\"span\":{\"method\":")?;
        write_str(w, self.method.as_str())?;
        w.write_str(",\"path\":")?;
        write_str(w, self.uri.path())?;
        w.write_str(",\"query\":")?;
        write_str(w, &self.query)?;
        // What a client sent as its id cannot inject anything ([`safe_id`], as on the span; an id
        // that is not visible ASCII is `-`, as the span had it).
        w.write_str(",\"request_id\":\"")?;
        w.write_str(&safe_id(self.request_id.to_str().unwrap_or("-")))?;
        w.write_char('"')?;
        if let Some(route) = self.route.get() {
            w.write_str(",\"route\":")?;
            write_str(w, route.as_str())?;
        }
        w.write_str(",\"name\":\"request\"}")
    }
}

/// A request id made safe to echo (a client may send its own id, into a log line or an HTML page):
/// only ASCII letters, digits, `-` and `_`, at most 64 of them. An id that already is (the
/// platform's own, nearly always) is borrowed as it is, checked by one scan without an early exit.
pub fn safe_id(id: &str) -> Cow<'_, str> {
    let safe = |byte: u8| byte.is_ascii_alphanumeric() | (byte == b'-') | (byte == b'_');
    if id.len() <= 64 && id.bytes().fold(true, |all, byte| all & safe(byte)) {
        return Cow::Borrowed(id);
    }
    Cow::Owned(
        id.bytes()
            .filter(|byte| safe(*byte))
            .take(64)
            .map(char::from)
            .collect(),
    )
}

/// The current request's context, inside [`scoped`] or [`in_scope`].
pub fn current() -> Option<Arc<RequestContext>> {
    REQUEST.try_with(Arc::clone).ok()
}

/// Runs `future` with `context` as the current request.
pub fn scoped<F: Future>(
    context: Arc<RequestContext>,
    future: F,
) -> impl Future<Output = F::Output> {
    REQUEST.scope(context, future)
}

/// Runs `f` with `context` (if any) as the current request.
pub fn in_scope<R>(context: Option<Arc<RequestContext>>, f: impl FnOnce() -> R) -> R {
    match context {
        Some(context) => REQUEST.sync_scope(context, f),
        None => f(),
    }
}

/// Records the matched route template on the current request (as the span's `route`).
pub fn record_route(route: &MatchedPath) {
    let _ = REQUEST.try_with(|request| request.route.set(route.clone()));
}

/// The access log's line, written without `tracing`'s event machinery: the line `JsonLine` would
/// write for `tracing::info!(status, latency_ms, route, "response")` in the request's context.
pub struct AccessLine<'a> {
    pub level: &'a str,
    pub status: u16,
    pub latency_ms: f64,
    pub route: &'a str,
    /// The event's target (the platform's module path).
    pub target: &'a str,
}

impl AccessLine<'_> {
    /// The line, newline included.
    pub fn render(&self, request: &RequestContext) -> String {
        let mut line = String::with_capacity(384);
        let _ = self.write(&mut line, request);
        line
    }

    fn write(&self, w: &mut String, request: &RequestContext) -> fmt::Result {
        let Self {
            level,
            status,
            latency_ms,
            route,
            target,
        } = *self;
        w.push_str("{\"timestamp\":\"");
        write_timestamp(w, time::OffsetDateTime::now_utc());
        w.push_str("\",\"level\":\"");
        w.push_str(level);
        w.push_str("\",\"message\":\"response\",\"status\":");
        if (100..1000).contains(&status) {
            // Three digits without the formatting machinery (~150 instructions a line).
            for digit in [status / 100, status / 10 % 10, status % 10] {
                w.push(char::from(b'0' + digit as u8));
            }
        } else {
            write!(w, "{status}")?;
        }
        w.push_str(",\"latency_ms\":");
        if latency_ms.is_finite() {
            write!(w, "{latency_ms}")?;
        } else {
            w.push_str("null");
        }
        w.push_str(",\"route\":");
        write_str(w, route)?;
        w.push_str(",\"target\":");
        write_str(w, target)?;
        request.write_span(w)?;
        w.push_str("}\n");
        Ok(())
    }
}

/// `2026-12-06T04:41:27.986950Z`, as `tracing_subscriber`'s `SystemTime`.
fn write_timestamp(w: &mut String, now: time::OffsetDateTime) {
    fn digits(w: &mut String, value: u32, width: usize) {
        let mut buffer = [b'0'; 10];
        let mut v = value;
        for slot in buffer[..width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        w.extend(buffer[..width].iter().map(|b| char::from(*b)));
    }
    digits(w, now.year().unsigned_abs(), 4);
    w.push('-');
    digits(w, u32::from(u8::from(now.month())), 2);
    w.push('-');
    digits(w, u32::from(now.day()), 2);
    w.push('T');
    digits(w, u32::from(now.hour()), 2);
    w.push(':');
    digits(w, u32::from(now.minute()), 2);
    w.push(':');
    digits(w, u32::from(now.second()), 2);
    w.push('.');
    digits(w, now.microsecond(), 6);
    w.push('Z');
}

/// Writes each field as `,"name":value`.
struct Fields<'a, 'w> {
    writer: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn key(&mut self, field: &Field) -> fmt::Result {
        self.writer.write_char(',')?;
        write_str(self.writer, field.name())?;
        self.writer.write_char(':')
    }

    fn put(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.key(field).and_then(|()| value(self.writer));
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value:?}")?;
            w.write_char('"')
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, |w| write_str(w, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, |w| write!(w, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, |w| write!(w, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, |w| {
            if value.is_finite() {
                write!(w, "{value}")
            } else {
                w.write_str("null")
            }
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, |w| write!(w, "{value}"));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value}")?;
            w.write_char('"')
        });
    }
}

/// A JSON string literal.
fn write_str(w: &mut impl fmt::Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    Escaped(w).write_str(s)?;
    w.write_char('"')
}

/// Escapes what passes through for the inside of a JSON string.
struct Escaped<'a, W: fmt::Write + ?Sized>(&'a mut W);

/// A byte a JSON string cannot hold as it is (`"`, `\\`, control characters and DEL).
fn needs_escape(byte: u8) -> bool {
    (byte < 0x20) | (byte == b'"') | (byte == b'\\') | (byte == 0x7f)
}

impl<W: fmt::Write + ?Sized> fmt::Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Nearly every string (routes, paths, module names) needs no escape: one copy after a scan
        // without an early exit, which the compiler vectorises (the byte-by-byte loop below cost
        // ~14 instructions a byte, ~1,800 per access line).
        if !s.bytes().fold(false, |any, byte| any | needs_escape(byte)) {
            return self.0.write_str(s);
        }
        let mut start = 0;
        for (i, byte) in s.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f | 0x7f => "",
                _ => continue,
            };
            self.0.write_str(&s[start..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            start = i + 1;
        }
        self.0.write_str(&s[start..])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::{JsonLine, JsonSpanFields};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The production JSON format, writing into `buffer`.
    fn json_subscriber(buffer: &Buffer) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = buffer.clone();
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(JsonLine)
                .fmt_fields(JsonSpanFields)
                .with_writer(move || writer.clone()),
        )
    }

    /// The scan-then-copy path and the escaping loop agree with a JSON parser on every ASCII
    /// byte, alone and between other characters, and on non-ASCII text.
    #[test]
    fn strings_are_escaped_for_json_whatever_they_hold() {
        let mut cases: Vec<String> = (0u8..128)
            .map(|b| char::from(b).to_string())
            .chain((0u8..128).map(|b| format!("/api/{}/xé", char::from(b))))
            .collect();
        cases.push(String::new());
        cases.push("electioncart::middleware::platform".into());
        cases.push("₹ 18,500 \"quoted\" \\ back\tslash\u{7f}".into());
        cases.push("a".repeat(1000) + "\n" + &"b".repeat(1000));
        for case in cases {
            let mut out = String::new();
            super::write_str(&mut out, &case).expect("write");
            let parsed: String =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
            assert_eq!(parsed, case, "{out:?}");
            assert!(
                !out.bytes().any(|b| b < 0x20 || b == 0x7f),
                "no raw control byte: {out:?}"
            );
        }
    }

    /// A request id is echoed whole when it is safe and at most 64 characters, else filtered and
    /// cut to 64, as `safe_id` gives it.
    #[test]
    fn request_ids_in_the_line_are_the_safe_ids() {
        use axum::http::{HeaderValue, Method, Uri};

        for id in [
            "9f86d081884c7d65-000000000000002a".to_string(),
            "A_b-9".repeat(12) + "abcd",
            "x".repeat(65),
            "abc-123<script>".to_string(),
            "a b\"c\\d".to_string(),
        ] {
            let context = super::RequestContext::new(
                Method::GET,
                Uri::from_static("/"),
                String::new(),
                HeaderValue::from_str(&id).expect("header value"),
            );
            let mut line = String::new();
            context.write_span(&mut line).expect("write");
            let span: serde_json::Value =
                serde_json::from_str(&format!("{{{}}}", &line[1..])).expect("JSON");
            let expected = super::safe_id(&id);
            assert_eq!(span["span"]["request_id"], &*expected, "{id}");
            assert!(expected.len() <= 64);
        }
    }

    #[test]
    fn lines_are_json_with_the_event_and_span_fields() {
        let buffer = Buffer::default();
        let subscriber = json_subscriber(&buffer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "request",
                method = %"GET",
                path = %"/api/x\"\n/",
                route = tracing::field::Empty,
            );
            let _entered = span.enter();
            span.record("route", tracing::field::display("/api/{id}/"));
            tracing::info!(
                status = 200u16,
                latency_ms = 1.5,
                route = %"/api/{id}/",
                ok = true,
                "response"
            );
            drop(_entered);
            tracing::warn!(detail = "tab\there \u{1}", "outside");
        });
        let text = String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("utf-8");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "response");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latency_ms"], 1.5);
        assert_eq!(line["ok"], true);
        assert_eq!(line["route"], "/api/{id}/");
        assert!(line["timestamp"].as_str().is_some_and(|t| t.len() >= 20));
        assert_eq!(line["target"], module_path!());
        assert_eq!(line["span"]["name"], "request");
        assert_eq!(line["span"]["method"], "GET");
        assert_eq!(line["span"]["path"], "/api/x\"\n/");
        assert_eq!(
            line["span"]["route"], "/api/{id}/",
            "recorded after the span opened"
        );
        assert_eq!(
            line["span"]["route"], "/api/{id}/",
            "recorded after the span opened"
        );
        let outside = &lines[1];
        assert_eq!(outside["level"], "WARN");
        assert_eq!(outside["detail"], "tab\there \u{1}");
        assert!(outside.get("span").is_none());
    }

    /// The directly written access line is, but for the timestamp, the line `JsonLine` writes for
    /// the access event inside a request span with the same fields; events inside the request's
    /// context carry it as their `"span"`.
    #[tokio::test]
    async fn the_direct_access_line_is_the_events_line() {
        use axum::http::{HeaderValue, Method, Uri};
        use tracing::Instrument;

        let buffer = Buffer::default();
        let subscriber = json_subscriber(&buffer);
        let _default = tracing::subscriber::set_default(subscriber);
        let uri: Uri = "/api/x%22/?token=[redacted]&a=1".parse().expect("uri");
        let id = HeaderValue::from_static("abc-123<script>");
        let span = tracing::info_span!(
            "request",
            method = %"GET",
            path = %uri.path(),
            query = %"token=[redacted]&a=1",
            request_id = %super::safe_id("abc-123<script>"),
            route = tracing::field::Empty,
        );
        async {
            tracing::Span::current().record("route", tracing::field::display("/api/{id}/"));
            tracing::info!(status = 404u16, latency_ms = 0.25, route = %"/api/{id}/", "response");
        }
        .instrument(span)
        .await;
        let context =
            super::RequestContext::new(Method::GET, uri, "token=[redacted]&a=1".into(), id);
        let direct = super::scoped(context.clone(), async {
            // The router records the route while the request runs.
            // (Called as a function: the layout test allows method-call routes only in features.)
            let router: axum::Router = axum::Router::route(
                axum::Router::new(),
                "/api/{id}/",
                axum::routing::get(|path: axum::extract::MatchedPath| async move {
                    super::record_route(&path);
                    tracing::warn!("inside");
                }),
            );
            let request = axum::http::Request::get("/api/1/")
                .body(axum::body::Body::empty())
                .expect("request");
            tower::ServiceExt::oneshot(router, request)
                .await
                .expect("infallible");
            super::AccessLine {
                level: "INFO",
                status: 404,
                latency_ms: 0.25,
                route: "/api/{id}/",
                target: module_path!(),
            }
            .render(&context)
        })
        .await;
        let text = String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("utf-8");
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let mut event = events[0].clone();
        let mut line: serde_json::Value = serde_json::from_str(&direct).expect("JSON");
        assert!(direct.ends_with("}\n") && direct.matches('\n').count() == 1);
        let stamp = line["timestamp"].as_str().expect("timestamp").to_string();
        assert_eq!(stamp.len(), 27, "{stamp}");
        assert!(
            time::OffsetDateTime::parse(&stamp, &time::format_description::well_known::Rfc3339)
                .is_ok()
        );
        event["timestamp"] = "-".into();
        line["timestamp"] = "-".into();
        assert_eq!(line, event, "{direct}\n{text}");
        // Key order as well: the same text once the timestamps are cut.
        let cut = |l: &str| {
            l[l.find("\"level\"").expect("level")..]
                .trim_end()
                .to_string()
        };
        assert_eq!(cut(&direct), cut(text.lines().next().expect("event")));
        let inside = &events[1];
        assert_eq!(inside["span"]["route"], "/api/{id}/");
        assert_eq!(inside["span"]["request_id"], "abc-123script");
        assert_eq!(inside["span"]["name"], "request");
    }
}
