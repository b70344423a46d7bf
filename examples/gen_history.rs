//! Writes a deterministic year of CI history as `cimetrics import` folders: the fixture of
//! the history benchmark (`benches/history.sh`).
//!
//! ```text
//! cargo run --release --example gen_history -- /tmp/year                      # the full year
//! cargo run --release --example gen_history -- /tmp/small --builds 200 --tests 400 --files 50
//! cargo run --release --example gen_history -- /tmp/quarter --builds 1250 --days 91  # a quarter
//! ```
//!
//! Defaults (the issue's year): 5,000 builds from 2025-01-01 over 365 days (`--days`) over 3 branches
//! (`main` 60%, `develop` 30%, `release/1.x` 10%), 2,000 tests per build in 4 shards
//! (Surefire JUnit, one file per shard), 2% flaky tests, Cobertura of 1,000 files (~1.5 MB)
//! per build in shard 1. The same arguments always give the same bytes.
//!
//! What the history holds, so the metrics have something to find:
//! - flaky tests (2%) fail 15% of their runs; half of those failures pass on a Surefire
//!   retry (`<flakyFailure>`: flaky pass), the rest fail the build;
//! - 5% of builds re-run the previous commit of their branch (same-commit evidence);
//! - on `develop`, a real breakage now and then: 1–3 tests fail for 2–8 builds in a row;
//! - per-test durations vary ±20% around a base time; 1% of tests get 60% slower from July;
//! - coverage grows from ~70% to ~80% of lines over the year; ~12% of lines are branches.

#[path = "../benches/support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use generator::Rng;

struct Config {
    out: PathBuf,
    builds: usize,
    tests: usize,
    shards: usize,
    files: usize,
    lines_per_file: usize,
    days: usize,
    seed: u64,
}

/// 2025-01-01T00:00:00Z in seconds.
const YEAR_START: i64 = 1_735_689_600;
const BRANCHES: [&str; 3] = ["main", "develop", "release/1.x"];

fn parse_args() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let mut config = Config {
        out: PathBuf::new(),
        builds: 5_000,
        tests: 2_000,
        shards: 4,
        files: 1_000,
        lines_per_file: 32,
        days: 365,
        seed: 1,
    };
    let mut out = None;
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--builds" => config.builds = number("--builds")?,
            "--tests" => config.tests = number("--tests")?,
            "--shards" => config.shards = number("--shards")?.max(1),
            "--files" => config.files = number("--files")?,
            "--lines-per-file" => config.lines_per_file = number("--lines-per-file")?,
            "--days" => config.days = number("--days")?.max(1),
            "--seed" => config.seed = number("--seed")? as u64,
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => out = Some(PathBuf::from(arg)),
        }
    }
    config.out = out.ok_or("usage: gen_history OUT_DIR [--builds N] [--tests N] [--shards N] [--files N] [--lines-per-file N] [--days N] [--seed N]")?;
    Ok(config)
}

/// The fixed traits of one test across the year.
struct TestSpec {
    suite: String,
    classname: String,
    name: String,
    base_ms: u64,
    flaky: bool,
    skipped: bool,
    regresses: bool,
}

fn tests(config: &Config) -> Vec<TestSpec> {
    let mut rng = Rng::new(config.seed ^ 0x7E57);
    (0..config.tests)
        .map(|i| {
            let module = i / 100;
            let class = i / 10;
            let suite = format!("com.acme.m{module:02}.C{class:04}Test");
            TestSpec {
                classname: suite.clone(),
                suite,
                name: format!("test{i:05}_{}", generator_word(&mut rng)),
                // Mostly fast tests, a few slow ones (up to ~20 s).
                base_ms: match rng.below(100) {
                    0..=79 => 5 + rng.below(200),
                    80..=97 => 200 + rng.below(2_000),
                    _ => 2_000 + rng.below(18_000),
                },
                flaky: rng.chance(20),
                skipped: rng.chance(10),
                regresses: rng.chance(10),
            }
        })
        .collect()
}

fn generator_word(rng: &mut Rng) -> &'static str {
    rng.pick(&[
        "parses", "rejects", "merges", "retries", "renders", "rounds", "sorts", "streams",
        "caches", "signs",
    ])
}

/// One build: its metadata and which tests break.
struct BuildPlan {
    index: usize,
    branch: &'static str,
    commit: String,
    finished_at: i64,
    duration_s: u64,
    seed: u64,
    /// Tests failing for real in this build.
    broken: Vec<usize>,
    /// Fraction of lines covered, in thousandths.
    coverage_milli: u64,
}

fn plan(config: &Config) -> Vec<BuildPlan> {
    let mut rng = Rng::new(config.seed ^ 0xB01D);
    let step = config.days as i64 * 86_400 / config.builds.max(1) as i64;
    let mut last_commit: [Option<String>; 3] = [None, None, None];
    let mut breakage: Vec<(usize, usize)> = Vec::new(); // (test, builds left) on develop
    (0..config.builds)
        .map(|index| {
            let branch_ix = match rng.below(10) {
                0..=5 => 0,
                6..=8 => 1,
                _ => 2,
            };
            let rerun = rng.chance(50) && last_commit[branch_ix].is_some();
            let commit = match (&last_commit[branch_ix], rerun) {
                (Some(c), true) => c.clone(),
                _ => format!("{:016x}{:024x}", rng.next_u64(), index),
            };
            last_commit[branch_ix] = Some(commit.clone());
            let mut broken = Vec::new();
            if branch_ix == 1 {
                if rng.chance(30) && config.tests > 0 {
                    for _ in 0..1 + rng.below(3) {
                        let test = rng.below(config.tests as u64) as usize;
                        breakage.push((test, 2 + rng.below(7) as usize));
                    }
                }
                breakage.retain_mut(|(test, left)| {
                    broken.push(*test);
                    *left -= 1;
                    *left > 0
                });
            }
            let finished_at = YEAR_START + index as i64 * step + rng.below(step as u64) as i64;
            BuildPlan {
                index,
                branch: BRANCHES[branch_ix],
                commit,
                finished_at,
                duration_s: 300 + rng.below(600),
                seed: rng.next_u64(),
                broken,
                coverage_milli: 700 + (100 * index / config.builds.max(1)) as u64,
            }
        })
        .collect()
}

fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn write_build(config: &Config, specs: &[TestSpec], plan: &BuildPlan) -> std::io::Result<u64> {
    let dir = config.out.join(format!("build-{:05}", plan.index + 1));
    std::fs::create_dir_all(&dir)?;
    let started = plan.finished_at - plan.duration_s as i64;
    std::fs::write(
        dir.join("build.json"),
        format!(
            "{{\"id\": \"{}\", \"number\": {}, \"commit\": \"{}\", \"branch\": \"{}\", \
             \"started_at\": \"{}\", \"finished_at\": \"{}\", \"duration_seconds\": {}, \
             \"ci_provider\": \"github-actions\", \"shards\": {}}}\n",
            plan.index + 1,
            plan.index + 1,
            plan.commit,
            plan.branch,
            rfc3339(started),
            rfc3339(plan.finished_at),
            plan.duration_s,
            config.shards
        ),
    )?;
    let mut rng = Rng::new(plan.seed);
    let mut bytes = 0;
    let per_shard = specs.len().div_ceil(config.shards);
    let late = plan.index * 2 >= config.builds; // second half of the year
    for shard in 0..config.shards {
        let folder = if shard == 0 {
            dir.clone()
        } else {
            dir.join(format!("shard-{}", shard + 1))
        };
        std::fs::create_dir_all(&folder)?;
        let lo = (shard * per_shard).min(specs.len());
        let hi = ((shard + 1) * per_shard).min(specs.len());
        bytes += write_junit(
            &folder.join("TEST-results.xml"),
            specs,
            lo..hi,
            plan,
            late,
            &mut rng,
        )?;
    }
    bytes += write_cobertura(&dir.join("coverage.xml"), config, plan, &mut rng)?;
    Ok(bytes)
}

fn write_junit(
    path: &Path,
    specs: &[TestSpec],
    range: std::ops::Range<usize>,
    plan: &BuildPlan,
    late: bool,
    rng: &mut Rng,
) -> std::io::Result<u64> {
    let mut out = Vec::with_capacity(range.len() * 160);
    out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let mut start = range.start;
    while start < range.end {
        let suite = &specs[start].suite;
        let end = (start..range.end)
            .find(|&i| specs[i].suite != *suite)
            .unwrap_or(range.end);
        writeln!(
            out,
            "  <testsuite name=\"{suite}\" tests=\"{}\">",
            end - start
        )?;
        for (i, spec) in specs.iter().enumerate().take(end).skip(start) {
            let mut ms = spec.base_ms * (80 + rng.below(41)) / 100;
            if late && spec.regresses {
                ms = ms * 160 / 100;
            }
            write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}.{:03}\"",
                spec.name,
                spec.classname,
                ms / 1000,
                ms % 1000
            )?;
            let broken = plan.broken.contains(&i);
            if spec.skipped {
                out.extend_from_slice(b"><skipped message=\"disabled\"/></testcase>\n");
            } else if broken || (spec.flaky && rng.chance(75)) {
                writeln!(
                    out,
                    "><failure message=\"expected &lt;true&gt; but was &lt;false&gt;\" \
                     type=\"org.opentest4j.AssertionFailedError\">org.opentest4j.AssertionFailedError\n\
                     \tat {}.{}({}.java:{})</failure></testcase>",
                    spec.classname,
                    spec.name,
                    spec.classname.rsplit('.').next().unwrap_or_default(),
                    20 + i % 300
                )?;
            } else if spec.flaky && rng.chance(75) {
                writeln!(
                    out,
                    "><flakyFailure message=\"timeout after 5000 ms\" \
                     type=\"java.util.concurrent.TimeoutException\"><stackTrace>\
                     java.util.concurrent.TimeoutException\n\tat {}.{}</stackTrace>\
                     </flakyFailure></testcase>",
                    spec.classname, spec.name
                )?;
            } else {
                out.extend_from_slice(b"/>\n");
            }
        }
        out.extend_from_slice(b"  </testsuite>\n");
        start = end;
    }
    out.extend_from_slice(b"</testsuites>\n");
    std::fs::write(path, &out)?;
    Ok(out.len() as u64)
}

fn write_cobertura(
    path: &Path,
    config: &Config,
    plan: &BuildPlan,
    rng: &mut Rng,
) -> std::io::Result<u64> {
    // Lines of each file and their kinds are fixed across the year (seeded by the file);
    // which are covered varies with the build's coverage level.
    struct Line {
        number: usize,
        branch: bool,
        hits: u64,
        branches_covered: u64,
    }
    let mut files = Vec::with_capacity(config.files);
    let (mut valid, mut covered, mut bvalid, mut bcovered) = (0u64, 0u64, 0u64, 0u64);
    for f in 0..config.files {
        let mut shape = Rng::new(config.seed ^ (f as u64 + 1).wrapping_mul(0x9E37_79B9));
        let mut lines = Vec::with_capacity(config.lines_per_file);
        let mut number = 1;
        for _ in 0..config.lines_per_file {
            number += 1 + shape.below(3) as usize;
            let branch = shape.chance(120);
            // A line's "difficulty": covered when the build's level passes it.
            let difficulty = shape.below(1000);
            let hits = if difficulty < plan.coverage_milli {
                1 + rng.below(40)
            } else {
                0
            };
            let branches_covered = if !branch || hits == 0 {
                0
            } else if rng.chance(700) {
                2
            } else {
                1
            };
            valid += 1;
            covered += u64::from(hits > 0);
            if branch {
                bvalid += 2;
                bcovered += branches_covered;
            }
            lines.push(Line {
                number,
                branch,
                hits,
                branches_covered,
            });
        }
        files.push(lines);
    }
    let rate = |c: u64, v: u64| if v == 0 { 0.0 } else { c as f64 / v as f64 };
    let file = std::fs::File::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let mut bytes = 0u64;
    let mut put = |out: &mut BufWriter<std::fs::File>, s: &str| -> std::io::Result<()> {
        bytes += s.len() as u64;
        out.write_all(s.as_bytes())
    };
    put(
        &mut out,
        &format!(
            "<?xml version=\"1.0\" ?>\n<coverage version=\"7.6.1\" timestamp=\"{}000\" \
             lines-valid=\"{valid}\" lines-covered=\"{covered}\" line-rate=\"{:.4}\" \
             branches-covered=\"{bcovered}\" branches-valid=\"{bvalid}\" branch-rate=\"{:.4}\" \
             complexity=\"0\">\n\t<sources>\n\t\t<source>/home/ci/work/acme/src</source>\n\t</sources>\n\t<packages>\n",
            plan.finished_at,
            rate(covered, valid),
            rate(bcovered, bvalid)
        ),
    )?;
    let files_per_package = 25;
    for (f, lines) in files.iter().enumerate() {
        let package = f / files_per_package;
        if f % files_per_package == 0 {
            put(
                &mut out,
                &format!(
                    "\t\t<package name=\"acme.p{package:03}\" line-rate=\"0\" branch-rate=\"0\" complexity=\"0\">\n\t\t\t<classes>\n"
                ),
            )?;
        }
        put(
            &mut out,
            &format!(
                "\t\t\t\t<class name=\"m{f:04}.py\" filename=\"acme/p{package:03}/m{f:04}.py\" \
                 complexity=\"0\" line-rate=\"0\" branch-rate=\"0\">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n"
            ),
        )?;
        for line in lines {
            let text = if line.branch {
                let pct = line.branches_covered * 50;
                format!(
                    "\t\t\t\t\t\t<line number=\"{}\" hits=\"{}\" branch=\"true\" condition-coverage=\"{pct}% ({}/2)\" missing-branches=\"{}\"/>\n",
                    line.number,
                    line.hits,
                    line.branches_covered,
                    line.number + 2
                )
            } else {
                format!(
                    "\t\t\t\t\t\t<line number=\"{}\" hits=\"{}\"/>\n",
                    line.number, line.hits
                )
            };
            put(&mut out, &text)?;
        }
        put(&mut out, "\t\t\t\t\t</lines>\n\t\t\t\t</class>\n")?;
        if f % files_per_package == files_per_package - 1 || f + 1 == files.len() {
            put(&mut out, "\t\t\t</classes>\n\t\t</package>\n")?;
        }
    }
    put(&mut out, "\t</packages>\n</coverage>\n")?;
    out.flush()?;
    Ok(bytes)
}

fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gen_history: {e}");
            return ExitCode::from(2);
        }
    };
    let specs = tests(&config);
    let plans = plan(&config);
    let started = std::time::Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let total = std::sync::atomic::AtomicU64::new(0);
    let failed = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> std::io::Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(plan) = plans.get(i) else {
                            return Ok(());
                        };
                        let bytes = write_build(&config, &specs, plan)?;
                        total.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().and_then(Result::err))
            .next()
    });
    if let Some(e) = failed {
        eprintln!("gen_history: {}: {e}", config.out.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {} builds, {:.2} GB, to {} in {:.1} s",
        plans.len(),
        total.into_inner() as f64 / 1e9,
        config.out.display(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
