//! `cimetrics import DIR`: loads a history of reports, one folder per build.
//!
//! ```text
//! DIR/
//!   build-0001/
//!     build.json          {"id": "1", "branch": "main", "commit": "9f2c...", "status": "passed",
//!                          "finished_at": "2026-03-02T10:00:00Z", "shards": 2}
//!     junit.xml           reports of shard 1 (any names, any formats, gzip or not)
//!     shard-2/junit.xml   reports of shard N go in shard-N/
//! ```
//!
//! `build.json` fields: `id` (required), `number`, `commit`, `branch`, `status`
//! (`passed`|`failed`|`cancelled`; derived from the tests when absent), `started_at`,
//! `finished_at` (RFC 3339), `duration_seconds`, `ci_provider`, `ci_url`, `shards`.
//! Reports are parsed on every core but the writer's (see `cpus.rs`); each is stored in its
//! own transaction (on PostgreSQL, four builds are written at once); a build finishes
//! once its folder has been read (its status derived from all its reports unless
//! `build.json` states one); a re-run stores nothing twice (uploads are idempotent).
//! On PostgreSQL its commits do not wait for the disk (`Store::for_bulk_load`): a crash can
//! lose the last reports, which a re-run then stores.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context, Result, bail};
use cimetrics_history::store::{Backend, BuildMeta, Prepared, UploadContent, UploadMeta, digest};
use serde::Deserialize;

use crate::db::{DbArgs, parse_time, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// The folder holding one folder per build.
    dir: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
    /// Refuse a report that reads with any warning (an odd value, declared totals that
    /// disagree) instead of importing it with its warnings.
    #[arg(long)]
    strict: bool,
}

/// `build.json`, as written by people and scripts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildFile {
    id: String,
    number: Option<i64>,
    commit: Option<String>,
    branch: Option<String>,
    status: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    duration_seconds: Option<f64>,
    ci_provider: Option<String>,
    ci_url: Option<String>,
    shards: Option<u32>,
    loc: Option<u64>,
}

impl BuildFile {
    fn into_meta(self) -> Result<BuildMeta> {
        if let Some(s) = &self.status
            && !["passed", "failed", "cancelled"].contains(&s.as_str())
        {
            bail!("status {s:?} is not passed, failed or cancelled");
        }
        Ok(BuildMeta {
            id: self.id,
            number: self.number,
            commit: self.commit,
            branch: self.branch,
            status: self.status,
            started_at: self.started_at.as_deref().map(parse_time).transpose()?,
            finished_at: self.finished_at.as_deref().map(parse_time).transpose()?,
            duration_ms: self.duration_seconds.map(|s| (s * 1000.0).round() as i64),
            ci_provider: self.ci_provider,
            ci_url: self.ci_url,
            shards: self.shards,
            // Reports go in first; the build finishes once its folder has been read.
            finish: false,
            loc: self.loc,
        })
    }
}

/// One report file to store.
struct Job {
    build: usize,
    shard: u32,
    path: PathBuf,
    name: String,
}

/// What a parser thread hands on: the report, and what storing it needs worked out
/// (`Prepared`), so the writers only store.
struct Parsed {
    job: Job,
    outcome: Result<(UploadMeta, cimetrics_ingest::Report, Prepared)>,
}

/// How many reports and finishes wait for each writer (see `run`).
const LANE_QUEUE: usize = 12;

/// Whether the planner's statistics are refreshed after finishing the build at `index` of
/// this import: at every doubling of the builds it has finished, from 64. PostgreSQL plans
/// a connection's prepared statement once, from the statistics of that moment; taken on a
/// history of one build, they gave the next import's lookups of a build's uploads, totals
/// and packs sequential scans that read 563M rows of `uploads` over the year, until
/// autovacuum analyzed again (`benches/README.md`). Refreshed at each doubling, they fall
/// at most one doubling behind an import into a fresh database.
fn restats_after(index: usize) -> bool {
    let builds = index + 1;
    builds >= 64 && builds.is_power_of_two()
}

/// What a writer is handed: a report to store, or a build (by index) to finish.
enum Work {
    Store(Box<(Job, UploadMeta, cimetrics_ingest::Report, Prepared)>),
    Finish(usize),
}

/// What a writer stored.
#[derive(Default)]
struct Tally {
    stored: u64,
    replayed: u64,
    failed: u64,
}

fn list_build(dir: &Path, build: usize, jobs: &mut Vec<Job>) -> Result<BuildMeta> {
    let meta_path = dir.join("build.json");
    let text = std::fs::read_to_string(&meta_path)
        .with_context(|| format!("{}: cannot read", meta_path.display()))?;
    let file: BuildFile = serde_json::from_str(&text)
        .with_context(|| format!("{}: invalid build metadata", meta_path.display()))?;
    let meta = file
        .into_meta()
        .with_context(|| format!("{}", meta_path.display()))?;
    let mut add = |folder: &Path, shard: u32| -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
            .with_context(|| format!("{}: cannot list", folder.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_file() && name != "build.json" && !name.starts_with('.') {
                jobs.push(Job {
                    build,
                    shard,
                    path,
                    name,
                });
            }
        }
        Ok(())
    };
    add(dir, 1)?;
    let mut shard_dirs: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let n = p
                .file_name()?
                .to_str()?
                .strip_prefix("shard-")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    shard_dirs.sort();
    for (shard, path) in shard_dirs {
        add(&path, shard)?;
    }
    Ok(meta)
}

fn parse_job(job: &Job, strict: bool) -> Result<(UploadMeta, cimetrics_ingest::Report)> {
    let bytes =
        std::fs::read(&job.path).with_context(|| format!("{}: cannot read", job.path.display()))?;
    let upload = UploadMeta {
        shard: job.shard,
        name: job.name.clone(),
        digest: digest(&bytes),
        size: bytes.len() as u64,
    };
    // The store keeps outcomes, attempts, times and failure messages, never other texts.
    let options = cimetrics_ingest::Options {
        outcomes_only: true,
        strict,
        ..cimetrics_ingest::Options::default()
    };
    let report = cimetrics_ingest::parse_with(std::io::Cursor::new(bytes), &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", job.path.display()))?;
    Ok((upload, report))
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let mut build_dirs: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("{}: cannot list", args.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("build.json").is_file())
        .collect();
    build_dirs.sort();
    if build_dirs.is_empty() {
        bail!(
            "{}: no build folders (folders holding a build.json)",
            args.dir.display()
        );
    }
    let mut jobs = Vec::new();
    let mut metas = Vec::with_capacity(build_dirs.len());
    for (i, dir) in build_dirs.iter().enumerate() {
        metas.push(list_build(dir, i, &mut jobs)?);
    }
    let total_jobs = jobs.len();

    // Before the runtime and the database's threads start: they stay on the writer's core.
    let placement = crate::cpus::Placement::split();
    let rt = runtime()?;
    let store = rt.block_on(args.db.open())?.for_bulk_load();
    let project = rt.block_on(store.create_project(&args.db.project))?;

    // Parsers on the other cores feed this thread through a bounded channel, in job order,
    // and it hands each report on to its build's writer, so memory holds a few parsed
    // reports at most.
    let workers = placement.parser_threads;
    let (tx, rx) = mpsc::sync_channel::<Parsed>((workers * 2).max(4));
    let jobs = std::sync::Mutex::new(jobs.into_iter().enumerate());
    let mut stored = 0u64;
    let mut replayed = 0u64;
    let mut failed = 0u64;
    let started = std::time::Instant::now();
    let strict = args.strict;
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for _ in 0..workers {
            let tx = tx.clone();
            let jobs = &jobs;
            let placement = &placement;
            handles.push(scope.spawn(move || {
                placement.enter_parser();
                loop {
                    let next = jobs.lock().map(|mut j| j.next()).ok().flatten();
                    let Some((_, job)) = next else { break };
                    let outcome = parse_job(&job, strict).map(|(upload, report)| {
                        let prepared = Prepared::of(&report);
                        (upload, report, prepared)
                    });
                    if tx.send(Parsed { job, outcome }).is_err() {
                        break;
                    }
                }
            }));
        }
        drop(tx);
        // Stored reports are freed on a thread of their own, so a writer does not spend its
        // time freeing the many small allocations a parser made (that thread took 1.6%
        // of an import's perf samples).
        let (spent, spent_reports) = mpsc::sync_channel::<cimetrics_ingest::Report>(workers);
        let placement = &placement;
        scope.spawn(move || {
            placement.enter_parser();
            spent_reports.into_iter().for_each(drop);
        });
        // Writers: one on SQLite (it has one), four on PostgreSQL, each storing whole builds
        // (build i goes to writer i % lanes) on its own connection, so the server works on
        // some builds while the others' statements travel. Each writer's queue holds two
        // builds of five reports and a finish: with a queue of two, this thread waited on
        // the writer of the build it was handing out while the others sat idle, and four
        // writers were no faster than two (`benches/README.md`).
        let lanes = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        let mut to_lanes = Vec::with_capacity(lanes);
        let mut writers = Vec::with_capacity(lanes);
        for _ in 0..lanes {
            let (to_lane, work) = mpsc::sync_channel::<Work>(LANE_QUEUE);
            to_lanes.push(to_lane);
            let (rt, store, metas, spent) = (&rt, &store, &metas, spent.clone());
            let project_id = project.id;
            writers.push(scope.spawn(move || {
                let mut tally = Tally::default();
                for work in work {
                    match work {
                        Work::Store(stored) => {
                            let (job, upload, report, prepared) = *stored;
                            let meta = &metas[job.build];
                            let content = UploadContent::Prepared(&report, prepared);
                            match rt.block_on(store.ingest_from(project_id, meta, &upload, content))
                            {
                                Ok(o) if o.replayed => tally.replayed += 1,
                                Ok(_) => tally.stored += 1,
                                Err(e) => {
                                    tally.failed += 1;
                                    eprintln!("\n{}: {e}", job.path.display());
                                }
                            }
                            let _ = spent.send(report);
                        }
                        Work::Finish(build) => {
                            let meta = &metas[build];
                            if let Err(e) = rt.block_on(store.finish(project_id, meta)) {
                                tally.failed += 1;
                                eprintln!("\nbuild {:?}: {e}", meta.id);
                            }
                            if store.backend() == Backend::Postgres && restats_after(build) {
                                // Statistics only: the import goes on without them.
                                if let Err(e) = rt.block_on(store.analyze()) {
                                    eprintln!("\nrefreshing the planner's statistics: {e}");
                                }
                            }
                        }
                    }
                }
                tally
            }));
        }
        drop(spent);
        let lane = |build: usize| &to_lanes[build % lanes];
        let mut done = 0usize;
        // Jobs arrive in build order: a build finishes when the next one's first report
        // arrives (and the last at the end). Builds without reports finish here too.
        let mut next_to_finish = 0usize;
        let mut finish_up_to = |end: usize| {
            while next_to_finish < end {
                let _ = lane(next_to_finish).send(Work::Finish(next_to_finish));
                next_to_finish += 1;
            }
        };
        for parsed in rx {
            done += 1;
            finish_up_to(parsed.job.build);
            match parsed.outcome {
                Ok((upload, report, prepared)) => {
                    let build = parsed.job.build;
                    let stored = Box::new((parsed.job, upload, report, prepared));
                    let _ = lane(build).send(Work::Store(stored));
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("\n{e:#}");
                }
            }
            if !args.quiet && (done.is_multiple_of(16) || done == total_jobs) {
                eprint!(
                    "\rimport: [{done}/{total_jobs}] reports, {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                let _ = std::io::stderr().flush();
            }
        }
        finish_up_to(metas.len());
        drop(to_lanes);
        for writer in writers {
            match writer.join() {
                Ok(tally) => {
                    stored += tally.stored;
                    replayed += tally.replayed;
                    failed += tally.failed;
                }
                // Its reports are not all stored: the import must not say it succeeded.
                Err(_) => {
                    failed += 1;
                    eprintln!("\na writer stopped before storing all its reports");
                }
            }
        }
        for h in handles {
            let _ = h.join();
        }
        Ok(())
    })?;
    if !args.quiet {
        eprintln!();
    }
    // The tables have grown by a whole history: the planner's statistics follow.
    rt.block_on(store.analyze())?;
    println!(
        "imported {} builds: {stored} reports stored, {replayed} already there, {failed} failed ({:.1} s)",
        metas.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::restats_after;

    #[test]
    fn statistics_are_refreshed_at_each_doubling_from_64_builds() {
        let refreshed: Vec<usize> = (0..5000).filter(|&i| restats_after(i)).collect();
        // Indexes of the 64th, 128th, ... 4096th build.
        assert_eq!(refreshed, [63, 127, 255, 511, 1023, 2047, 4095]);
    }
}
