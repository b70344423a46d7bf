//! The schema, one list of migrations per backend, applied in order inside a transaction and
//! recorded in `schema_migrations`. Times are milliseconds since the Unix epoch (UTC) in
//! BIGINTs, booleans are 0/1: the same SQL reads the same values on both backends.

use sqlx::{Any, Executor, Row};

use super::{Backend, Error};

/// `(version, SQL)`; the SQL may hold several statements.
type Migration = (i64, &'static str);

const COMMON: &str = r#"
CREATE TABLE builds (
    id {ID},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    ci_build_id TEXT NOT NULL,
    number BIGINT,
    commit_sha TEXT NOT NULL DEFAULT '',
    branch TEXT NOT NULL DEFAULT '',
    status TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    duration_ms BIGINT,
    ci_provider TEXT,
    ci_url TEXT,
    expected_shards BIGINT NOT NULL DEFAULT 1,
    complete BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, ci_build_id)
);
CREATE INDEX builds_by_time ON builds (project_id, complete, finished_at);
CREATE TABLE uploads (
    id {ID},
    build_id BIGINT NOT NULL REFERENCES builds (id),
    shard BIGINT NOT NULL,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    UNIQUE (build_id, shard, name)
);
CREATE TABLE tests (
    id {ID},
    project_id BIGINT NOT NULL REFERENCES projects (id),
    key_hash BIGINT NOT NULL,
    suite TEXT NOT NULL,
    classname TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    base_name TEXT NOT NULL,
    params TEXT,
    UNIQUE (project_id, key_hash)
);
CREATE INDEX tests_by_base_name ON tests (project_id, base_name);
CREATE TABLE test_results (
    build_id BIGINT NOT NULL REFERENCES builds (id),
    test_id BIGINT NOT NULL REFERENCES tests (id),
    status BIGINT NOT NULL,
    flaky BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    duration_us BIGINT,
    PRIMARY KEY (build_id, test_id)
);
CREATE TABLE coverage_files (
    build_id BIGINT NOT NULL REFERENCES builds (id),
    path TEXT NOT NULL,
    lines_valid BIGINT NOT NULL,
    lines_covered BIGINT NOT NULL,
    branches_valid BIGINT NOT NULL,
    branches_covered BIGINT NOT NULL,
    lines {BLOB},
    PRIMARY KEY (build_id, path)
);
CREATE TABLE build_totals (
    build_id BIGINT PRIMARY KEY REFERENCES builds (id),
    tests_total BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    errored BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    flaky BIGINT NOT NULL,
    test_duration_us BIGINT NOT NULL,
    has_tests BIGINT NOT NULL,
    lines_valid BIGINT NOT NULL,
    lines_covered BIGINT NOT NULL,
    branches_valid BIGINT NOT NULL,
    branches_covered BIGINT NOT NULL,
    has_coverage BIGINT NOT NULL
);
CREATE TABLE test_daily (
    project_id BIGINT NOT NULL REFERENCES projects (id),
    test_id BIGINT NOT NULL REFERENCES tests (id),
    branch TEXT NOT NULL,
    day BIGINT NOT NULL,
    runs BIGINT NOT NULL,
    passes BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    flaky_passes BIGINT NOT NULL,
    skips BIGINT NOT NULL,
    duration_sum_us BIGINT NOT NULL,
    duration_max_us BIGINT NOT NULL,
    PRIMARY KEY (project_id, test_id, branch, day)
);
"#;

/// The history sequence: every time a build becomes complete (or a complete build changes),
/// its project's `history_seq` goes up by one and the build takes the new value, so a reader
/// holding the history up to sequence N loads only the builds above N. `prune_epoch` goes
/// up when retention deletes raw results (a reader then reloads).
const HISTORY_SEQ: &str = r#"
ALTER TABLE projects ADD COLUMN history_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN prune_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN history_seq BIGINT;
CREATE INDEX builds_by_history_seq ON builds (project_id, history_seq);
"#;

/// Access tokens, stored as SHA-256 digests (see `tokens.rs`).
const TOKENS: &str = r#"
CREATE TABLE tokens (
    id {ID},
    project_id BIGINT REFERENCES projects (id),
    kind TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
"#;

/// Per-project read access: NULL follows the server's `public_read` setting.
const PROJECT_READ: &str = "ALTER TABLE projects ADD COLUMN public_read BIGINT;";

/// Who stated a build's status: `ci` (build metadata) or `tests` (derived on completion).
const STATUS_SOURCE: &str = "ALTER TABLE builds ADD COLUMN status_source TEXT;";

/// The message of each failed or errored test in a build (its first 4 KiB), kept beside the
/// results and pruned with them.
const MESSAGES: &str = "CREATE TABLE test_messages (\
    build_id BIGINT NOT NULL REFERENCES builds (id), \
    test_id BIGINT NOT NULL, \
    message TEXT NOT NULL, \
    PRIMARY KEY (build_id, test_id));";

/// The code-quality issues of each build, one per fingerprint (`severity` 0 blocker … 4
/// info; `category` bug, vulnerability or code_smell), and the lines of code a build states
/// for its ratings.
const ISSUES: &str = r#"
CREATE TABLE issues (
    build_id BIGINT NOT NULL REFERENCES builds (id),
    fingerprint TEXT NOT NULL,
    tool TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity BIGINT NOT NULL,
    category TEXT NOT NULL,
    native_severity TEXT NOT NULL,
    message TEXT NOT NULL,
    path TEXT NOT NULL,
    line BIGINT,
    col BIGINT,
    effort_minutes BIGINT,
    suppressed BIGINT NOT NULL,
    PRIMARY KEY (build_id, fingerprint)
);
ALTER TABLE builds ADD COLUMN loc BIGINT;
"#;

/// Results are the one table that grows by thousands of rows a report, and its two foreign
/// keys cost a check per row: on PostgreSQL a trigger and an index probe, half of an
/// import's time in the server (11 µs a row); on SQLite two probes, a fifth of an import.
/// The store writes a result only for a build and a test it has just read or written, and
/// deletes a build's results before the build, so the keys checked nothing it does not
/// ensure. PostgreSQL drops them; SQLite, which cannot drop a constraint, copies the table
/// into one without them (once, on upgrade).
const RESULTS_WITHOUT_FOREIGN_KEYS_PG: &str = r#"
ALTER TABLE test_results DROP CONSTRAINT IF EXISTS test_results_build_id_fkey;
ALTER TABLE test_results DROP CONSTRAINT IF EXISTS test_results_test_id_fkey;
"#;

/// [`RESULTS_WITHOUT_FOREIGN_KEYS_PG`] on SQLite.
const RESULTS_WITHOUT_FOREIGN_KEYS_SQLITE: &str = r#"
CREATE TABLE test_results_9 (
    build_id BIGINT NOT NULL,
    test_id BIGINT NOT NULL,
    status BIGINT NOT NULL,
    flaky BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    duration_us BIGINT,
    PRIMARY KEY (build_id, test_id)
);
INSERT INTO test_results_9 (build_id, test_id, status, flaky, attempts, duration_us)
    SELECT build_id, test_id, status, flaky, attempts, duration_us FROM test_results;
DROP TABLE test_results;
ALTER TABLE test_results_9 RENAME TO test_results;
"#;

/// A page of builds, newest first, walks this index and stops after the page; without it
/// every build of the project was joined to its totals and sorted (20 ms for 5,000).
const BUILDS_BY_FINISH: &str =
    "CREATE INDEX builds_by_finish ON builds (project_id, finished_at, id);";

/// The quality trend's window inputs (`windows.rs`), kept across restarts.
const QUALITY_WINDOWS: &str = "CREATE TABLE quality_windows (\
    project_id BIGINT NOT NULL, \
    window_key TEXT NOT NULL, \
    fingerprint BIGINT NOT NULL, \
    inputs TEXT NOT NULL, \
    PRIMARY KEY (project_id, window_key));";

/// On SQLite, the results and the per-file coverage each as one B-tree keyed by (build, test)
/// and (build, path), instead of a table by row id beside an index on that key: an insert
/// writes one tree instead of two (an import writes 10 million results and 5 million files
/// for a year), the database is smaller by the index, and a build's rows read as one range
/// instead of an index walk with a lookup a row (the cache's first read, every upload's
/// totals). PostgreSQL keeps its heap and index.
const CLUSTERED_BY_BUILD_SQLITE: &str = r#"
CREATE TABLE test_results_12 (
    build_id BIGINT NOT NULL,
    test_id BIGINT NOT NULL,
    status BIGINT NOT NULL,
    flaky BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    duration_us BIGINT,
    PRIMARY KEY (build_id, test_id)
) WITHOUT ROWID;
INSERT INTO test_results_12 (build_id, test_id, status, flaky, attempts, duration_us)
    SELECT build_id, test_id, status, flaky, attempts, duration_us FROM test_results;
DROP TABLE test_results;
ALTER TABLE test_results_12 RENAME TO test_results;
CREATE TABLE coverage_files_12 (
    build_id BIGINT NOT NULL REFERENCES builds (id),
    path TEXT NOT NULL,
    lines_valid BIGINT NOT NULL,
    lines_covered BIGINT NOT NULL,
    branches_valid BIGINT NOT NULL,
    branches_covered BIGINT NOT NULL,
    lines BLOB,
    PRIMARY KEY (build_id, path)
) WITHOUT ROWID;
INSERT INTO coverage_files_12 (build_id, path, lines_valid, lines_covered, branches_valid,
        branches_covered, lines)
    SELECT build_id, path, lines_valid, lines_covered, branches_valid, branches_covered, lines
    FROM coverage_files;
DROP TABLE coverage_files;
ALTER TABLE coverage_files_12 RENAME TO coverage_files;
"#;

/// The per-file coverage's key to its build, dropped on PostgreSQL for the reason results'
/// were ([`RESULTS_WITHOUT_FOREIGN_KEYS_PG`]): a year holds 5 million file rows, and the check
/// locks the build's row again for each, a row the same transaction has just written. The
/// first 500 builds of the year imported in 22.1 and 24.3 s with it, 14.0 and 14.2 s without
/// (`benches/README.md`). SQLite keeps it: there the check is one probe of the builds' tree,
/// and dropping it would copy the table.
const COVERAGE_WITHOUT_FOREIGN_KEY_PG: &str =
    "ALTER TABLE coverage_files DROP CONSTRAINT IF EXISTS coverage_files_build_id_fkey;";

fn migrations(backend: Backend) -> Vec<(i64, String)> {
    let (id, blob) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY", "BLOB"),
        Backend::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BYTEA",
        ),
    };
    let first: Migration = (
        1,
        "CREATE TABLE projects (id {ID}, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);",
    );
    let list: Vec<Migration> = vec![
        first,
        (2, COMMON),
        (3, HISTORY_SEQ),
        (4, TOKENS),
        (5, PROJECT_READ),
        (6, STATUS_SOURCE),
        (7, MESSAGES),
        (8, ISSUES),
        (
            9,
            match backend {
                Backend::Postgres => RESULTS_WITHOUT_FOREIGN_KEYS_PG,
                Backend::Sqlite => RESULTS_WITHOUT_FOREIGN_KEYS_SQLITE,
            },
        ),
        (10, BUILDS_BY_FINISH),
        (11, QUALITY_WINDOWS),
        (
            12,
            match backend {
                Backend::Postgres => "SELECT 1;",
                Backend::Sqlite => CLUSTERED_BY_BUILD_SQLITE,
            },
        ),
    ];
    let mut all: Vec<(i64, String)> = list
        .into_iter()
        .map(|(v, sql)| (v, sql.replace("{ID}", id).replace("{BLOB}", blob)))
        .collect();
    all.push((13, super::packs::migration(backend == Backend::Sqlite)));
    all.push((
        14,
        match backend {
            Backend::Postgres => COVERAGE_WITHOUT_FOREIGN_KEY_PG,
            Backend::Sqlite => "SELECT 1;",
        }
        .to_owned(),
    ));
    all
}

/// Applies the migrations not applied yet. Safe to run from several processes at once on
/// PostgreSQL (an advisory lock serialises them).
pub(super) async fn run(pool: &sqlx::AnyPool, backend: Backend) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    if backend == Backend::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(7146021)").await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for (version, sql) in migrations(backend) {
        if applied.contains(&version) {
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query::<Any>("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(version)
            .bind(super::now_ms())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
