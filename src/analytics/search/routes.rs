//! `GET /api/admin/search/?q=`: at least 2 characters; at most [`PER_GROUP`] results per group.
//! Admins search everything; staff (the top bar is theirs too) search only the orders assigned to
//! them, the other groups being admin pages of the SPA.

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    analytics::search::repo::{self, OrderHit, ProductHit, UserHit},
    auth::StaffUser,
    db::like_pattern,
    error::{AppError, AppResult},
    extract::Query,
    money::format_paise,
    orders::status,
    state::AppState,
};

/// Results per group.
pub const PER_GROUP: i64 = 5;
/// Fewest characters a query needs (the SPA sends none shorter).
const MIN_CHARS: usize = 2;
/// Longest query looked at.
const MAX_CHARS: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
}

/// One result.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Hit {
    /// `order`, `user`, `product` or `staff`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: i64,
    pub title: String,
    pub subtitle: String,
    /// The admin SPA's route for it.
    pub url: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SearchOut {
    pub orders: Vec<Hit>,
    pub users: Vec<Hit>,
    pub products: Vec<Hit>,
    pub staff: Vec<Hit>,
}

fn joined(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

fn full_name(first: &str, last: &str, username: &str) -> String {
    let name = format!("{} {}", first.trim(), last.trim());
    let name = name.trim();
    if name.is_empty() {
        username.to_string()
    } else {
        name.to_string()
    }
}

fn order_hit(o: &OrderHit) -> Hit {
    let customer = full_name(&o.first_name, &o.last_name, &o.username);
    let total = format!("₹{}", format_paise(o.total_paise));
    Hit {
        kind: "order",
        id: o.id,
        title: o.order_number.clone(),
        subtitle: joined(&[
            &customer,
            o.phone_number.as_deref().unwrap_or(""),
            status::display(&o.status),
            &total,
        ]),
        url: format!("/orders/{}", o.id),
    }
}

fn user_hit(u: &UserHit, kind: &'static str, url: &str) -> Hit {
    let inactive = if u.is_active { "" } else { "inactive" };
    let role = if kind == "staff" { u.role.as_str() } else { "" };
    Hit {
        kind,
        id: u.id,
        title: full_name(&u.first_name, &u.last_name, &u.username),
        subtitle: joined(&[
            &u.username,
            u.phone_number.as_deref().unwrap_or(""),
            &u.email,
            role,
            inactive,
        ]),
        url: url.to_string(),
    }
}

fn product_hit(p: &ProductHit) -> Hit {
    let kind = if p.kind == "campaign" {
        "Campaign"
    } else {
        "Package"
    };
    let price = format!("₹{}", format_paise(p.price_paise));
    let inactive = if p.is_active { "" } else { "inactive" };
    Hit {
        kind: "product",
        id: p.id,
        title: p.name.clone(),
        subtitle: joined(&[kind, &price, inactive]),
        url: format!("/products/{}/{}", p.kind, p.id),
    }
}

#[utoipa::path(get, path = "/api/admin/search/", tag = "analytics",
    summary = "Global search: orders (number or customer), customers, products and staff, at most 5 each (staff: only their assigned orders)",
    params(("q" = String, Query, description = "At least 2 characters")),
    responses((status = 200, body = SearchOut), (status = 400, description = "`{\"success\": false, \"message\"}`: q shorter than 2 characters"),
        (status = 401, description = "Authentication required"), (status = 403, description = "Not staff or admin")))]
async fn search(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Query(query): Query<SearchQuery>,
) -> AppResult<Json<SearchOut>> {
    let q: String = query
        .q
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .take(MAX_CHARS)
        .collect();
    if q.chars().count() < MIN_CHARS {
        return Err(AppError::Message(
            StatusCode::BAD_REQUEST,
            "Search query must be at least 2 characters".into(),
        ));
    }
    let pattern = like_pattern(&q);
    let db = &state.db;
    if !user.is_admin() {
        let orders = repo::orders(db, &pattern, PER_GROUP, user.id).await?;
        return Ok(Json(SearchOut {
            orders: orders.iter().map(order_hit).collect(),
            ..SearchOut::default()
        }));
    }
    let (orders, users, products, staff) = tokio::try_join!(
        repo::orders(db, &pattern, PER_GROUP, 0),
        repo::users(db, &pattern, PER_GROUP, false),
        repo::products(db, &pattern, PER_GROUP),
        repo::users(db, &pattern, PER_GROUP, true),
    )?;
    Ok(Json(SearchOut {
        orders: orders.iter().map(order_hit).collect(),
        users: users
            .iter()
            .map(|u| user_hit(u, "user", "/users"))
            .collect(),
        products: products.iter().map(product_hit).collect(),
        staff: staff
            .iter()
            .map(|u| user_hit(u, "staff", "/staff"))
            .collect(),
    }))
}
