//! API tests: one binary, a module per area. Database tests run on SQLite always and on PostgreSQL too
//! when `TEST_DATABASE_URL` is set (a fresh database per test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_list;
mod analytics;
mod auth;
mod blackbox;
mod cache;
mod cart;
mod catalog;
mod cli;
mod database;
mod faults;
mod fields;
mod fulfilment;
mod gateway_mock;
mod health;
mod helpers;
mod images;
mod import;
mod instances;
mod invoices;
mod layout;
mod metrics;
mod observatory;
mod orders;
mod payments;
mod platform;
mod popular;
mod ratelimit;
mod resources;
mod snapshots;
mod soak;
mod storage_faults;
mod templates;
mod validation;
mod wire;
