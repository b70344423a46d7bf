//! End-to-end tests of the binary (alone, over a history, and against the service): one
//! test binary, one module per concern. The reader's own tests are in `ingest/tests/it/`,
//! the storage suite in `history/tests/it/`, the service's in `api/tests/it/`.

mod cli;
mod history;
mod hostile;
#[path = "../../api/tests/it/support.rs"]
#[allow(
    dead_code,
    reason = "the service suite's helpers; these tests use a few of them"
)]
mod support;
mod upload;

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The URL of a fresh PostgreSQL database named after `name`, when
/// `CIMETRICS_TEST_DATABASE_URL` names a server (the PostgreSQL half of a test runs then).
pub fn fresh_postgres(name: &str) -> Option<String> {
    let url = std::env::var("CIMETRICS_TEST_DATABASE_URL").ok()?;
    if url.is_empty() {
        return None;
    }
    let db = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(cimetrics_history::store::fresh_postgres_database(
            &url,
            &format!("cimetrics_{name}"),
        ))
        .expect("a fresh database");
    Some(db)
}
