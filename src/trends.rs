//! `cimetrics trends`: the main series over the stored history (or the `--metric`s asked:
//! code quality, issues, ...), as a table or JSON. Each series is the history's trend answer,
//! the same as `GET .../trends?metric=` gives.

use std::process::ExitCode;

use anyhow::Result;
use cimetrics_history::answers::Trend;
use cimetrics_history::questions::{Metric, TrendParams};
use cimetrics_metrics::Window;

use crate::db::{DbArgs, runtime};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// day, week or month.
    #[arg(long, default_value = "week")]
    window: String,
    /// IANA time zone in which windows begin.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// Only this branch.
    #[arg(long)]
    branch: Option<String>,
    /// First local date (YYYY-MM-DD).
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Last local date (YYYY-MM-DD).
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
    /// These series instead of the five CI ones (repeatable): success_rate, pass_rate,
    /// coverage, branch_coverage, duration, quality, issues, new_issues, code_quality,
    /// maintainability_rating.
    #[arg(long = "metric")]
    metrics: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The series the command shows, in its columns' order.
const SERIES: [Metric; 5] = [
    Metric::SuccessRate,
    Metric::PassRate,
    Metric::Coverage,
    Metric::BranchCoverage,
    Metric::Duration,
];

pub fn run(args: &Args) -> Result<ExitCode> {
    let window: Window = args.window.parse()?;
    let asked: Vec<Metric> = args
        .metrics
        .iter()
        .map(|m| m.parse::<Metric>())
        .collect::<Result<_, _>>()?;
    let metrics = if asked.is_empty() {
        SERIES.to_vec()
    } else {
        asked
    };
    let rt = runtime()?;
    let series: Vec<Trend> = rt.block_on(async {
        let history = args.db.history().await?;
        let project = history.project(&args.db.project).await?;
        let mut out = Vec::new();
        for &metric in &metrics {
            let params = TrendParams {
                metric,
                window,
                time_zone: args.tz.clone(),
                branch: args.branch.clone(),
                from: args.from,
                to: args.to,
            };
            out.push(history.trend(&project, &params).await?);
        }
        anyhow::Ok(out)
    })?;
    if args.json {
        let mut map = serde_json::Map::new();
        for t in &series {
            map.insert(t.metric.clone(), serde_json::to_value(t)?);
        }
        let out = serde_json::json!({
            "project": args.db.project,
            "window": window.name(),
            "time_zone": args.tz,
            "branch": args.branch,
            "series": map,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.metrics.is_empty() {
        print_table(&series);
    } else {
        for trend in &series {
            print_series(trend);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One series asked by name: a line per window with its builds and value (a rate in percent),
/// and for open issues the count of each severity.
fn print_series(trend: &Trend) {
    println!("{} ({})", trend.metric, trend.unit);
    let issues = trend.metric == "issues";
    print!("{:<12} {:>7} {:>10}", "window", "builds", "value");
    if issues {
        print!(
            " {:>8} {:>8} {:>8} {:>8} {:>8}",
            "blocker", "critical", "major", "minor", "info"
        );
    }
    println!();
    for p in &trend.points {
        let value = p.value.map_or("-".into(), |v| match trend.unit.as_str() {
            "fraction" => format!("{:.1}%", v * 100.0),
            "count" => format!("{v:.0}"),
            _ => format!("{v:.1}"),
        });
        print!(
            "{:<12} {:>7} {:>10}",
            p.window_start.to_string(),
            p.builds,
            value
        );
        if issues {
            match &p.by_severity {
                Some(s) => print!(
                    " {:>8} {:>8} {:>8} {:>8} {:>8}",
                    s.blocker, s.critical, s.major, s.minor, s.info
                ),
                None => print!(" {:>8} {:>8} {:>8} {:>8} {:>8}", "-", "-", "-", "-", "-"),
            }
        }
        println!();
    }
}

/// One line per window: builds, success rate, pass rate, line and branch coverage, p50
/// build time. Empty windows print `-`.
fn print_table(series: &[Trend]) {
    println!(
        "{:<12} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "window", "builds", "success", "pass", "lines", "branches", "p50 time"
    );
    let pct = |v: Option<f64>| v.map_or("-".into(), |f| format!("{:.1}%", f * 100.0));
    // Every series lists the same windows (same range, same builds), but a series of a
    // metric without data may start later or end earlier: look values up by window.
    let value = |i: usize, window| {
        series[i]
            .points
            .iter()
            .find(|p| p.window_start == window)
            .and_then(|p| p.value)
    };
    for point in &series[0].points {
        let w = point.window_start;
        println!(
            "{:<12} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9}",
            w.to_string(),
            point.builds,
            pct(point.value),
            pct(value(1, w)),
            pct(value(2, w)),
            pct(value(3, w)),
            value(4, w).map_or("-".into(), |s| format!("{s:.0}s")),
        );
    }
}
