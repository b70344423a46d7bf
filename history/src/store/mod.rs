//! Storage: projects, builds, uploads, tests, results, coverage and daily rollups, in SQLite
//! (embedded, a file in the data directory) or PostgreSQL (from a URL), with one SQL text
//! for both through sqlx's `Any` driver.
//!
//! - **Ingest is one transaction.** The caller parses the report first, outside it
//!   ([`Store::ingest`] takes a parsed `Report`); any failure stores nothing.
//! - **Idempotent.** An upload is identified by (build, shard, name) and its content digest:
//!   the same upload again changes nothing and answers as the first time; the same (build,
//!   shard, name) with another digest is [`Error::Conflict`].
//! - **Builds count when finished**: when the CI says so (a status, `finish`,
//!   [`Store::finalize`], [`Store::finish`]), or when all `expected_shards` have reported and
//!   no report has come for the close-after period ([`Store::with_build_close_after`],
//!   [`Store::close_idle_builds`]). [`Store::history`] returns finished builds only.
//! - **Judged on all their reports**: every report recomputes the build's totals, and a
//!   finished build's status when its tests decide it (not when the CI stated it); a report
//!   after the build finished is added with a warning and the build recomputed.
//! - **Merged across shards**: a test seen in several shards is one result (a pass in one and
//!   a failure in another is a flaky pass); a file's coverage is the union of its lines.
//!
//! SQLite runs in WAL mode with `synchronous = NORMAL` (a crash can lose the last commits
//! but never corrupts the file), a 5 s busy timeout, foreign keys on, and one writer at a
//! time (an in-process lock serialises write transactions; readers run beside it).

mod ingest;
mod issues;
mod lines;
mod migrations;
mod packs;
mod read;
mod tokens;
mod windows;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use tokio::sync::{Mutex, MutexGuard};

pub use ingest::{
    Batch, BuildMeta, Prepared, UploadContent, UploadMeta, UploadOutcome, UploadSummary, digest,
    test_key_hash,
};
pub use issues::{IssueBuild, IssueTotals, StoredIssue};
pub use read::{
    BuildInfo, BuildSummary, BuildTestResult, History, PruneStats, StoredResult, TestName,
    TestRunRow,
};
pub use tokens::{TokenGrant, TokenKind, new_token, token_digest};

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A different upload already holds this (build, shard, name), or the build is full.
    #[error("conflict: {0}")]
    Conflict(String),
    /// No such project or build.
    #[error("not found: {0}")]
    NotFound(String),
    /// A request that makes no sense (shard 0, shard beyond the expected count, ...).
    #[error("invalid: {0}")]
    Invalid(String),
}

/// This module's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Whether anyone may read it (`None`: the server's default).
    pub public_read: Option<bool>,
}

/// The database, shared by every request (cheap to clone).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Option<Arc<Mutex<()>>>,
    /// How long a build with all its shards waits for more reports before it finishes (0:
    /// it finishes with its last shard's first report).
    close_after_ms: i64,
    /// Whether a bulk load's commits skip waiting for the disk (see
    /// [`Store::for_bulk_load`]).
    bulk_load: bool,
    /// Under a bulk load, the ids of tests known to be stored, by project and identity hash
    /// (see `ingest::store_tests`).
    test_ids: Option<Arc<KnownTests>>,
}

/// Test ids by (project, identity hash).
pub(super) type KnownTests = std::sync::Mutex<std::collections::HashMap<(i64, i64), i64>>;

/// `bytes` in lowercase hex, two digits a byte (token digests, coverage lines sent to
/// PostgreSQL as text).
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// [`hex`], appended to `out`.
pub(super) fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// Opens (creating if needed) the SQLite database `cimetrics.db` in `dir`, and migrates it.
    ///
    /// # Errors
    /// The directory cannot be created or the database cannot be opened.
    pub async fn open_data_dir(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Invalid(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let file = dir.join("cimetrics.db");
        Store::open(&format!("sqlite://{}?mode=rwc", file.display())).await
    }

    /// Opens a database from a URL (`sqlite://PATH?mode=rwc`, `sqlite::memory:`,
    /// `postgres://...`) and migrates it.
    ///
    /// # Errors
    /// The URL is not one of those, or the database cannot be reached or migrated.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::Invalid(format!(
                "unsupported database URL {url:?} (sqlite:// or postgres://)"
            )));
        };
        let url = match backend {
            Backend::Postgres => without_loopback_tls(url),
            Backend::Sqlite => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        migrations::run(&pool, backend).await?;
        Ok(Store {
            pool,
            backend,
            writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            close_after_ms: 0,
            bulk_load: false,
            test_ids: None,
        })
    }

    /// A build that has all its shards finishes once no report has arrived for `seconds`
    /// (when its CI does not say it is over first: a status, `finish`, [`Store::finalize`]).
    /// With 0 (the default), it finishes with its last shard's first report; a report that
    /// comes after a build finished is still added, and the build recomputed.
    pub fn with_build_close_after(mut self, seconds: u64) -> Store {
        self.close_after_ms = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        self
    }

    /// For a bulk load (`cimetrics import`), which finishes each build with
    /// [`Store::finish`] after its reports:
    /// - on PostgreSQL an upload's commit does not wait for its write-ahead log to reach the
    ///   disk (`synchronous_commit = off`), as SQLite's WAL with `synchronous = NORMAL` never
    ///   does. A crash can lose the last commits, never corrupt what is stored, and a re-run
    ///   of the import stores what is missing. Waiting took 4.2 ms a commit here, against
    ///   0.3 ms without, and an import commits once a report and once a build;
    /// - a build's totals are worked out when it finishes, not again after each report;
    /// - the ids of stored tests are remembered, so a report's tests are looked up only when
    ///   new. The lookup was a tenth of PostgreSQL's time in an import (4.3 s of 42.2 s
    ///   over 1,500 builds). Only ids read back as already stored are kept, never those of
    ///   tests the same transaction inserts (it may roll back), and the store deletes tests
    ///   only with their project.
    pub fn for_bulk_load(mut self) -> Store {
        self.bulk_load = true;
        self.test_ids = Some(Arc::default());
        self
    }

    /// A transaction for a write; under [`Store::for_bulk_load`] on PostgreSQL, one whose
    /// commit does not wait for the disk.
    pub(super) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        if self.bulk_load && self.backend == Backend::Postgres {
            // One round trip for both: a bulk load begins tens of thousands of these.
            return Ok(self
                .pool
                .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                .await?);
        }
        Ok(self.pool.begin().await?)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Refreshes the planner's statistics after a bulk load: `ANALYZE` on PostgreSQL (before
    /// autovacuum gets to it, the planner takes a list of builds for half the results table
    /// and reads all of it: 21.5 s instead of 2.5 s for the cache's first read after the
    /// year's import), `PRAGMA optimize` on SQLite.
    ///
    /// # Errors
    /// The database fails.
    pub async fn analyze(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE",
            Backend::Sqlite => "PRAGMA optimize",
        };
        let _guard = self.write_lock().await;
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for the database to answer (for readiness checks).
    ///
    /// # Errors
    /// It does not answer.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Holds the one-writer lock on SQLite (nothing on PostgreSQL).
    async fn write_lock(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.writer {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// Creates a project, or returns the existing one of that name.
    ///
    /// # Errors
    /// An empty name, or the database fails.
    pub async fn create_project(&self, name: &str) -> Result<Project> {
        let valid = name.len() <= 100
            && name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(Error::Invalid(
                "a project name is 1 to 100 of A-Z a-z 0-9 . _ -, starting with a letter or digit"
                    .into(),
            ));
        }
        let _guard = self.write_lock().await;
        sqlx::query(
            "INSERT INTO projects (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.project(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("project {name:?}")))
    }

    /// The project of this name.
    ///
    /// # Errors
    /// The database fails.
    pub async fn project(&self, name: &str) -> Result<Option<Project>> {
        use sqlx::Row;
        let row = sqlx::query("SELECT id, name, public_read FROM projects WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Project {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                public_read: r.try_get::<Option<i64>, _>(2)?.map(|v| v != 0),
            })
        })
        .transpose()
    }
}

impl Store {
    /// Makes a project public (`Some(true)`), private (`Some(false)`: reading needs a token
    /// of the project), or follow the server's default (`None`).
    ///
    /// # Errors
    /// The database fails.
    pub async fn set_public_read(&self, project_id: i64, public: Option<bool>) -> Result<()> {
        let _guard = self.write_lock().await;
        sqlx::query("UPDATE projects SET public_read = $2 WHERE id = $1")
            .bind(project_id)
            .bind(public.map(i64::from))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The tables whose rows belong to one build (`build_id`), the order they are deleted in.
const BUILD_TABLES: [&str; 7] = [
    "issues",
    "test_messages",
    "result_packs",
    "test_results",
    "coverage_files",
    "build_totals",
    "uploads",
];

impl Store {
    /// Deletes a build with everything stored of it (results, messages, uploads, coverage,
    /// totals), and makes every reader reload the project's history. Returns whether there
    /// was such a build.
    ///
    /// # Errors
    /// The database fails.
    pub async fn delete_build(&self, project_id: i64, ci_build_id: &str) -> Result<bool> {
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM builds WHERE project_id = $1 AND ci_build_id = $2")
                .bind(project_id)
                .bind(ci_build_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        for table in BUILD_TABLES {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE build_id = $1"
            )))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM builds WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // A build leaving the history is a change every cache must reload for.
        sqlx::query("UPDATE projects SET prune_epoch = prune_epoch + 1 WHERE id = $1")
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a project with all its builds, tests, rollups, kept quality windows and tokens.
    ///
    /// # Errors
    /// The database fails.
    pub async fn delete_project(&self, project_id: i64) -> Result<()> {
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        let of_builds = "build_id IN (SELECT id FROM builds WHERE project_id = $1)";
        for table in BUILD_TABLES {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE {of_builds}"
            )))
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        }
        for table in ["builds", "test_daily", "tests", "tokens", "quality_windows"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE project_id = $1"
            )))
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM projects WHERE id = $1")
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// For test suites: a new, empty database on the PostgreSQL server of `admin_url` (a URL
/// ending in `/DATABASE`), named `{prefix}_{pid}_{n}`; returns its URL.
///
/// # Errors
/// The server cannot be reached or refuses.
#[doc(hidden)]
pub async fn fresh_postgres_database(admin_url: &str, prefix: &str) -> Result<String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    sqlx::any::install_default_drivers();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url).await?;
    // Once per process: drop what earlier runs of this suite left behind (their names carry
    // another process id), so repeated CI runs do not pile databases up.
    static SWEPT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let sweep = {
        let mut swept = SWEPT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let first = !swept.iter().any(|p| p == prefix);
        if first {
            swept.push(prefix.to_owned());
        }
        first
    };
    if sweep {
        let mine = format!("{prefix}_{}_", std::process::id());
        let old: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT datname::TEXT FROM pg_database WHERE datname LIKE '{prefix}\\_%'"
        )))
        .fetch_all(&mut admin)
        .await?;
        for db in old.iter().filter(|d| !d.starts_with(&mine)) {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .await;
        }
    }
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .ok_or_else(|| Error::Invalid("a database URL ends in /NAME".into()))?;
    Ok(format!("{base}/{name}"))
}

/// `url` with `sslmode=disable` added when it names a PostgreSQL server on this machine
/// (`localhost`, `127.0.0.1`, `::1`) and states no `sslmode`.
///
/// TLS over loopback protects nothing, and costs dearly here: sqlx does not set
/// `TCP_NODELAY`, and over TLS a statement's last small record waits for the server's
/// delayed acknowledgement (about 40 ms). Importing 300 builds took 124.6 s with TLS, 18.2 s
/// without. A URL that asks for TLS (`sslmode=require`, `verify-full`) keeps it.
fn without_loopback_tls(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let loopback = match parsed.host() {
        // A `postgres:` URL's host is opaque to the url crate: an address comes as text.
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let stated = parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("sslmode"));
    if !loopback || stated {
        return url.to_owned();
    }
    let separator = if parsed.query().is_some() { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

#[cfg(test)]
mod loopback_tests {
    use super::without_loopback_tls;

    #[test]
    fn loopback_urls_without_an_sslmode_go_without_tls() {
        for (url, expected) in [
            (
                "postgres://u@127.0.0.1:5432/db",
                "postgres://u@127.0.0.1:5432/db?sslmode=disable",
            ),
            (
                "postgres://u@localhost/db?application_name=x",
                "postgres://u@localhost/db?application_name=x&sslmode=disable",
            ),
            (
                "postgres://u@[::1]/db",
                "postgres://u@[::1]/db?sslmode=disable",
            ),
            (
                "postgres://u@127.0.0.1/db?sslmode=require",
                "postgres://u@127.0.0.1/db?sslmode=require",
            ),
            (
                "postgres://u@db.example.com/db",
                "postgres://u@db.example.com/db",
            ),
        ] {
            assert_eq!(without_loopback_tls(url), expected, "{url}");
        }
    }
}
