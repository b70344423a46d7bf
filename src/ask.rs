//! `cimetrics flaky|slowest|failing|mttr|compare|score|issues`: the service's questions from the
//! command line, over a local history (`--data-dir`, `--database-url`) or a server
//! (`--server`). Either way the answer is the history's typed answer, the same JSON the
//! service gives; `--json` prints it whole, `--csv` its rows, and by default a table.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use cimetrics_history::questions::{
    FailingParams, FlakyParams, IssuesParams, MTTR_DAYS, SCORE_DAYS, SlowestParams,
};
use cimetrics_metrics::SlowestBy;
use serde_json::Value;

use crate::db::{DbArgs, runtime};

/// Where the answer comes from and how it is printed.
#[derive(clap::Args)]
pub struct Source {
    #[command(flatten)]
    db: DbArgs,
    /// Ask this cimetrics server instead of a local history.
    #[arg(long, env = "CIMETRICS_SERVER")]
    server: Option<String>,
    /// A read token, for a private project on the server.
    #[arg(long, env = "CIMETRICS_READ_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Print the whole answer as JSON.
    #[arg(long)]
    json: bool,
    /// Print the answer's rows as CSV.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
}

/// A branch and a period, shared by most questions.
#[derive(clap::Args)]
pub struct Period {
    /// Only this branch.
    #[arg(long)]
    branch: Option<String>,
    /// Days back from the latest build.
    #[arg(long)]
    days: Option<u32>,
}

/// The questions.
#[derive(clap::Subcommand)]
pub enum Question {
    /// Flaky tests under three definitions, with evidence.
    Flaky {
        #[command(flatten)]
        period: Period,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        source: Source,
    },
    /// The slowest tests by p95 (or p50).
    Slowest {
        #[command(flatten)]
        period: Period,
        /// `p95` or `p50`.
        #[arg(long, default_value = "p95", value_parser = ["p95", "p50"])]
        by: String,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        source: Source,
    },
    /// The tests failing on a branch now, since when.
    Failing {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        source: Source,
    },
    /// Mean time to recovery, with each failure streak.
    Mttr {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        source: Source,
    },
    /// Two builds side by side (CI ids, or `branch:NAME` for a branch's latest).
    Compare {
        /// The base build.
        #[arg(long)]
        base: String,
        /// The head build.
        #[arg(long)]
        head: String,
        #[command(flatten)]
        source: Source,
    },
    /// The quality score with each component's points.
    Score {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        source: Source,
    },
    /// A build's code-quality issues, worst first, with its counts, ratings and score.
    Issues {
        /// The CI's build id (default: the latest with a code-quality report).
        #[arg(long)]
        build: Option<String>,
        /// The branch of the default build.
        #[arg(long)]
        branch: Option<String>,
        /// `open` (new ones included), `new` or `fixed`.
        #[arg(long, default_value = "open")]
        status: String,
        /// Only this severity: blocker, critical, major, minor or info.
        #[arg(long)]
        severity: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[command(flatten)]
        source: Source,
    },
}

impl Question {
    fn source(&self) -> &Source {
        match self {
            Question::Flaky { source, .. }
            | Question::Slowest { source, .. }
            | Question::Failing { source, .. }
            | Question::Mttr { source, .. }
            | Question::Compare { source, .. }
            | Question::Score { source, .. }
            | Question::Issues { source, .. } => source,
        }
    }

    /// The route under the project, with its query.
    fn route(&self) -> (&'static str, Vec<(&'static str, String)>) {
        let mut q = Vec::new();
        let mut period = |p: &Period| {
            if let Some(b) = &p.branch {
                q.push(("branch", b.clone()));
            }
            if let Some(d) = p.days {
                q.push(("days", d.to_string()));
            }
        };
        let route = match self {
            Question::Flaky {
                period: p, limit, ..
            } => {
                period(p);
                q.push(("limit", limit.to_string()));
                "tests/flaky"
            }
            Question::Slowest {
                period: p,
                by,
                limit,
                ..
            } => {
                period(p);
                q.push(("by", by.clone()));
                q.push(("limit", limit.to_string()));
                "tests/slowest"
            }
            Question::Failing { period: p, .. } => {
                period(p);
                "tests/failing"
            }
            Question::Mttr { period: p, .. } => {
                period(p);
                "mttr"
            }
            Question::Compare { base, head, .. } => {
                q.push(("base", base.clone()));
                q.push(("head", head.clone()));
                "compare"
            }
            Question::Score { period: p, .. } => {
                period(p);
                "score"
            }
            Question::Issues {
                build,
                branch,
                status,
                severity,
                limit,
                ..
            } => {
                for (key, value) in [("build", build), ("branch", branch), ("severity", severity)] {
                    if let Some(v) = value {
                        q.push((key, v.clone()));
                    }
                }
                q.push(("status", status.clone()));
                q.push(("limit", limit.to_string()));
                "issues"
            }
        };
        (route, q)
    }

    /// The answer from a local history.
    async fn local(&self) -> Result<Value> {
        let history = self.source().db.history().await?;
        let project = history.project(&self.source().db.project).await?;
        let days = |p: &Period, default: u32| p.days.unwrap_or(default);
        Ok(match self {
            Question::Flaky { period, limit, .. } => {
                let params = FlakyParams {
                    branch: period.branch.clone(),
                    days: days(period, FlakyParams::default().days),
                    limit: *limit,
                    ..FlakyParams::default()
                };
                serde_json::to_value(history.flaky(&project, &params).await?)?
            }
            Question::Slowest {
                period, by, limit, ..
            } => {
                let params = SlowestParams {
                    branch: period.branch.clone(),
                    days: days(period, SlowestParams::default().days),
                    by: if by == "p50" {
                        SlowestBy::P50
                    } else {
                        SlowestBy::P95
                    },
                    limit: *limit,
                };
                serde_json::to_value(history.slowest(&project, &params).await?)?
            }
            Question::Failing { period, .. } => {
                let params = FailingParams {
                    branch: period.branch.clone(),
                    days: days(period, FailingParams::default().days),
                };
                serde_json::to_value(history.failing(&project, &params).await?)?
            }
            Question::Mttr { period, .. } => serde_json::to_value(
                history
                    .mttr(&project, period.branch.as_deref(), days(period, MTTR_DAYS))
                    .await?,
            )?,
            Question::Compare { base, head, .. } => {
                serde_json::to_value(history.compare(&project, base, head).await?)?
            }
            Question::Score { period, .. } => serde_json::to_value(
                history
                    .score(&project, period.branch.as_deref(), days(period, SCORE_DAYS))
                    .await?,
            )?,
            Question::Issues {
                build,
                branch,
                status,
                severity,
                limit,
                ..
            } => {
                let params = IssuesParams {
                    build: build.clone(),
                    branch: branch.clone(),
                    severity: severity.clone(),
                    status: Some(status.clone()),
                    limit: Some(*limit),
                    ..IssuesParams::default()
                };
                serde_json::to_value(history.issues(&project, &params).await?)?
            }
        })
    }

    /// The answer from a server.
    fn remote(&self, server: &str) -> Result<Value> {
        let source = self.source();
        let (route, query) = self.route();
        let encode = cimetrics_api::service::percent_encode;
        let url = format!(
            "{}/api/v1/projects/{}/{route}?{}",
            server.trim_end_matches('/'),
            encode(&source.db.project),
            query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.get(&url);
        if let Some(t) = &source.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req.call().context("the server cannot be reached")?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&body)
            .with_context(|| format!("the server answered {status}, not JSON"))?;
        if !(200..300).contains(&status) {
            bail!(
                "the server answered {status}: {}",
                value["detail"].as_str().unwrap_or_default()
            );
        }
        Ok(value)
    }

    /// The answer's rows, and the columns a table shows of them (title, JSON pointer).
    fn rows<'a>(
        &self,
        answer: &'a Value,
    ) -> (&'a [Value], &'static [(&'static str, &'static str)]) {
        let (key, columns): (&str, &'static [(&str, &str)]) = match self {
            Question::Flaky { .. } => (
                "tests",
                &[
                    ("test", "/test/name"),
                    ("class", "/test/classname"),
                    ("runs", "/runs"),
                    ("pass rate", "/pass_rate"),
                    ("flake rate", "/flake_rate"),
                    ("same commit", "/same_commit/flaky"),
                    ("retry", "/pass_on_retry/flaky"),
                    ("flips", "/flip_rate/flaky"),
                    ("branch", "/flip_rate/branch"),
                    ("last runs", "/flip_rate/sequence"),
                ],
            ),
            Question::Slowest { .. } => (
                "tests",
                &[
                    ("test", "/test/name"),
                    ("class", "/test/classname"),
                    ("runs", "/runs"),
                    ("p50 s", "/p50_s"),
                    ("p95 s", "/p95_s"),
                    ("max s", "/max_s"),
                ],
            ),
            Question::Failing { .. } => (
                "tests",
                &[
                    ("test", "/test/name"),
                    ("class", "/test/classname"),
                    ("since build", "/since_build"),
                    ("since", "/since"),
                    ("failing builds", "/failing_builds"),
                ],
            ),
            Question::Mttr { .. } => (
                "streaks",
                &[
                    ("branch", "/branch"),
                    ("first failed", "/first_failed"),
                    ("failed builds", "/failed_builds"),
                    ("recovered by", "/recovered_by"),
                    ("seconds", "/seconds"),
                ],
            ),
            Question::Compare { .. } => (
                "newly_failing",
                &[
                    ("newly failing", "/test/name"),
                    ("class", "/test/classname"),
                    ("base", "/base"),
                    ("head", "/head"),
                ],
            ),
            Question::Issues { .. } => (
                "issues",
                &[
                    ("status", "/status"),
                    ("severity", "/severity"),
                    ("category", "/category"),
                    ("rule", "/rule"),
                    ("path", "/path"),
                    ("line", "/line"),
                    ("message", "/message"),
                ],
            ),
            Question::Score { .. } => (
                "components",
                &[
                    ("component", "/name"),
                    ("value", "/value"),
                    ("weight", "/weight"),
                    ("points", "/points"),
                ],
            ),
        };
        (
            answer[key].as_array().map_or(&[][..], Vec::as_slice),
            columns,
        )
    }
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.3}"),
            _ => n.to_string(),
        },
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| cell(Some(x)))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

/// The headline of an answer, printed above its table.
fn headline(q: &Question, answer: &Value) -> Option<String> {
    match q {
        Question::Mttr { .. } => Some(format!(
            "MTTR {} s over {} streak(s); open: {}",
            cell(answer.get("mttr_seconds")),
            answer["streaks"].as_array().map_or(0, Vec::len),
            cell(answer.pointer("/open_streak/first_failed")),
        )),
        Question::Score { .. } => Some(format!(
            "score {} ({})",
            cell(answer.get("score")),
            cell(answer.get("grade"))
        )),
        Question::Compare { .. } => Some(format!(
            "{} ({}) -> {} ({}): {} newly failing, {} fixed, {} added, {} removed; coverage {} pp",
            cell(answer.pointer("/base/id")),
            cell(answer.pointer("/base/status")),
            cell(answer.pointer("/head/id")),
            cell(answer.pointer("/head/status")),
            answer["newly_failing"].as_array().map_or(0, Vec::len),
            answer["fixed"].as_array().map_or(0, Vec::len),
            answer["added"].as_array().map_or(0, Vec::len),
            answer["removed"].as_array().map_or(0, Vec::len),
            cell(answer.pointer("/coverage/delta_pp")),
        )),
        Question::Failing { .. } => Some(format!("branch {}", cell(answer.get("branch")))),
        Question::Issues { .. } => Some(format!(
            "build {} (against {}): {} issue(s)",
            cell(answer.get("build")),
            cell(answer.get("previous_build")),
            cell(answer.get("total")),
        )),
        _ => None,
    }
}

pub fn run(q: &Question) -> Result<ExitCode> {
    let source = q.source();
    let answer = match &source.server {
        Some(server) => q.remote(server)?,
        None => runtime()?.block_on(q.local())?,
    };
    if source.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(ExitCode::SUCCESS);
    }
    let (rows, columns) = q.rows(&answer);
    if source.csv {
        print!("{}", cimetrics_history::csv::write(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(line) = headline(q, &answer) {
        println!("{line}");
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|(_, p)| cell(r.pointer(p))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (title, _))| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(columns.iter().map(|(t, _)| *t).collect()));
    for r in &table {
        println!("{}", line(r.iter().map(String::as_str).collect()));
    }
    if table.is_empty() {
        println!("(none)");
    }
    Ok(ExitCode::SUCCESS)
}
