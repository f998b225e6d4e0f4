//! Analytics, export and global search (contract-B §8.5, §11.1, §11.4, clients.md §2.9–2.10, D2,
//! issue 13): the numbers the shop is run by, computed by the database and cached per query until
//! the next order change ([`crate::orders::derived`]), and the admin top bar's search.

pub mod export;
pub mod model;
pub mod params;
pub mod repo;
pub mod routes;
pub mod search;
pub mod service;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(search::router())
}
