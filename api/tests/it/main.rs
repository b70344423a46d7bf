//! The service's tests, black-box over HTTP: one test binary, one module per concern.

mod flaky;
mod hostile;
mod lifecycle;
mod metrics;
mod openapi;
mod quality;
mod service;
mod shapes;
mod support;

use std::path::PathBuf;

/// The repository root (samples live there).
pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
