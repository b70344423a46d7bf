//! The cimetrics service crate: storage (SQLite embedded, or PostgreSQL), and (to come) the
//! HTTP API, charts and dashboard over it.
//!
//! [`store::Store`] keeps projects, builds, uploads, tests, results and coverage; the
//! metrics crate computes over what [`store::Store::history`] reads back.
#![warn(missing_docs)]

pub mod history;
pub mod queries;
pub mod service;
pub mod store;
