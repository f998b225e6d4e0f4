//! Fulfilment (contract-B §8.1–8.2, §9, §11.2, issue 12): the admin panel's order management —
//! the list, the detail, assignment with its checklist, status and payment overrides, payment
//! records, manual orders — and the staff panel's assigned orders and checklist ticks.

pub mod checklist;
pub mod demo;
pub mod detail;
pub mod manual;
pub mod model;
pub mod payment_form;
pub mod repo;
pub mod routes;
pub mod service;
pub mod staff;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router()
        .merge(manual::router())
        .merge(staff::router())
}
