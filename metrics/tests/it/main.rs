//! Every metric on small hand-built histories whose expected values are worked out by hand in
//! the comments. Rows are given out of order on purpose: no metric may rely on input order.

use cimetrics_metrics::schema::{
    BuildRow, CoverageRow, ResultRow, builds_frame, coverage_frame, results_frame,
};
use cimetrics_metrics::*;
use polars::prelude::{DataFrame, IntoLazy, LazyFrame};

mod builds;
mod coverage;
mod tests;

/// 2026-03-02T00:00:00Z (a Monday), in ms.
const MON: i64 = 1_772_409_600_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn build(id: i64, branch: &str, commit: &str, status: &str, at: i64) -> BuildRow {
    BuildRow {
        build_id: id,
        branch: branch.into(),
        commit: commit.into(),
        status: status.into(),
        finished_at_ms: at,
        duration_s: None,
    }
}

fn result(build_id: i64, test_id: i64, status: &'static str) -> ResultRow {
    ResultRow {
        build_id,
        test_id,
        status,
        flaky: false,
        attempts: 1,
        duration_s: None,
    }
}

fn lazy_builds(rows: &[BuildRow]) -> LazyFrame {
    builds_frame(rows).unwrap().lazy()
}

fn lazy_results(rows: &[ResultRow]) -> LazyFrame {
    results_frame(rows).unwrap().lazy()
}

fn lazy_coverage(rows: &[CoverageRow], per_file: bool) -> LazyFrame {
    coverage_frame(rows, per_file).unwrap().lazy()
}

fn table(frame: &DataFrame) -> Table {
    Table::from_frame(frame).unwrap()
}

/// One column as f64s (null → None).
fn floats(frame: &DataFrame, column: &str) -> Vec<Option<f64>> {
    let t = table(frame);
    (0..t.rows.len())
        .map(|i| t.get(i, column).and_then(Value::as_f64))
        .collect()
}

/// One column as i64s (null → None).
fn ints(frame: &DataFrame, column: &str) -> Vec<Option<i64>> {
    floats(frame, column)
        .into_iter()
        .map(|v| v.map(|v| v as i64))
        .collect()
}

/// One column as display strings.
fn strings(frame: &DataFrame, column: &str) -> Vec<String> {
    let t = table(frame);
    (0..t.rows.len())
        .map(|i| t.get(i, column).map(Value::to_csv).unwrap_or_default())
        .collect()
}

fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        })
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(close(&a, &b), "{a:?} != {b:?}");
    }};
}
use assert_close;
