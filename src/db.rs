//! Where the history lives: `--data-dir` (SQLite, the default) or `--database-url`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cimetrics_history::History;
use cimetrics_history::store::Store;

/// The database options shared by the commands that read or write history.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArgs {
    /// Data directory holding the embedded SQLite database.
    #[arg(long, default_value = "cimetrics-data", env = "CIMETRICS_DATA_DIR")]
    pub data_dir: PathBuf,
    /// A database URL instead (`postgres://...`, `sqlite://...`).
    #[arg(long, env = "CIMETRICS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The project.
    #[arg(long, default_value = "default")]
    pub project: String,
}

impl DbArgs {
    pub async fn open(&self) -> Result<Store> {
        match &self.database_url {
            Some(url) => Store::open(url).await.context("cannot open the database"),
            None => Store::open_data_dir(&self.data_dir).await.with_context(|| {
                format!("cannot open the data directory {}", self.data_dir.display())
            }),
        }
    }

    /// The history over the store (questions), with the service's default cache period.
    pub async fn history(&self) -> Result<History> {
        Ok(History::new(self.open().await?, 120))
    }
}

/// The runtime a command's database work and questions run on (multi-threaded: polars
/// blocks in place inside it, and refuses a single-threaded one).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Parses an RFC 3339 time (`2026-03-02T10:00:00Z`) into ms since the epoch.
pub fn parse_time(text: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .with_context(|| format!("{text:?} is not an RFC 3339 time (e.g. 2026-03-02T10:00:00Z)"))
}
