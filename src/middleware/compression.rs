//! Response compression (gzip, br: tower-http's `Compression`), with its response boxed at once
//! and skipped where it cannot apply.
//!
//! tower-http's `CompressionBody` holds every encoder's state inline: a `Response` of it is about
//! 5.9 KB (a plain `Response<Body>`: 128 bytes), and each layer above that moved it copied those
//! bytes, several times per request (issue 8: `memmove` was the hottest symbol of a static file).
//! So the compressed response is boxed into a [`Body`] right here, and a request without
//! `Accept-Encoding`, which can only ever get the identity encoding, does not go through the
//! compression service at all; it gets the one header that service would still add (`Vary:
//! Accept-Encoding` on responses its predicate would compress for another client).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::{
    body::{Body, Bytes, HttpBody},
    http::{HeaderValue, Request, Response, header},
};
use tower::{Layer, Service};
use tower_http::compression::{
    Compression, CompressionLayer,
    predicate::{DefaultPredicate, Predicate},
};

/// Wraps the inner service in [`Compress`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CompressLayer;

impl<S: Clone> Layer<S> for CompressLayer {
    type Service = Compress<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Compress {
            compress: CompressionLayer::new().layer(inner.clone()),
            plain: inner,
        }
    }
}

/// The inner service twice: through tower-http's compression, and as it is.
#[derive(Clone)]
pub struct Compress<S> {
    compress: Compression<S>,
    plain: S,
}

impl<S, ReqB, B> Service<Request<ReqB>> for Compress<S>
where
    S: Service<Request<ReqB>, Response = Response<B>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError> + Send + Sync,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = CompressFuture<S::Future, <Compression<S> as Service<Request<ReqB>>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.plain.poll_ready(cx))?;
        self.compress.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        if request.headers().contains_key(header::ACCEPT_ENCODING) {
            CompressFuture::Compressed {
                inner: self.compress.call(request),
            }
        } else {
            CompressFuture::Plain {
                inner: self.plain.call(request),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of either path as a `Response<Body>`.
    #[project = CompressFutureProj]
    pub enum CompressFuture<P, C> {
        Plain { #[pin] inner: P },
        Compressed { #[pin] inner: C },
    }
}

impl<P, C, B, CB, E> Future for CompressFuture<P, C>
where
    P: Future<Output = Result<Response<B>, E>>,
    C: Future<Output = Result<Response<CB>, E>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
    CB: HttpBody<Data = Bytes> + Send + 'static,
    CB::Error: Into<axum::BoxError>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CompressFutureProj::Compressed { inner } => {
                let response = ready!(inner.poll(cx))?;
                Poll::Ready(Ok(response.map(Body::new)))
            }
            CompressFutureProj::Plain { inner } => {
                let mut response = ready!(inner.poll(cx))?;
                add_vary(&mut response);
                Poll::Ready(Ok(response.map(Body::new)))
            }
        }
    }
}

/// `Vary: Accept-Encoding` where tower-http's compression adds it for a client that accepts no
/// encoding: the response is not already encoded or a range, its predicate would compress it, and
/// it does not vary on `Accept-Encoding` yet.
fn add_vary<B: HttpBody>(response: &mut Response<B>) {
    let headers = response.headers();
    if headers.contains_key(header::CONTENT_ENCODING)
        || headers.contains_key(header::CONTENT_RANGE)
        || !DefaultPredicate::new().should_compress(response)
    {
        return;
    }
    let varies = response
        .headers()
        .get_all(header::VARY)
        .iter()
        .any(|value| contains_ignore_ascii_case(value.as_bytes(), b"accept-encoding"));
    if !varies {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use axum::{
        body::to_bytes,
        http::{HeaderMap, StatusCode},
        response::IntoResponse,
    };
    use tower::ServiceExt;

    use super::*;

    /// A small text, a large text, an image and an already-encoded answer, by path.
    fn app() -> impl Service<
        Request<Body>,
        Response = Response<Body>,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone {
        tower::service_fn(|request: Request<Body>| async move {
            Ok(match request.uri().path() {
                "/small" => "tiny".into_response(),
                "/large" => "a reasonably long text body ".repeat(20).into_response(),
                "/image" => ([(header::CONTENT_TYPE, "image/png")], vec![7u8; 200]).into_response(),
                _ => ([(header::CONTENT_ENCODING, "gzip")], vec![7u8; 200]).into_response(),
            })
        })
    }

    async fn answer<S>(
        service: S,
        path: &str,
        accept: Option<&str>,
    ) -> (StatusCode, HeaderMap, Bytes)
    where
        S: Service<Request<Body>, Error = std::convert::Infallible>,
        S::Response: IntoResponse,
    {
        let mut request = Request::get(path).body(Body::empty()).expect("request");
        if let Some(accept) = accept {
            request.headers_mut().insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).expect("value"),
            );
        }
        let response = service
            .oneshot(request)
            .await
            .expect("infallible")
            .into_response();
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.expect("body");
        (parts.status, parts.headers, bytes)
    }

    /// With and without `Accept-Encoding`, every answer (status, headers, body) is what tower-http's
    /// compression layer gives.
    #[tokio::test]
    async fn answers_are_tower_https() {
        for path in ["/small", "/large", "/image", "/encoded"] {
            for accept in [
                None,
                Some("gzip"),
                Some("br"),
                Some("identity"),
                Some("br;q=0, gzip"),
            ] {
                let ours = answer(CompressLayer.layer(app()), path, accept).await;
                let theirs = answer(CompressionLayer::new().layer(app()), path, accept).await;
                assert_eq!(ours, theirs, "{path} {accept:?}");
            }
        }
        let (_, headers, _) = answer(CompressLayer.layer(app()), "/large", None).await;
        assert_eq!(
            headers[header::VARY],
            "accept-encoding",
            "the plain path adds Vary"
        );
        let (_, headers, body) = answer(CompressLayer.layer(app()), "/large", Some("gzip")).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert!(body.len() < 560, "compressed: {}", body.len());
    }
}
