//! The storage suite. Every test runs on SQLite (a fresh file) and, when
//! `CIMETRICS_TEST_DATABASE_URL` is set, on PostgreSQL (a fresh database per test).

mod store;

use cimetrics_history::store::Store;

/// A fresh store on every backend this run can reach, with its name.
pub async fn stores() -> Vec<(&'static str, Store)> {
    // Kept after the test (the store's pool outlives this function), named by tempfile.
    let dir = tempfile::Builder::new()
        .prefix("cimetrics_store")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let mut out = vec![(
        "sqlite",
        Store::open_data_dir(&dir).await.expect("open SQLite"),
    )];
    match std::env::var("CIMETRICS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => out.push(("postgres", fresh_postgres(&url).await)),
        _ => eprintln!("CIMETRICS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped"),
    }
    out
}

/// Creates a new database on the server of `url` and opens a store on it.
async fn fresh_postgres(url: &str) -> Store {
    let db = cimetrics_history::store::fresh_postgres_database(url, "cimetrics_test")
        .await
        .expect("create a test database on CIMETRICS_TEST_DATABASE_URL");
    Store::open(&db).await.expect("open PostgreSQL")
}
