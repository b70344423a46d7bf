//! The one error of this crate's questions and cache.

use cimetrics_metrics::polars::prelude::PolarsError;

use crate::store;

/// What a question can fail with. [`Error::code`] names it for clients; the message and the
/// cause chain are for the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such project, build or other named thing.
    #[error("not found: {0}")]
    NotFound(String),
    /// A parameter that makes no sense (unknown metric, time zone, gate condition, ...).
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] cimetrics_metrics::Error),
    /// polars failed.
    #[error("polars: {0}")]
    Polars(#[from] PolarsError),
}

impl Error {
    /// A stable, machine-readable name: `not_found`, `invalid`, `conflict` or `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) | Error::Store(store::Error::NotFound(_)) => "not_found",
            Error::Invalid(_)
            | Error::Store(store::Error::Invalid(_))
            | Error::Metrics(cimetrics_metrics::Error::Invalid(_)) => "invalid",
            Error::Store(store::Error::Conflict(_)) => "conflict",
            _ => "internal",
        }
    }

    /// Whether the client caused it (its message may be shown to the client).
    pub fn is_client_error(&self) -> bool {
        self.code() != "internal"
    }
}
