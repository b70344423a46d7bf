//! `cimetrics trends`: the main series over the stored history, as a table or JSON. Each
//! series is the history's trend answer, the same as `GET .../trends?metric=` gives.

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
    let rt = runtime()?;
    let series: Vec<Trend> = rt.block_on(async {
        let history = args.db.history().await?;
        let project = history.project(&args.db.project).await?;
        let mut out = Vec::new();
        for metric in SERIES {
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
    print_table(&series);
    Ok(ExitCode::SUCCESS)
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
