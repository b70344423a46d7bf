//! Reads over a year of history, and the storing rate, on SQLite or PostgreSQL.
//!
//! `benches/history.sh` prepares everything (generates the year with
//! `examples/gen_history.rs`, imports it, then runs this bench against it). By hand:
//!
//! ```text
//! CIMETRICS_BENCH_DATABASE_URL=sqlite:///tmp/year-data/cimetrics.db cargo bench --bench history
//! CIMETRICS_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/cimetrics_year cargo bench --bench history
//! cargo bench --bench history -- store      # the storing rate only (needs no fixture)
//! ```
//!
//! Every read is timed as the service answers it: the history version check against the
//! database, the cached snapshot, then the metrics (`cimetrics_history::History`'s questions). The cold
//! snapshot load (reading the year's builds and the last 120 days of raw results) is timed
//! apart, as it happens once per process (then incrementally per new build).
//!
//! | bench                    | what                                                      | target (SQLite) |
//! |--------------------------|-----------------------------------------------------------|-----------------|
//! | `store/build_4_shards`   | `Store::ingest` of one build: 4 parsed JUnit shards, 2,000 results, into a growing file | ≥ 300k results/s |
//! | `read/success_rate_week` | weekly build success rate over the year                   | ≤ 20 ms         |
//! | `read/coverage_week`     | weekly line and branch coverage over the year             | ≤ 20 ms         |
//! | `read/pass_rate_week`    | weekly test pass rate over the year (build totals)        | —               |
//! | `read/flaky_top50_90d`   | flaky top 50 over 90 days, three definitions, evidence    | ≤ 50 ms         |
//! | `read/slowest_p95_30d`   | 50 slowest tests by p95 (with p50) over 30 days           | ≤ 100 ms        |
//! | `read/slowest_p95_90d`   | the same over 90 days                                     | —               |
//! | `read/score_latest_30d`  | quality score up to the latest build (30 days)            | ≤ 50 ms         |
//! | `read/version_check`     | the per-request history version query alone               | —               |
//! | `load/snapshot_cold`     | a fresh cache's first snapshot (once per process)         | —               |

#[path = "support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

use std::hint::black_box;
use std::time::Duration;

use cimetrics_history::questions::{FlakyParams, Metric, SlowestParams, TrendParams};
use cimetrics_history::store::{BuildMeta, Store, UploadMeta, digest};
use cimetrics_history::{History, HistoryCache};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;

const RESULTS_DAYS: u32 = 120;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The storing rate: one 4-shard build of 2,000 tests per iteration, each a new build id,
/// into one SQLite file (or `CIMETRICS_BENCH_STORE_URL`) that grows as it goes.
fn store(c: &mut Criterion) {
    let rt = runtime();
    let dir = std::env::temp_dir().join(format!("cimetrics-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = std::env::var("CIMETRICS_BENCH_STORE_URL").ok();
    let store = rt
        .block_on(async {
            match &url {
                Some(u) => Store::open(u).await,
                None => Store::open_data_dir(&dir).await,
            }
        })
        .expect("open the store");
    let project = rt
        .block_on(store.create_project("bench-store"))
        .expect("project");
    // Four shards of 500 tests, as the year's fixture writes them.
    let shards: Vec<(UploadMeta, cimetrics_ingest::Report)> = (0..4)
        .map(|s| {
            let bytes = shard_report(s);
            let report = cimetrics_ingest::parse(std::io::Cursor::new(bytes.clone()))
                .expect("generated report");
            let upload = UploadMeta {
                shard: s + 1,
                name: "TEST-results.xml".into(),
                digest: digest(&bytes),
                size: bytes.len() as u64,
            };
            (upload, report)
        })
        .collect();
    let results: u64 = shards
        .iter()
        .map(|(_, r)| match &r.content {
            cimetrics_ingest::Content::Tests(t) => t.tests.len() as u64,
            _ => 0,
        })
        .sum();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(results));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(15));
    let mut n = 0u64;
    group.bench_function("build_4_shards", |b| {
        b.iter(|| {
            n += 1;
            let meta = BuildMeta {
                id: format!("b{n}"),
                commit: Some(format!("{n:040x}")),
                branch: Some("main".into()),
                shards: Some(4),
                ..BuildMeta::default()
            };
            for (upload, report) in &shards {
                rt.block_on(store.ingest(project.id, &meta, upload, report))
                    .expect("ingest");
            }
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// 500 tests in Surefire form, stable names per shard (the history generator's shape).
fn shard_report(shard: u32) -> Vec<u8> {
    let mut rng = generator::Rng::new(u64::from(shard) + 7);
    let mut out = String::from("<?xml version=\"1.0\"?>\n<testsuites>\n");
    for suite in 0..50 {
        out.push_str(&format!(
            "<testsuite name=\"com.acme.s{shard}.C{suite:03}Test\" tests=\"10\">\n"
        ));
        for t in 0..10 {
            let ms = 5 + rng.below(400);
            out.push_str(&format!(
                "<testcase name=\"test{t:02}_{}\" classname=\"com.acme.s{shard}.C{suite:03}Test\" time=\"0.{ms:03}\"",
                rng.pick(&["parses", "merges", "sorts"])
            ));
            if rng.chance(10) {
                out.push_str("><failure message=\"boom\">trace</failure></testcase>\n");
            } else {
                out.push_str("/>\n");
            }
        }
        out.push_str("</testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out.into_bytes()
}

/// The reads, over the fixture named by `CIMETRICS_BENCH_DATABASE_URL`.
fn reads(c: &mut Criterion) {
    let Ok(url) = std::env::var("CIMETRICS_BENCH_DATABASE_URL") else {
        eprintln!(
            "history reads skipped: set CIMETRICS_BENCH_DATABASE_URL to an imported year \
             (benches/history.sh does it all)"
        );
        return;
    };
    let project_name =
        std::env::var("CIMETRICS_BENCH_PROJECT").unwrap_or_else(|_| "default".into());
    let rt = runtime();
    let store = rt.block_on(Store::open(&url)).expect("open the fixture");
    let project = rt
        .block_on(store.project(&project_name))
        .expect("read the project")
        .expect("the fixture's project exists");
    let pid = project.id;

    let mut load = c.benchmark_group("load");
    load.sample_size(10);
    load.measurement_time(Duration::from_secs(30));
    load.bench_function("snapshot_cold", |b| {
        b.iter(|| {
            let cache = HistoryCache::new(RESULTS_DAYS);
            let snap = rt.block_on(cache.snapshot(&store, pid)).expect("snapshot");
            black_box(snap.builds.height())
        });
    });
    load.bench_function("snapshot_cold_with_results", |b| {
        b.iter(|| black_box(cold_with_results(&rt, &store, pid)));
    });
    load.finish();

    let snap = cold_with_results(&rt, &store, pid);
    eprintln!(
        "fixture: {} complete builds, {} raw results cached (last {RESULTS_DAYS} days)",
        snap.builds.height(),
        snap.cached_results()
    );
    drop(snap);

    let history = History::new(store.clone(), RESULTS_DAYS);
    let mut group = c.benchmark_group("read");
    group.sample_size(30);
    group.bench_function("version_check", |b| {
        b.iter(|| black_box(rt.block_on(store.history_version(pid)).expect("version")));
    });
    for (name, metric) in [
        ("success_rate_week", Metric::SuccessRate),
        ("coverage_week", Metric::Coverage),
        ("pass_rate_week", Metric::PassRate),
    ] {
        let params = TrendParams::new(metric);
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    rt.block_on(history.trend(&project, &params))
                        .expect("trend"),
                )
            });
        });
    }
    let flaky = FlakyParams::default();
    group.bench_function("flaky_top50_90d", |b| {
        b.iter(|| black_box(rt.block_on(history.flaky(&project, &flaky)).expect("flaky")));
    });
    for (name, days) in [("slowest_p95_30d", 30), ("slowest_p95_90d", 90)] {
        let params = SlowestParams {
            days,
            ..SlowestParams::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    rt.block_on(history.slowest(&project, &params))
                        .expect("slowest"),
                )
            });
        });
    }
    group.bench_function("score_latest_30d", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(history.score(&project, None, 30))
                    .expect("score"),
            )
        });
    });
    group.finish();
}

/// A new cache's snapshot of the project, with its raw results read (as the first question
/// that needs them reads them).
fn cold_with_results(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    pid: i64,
) -> std::sync::Arc<cimetrics_history::cache::Snapshot> {
    let cache = HistoryCache::new(RESULTS_DAYS);
    let snap = rt.block_on(cache.snapshot(store, pid)).expect("snapshot");
    rt.block_on(cache.results_between(store, pid, &snap, (snap.results_from_ms, i64::MAX)))
        .expect("results");
    snap
}

criterion_group!(benches, store, reads);
criterion_main!(benches);
