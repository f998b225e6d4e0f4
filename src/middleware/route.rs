//! The matched route template (`/api/packages/{id}/`) of each request: recorded on the request span
//! and handed to the access log in the response's extensions. A hand-written service (no boxed
//! `from_fn` future, no per-request clone of the inner service) since it wraps every route.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    extract::MatchedPath,
    http::{Request, Response},
};
use tower::{Layer, Service};
use tracing::Span;

/// Wraps each route of the routed router in [`RecordRoute`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordRouteLayer;

impl<S> Layer<S> for RecordRouteLayer {
    type Service = RecordRoute<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RecordRoute { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RecordRoute<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for RecordRoute<S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = RecordRouteFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        if let Some(route) = &route {
            Span::current().record("route", tracing::field::display(route.as_str()));
            crate::logfmt::record_route(route);
        }
        RecordRouteFuture {
            inner: self.inner.call(request),
            route,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner response, with the route template added to its extensions.
    pub struct RecordRouteFuture<F> {
        #[pin]
        inner: F,
        route: Option<MatchedPath>,
    }
}

impl<F, E> Future for RecordRouteFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(route) = this.route.take() {
            response.extensions_mut().insert(route);
        }
        Poll::Ready(Ok(response))
    }
}
