//! DRF's page-number pagination: `?page=` (a number or `last`), the envelope
//! `{"count","next","previous","results"}` and its 404 `{"detail":"Invalid page."}`. Lists that
//! grow (orders, notifications) page through it.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// `?page=` as sent (extract it with [`Query`](super::Query)).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<String>,
}

/// DRF's page-number envelope.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

fn invalid_page() -> AppError {
    AppError::Detail(StatusCode::NOT_FOUND, "Invalid page.".into())
}

/// The number of pages `count` rows fill (at least 1).
pub fn last_page(count: i64, size: i64) -> i64 {
    ((count + size - 1) / size).max(1)
}

/// `?page=` → a 1-based page number within `count` rows of `size`, or DRF's 404.
pub fn page_number(raw: Option<&str>, count: i64, size: i64) -> Result<i64, AppError> {
    let last = last_page(count, size);
    let page = match raw.map(str::trim) {
        None | Some("") => 1,
        Some("last") => last,
        Some(text) => text.parse::<i64>().map_err(|_| invalid_page())?,
    };
    if page < 1 || page > last {
        return Err(invalid_page());
    }
    Ok(page)
}

impl<T> Page<T> {
    /// Page `page` of `count` rows of `size`; `path` is the list's absolute URL without a query.
    pub fn new(results: Vec<T>, count: i64, page: i64, size: i64, path: &str) -> Self {
        let last = last_page(count, size);
        Page {
            count,
            next: (page < last).then(|| format!("{path}?page={}", page + 1)),
            previous: match page {
                1 => None,
                2 => Some(path.to_string()),
                p => Some(format!("{path}?page={}", p - 1)),
            },
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_like_drf() {
        assert_eq!(page_number(None, 0, 20).ok(), Some(1));
        assert_eq!(page_number(Some("2"), 21, 20).ok(), Some(2));
        assert_eq!(page_number(Some("last"), 41, 20).ok(), Some(3));
        for bad in ["0", "-1", "3", "abc", "1.5"] {
            assert!(page_number(Some(bad), 40, 20).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_like_drf() {
        let page = Page::new(vec![1], 45, 2, 20, "http://h/api/packages/");
        assert_eq!(page.next.as_deref(), Some("http://h/api/packages/?page=3"));
        assert_eq!(page.previous.as_deref(), Some("http://h/api/packages/"));
        let last = Page::new(vec![1], 45, 3, 20, "http://h/api/packages/");
        assert_eq!(last.next, None);
        assert_eq!(
            last.previous.as_deref(),
            Some("http://h/api/packages/?page=2")
        );
    }
}
