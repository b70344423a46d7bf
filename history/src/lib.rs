//! The cimetrics history: where builds, reports and their results are kept, and the
//! questions asked of them.
//!
//! - [`store::Store`] keeps projects, builds, uploads, tests, results and coverage in SQLite
//!   (embedded) or PostgreSQL. Only this crate writes SQL.
//! - [`cache::HistoryCache`] holds each project's complete builds and recent results in
//!   memory as the metrics' frames, refreshed by the history version in the database.
//! - [`questions`]: one function per question a user asks (trend, flaky, slowest, failing,
//!   coverage files, score, gate, builds), each returning a typed answer from [`answers`].
//!   The HTTP API, CSV, charts, the dashboard and the command line all format those answers;
//!   none recomputes them.
#![warn(missing_docs)]

pub mod answers;
pub mod cache;
pub mod csv;
mod error;
pub mod questions;
pub mod store;

pub use cache::{HistoryCache, Snapshot};
pub use error::Error;
pub use questions::History;
