//! A metric per window: success rate, pass rate, coverage, duration, quality, and the
//! code-quality metrics (issues, new issues, code-quality score, maintainability rating).

use std::collections::HashMap;

use chrono::NaiveDate;
use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{BUILD_ID, WINDOW_START, results_frame};
use cimetrics_metrics::{FlakyConfig, ScoreInputs, ScoreWeights, Table, Value, Window, WindowSpec};

use super::{History, Result, builds_of, float, int, u32_of};
use crate::Error;
use crate::answers::{
    ComponentPoints, RollingPoint, RollingTrend, SeverityTotals, Trend, TrendPoint, time,
};
use crate::cache::Snapshot;
use crate::store::Project;

/// A trend series the history knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Successful / finished builds.
    SuccessRate,
    /// Passed / run tests, over the builds' stored totals.
    PassRate,
    /// Line coverage of the window's last build with coverage.
    Coverage,
    /// Branch coverage, likewise.
    BranchCoverage,
    /// Build duration (median).
    Duration,
    /// Quality score (within the cached period: older windows are null).
    Quality,
    /// Open code-quality issues of the window's last build with a code-quality report.
    Issues,
    /// Its new issues (open, not open in the previous such build of its branch).
    NewIssues,
    /// Its code-quality score.
    CodeQuality,
    /// Its maintainability rating, 1 (A) to 5 (E).
    MaintainabilityRating,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 10] = [
        Metric::SuccessRate,
        Metric::PassRate,
        Metric::Coverage,
        Metric::BranchCoverage,
        Metric::Duration,
        Metric::Quality,
        Metric::Issues,
        Metric::NewIssues,
        Metric::CodeQuality,
        Metric::MaintainabilityRating,
    ];

    /// The name used in URLs and answers.
    pub fn name(self) -> &'static str {
        match self {
            Metric::SuccessRate => "success_rate",
            Metric::PassRate => "pass_rate",
            Metric::Coverage => "coverage",
            Metric::BranchCoverage => "branch_coverage",
            Metric::Duration => "duration",
            Metric::Quality => "quality",
            Metric::Issues => "issues",
            Metric::NewIssues => "new_issues",
            Metric::CodeQuality => "code_quality",
            Metric::MaintainabilityRating => "maintainability_rating",
        }
    }

    /// The unit of its values: `fraction` (0..=1), `seconds`, `points` (0–100), `count`, or
    /// `rating` (1 = A … 5 = E).
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Duration => "seconds",
            Metric::Quality | Metric::CodeQuality => "points",
            Metric::Issues | Metric::NewIssues => "count",
            Metric::MaintainabilityRating => "rating",
            _ => "fraction",
        }
    }

    /// Whether it is one of the code-quality metrics (a build's issues).
    pub fn is_code_quality(self) -> bool {
        matches!(
            self,
            Metric::Issues
                | Metric::NewIssues
                | Metric::CodeQuality
                | Metric::MaintainabilityRating
        )
    }

    /// Rates are fractions (shown as percentages).
    pub fn is_rate(self) -> bool {
        self.unit() == "fraction"
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            Metric::SuccessRate => "Build success rate",
            Metric::PassRate => "Test pass rate",
            Metric::Coverage => "Line coverage",
            Metric::BranchCoverage => "Branch coverage",
            Metric::Duration => "Build duration (median)",
            Metric::Quality => "Quality score",
            Metric::Issues => "Open issues",
            Metric::NewIssues => "New issues",
            Metric::CodeQuality => "Code-quality score",
            Metric::MaintainabilityRating => "Maintainability rating (1 = A, 5 = E)",
        }
    }

    /// The metrics frame's value and count columns.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Metric::SuccessRate => ("success_rate", "finished"),
            Metric::PassRate => ("pass_rate", "builds"),
            Metric::Coverage => ("line_rate", "builds"),
            Metric::BranchCoverage => ("branch_rate", "builds"),
            Metric::Duration => ("p50_s", "builds"),
            Metric::Quality => ("score", "builds"),
            _ => ("value", "builds"),
        }
    }
}

impl std::str::FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown metric {s:?} (one of {})",
                    Metric::ALL.map(Metric::name).join(", ")
                ))
            })
    }
}

/// What [`History::trend`] is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendParams {
    /// The metric.
    pub metric: Metric,
    /// Day, ISO week or month.
    pub window: Window,
    /// The IANA zone windows begin in.
    pub time_zone: String,
    /// Only this branch.
    pub branch: Option<String>,
    /// First local date.
    pub from: Option<NaiveDate>,
    /// Last local date.
    pub to: Option<NaiveDate>,
}

impl TrendParams {
    /// Weekly, in UTC, every branch, the whole history.
    pub fn new(metric: Metric) -> TrendParams {
        TrendParams {
            metric,
            window: Window::Week,
            time_zone: "UTC".into(),
            branch: None,
            from: None,
            to: None,
        }
    }
}

impl History {
    /// A metric per window (each formula is the metrics crate's: [`success_rate`],
    /// [`pass_rate_per_window_of_counts`] over the stored build totals, [`coverage_per_window`],
    /// [`duration_trend`], [`score_per_window`]). Success rate, pass rate, coverage and
    /// duration cover the whole history; quality the cached period.
    ///
    /// [`success_rate`]: cimetrics_metrics::success_rate
    /// [`pass_rate_per_window_of_counts`]: cimetrics_metrics::pass_rate_per_window_of_counts
    /// [`coverage_per_window`]: cimetrics_metrics::coverage_per_window
    /// [`duration_trend`]: cimetrics_metrics::duration_trend
    /// [`score_per_window`]: cimetrics_metrics::score_per_window
    ///
    /// # Errors
    /// An unknown time zone; the store fails.
    pub async fn trend(&self, project: &Project, params: &TrendParams) -> Result<Trend> {
        let snapshot = self.snapshot(project).await?;
        let spec = WindowSpec::new(params.window)
            .in_zone(params.time_zone.clone())
            .between(params.from, params.to);
        // The range the series would list: the dates asked, else the builds' (in UTC: a day
        // either way does not matter for a bound).
        let date = |ms: i64| time(ms).map(|t| t.date_naive());
        let first = params.from.or_else(|| {
            snapshot
                .summaries
                .iter()
                .map(|s| s.build.finished_at_ms)
                .min()
                .and_then(date)
        });
        let last = params.to.or_else(|| snapshot.latest_ms.and_then(date));
        if let (Some(first), Some(last)) = (first, last) {
            let days = (last - first).num_days().max(0) + 1;
            let windows = match params.window {
                Window::Day => days,
                Window::Week => days / 7 + 2,
                Window::Month => days / 28 + 2,
            };
            if windows > i64::from(self.max_windows) {
                return Err(Error::Invalid(format!(
                    "the trend would list {windows} {} windows, more than max_windows ({}): \
                     narrow from/to or take a longer window",
                    params.window.name(),
                    self.max_windows
                )));
            }
        }
        let builds = builds_of(&snapshot, params.branch.as_deref());
        // Open issues by severity of each build with a code-quality report.
        let mut severities = HashMap::new();
        let frame = match params.metric {
            Metric::SuccessRate => cimetrics_metrics::success_rate(builds, &spec, false)?,
            Metric::PassRate => cimetrics_metrics::pass_rate_per_window_of_counts(
                snapshot.counts.clone().lazy(),
                builds,
                &spec,
            )?,
            Metric::Coverage | Metric::BranchCoverage => cimetrics_metrics::coverage_per_window(
                snapshot.coverage.clone().lazy(),
                builds,
                &spec,
                false,
            )?,
            Metric::Duration => cimetrics_metrics::duration_trend(builds, &spec)?,
            Metric::Quality => {
                self.quality_per_window(project, &snapshot, &spec, params)
                    .await?
            }
            metric => {
                let (values, by_severity) =
                    self.code_quality_values(project, &snapshot, metric).await?;
                severities = by_severity;
                cimetrics_metrics::value_per_window(values.lazy(), builds, &spec)?
            }
        };
        let table = Table::from_frame(&frame)?;
        let (value, count) = params.metric.columns();
        let points = (0..table.rows.len())
            .filter_map(|i| {
                let Some(Value::Date(window_start)) = table.get(i, WINDOW_START) else {
                    return None;
                };
                let components = (params.metric == Metric::Quality).then(|| {
                    cimetrics_metrics::COMPONENTS
                        .iter()
                        .map(|name| ComponentPoints {
                            name: (*name).into(),
                            points: float(&table, i, &format!("points_{name}")),
                        })
                        .collect()
                });
                // Open issues: the window's last build's, by severity.
                let by_severity = (params.metric == Metric::Issues)
                    .then(|| int(&table, i, BUILD_ID))
                    .flatten()
                    .and_then(|id| severities.get(&id))
                    .map(|s: &[u64; 5]| SeverityTotals {
                        blocker: s[0],
                        critical: s[1],
                        major: s[2],
                        minor: s[3],
                        info: s[4],
                    });
                Some(TrendPoint {
                    window_start: *window_start,
                    value: float(&table, i, value),
                    builds: int(&table, i, count).map_or(0, |n| n.max(0) as u64),
                    components,
                    by_severity,
                })
            })
            .collect();
        Ok(Trend {
            project: project.name.clone(),
            metric: params.metric.name().into(),
            unit: params.metric.unit().into(),
            window: params.window.name().into(),
            time_zone: params.time_zone.clone(),
            branch: params.branch.clone(),
            points,
        })
    }
}

impl History {
    /// Each build with a code-quality report (oldest first) and its value of `metric`
    /// ([`cimetrics_metrics::quality`]): open issues, new issues, the code-quality score, or
    /// the maintainability rating (1 = A … 5 = E; none without lines), over the lines the
    /// build states or else its coverage's.
    pub(crate) async fn code_quality_of_builds(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        metric: Metric,
    ) -> Result<Vec<(i64, f64)>> {
        Ok(self
            .issue_figures_of_builds(project, snapshot, metric)
            .await?
            .into_iter()
            .map(|(id, value, _)| (id, value))
            .collect())
    }

    /// [`History::code_quality_of_builds`], with each build's open issues by severity
    /// (worst first).
    async fn issue_figures_of_builds(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        metric: Metric,
    ) -> Result<Vec<(i64, f64, [u64; 5])>> {
        // Every build's issue counts, grouped by the database once per snapshot.
        let totals = snapshot
            .once("issue totals".into(), async {
                Ok(self.store.issue_totals(project.id).await?)
            })
            .await?;
        let new = if metric == Metric::NewIssues {
            let builds: Vec<_> = totals.iter().map(|t| t.build.clone()).collect();
            self.store.new_issue_counts(&builds).await?
        } else {
            HashMap::new()
        };
        let coverage_lines = |id: i64| {
            snapshot
                .summary(id)
                .and_then(|s| s.coverage.as_ref())
                .map(|c| c.lines_valid)
        };
        let mut out = Vec::with_capacity(totals.len());
        for t in totals.iter() {
            let facts = cimetrics_metrics::quality::IssueFacts {
                by_severity: t.by_severity,
                worst_bug: t.worst_bug,
                worst_vulnerability: t.worst_vulnerability,
                remediation_minutes: t.debt_minutes,
                lines: t
                    .build
                    .loc
                    .or_else(|| coverage_lines(t.build.id))
                    .filter(|l| *l > 0),
            };
            let value = match metric {
                Metric::Issues => Some(t.by_severity.iter().sum::<u64>() as f64),
                Metric::NewIssues => Some(new.get(&t.build.id).copied().unwrap_or(0) as f64),
                Metric::MaintainabilityRating => facts
                    .ratings()
                    .maintainability
                    .and_then(cimetrics_metrics::gate::rating_number),
                _ => Some(facts.ratings().code_quality.score),
            };
            if let Some(v) = value {
                out.push((t.build.id, v, t.by_severity));
            }
        }
        Ok(out)
    }

    /// [`History::issue_figures_of_builds`] as a frame of `build_id` and `value`, and each
    /// build's open issues by severity.
    async fn code_quality_values(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        metric: Metric,
    ) -> Result<(DataFrame, HashMap<i64, [u64; 5]>)> {
        let figures = self
            .issue_figures_of_builds(project, snapshot, metric)
            .await?;
        let rows = figures.len();
        let mut ids = Vec::with_capacity(rows);
        let mut values = Vec::with_capacity(rows);
        let mut severities = HashMap::with_capacity(rows);
        for (id, value, by_severity) in figures {
            ids.push(id);
            values.push(value);
            severities.insert(id, by_severity);
        }
        let frame = DataFrame::new(
            rows,
            vec![
                Column::new(BUILD_ID.into(), ids),
                Column::new("value".into(), values),
            ],
        )?;
        Ok((frame, severities))
    }
}

/// Which quality window: project, and the window's key within it ([`window_key`]).
type WindowKey = (i64, String);

/// A quality window's key within its project: branch, window length, time zone, first day.
fn window_key(params: &TrendParams, start: NaiveDate) -> String {
    format!(
        "{:?} {} {} {start}",
        params.branch,
        params.window.name(),
        params.time_zone
    )
}

/// The score inputs of each quality window computed so far, with a fingerprint of its
/// builds (ids and history sequence numbers): a window whose builds did not change since
/// is not computed again, so only the newest window reads raw results after a build. The
/// store keeps them too ([`Store::quality_windows`](crate::store::Store::quality_windows)),
/// so a restart or another instance does not score them again either.
#[derive(Default)]
pub(crate) struct QualityWindows(std::sync::Mutex<HashMap<WindowKey, (i64, ScoreInputs)>>);

/// Windows kept in memory at most (a few hundred bytes each); past it the map starts again.
const QUALITY_WINDOWS: usize = 100_000;

/// Windows the store keeps per project at most (about 150 bytes each): ten years of days
/// in a few zones and branches.
const STORED_WINDOWS: usize = 20_000;

impl QualityWindows {
    fn get(&self, key: &WindowKey, fingerprint: i64) -> Option<ScoreInputs> {
        self.lock()
            .get(key)
            .filter(|(f, _)| *f == fingerprint)
            .map(|(_, inputs)| *inputs)
    }

    fn insert(&self, key: WindowKey, fingerprint: i64, inputs: ScoreInputs) {
        let mut kept = self.lock();
        if kept.len() >= QUALITY_WINDOWS {
            kept.clear();
        }
        kept.insert(key, (fingerprint, inputs));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<WindowKey, (i64, ScoreInputs)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl History {
    /// The quality score per window over the whole history
    /// ([`cimetrics_metrics::score_per_window_of`] of each window's
    /// [`cimetrics_metrics::score_inputs`]): a window's raw results come from the cache or,
    /// before its period, from the store, and its inputs are kept (in memory and in the
    /// store) until its builds change.
    async fn quality_per_window(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        spec: &WindowSpec,
        params: &TrendParams,
    ) -> Result<DataFrame> {
        let builds = builds_of(snapshot, params.branch.as_deref());
        // Each window's code quality: its last build's with a code-quality report.
        let code_quality: HashMap<i64, f64> = self
            .code_quality_of_builds(project, snapshot, Metric::CodeQuality)
            .await?
            .into_iter()
            .collect();
        let mut stored: Option<HashMap<String, (i64, String)>> = None;
        let mut to_store = Vec::new();
        let mut windows = Vec::new();
        for (start, ids) in cimetrics_metrics::builds_per_window(builds.clone(), spec)? {
            let mut hasher = xxhash_rust::xxh3::Xxh3::new();
            let mut period = (i64::MAX, i64::MIN);
            for id in &ids {
                let s = snapshot.summary(*id);
                hasher.update(&id.to_le_bytes());
                hasher.update(&s.map_or(-1, |s| s.history_seq).to_le_bytes());
                if let Some(s) = s {
                    period.0 = period.0.min(s.build.finished_at_ms);
                    period.1 = period.1.max(s.build.finished_at_ms + 1);
                }
            }
            let fingerprint = hasher.digest() as i64;
            let key: WindowKey = (project.id, window_key(params, start));
            let mut inputs = self.quality.get(&key, fingerprint);
            if inputs.is_none() {
                if stored.is_none() {
                    stored = Some(self.store.quality_windows(project.id).await?);
                }
                inputs = stored
                    .as_ref()
                    .and_then(|s| s.get(&key.1))
                    .filter(|(f, _)| *f == fingerprint)
                    .and_then(|(_, json)| serde_json::from_str(json).ok());
            }
            let inputs = match inputs {
                Some(inputs) => inputs,
                None => {
                    let results = if period.0 < period.1 {
                        self.results(snapshot, project, period).await?
                    } else {
                        results_frame(&[])?
                    };
                    let in_window = builds.clone().filter(
                        col(cimetrics_metrics::schema::BUILD_ID)
                            .is_in(lit(Series::new("ids".into(), &ids)).implode(false), false),
                    );
                    let inputs = cimetrics_metrics::score_inputs(
                        in_window,
                        results.lazy(),
                        snapshot.coverage.clone().lazy(),
                        &FlakyConfig::default(),
                    )?;
                    // Inputs are plain numbers: they always serialise.
                    let json = serde_json::to_string(&inputs).unwrap_or_default();
                    to_store.push((key.1.clone(), fingerprint, json));
                    inputs
                }
            };
            self.quality.insert(key, fingerprint, inputs);
            let mut inputs = inputs;
            inputs.code_quality = ids
                .iter()
                .filter_map(|id| {
                    let at = snapshot.summary(*id)?.build.finished_at_ms;
                    code_quality.get(id).map(|q| (at, *id, *q))
                })
                .max_by_key(|(at, id, _)| (*at, *id))
                .map(|(_, _, q)| q);
            windows.push((start, ids.len() as u32, inputs));
        }
        // Readers choose the branch, zone and window length, so what the store keeps of a
        // project is bounded: past the limit, only windows it already keeps are updated.
        let kept = stored.as_ref().map_or(0, HashMap::len);
        let mut room = STORED_WINDOWS.saturating_sub(kept);
        to_store.retain(|(key, _, _)| {
            let known = stored.as_ref().is_some_and(|s| s.contains_key(key));
            let keep = known || room > 0;
            if keep && !known {
                room -= 1;
            }
            keep
        });
        self.store
            .keep_quality_windows(project.id, &to_store)
            .await?;
        Ok(cimetrics_metrics::score_per_window_of(
            &windows,
            spec,
            &ScoreWeights::default(),
        )?)
    }

    /// The success rate over the last `n` finished builds at each finished build
    /// ([`cimetrics_metrics::rolling_success_rate`]), of one branch or of all together.
    ///
    /// # Errors
    /// The store fails.
    pub async fn rolling_success(
        &self,
        project: &Project,
        n: u32,
        branch: Option<&str>,
    ) -> Result<RollingTrend> {
        let snapshot = self.snapshot(project).await?;
        let n = n.max(1);
        let frame =
            cimetrics_metrics::rolling_success_rate(builds_of(&snapshot, branch), n, false)?;
        let table = Table::from_frame(&frame)?;
        let points = (0..table.rows.len())
            .filter_map(|i| {
                let id = int(&table, i, cimetrics_metrics::schema::BUILD_ID)?;
                Some(RollingPoint {
                    build: snapshot.ci_id(id),
                    finished_at: snapshot
                        .summary(id)
                        .and_then(|s| time(s.build.finished_at_ms)),
                    builds: u32_of(int(&table, i, "builds")),
                    successful: u32_of(int(&table, i, "successful")),
                    success_rate: float(&table, i, "success_rate"),
                })
            })
            .collect();
        Ok(RollingTrend {
            project: project.name.clone(),
            metric: Metric::SuccessRate.name().into(),
            rolling: n,
            branch: branch.map(str::to_owned),
            points,
        })
    }
}
