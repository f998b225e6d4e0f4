//! In-app notifications (contract-B §2.10, §11.3): rows for the admin SPA's bell. This issue writes
//! them (a completed resource hand-over notifies every admin) and serves the bell's routes.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
pub mod stream;

pub use routes::router;

/// `notification_type` values.
pub const NEW_ORDER: &str = "new_order";
pub const ORDER_ASSIGNED: &str = "order_assigned";
pub const PROGRESS_UPDATE: &str = "progress_update";
pub const ORDER_COMPLETED: &str = "order_completed";
