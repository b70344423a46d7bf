//! A bounded load generator for a running `cimetrics serve` (it stops by itself).
//!
//! ```text
//! # 50 CI jobs at once, each uploading a 1 MB JUnit report to its own build:
//! cargo run --release --example load -- uploads --server http://127.0.0.1:8080 --token T --project load --jobs 50
//! # read latencies (trends, charts, flaky, slowest, score, dashboard) of projects with history,
//! # several projects read round-robin when named with commas:
//! cargo run --release --example load -- reads --server http://127.0.0.1:8080 --project default --requests 200
//! ```
//!
//! `uploads` prints the latency percentiles, the errors, and how many of the builds the
//! server lists afterwards (lost = sent and acknowledged but not listed). `reads` prints p50,
//! p95 and max per route, one request at a time.

#[path = "../benches/support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Args {
    mode: String,
    server: String,
    token: String,
    project: String,
    jobs: usize,
    size: usize,
    requests: usize,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().ok_or("usage: load uploads|reads --server URL [--token T] --project P [--jobs N] [--size BYTES] [--requests N]")?;
    let mut a = Args {
        mode,
        server: "http://127.0.0.1:8080".into(),
        token: String::new(),
        project: "load".into(),
        jobs: 50,
        size: 1_000_000,
        requests: 100,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--server" => a.server = value.trim_end_matches('/').to_owned(),
            "--token" => a.token = value,
            "--project" => a.project = value,
            "--jobs" => a.jobs = number()?,
            "--size" => a.size = number()?,
            "--requests" => a.requests = number()?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn uploads(a: &Args) -> Result<bool, String> {
    let report = generator::junit_surefire(a.size);
    let run = std::process::id();
    let started = Instant::now();
    let results: Vec<Result<Duration, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.jobs)
            .map(|job| {
                let report = &report;
                s.spawn(move || {
                    let url = format!(
                        "{}/api/v1/projects/{}/builds/load-{run}-{job}/reports?name=junit.xml&branch=main&commit={job:040x}",
                        a.server, a.project
                    );
                    let t = Instant::now();
                    let mut resp = agent()
                        .post(&url)
                        .header("Authorization", &format!("Bearer {}", a.token))
                        .send(&report[..])
                        .map_err(|e| e.to_string())?;
                    let status = resp.status().as_u16();
                    let body = resp.body_mut().read_to_string().unwrap_or_default();
                    if status == 201 {
                        Ok(t.elapsed())
                    } else {
                        Err(format!("{status}: {body}"))
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let wall = started.elapsed();
    let mut ok: Vec<Duration> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    ok.sort();
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let listed = {
        let mut resp = agent()
            .get(&format!(
                "{}/api/v1/projects/{}/builds?limit=1000",
                a.server, a.project
            ))
            .call()
            .map_err(|e| e.to_string())?;
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        body.matches(&format!("\"load-{run}-")).count()
    };
    println!(
        "{} jobs × {} bytes in {}: {} ok, {} errors, {} listed by the server ({} lost)",
        a.jobs,
        report.len(),
        ms(wall),
        ok.len(),
        errors.len(),
        listed,
        ok.len().saturating_sub(listed)
    );
    println!(
        "upload latency: p50 {}, p90 {}, p99 {}, max {}",
        ms(percentile(&ok, 0.5)),
        ms(percentile(&ok, 0.9)),
        ms(percentile(&ok, 0.99)),
        ms(ok.last().copied().unwrap_or_default())
    );
    for e in errors.iter().take(5) {
        println!("error: {e}");
    }
    Ok(errors.is_empty() && listed == ok.len())
}

/// The read routes of one project, named as the benchmark reports them.
fn read_routes(p: &str) -> [(&'static str, String); 9] {
    [
        (
            "trends success_rate",
            format!("/api/v1/projects/{p}/trends?metric=success_rate&window=week"),
        ),
        (
            "trends coverage",
            format!("/api/v1/projects/{p}/trends?metric=coverage&window=week"),
        ),
        (
            "chart success_rate.svg",
            format!("/api/v1/projects/{p}/charts/success_rate.svg?window=week"),
        ),
        (
            "chart coverage.png",
            format!("/api/v1/projects/{p}/charts/coverage.png?window=week"),
        ),
        (
            "chart quality.svg",
            format!("/api/v1/projects/{p}/charts/quality.svg?window=week"),
        ),
        (
            "flaky 90 days",
            format!("/api/v1/projects/{p}/tests/flaky?days=90&limit=50"),
        ),
        (
            "slowest 30 days",
            format!("/api/v1/projects/{p}/tests/slowest?days=30"),
        ),
        ("score", format!("/api/v1/projects/{p}/score")),
        ("dashboard", format!("/projects/{p}")),
    ]
}

/// Each route `--requests` times after one warm-up round; with several projects
/// (`--project a,b,c`), each round asks every route of every project in turn, so the
/// projects share the server's cache as many teams would.
fn reads(a: &Args) -> Result<bool, String> {
    let projects: Vec<&str> = a.project.split(',').filter(|p| !p.is_empty()).collect();
    let routes: Vec<Vec<(&str, String)>> =
        projects.iter().map(|p| read_routes(p).to_vec()).collect();
    let names: Vec<&str> = read_routes("").iter().map(|(name, _)| *name).collect();
    let agent = agent();
    let mut times = vec![Vec::with_capacity(a.requests * projects.len()); names.len()];
    let mut all_ok = true;
    for round in 0..=a.requests {
        for project in &routes {
            for (r, (_, route)) in project.iter().enumerate() {
                let t = Instant::now();
                let mut resp = agent
                    .get(&format!("{}{route}", a.server))
                    .call()
                    .map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                let _ = resp.body_mut().read_to_vec();
                if status != 200 {
                    all_ok = false;
                    println!("{route}: {status}");
                }
                if round > 0 {
                    times[r].push(t.elapsed()); // the first round warms the cache
                }
            }
        }
    }
    for (name, times) in names.iter().zip(&mut times) {
        times.sort();
        println!(
            "{name}: p50 {}, p95 {}, max {} ({} requests over {} project(s))",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.95)),
            ms(times.last().copied().unwrap_or_default()),
            times.len(),
            projects.len()
        );
    }
    Ok(all_ok)
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match a.mode.as_str() {
        "uploads" => uploads(&a),
        "reads" => reads(&a),
        other => Err(format!("unknown mode {other:?} (uploads, reads)")),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}
