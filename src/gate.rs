//! `cimetrics gate FILE... [--config gate.toml]`: a quality gate for a CI step.
//!
//! Counts come from the reports given. With a history (`--data-dir`/`--database-url` and
//! `--branch`), `coverage_delta` and `new_failures` compare with the latest complete build
//! of the branch, and `flaky_excluded` leaves out tests the history calls flaky (any
//! definition, last 30 days). Exit 0 when the gate passes, 1 when it fails, 2 for usage
//! errors.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cimetrics_api::store::test_key_hash;
use cimetrics_ingest::{Content, CoverageTotals, Status, TestCounts};
use cimetrics_metrics::polars::prelude::IntoLazy;
use cimetrics_metrics::schema::{builds_frame, results_frame};
use cimetrics_metrics::{FlakyConfig, GateConfig, GateFacts, Table, Value};

use crate::db::{DbArgs, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// Report files (tests and coverage) of the build under test.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Gate conditions (TOML: `conditions = ["coverage >= 80", ...]`, `flaky_excluded`,
    /// `fail_when_missing`). Default: `failed == 0`, `errored == 0`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Compare with the history of this branch (needs a database).
    #[arg(long)]
    branch: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config: GateConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{}: invalid gate config", path.display()))?
        }
        None => GateConfig::default(),
    };
    let mut counts: Option<TestCounts> = None;
    let mut coverage: Option<CoverageTotals> = None;
    // (identity hash, failed or errored?) of every test in the reports.
    let mut failing: Vec<(i64, Status)> = Vec::new();
    for path in &args.files {
        let file = std::fs::File::open(path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        let report = cimetrics_ingest::parse(file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        match report.content {
            Content::Tests(t) => {
                counts
                    .get_or_insert_with(TestCounts::default)
                    .merge(&t.counts);
                for case in &t.tests {
                    let status = case.outcome.status();
                    if matches!(status, Status::Failed | Status::Errored) {
                        failing.push((test_key_hash(case), status));
                    }
                }
            }
            Content::Coverage(c) => coverage
                .get_or_insert_with(CoverageTotals::default)
                .merge(&c.totals),
        }
    }

    let pct = |v: Option<f64>| v.map(|r| r * 100.0);
    let mut facts = GateFacts {
        coverage: pct(coverage.and_then(|c| c.line_rate())),
        branch_coverage: pct(coverage.and_then(|c| c.branch_rate())),
        ..GateFacts::default()
    };
    if let Some(c) = counts {
        let ran = c.passed + c.failed + c.errored;
        facts.total = Some(c.total as f64);
        facts.passed = Some(c.passed as f64);
        facts.failed = Some(c.failed as f64);
        facts.errored = Some(c.errored as f64);
        facts.skipped = Some(c.skipped as f64);
        facts.flaky = Some(c.flaky as f64);
        facts.pass_rate = (ran > 0).then(|| c.passed as f64 / ran as f64 * 100.0);
    }

    if let Some(branch) = &args.branch {
        let rt = runtime()?;
        let store = rt.block_on(args.db.open())?;
        if let Some(project) = rt.block_on(store.project(&args.db.project))? {
            let latest = rt.block_on(store.builds(project.id, Some(branch), None, None, 50, 0))?;
            let previous = latest.iter().find(|b| b.complete);
            if let Some(prev) = previous {
                if let (Some(now), Some(c)) = (facts.coverage, prev.coverage)
                    && c[0] > 0
                {
                    facts.coverage_delta = Some(now - c[1] as f64 / c[0] as f64 * 100.0);
                }
                if counts.is_some() {
                    let before: HashSet<i64> = rt
                        .block_on(store.failing_test_hashes(prev.id))?
                        .into_iter()
                        .collect();
                    let new: Vec<i64> = failing
                        .iter()
                        .map(|f| f.0)
                        .filter(|h| !before.contains(h))
                        .collect();
                    facts.new_failures = Some(new.len() as f64);
                    if config.flaky_excluded {
                        let flaky = flaky_hashes(&rt, &store, project.id)?;
                        let real = |s: Status| {
                            failing
                                .iter()
                                .filter(|f| f.1 == s && !flaky.contains(&f.0))
                                .count() as f64
                        };
                        facts.failed_excluding_flaky = Some(real(Status::Failed));
                        facts.errored_excluding_flaky = Some(real(Status::Errored));
                        facts.new_failures_excluding_flaky =
                            Some(new.iter().filter(|h| !flaky.contains(h)).count() as f64);
                    }
                }
            }
        }
    }

    let result = cimetrics_metrics::gate::evaluate(&config, &facts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        for c in &result.conditions {
            println!(
                "{} {:<28} {}",
                if c.passed { "PASS" } else { "FAIL" },
                c.condition,
                c.reason
            );
        }
        println!("gate {}", if result.passed { "passed" } else { "failed" });
    }
    Ok(if result.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Identity hashes of the tests any flaky definition flags over the last 30 days.
fn flaky_hashes(
    rt: &tokio::runtime::Runtime,
    store: &cimetrics_api::store::Store,
    project: i64,
) -> Result<HashSet<i64>> {
    let since = chrono::Utc::now().timestamp_millis() - 30 * 86_400_000;
    let history = rt.block_on(store.history(project, None, Some(since), None))?;
    let flaky = cimetrics_metrics::flaky_tests(
        results_frame(&history.results)?.lazy(),
        builds_frame(&history.builds)?.lazy(),
        &FlakyConfig::default(),
    )?;
    let table = Table::from_frame(&flaky)?;
    let ids: Vec<i64> = (0..table.rows.len())
        .filter_map(|i| match table.get(i, "test_id") {
            Some(Value::Int(id)) => Some(*id),
            _ => None,
        })
        .collect();
    Ok(rt
        .block_on(store.test_names(project, &ids))?
        .into_iter()
        .map(|t| t.key_hash)
        .collect())
}
