//! electioncart: the election-cart backend as one Axum binary.
//!
//! `main` sets up Sentry, tracing and configuration and dispatches a subcommand ([`cli`]); everything
//! else lives here so that tests build the same router ([`router::build_router`]) and the same server
//! ([`app::Application`]).

pub mod analytics;
pub mod app;
pub mod auth;
pub mod blocking;
pub mod cache;
pub mod cart;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod doctor;
pub mod error;
pub mod events;
pub mod extract;
pub mod fulfilment;
pub mod health;
pub mod import;
pub mod invoices;
pub mod log_writer;
pub mod logfmt;
pub mod metrics;
pub mod middleware;
pub mod money;
pub mod notifications;
pub mod openapi;
pub mod orders;
pub mod pages;
pub mod payments;
pub mod ratelimit;
pub mod redis_conn;
pub mod resources;
pub mod router;
pub mod state;
pub mod static_files;
pub mod telemetry;
pub mod timefmt;
pub mod uploads;
pub mod validation;

pub use app::Application;
pub use config::Config;
pub use error::{AppError, AppResult};
pub use router::build_router;
pub use state::{App, AppState};
