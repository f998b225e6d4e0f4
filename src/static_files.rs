//! `/static/`: assets embedded in the binary (brotli/gzip variants, ETag, content-hashed routes with a
//! year-long `Cache-Control`), or a directory on disk when `STATIC_DIR` is set (development).
//!
//! memory-serve embeds the files at build time and answers for them. Its answers depend only on
//! the asset, the encoding it negotiates and whether `If-None-Match` matches, so they are asked of
//! its router once at start-up ([`Embedded::load`]: for each route, with `br`, with `gzip`, with
//! neither, and revalidated) and kept as parts; a request is then a map lookup, the same
//! negotiation, and a copy of the stored headers (issue 8: the nested router, its path rewrite
//! and the per-request response building cost about 12,000 instructions a request, a fifth of a
//! static file's).

use std::collections::HashMap;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header},
};
use futures_util::FutureExt;
use memory_serve::{CacheControl, MemoryServe};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The prefix every asset is served under.
pub const PREFIX: &str = "/static";

fn embedded() -> MemoryServe {
    memory_serve::load!()
        .index_file(None)
        .enable_gzip(true)
        .enable_brotli(true)
        .enable_hashed_routes(true)
        .cache_control(CacheControl::Medium)
}

/// The router mounted at `/static` when `STATIC_DIR` is set (files from disk).
pub fn dir_router(dir: &std::path::Path) -> Router {
    Router::new().fallback_service(
        ServeDir::new(dir)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false),
    )
}

/// memory-serve's own router of the embedded assets (it leaks what it serves: call it once).
pub fn embedded_router() -> Router {
    embedded().into_router()
}

/// The public URL of an asset (its content-hashed route when embedded), e.g.
/// `/static/error.3f9a1c2b7d84e6a0.css` for `/error.css`.
pub fn asset_url(route: &str, static_override: bool) -> String {
    if static_override {
        return format!("{PREFIX}{route}");
    }
    let manifest = embedded().manifest();
    format!("{PREFIX}{}", manifest.get(route).unwrap_or(route))
}

/// One stored answer.
struct Stored {
    status: StatusCode,
    headers: HeaderMap,
    body: axum::body::Bytes,
}

impl Stored {
    fn encoded(&self) -> bool {
        self.headers.contains_key(header::CONTENT_ENCODING)
    }

    fn response(&self, head: bool) -> Response<Body> {
        let body = if head {
            Body::empty()
        } else {
            Body::from(self.body.clone())
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// An asset's answers.
struct Asset {
    identity: Stored,
    brotli: Stored,
    gzip: Stored,
    not_modified: Stored,
    /// The quoted ETag.
    etag: String,
    /// Whether the answer depends on `Accept-Encoding` (it sends `Vary`).
    varies: bool,
}

/// The embedded assets by path under [`PREFIX`] (plain and hashed routes).
pub struct Embedded {
    assets: HashMap<String, Asset>,
}

impl Embedded {
    /// Asks memory-serve's router for every answer once. `None` (the caller then mounts the router
    /// itself) if an answer were not ready at once, which memory-serve's embedded handlers are.
    pub fn load() -> Option<Self> {
        let serve = embedded();
        let routes: Vec<String> = serve
            .manifest()
            .iter()
            .flat_map(|(plain, served)| [plain.to_string(), served.to_string()])
            .collect();
        let router: Router = serve.into_router();
        let mut assets = HashMap::new();
        for route in routes {
            if assets.contains_key(&route) {
                continue;
            }
            let ask = |accept: Option<&str>, etag: Option<&str>| ask(&router, &route, accept, etag);
            let identity = ask(None, None)?;
            if identity.status != StatusCode::OK {
                return None;
            }
            let etag = identity
                .headers
                .get(header::ETAG)
                .and_then(|v| v.to_str().ok())?
                .to_string();
            let asset = Asset {
                brotli: ask(Some("br"), None)?,
                gzip: ask(Some("gzip"), None)?,
                not_modified: ask(None, Some(&etag))?,
                varies: identity.headers.contains_key(header::VARY),
                identity,
                etag,
            };
            assets.insert(route, asset);
        }
        Some(Self { assets })
    }

    /// The answer for a request under [`PREFIX`], or `None` when no asset has that path (the
    /// router's 404 answers then). Other methods than GET and HEAD get a 405, as a route would.
    pub fn answer<B>(&self, request: &Request<B>) -> Option<Response<Body>> {
        let path = request.uri().path().strip_prefix(PREFIX)?;
        let asset = self.assets.get(path)?;
        let head = match *request.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
                return Some(response);
            }
        };
        let headers = request.headers();
        if let Some(value) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            && if_none_match_matches(value, &asset.etag)
        {
            return Some(asset.not_modified.response(head));
        }
        if !asset.varies {
            return Some(asset.identity.response(head));
        }
        let quality = |stored: &Stored, encoding: &str| {
            stored
                .encoded()
                .then(|| encoding_qvalue(headers, encoding))
                .flatten()
        };
        let brotli = quality(&asset.brotli, "br");
        let gzip = quality(&asset.gzip, "gzip");
        // Ties favour brotli (as memory-serve).
        let stored = match (brotli, gzip) {
            (Some(br), Some(gz)) if br >= gz => &asset.brotli,
            (Some(_), None) => &asset.brotli,
            (_, Some(_)) => &asset.gzip,
            _ => &asset.identity,
        };
        Some(stored.response(head))
    }
}

/// One answer of memory-serve's router, taken apart.
fn ask(router: &Router, route: &str, accept: Option<&str>, etag: Option<&str>) -> Option<Stored> {
    let mut request = Request::get(route);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_ENCODING, accept);
    }
    if let Some(etag) = etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    let request = request.body(Body::empty()).ok()?;
    let response = router.clone().oneshot(request).now_or_never()?.ok()?;
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .now_or_never()?
        .ok()?;
    Some(Stored {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// RFC 7232 §2.3.2's weak comparison over an `If-None-Match` list (as memory-serve).
fn if_none_match_matches(value: &str, quoted_etag: &str) -> bool {
    let target = strip_weak(quoted_etag);
    value.split(',').any(|candidate| {
        let candidate = candidate.trim();
        candidate == "*" || strip_weak(candidate) == target
    })
}

fn strip_weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The `q` the client gives `encoding` (`None` when absent or refused), an explicit entry
/// before `*` (as memory-serve).
fn encoding_qvalue(headers: &HeaderMap, encoding: &str) -> Option<f32> {
    let value = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())?;
    let compact: String = value.split_whitespace().collect();
    let mut wildcard = None;
    for item in compact.split(',').filter(|i| !i.is_empty()) {
        let mut parts = item.splitn(2, ";q=");
        let token = parts.next().unwrap_or_default();
        let q = parts
            .next()
            .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        if token == encoding {
            return (q > 0.0).then_some(q);
        }
        if token == "*" {
            wildcard = Some(q);
        }
    }
    wildcard.filter(|q| *q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut request = Request::get(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.body(()).expect("request")
    }

    /// Every stored answer is what memory-serve's router gives for the same request.
    #[tokio::test]
    async fn answers_are_memory_serves() {
        let embedded = Embedded::load().expect("loads");
        let router: Router = embedded_router();
        let css = asset_url("/error.css", false);
        let cases: [(&str, &[(&str, &str)]); 9] = [
            ("/static/robots.txt", &[]),
            ("/static/error.css", &[]),
            ("/static/error.css", &[("accept-encoding", "gzip")]),
            (
                "/static/error.css",
                &[("accept-encoding", "br;q=0.5, gzip")],
            ),
            ("/static/error.css", &[("accept-encoding", "gzip, br")]),
            (
                "/static/error.css",
                &[("accept-encoding", "*;q=0.3, gzip;q=0")],
            ),
            ("/static/error.css", &[("accept-encoding", "identity")]),
            (css.as_str(), &[("accept-encoding", "br")]),
            (css.as_str(), &[]),
        ];
        for (path, headers) in cases {
            let ours = embedded.answer(&get(path, headers)).expect("an asset");
            let mut request = Request::get(path.strip_prefix(PREFIX).expect("prefix"));
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            let theirs = router
                .clone()
                .oneshot(request.body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            assert_eq!(ours.status(), theirs.status(), "{path} {headers:?}");
            assert_eq!(ours.headers(), theirs.headers(), "{path} {headers:?}");
            let ours = axum::body::to_bytes(ours.into_body(), usize::MAX).await;
            let theirs = axum::body::to_bytes(theirs.into_body(), usize::MAX).await;
            assert_eq!(ours.expect("body"), theirs.expect("body"), "{path}");
        }
        // Revalidation: the ETag of the answer, weak or in a list, gets a 304 without a body.
        let first = embedded
            .answer(&get("/static/error.css", &[]))
            .expect("asset");
        let etag = first.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_string();
        for value in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}")] {
            let answer = embedded
                .answer(&get("/static/error.css", &[("if-none-match", &value)]))
                .expect("asset");
            assert_eq!(answer.status(), StatusCode::NOT_MODIFIED, "{value}");
        }
        assert!(embedded.answer(&get("/static/nope.txt", &[])).is_none());
        assert!(embedded.answer(&get("/robots.txt", &[])).is_none());
        let post = Request::post("/static/robots.txt")
            .body(())
            .expect("request");
        assert_eq!(
            embedded.answer(&post).expect("asset").status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn quality_values_as_memory_serve() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(v).expect("v"),
            );
            h
        };
        assert_eq!(encoding_qvalue(&headers("gzip"), "gzip"), Some(1.0));
        assert_eq!(
            encoding_qvalue(&headers("br;q=1.0, gzip;q=0.8"), "gzip"),
            Some(0.8)
        );
        assert_eq!(encoding_qvalue(&headers("*;q=0.5"), "gzip"), Some(0.5));
        assert_eq!(encoding_qvalue(&headers("*, gzip;q=0"), "gzip"), None);
        assert_eq!(encoding_qvalue(&headers("*;q=0, gzip"), "gzip"), Some(1.0));
        assert_eq!(encoding_qvalue(&headers("gzip"), "br"), None);
        assert!(if_none_match_matches("*", "\"abc\""));
        assert!(!if_none_match_matches("\"x\", \"y\"", "\"abc\""));
    }
}
