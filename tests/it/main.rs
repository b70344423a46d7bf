//! End-to-end tests of the binary and the service: one test binary, one module per concern.
//! The reader's own tests are in `ingest/tests/it/`.

mod cli;
mod history;
mod service;

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
