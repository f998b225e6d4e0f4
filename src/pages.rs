//! The HTML error pages (`templates/404.html`, `templates/500.html`), rendered once at boot.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use crate::static_files::asset_url;

const NOT_FOUND: &str = include_str!("../templates/404.html");
const SERVER_ERROR: &str = include_str!("../templates/500.html");

#[derive(Debug)]
pub struct Pages {
    not_found: String,
    server_error: String,
}

impl Pages {
    pub fn new(static_override: bool) -> Self {
        let stylesheet = asset_url("/error.css", static_override);
        Self {
            not_found: NOT_FOUND.replace("{{stylesheet}}", &stylesheet),
            server_error: SERVER_ERROR.replace("{{stylesheet}}", &stylesheet),
        }
    }

    pub fn not_found(&self) -> Response {
        html(StatusCode::NOT_FOUND, self.not_found.clone())
    }

    pub fn server_error(&self, status: StatusCode, request_id: &str) -> Response {
        html(
            status,
            self.server_error
                .replace("{{request_id}}", &crate::logfmt::safe_id(request_id)),
        )
    }
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use crate::logfmt::safe_id;

    #[test]
    fn request_ids_cannot_inject_markup() {
        assert_eq!(safe_id("<script>alert(1)</script>"), "scriptalert1script");
        assert_eq!(safe_id("0f0e-11"), "0f0e-11");
    }
}
