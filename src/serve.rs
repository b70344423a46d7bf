//! `cimetrics serve`: the HTTP service.
//!
//! Settings, lowest precedence first: defaults, the TOML file of `--config`, `CIMETRICS_*`
//! environment variables (one per setting: `CIMETRICS_BIND`, `CIMETRICS_DATA_DIR`,
//! `CIMETRICS_DATABASE_URL`, `CIMETRICS_MAX_UPLOAD_BYTES`, `CIMETRICS_ADMIN_TOKEN`, ...),
//! then flags.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cimetrics_api::service::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    bind: Option<String>,
    /// Data directory: the embedded SQLite file and the upload spool (default ./cimetrics-data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (`postgres://user@host/db`) instead of the embedded SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// Settings file (TOML; keys as in `Settings`: bind, data_dir, max_upload_bytes, ...).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Every setting's key, for the `CIMETRICS_*` variables.
const KEYS: [&str; 19] = [
    "bind",
    "data_dir",
    "database_url",
    "max_upload_bytes",
    "max_decompressed_bytes",
    "body_timeout_seconds",
    "stream_above_bytes",
    "cache_results_days",
    "cache_bytes",
    "build_close_after_seconds",
    "max_windows",
    "public_read",
    "admin_token",
    "workers",
    "max_connections",
    "max_tests_per_report",
    "max_attempts_per_test",
    "max_uploads_per_token",
    "upload_deadline_seconds",
];

pub fn settings(args: &Args) -> Result<Settings> {
    let mut table = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            text.parse::<toml::Table>()
                .with_context(|| format!("{}: invalid TOML", path.display()))?
        }
        None => toml::Table::new(),
    };
    for key in KEYS {
        let var = format!("CIMETRICS_{}", key.to_ascii_uppercase());
        if let Ok(v) = std::env::var(&var) {
            let value = if let Ok(i) = v.parse::<i64>() {
                if key == "admin_token" || key == "bind" {
                    toml::Value::String(v)
                } else {
                    toml::Value::Integer(i)
                }
            } else if let Ok(b) = v.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(v)
            };
            table.insert(key.into(), value);
        }
    }
    let mut settings: Settings = toml::Value::Table(table)
        .try_into()
        .context("invalid settings")?;
    if let Some(b) = &args.bind {
        settings.bind = b.clone();
    }
    if let Some(d) = &args.data_dir {
        settings.data_dir = d.clone();
    }
    if let Some(u) = &args.database_url {
        settings.database_url = Some(u.clone());
    }
    Ok(settings)
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let settings = settings(args)?;
    fewer_malloc_arenas();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    cimetrics_api::service::serve_forever(settings, |running| {
        if let Some(token) = &running.generated_admin_token {
            eprintln!(
                "cimetrics: generated the admin token (shown once, stored only as a digest):\n  {token}"
            );
        }
        eprintln!("cimetrics: listening on http://{}", running.addr);
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// glibc gives each thread that allocates while another holds an arena's lock an arena of
/// its own, up to eight a core, and memory freed into one arena serves no other. The
/// service's request, analytics and polars threads each built and freed frames in their own,
/// so its peak grew past what any one answer needs: over a year's history, a first flaky
/// table then the dashboard peaked at 282 MB with the default and at 241 MB with two
/// arenas, the same as the flaky table alone (`benches/README.md`). Called before any thread
/// starts. `MALLOC_ARENA_MAX` in the environment still decides when set.
fn fewer_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of the allocator; it is called before the
        // service starts any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_setting_has_its_variable() {
        // The settings as TOML (fields left None are not written: the two optional ones are
        // listed by hand below).
        let table = toml::Value::try_from(cimetrics_api::service::Settings::default())
            .expect("settings serialise");
        let mut keys: Vec<&str> = table
            .as_table()
            .expect("a table")
            .keys()
            .map(String::as_str)
            .chain(["database_url", "admin_token"])
            .collect();
        keys.sort_unstable();
        let mut known = super::KEYS.to_vec();
        known.sort_unstable();
        assert_eq!(keys, known);
    }
}
