//! `cimetrics gate FILE... [--config gate.toml]`: a quality gate for a CI step.
//!
//! Counts come from the reports given. With `--branch` and a history (`--data-dir` or
//! `--database-url`, `--project`), the history's one gate judges them: `coverage_delta` and
//! `new_failures` compare with the latest complete builds of the branch, and
//! `flaky_excluded` leaves out the tests the history calls flaky (any definition, the 30
//! days before its latest build) — the same judgement as `GET .../gate`. Exit 0 when the
//! gate passes, 1 when it fails, 2 for usage errors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cimetrics_history::questions::{ReportFacts, gate_without_history};
use cimetrics_metrics::GateConfig;

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

/// Days before the latest build in which a test counts as known flaky.
const FLAKY_DAYS: u32 = 30;

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
    let mut facts = ReportFacts::default();
    for path in &args.files {
        let file = std::fs::File::open(path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        let report = cimetrics_ingest::parse(file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        facts.add(&report);
    }

    let gate = match &args.branch {
        Some(branch) => {
            let rt = runtime()?;
            rt.block_on(async {
                let history = args.db.history().await?;
                match history.store().project(&args.db.project).await? {
                    Some(project) => Ok(history
                        .gate_reports(&project, branch, &facts, &config, FLAKY_DAYS)
                        .await?),
                    None => anyhow::Ok(gate_without_history(&facts, &config)?),
                }
            })?
        }
        None => gate_without_history(&facts, &config)?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&gate)?);
    } else {
        for c in &gate.conditions {
            println!(
                "{} {:<28} {}",
                if c.passed { "PASS" } else { "FAIL" },
                c.condition,
                c.reason
            );
        }
        println!("gate {}", if gate.passed { "passed" } else { "failed" });
    }
    Ok(if gate.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
