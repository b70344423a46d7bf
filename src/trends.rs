//! `cimetrics trends`: the main series over the stored history, as a table or JSON.

use std::process::ExitCode;

use anyhow::{Context, Result};
use cimetrics_metrics::polars::prelude::IntoLazy;
use cimetrics_metrics::schema::{builds_frame, coverage_frame, results_frame};
use cimetrics_metrics::{Table, Value, Window, WindowSpec};

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

pub fn run(args: &Args) -> Result<ExitCode> {
    let window: Window = args.window.parse()?;
    let spec = WindowSpec::new(window)
        .in_zone(args.tz.clone())
        .between(args.from, args.to);
    let rt = runtime()?;
    let store = rt.block_on(args.db.open())?;
    let project = rt.block_on(args.db.project(&store))?;
    let history = rt.block_on(store.history(project.id, args.branch.as_deref(), None, None))?;
    let builds = builds_frame(&history.builds)?;
    let results = results_frame(&history.results)?;
    let coverage = coverage_frame(&history.coverage, false)?;

    let success = cimetrics_metrics::success_rate(builds.clone().lazy(), &spec, false)?;
    let pass =
        cimetrics_metrics::pass_rate_per_window(results.lazy(), builds.clone().lazy(), &spec)?;
    let cov = cimetrics_metrics::coverage_per_window(
        coverage.lazy(),
        builds.clone().lazy(),
        &spec,
        false,
    )?;
    let duration = cimetrics_metrics::duration_trend(builds.lazy(), &spec)?;
    let series = [
        ("success_rate", Table::from_frame(&success)?),
        ("pass_rate", Table::from_frame(&pass)?),
        ("coverage", Table::from_frame(&cov)?),
        ("duration", Table::from_frame(&duration)?),
    ];
    if args.json {
        let mut out = serde_json::Map::new();
        out.insert("project".into(), project.name.clone().into());
        out.insert("window".into(), args.window.clone().into());
        out.insert("time_zone".into(), args.tz.clone().into());
        let mut s = serde_json::Map::new();
        for (name, table) in &series {
            s.insert((*name).into(), serde_json::to_value(table).context("JSON")?);
        }
        out.insert("series".into(), s.into());
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&series);
    Ok(ExitCode::SUCCESS)
}

/// One line per window: builds, success rate, pass rate, line and branch coverage, p50
/// build time. Empty windows print `-`.
fn print_table(series: &[(&str, Table); 4]) {
    let [(_, success), (_, pass), (_, cov), (_, duration)] = series;
    println!(
        "{:<12} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "window", "builds", "success", "pass", "lines", "branches", "p50 time"
    );
    let pct = |v: Option<&Value>| match v.and_then(Value::as_f64) {
        Some(f) => format!("{:.1}%", f * 100.0),
        None => "-".into(),
    };
    // All four series share the same windows (same spec, same builds) except that coverage,
    // pass and duration may start later or end earlier: look rows up by window.
    let find = |t: &Table, window: &str, column: &str| -> Option<Value> {
        (0..t.rows.len())
            .find(|&i| t.get(i, "window_start").map(Value::to_csv).as_deref() == Some(window))
            .and_then(|i| t.get(i, column).cloned())
    };
    for i in 0..success.rows.len() {
        let window = success
            .get(i, "window_start")
            .map(Value::to_csv)
            .unwrap_or_default();
        let time = match find(duration, &window, "p50_s").and_then(|v| v.as_f64()) {
            Some(s) => format!("{s:.0}s"),
            None => "-".into(),
        };
        println!(
            "{:<12} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9}",
            window,
            success
                .get(i, "finished")
                .map(Value::to_csv)
                .unwrap_or_default(),
            pct(success.get(i, "success_rate")),
            pct(find(pass, &window, "pass_rate").as_ref()),
            pct(find(cov, &window, "line_rate").as_ref()),
            pct(find(cov, &window, "branch_rate").as_ref()),
            time,
        );
    }
}
