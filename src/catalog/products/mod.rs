//! Packages and campaigns: the public lists and details, and the admin's product management.

pub mod admin;
pub mod detail;
pub mod public;
pub mod repo;
pub mod service;
