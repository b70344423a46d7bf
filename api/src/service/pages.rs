//! The dashboard: server-rendered HTML, no script, no build step. `/` lists the projects;
//! `/projects/{project}` shows the latest build, its gate, the quality score, the trend
//! charts (the SVG routes, so what a manager embeds elsewhere is the same picture), the
//! recent builds and the flaky and slowest tests; `/projects/{project}/builds/{build}` and
//! `/projects/{project}/tests/{test}` a build's and a test's page. Every page reads the
//! history's answers; every test and build links to its page.

use actix_web::{HttpRequest, HttpResponse, web};
use cimetrics_history::answers::{Build, IssuesSummary, TestRef};
use cimetrics_history::questions::{
    BuildsParams, FlakyParams, GateParams, IssuesParams, Metric, SlowestParams,
};
use serde::Deserialize;

use super::{Problem, Shared, analytics, auth, percent_encode as url};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}\
header{background:#1f2937;color:#fff;padding:12px 24px}header a{color:#fff;text-decoration:none;font-weight:bold}\
main{padding:16px 24px;max-width:1200px}section{background:#fff;border:1px solid #e3e5e8;border-radius:6px;padding:12px 16px;margin:0 0 16px}\
h1{font-size:22px;margin:4px 0 12px}h2{font-size:16px;margin:0 0 8px}table{border-collapse:collapse;width:100%;font-size:13px}\
td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eee}th{color:#555}.num{text-align:right}\
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}\
.cards{display:flex;gap:16px;flex-wrap:wrap}.card{flex:1;min-width:180px}.big{font-size:28px;font-weight:bold}\
img.chart{width:100%;height:auto;border:1px solid #eee}form{margin:0 0 12px}.muted{color:#777}";

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{t}</title><style>{STYLE}</style></head><body><header><a href=\"/\">cimetrics</a></header><main>{body}</main></body></html>",
        t = esc(title)
    ))
}

/// The dashboard's first page: the projects.
#[utoipa::path(get, path = "/", tag = "pages",
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub(crate) async fn index(state: Shared) -> Result<HttpResponse, Problem> {
    let mut projects = state.history.store().projects().await?;
    projects.retain(|p| p.public_read.unwrap_or(state.settings.public_read));
    let mut body = String::from("<h1>Projects</h1><section>");
    if projects.is_empty() {
        body.push_str("<p class=\"muted\">No project yet: create one with <code>cimetrics project create NAME</code>.</p>");
    }
    body.push_str("<ul>");
    for p in &projects {
        body.push_str(&format!(
            "<li><a href=\"/projects/{}\">{}</a></li>",
            url(&p.name),
            esc(&p.name)
        ));
    }
    body.push_str("</ul></section>");
    Ok(page("cimetrics", &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DashboardQuery {
    window: Option<String>,
    branch: Option<String>,
    tz: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A table of HTML cells (escape text with [`esc`]; links with [`test_link`] and
/// [`build_link`]); a cell that starts with a digit is a number (right-aligned).
/// The code-quality card: the latest build's ratings, score, open issues by severity, new
/// and fixed.
fn code_quality_card(q: &IssuesSummary) -> String {
    let (Some(build), Some(ratings), Some(score)) = (&q.build, &q.ratings, &q.code_quality) else {
        return "<section class=\"card\" id=\"code-quality\"><h2>Code quality</h2>\
<p class=\"muted\">No code-quality report yet.</p></section>"
            .into();
    };
    let s = &q.by_severity;
    format!(
        "<section class=\"card\" id=\"code-quality\"><h2>Code quality</h2><div class=\"big\">{:.0}</div>\
<p>reliability {} · security {} · maintainability {}</p>\
<p>{} open: {} blocker, {} critical, {} major, {} minor, {} info</p>\
<p>{} new, {} fixed since {} · build {}</p></section>",
        score.score,
        esc(&ratings.reliability),
        esc(&ratings.security),
        esc(ratings.maintainability.as_deref().unwrap_or("–")),
        q.open,
        s.blocker,
        s.critical,
        s.major,
        s.minor,
        s.info,
        q.new,
        q.fixed,
        esc(q.previous_build.as_deref().unwrap_or("–")),
        esc(build),
    )
}

fn table_html(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">None in this period.</p>".into();
    }
    let mut out = String::from("<table><tr>");
    for title in headers {
        out.push_str(&format!("<th>{}</th>", esc(title)));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell.starts_with(|c: char| c.is_ascii_digit()) {
                " class=\"num\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{cell}</td>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// A link to a test's page, showing its name.
fn test_link(project: &str, test: &TestRef) -> String {
    format!(
        "<a href=\"/projects/{}/tests/{}\">{}</a>",
        url(project),
        url(&test.id),
        esc(&test.name)
    )
}

/// A link to a build's page, showing its CI id.
fn build_link(project: &str, id: &str) -> String {
    format!(
        "<a href=\"/projects/{}/builds/{}\">{}</a>",
        url(project),
        url(id),
        esc(id)
    )
}

fn seconds(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.2}"))
}

/// A project's dashboard (`?window=week&branch=&tz=`).
#[utoipa::path(get, path = "/projects/{project}", tag = "pages",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub(crate) async fn project(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, Problem> {
    let project = auth::project(&state, &path).await?;
    auth::reader(&state, &req, &project).await?;
    let window = q.window.clone().unwrap_or_else(|| "week".into());
    if !["day", "week", "month"].contains(&window.as_str()) {
        return Err(Problem::bad_request("window is day, week or month"));
    }
    let branch = q.branch.clone().filter(|b| !b.is_empty());
    let tz = q.tz.clone().unwrap_or_else(|| "UTC".into());
    let b = branch.clone();
    let p = project.clone();
    let (recent, gate, score, flaky, slowest, quality, issues) =
        analytics(&state, move |state| async move {
            let h = &state.history;
            let recent = h
                .builds(
                    &p,
                    &BuildsParams {
                        branch: b.clone(),
                        limit: 10,
                        ..BuildsParams::default()
                    },
                )
                .await?
                .builds;
            let latest = recent.first();
            let gate = match &latest {
                Some(build) => Some(
                    h.gate(
                        &p,
                        &GateParams {
                            build: Some(build.id.clone()),
                            ..GateParams::default()
                        },
                    )
                    .await?,
                ),
                None => None,
            };
            let score = h
                .score(&p, b.as_deref(), cimetrics_history::questions::SCORE_DAYS)
                .await?;
            let flaky = h
                .flaky(
                    &p,
                    &FlakyParams {
                        branch: b.clone(),
                        limit: 10,
                        ..FlakyParams::default()
                    },
                )
                .await?;
            let slowest = h
                .slowest(
                    &p,
                    &SlowestParams {
                        branch: b.clone(),
                        limit: 10,
                        ..SlowestParams::default()
                    },
                )
                .await?;
            let quality = h.issues_summary(&p, None, b.as_deref()).await?;
            let issues = h
                .issues(
                    &p,
                    &IssuesParams {
                        branch: b.clone(),
                        limit: Some(20),
                        ..IssuesParams::default()
                    },
                )
                .await?;
            Ok((recent, gate, score, flaky, slowest, quality, issues))
        })
        .await?;
    let latest = recent.first();

    let mut body = format!("<h1>{}</h1>", esc(&project.name));
    body.push_str(&format!(
        "<form method=\"get\">Window <select name=\"window\">{}</select> Branch <input name=\"branch\" value=\"{}\" placeholder=\"all\"> \
Time zone <input name=\"tz\" value=\"{}\" size=\"16\"> <button>Show</button></form>",
        ["day", "week", "month"]
            .iter()
            .map(|w| format!("<option{}>{w}</option>", if *w == window { " selected" } else { "" }))
            .collect::<String>(),
        esc(branch.as_deref().unwrap_or("")),
        esc(&tz)
    ));

    // Latest build and its gate.
    body.push_str("<div class=\"cards\">");
    match (latest, &gate) {
        (Some(b), Some(gate)) => {
            let class = if b.status == "passed" { "pass" } else { "fail" };
            body.push_str(&format!(
                "<section class=\"card\" id=\"latest\"><h2>Latest build</h2><div class=\"big {class}\">{}</div>\
<p>#{} · {} · <code>{}</code></p><p>{}</p><p>coverage {}</p></section>",
                esc(&b.status),
                build_link(&project.name, &b.id),
                if b.branch.is_empty() { "no branch".to_owned() } else { esc(&b.branch) },
                esc(&b.commit.chars().take(10).collect::<String>()),
                match &b.tests {
                    Some(t) => format!("{} tests: {} passed ({} flaky), {} failed, {} errored, {} skipped", t.total, t.passed, t.flaky, t.failed, t.errored, t.skipped),
                    None => "no test report".into(),
                },
                pct(b.coverage.as_ref().and_then(|c| c.line_rate)),
            ));
            body.push_str(&format!(
                "<section class=\"card\" id=\"gate\"><h2>Gate</h2><div class=\"big {}\">{}</div><ul>{}</ul></section>",
                if gate.passed { "pass" } else { "fail" },
                if gate.passed { "passed" } else { "failed" },
                gate.conditions
                    .iter()
                    .map(|c| format!("<li>{}</li>", esc(&c.reason)))
                    .collect::<String>()
            ));
        }
        _ => body.push_str("<section class=\"card\"><h2>Latest build</h2><p class=\"muted\">No build yet.</p></section>"),
    }
    body.push_str(&code_quality_card(&quality));
    body.push_str(&format!(
        "<section class=\"card\" id=\"score\"><h2>Quality score (30 days)</h2><div class=\"big\">{}</div><ul>{}</ul></section></div>",
        match (score.score, &score.grade) {
            (Some(s), Some(g)) => format!("{g} · {s:.0}"),
            _ => "–".into(),
        },
        score
            .components
            .iter()
            .map(|c| format!("<li>{}: {:.1} of {:.0} points</li>", esc(&c.name), c.points, c.weight * 100.0))
            .collect::<String>()
    ));

    // Charts.
    let mut query = format!("window={}&tz={}", url(&window), url(&tz));
    if let Some(b) = &branch {
        query.push_str(&format!("&branch={}", url(b)));
    }
    body.push_str("<div class=\"grid\">");
    for metric in Metric::ALL {
        body.push_str(&format!(
            "<section><img class=\"chart\" alt=\"{t}\" src=\"/api/v1/projects/{p}/charts/{m}.svg?{query}&width=560&height=260\"></section>",
            t = esc(metric.title()),
            p = url(&project.name),
            m = metric.name(),
        ));
    }
    body.push_str("</div>");

    body.push_str(&format!(
        "<section id=\"builds\"><h2>Recent builds</h2>{}</section>",
        builds_table(&project.name, &recent)
    ));
    if quality.build.is_some() {
        body.push_str(&format!(
            "<section id=\"issues\"><h2>Issues of build {} (worst first, {} of {})</h2>{}</section>",
            esc(quality.build.as_deref().unwrap_or("")),
            issues.issues.len(),
            issues.total,
            table_html(
                &["severity", "category", "rule", "file", "line", "message", "status"],
                &issues
                    .issues
                    .iter()
                    .map(|i| vec![
                        esc(&i.severity),
                        esc(&i.category),
                        esc(&i.rule),
                        esc(&i.path),
                        i.line.map_or_else(String::new, |l| l.to_string()),
                        esc(&i.message.chars().take(160).collect::<String>()),
                        esc(&i.status),
                    ])
                    .collect::<Vec<_>>(),
            )
        ));
    }
    body.push_str(&format!(
        "<section id=\"flaky\"><h2>Flaky tests (90 days)</h2>{}</section>",
        table_html(
            &[
                "class",
                "test",
                "runs",
                "pass rate",
                "flake rate",
                "same commit",
                "pass on retry",
                "flip rate",
                "last runs"
            ],
            &flaky
                .tests
                .iter()
                .map(|t| vec![
                    esc(&t.test.classname),
                    test_link(&project.name, &t.test),
                    t.runs.to_string(),
                    pct(t.pass_rate),
                    pct(t.flake_rate),
                    t.same_commit.flaky.to_string(),
                    t.pass_on_retry.flaky.to_string(),
                    t.flip_rate.flaky.to_string(),
                    esc(&t.flip_rate.sequence),
                ])
                .collect::<Vec<_>>()
        )
    ));
    body.push_str(&format!(
        "<section id=\"slowest\"><h2>Slowest tests (30 days, by p95)</h2>{}</section>",
        table_html(
            &["class", "test", "runs", "p50 s", "p95 s", "max s"],
            &slowest
                .tests
                .iter()
                .map(|t| vec![
                    esc(&t.test.classname),
                    test_link(&project.name, &t.test),
                    t.runs.to_string(),
                    seconds(t.p50_s),
                    seconds(t.p95_s),
                    seconds(t.max_s),
                ])
                .collect::<Vec<_>>()
        )
    ));
    Ok(page(&format!("{} · cimetrics", project.name), &body))
}

fn builds_table(project: &str, builds: &[Build]) -> String {
    table_html(
        &[
            "build", "status", "branch", "commit", "finished", "tests", "coverage",
        ],
        &builds
            .iter()
            .map(|b| {
                vec![
                    build_link(project, &b.id),
                    esc(&b.status),
                    esc(&b.branch),
                    format!(
                        "<code>{}</code>",
                        esc(&b.commit.chars().take(10).collect::<String>())
                    ),
                    b.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    b.tests.as_ref().map_or(String::new(), |t| {
                        format!("{} ({} failed, {} errored)", t.total, t.failed, t.errored)
                    }),
                    pct(b.coverage.as_ref().and_then(|c| c.line_rate)),
                ]
            })
            .collect::<Vec<_>>(),
    )
}

/// A build's page: its verdict, totals, coverage against the previous build of its branch,
/// its tests (failures first, with their messages) and its files.
#[utoipa::path(get, path = "/projects/{project}/builds/{build}", tag = "pages",
    params(("project" = String, Path, description = "Project name"),
        ("build" = String, Path, description = "The CI's build id")),
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub(crate) async fn build(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (name, id) = path.into_inner();
    let project = auth::project(&state, &name).await?;
    auth::reader(&state, &req, &project).await?;
    let p = project.clone();
    let detail = analytics(&state, move |state| async move {
        Ok(state.history.build(&p, &id).await?)
    })
    .await?;
    let b = &detail.build;
    let class = match b.status.as_str() {
        "passed" => "pass",
        "running" => "",
        _ => "fail",
    };
    let mut body = format!(
        "<p><a href=\"/projects/{p}\">{n}</a></p><h1>Build {id}</h1><div class=\"cards\">\
<section class=\"card\" id=\"status\"><h2>Status</h2><div class=\"big {class}\">{status}</div><p>{source}</p></section>\
<section class=\"card\"><h2>Where</h2><p>{branch} · <code>{commit}</code></p><p>finished {finished}</p><p>{ci}</p></section>",
        p = url(&project.name),
        n = esc(&project.name),
        id = esc(&b.id),
        status = esc(&b.status),
        source = match b.status_source.as_deref() {
            Some("ci") => "as the CI said",
            Some("tests") => "from its tests",
            _ => "",
        },
        branch = esc(&b.branch),
        commit = esc(&b.commit),
        finished = b
            .finished_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "–".into()),
        ci = match &b.ci.url {
            Some(u) => format!("<a href=\"{}\">on the CI</a>", esc(u)),
            None => String::new(),
        },
    );
    if let Some(t) = &b.tests {
        body.push_str(&format!(
            "<section class=\"card\" id=\"tests-total\"><h2>Tests</h2><div class=\"big\">{}</div>\
<p>{} passed ({} flaky), {} failed, {} errored, {} skipped</p></section>",
            pct(t.pass_rate),
            t.passed,
            t.flaky,
            t.failed,
            t.errored,
            t.skipped
        ));
    }
    if let Some(c) = &b.coverage {
        body.push_str(&format!(
            "<section class=\"card\" id=\"coverage\"><h2>Coverage</h2><div class=\"big\">{}</div><p>{}</p></section>",
            pct(c.line_rate),
            match (&c.delta_pp, &c.previous_build) {
                (Some(d), Some(prev)) => format!(
                    "{d:+.1} pp since {}",
                    build_link(&project.name, prev)
                ),
                _ => "first on its branch".into(),
            }
        ));
    }
    body.push_str("</div>");
    body.push_str(&format!(
        "<section id=\"tests\"><h2>Tests</h2>{}</section>",
        table_html(
            &["status", "class", "test", "attempts", "time s", "message"],
            &detail
                .tests
                .iter()
                .map(|t| vec![
                    esc(&t.status),
                    esc(&t.test.classname),
                    test_link(&project.name, &t.test),
                    t.attempts.to_string(),
                    seconds(t.duration_s),
                    esc(t.message.as_deref().unwrap_or("")),
                ])
                .collect::<Vec<_>>()
        )
    ));
    body.push_str(&format!(
        "<section id=\"files\"><h2>Files</h2>{}</section>",
        table_html(
            &["file", "lines", "covered", "line rate", "change pp"],
            &detail
                .coverage_files
                .iter()
                .map(|f| vec![
                    esc(&f.path),
                    f.lines_valid.to_string(),
                    f.lines_covered.to_string(),
                    pct(f.line_rate),
                    f.line_delta_pp
                        .map_or(String::new(), |d| format!("{d:+.1}")),
                ])
                .collect::<Vec<_>>()
        )
    ));
    Ok(page(&format!("Build {} · {}", b.id, project.name), &body))
}

/// A test's page: its rates, times, flaky verdicts and runs (newest first, with messages).
#[utoipa::path(get, path = "/projects/{project}/tests/{test}", tag = "pages",
    params(("project" = String, Path, description = "Project name"),
        ("test" = String, Path, description = "The test's id")),
    responses((status = 200, description = "HTML", body = String, content_type = "text/html")))]
pub(crate) async fn test(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (name, id) = path.into_inner();
    let project = auth::project(&state, &name).await?;
    auth::reader(&state, &req, &project).await?;
    let p = project.clone();
    let h = analytics(&state, move |state| async move {
        Ok(state.history.test_history(&p, &id, 90).await?)
    })
    .await?;
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut body = format!(
        "<p><a href=\"/projects/{p}\">{n}</a></p><h1>{name}</h1><p class=\"muted\">{suite} · {class} · {file}</p>\
<div class=\"cards\"><section class=\"card\" id=\"rates\"><h2>Last {days} days</h2><div class=\"big\">{pass}</div>\
<p>passed of {runs} runs; failure rate {fail}</p><p>p50 {p50} s · p95 {p95} s</p></section>\
<section class=\"card\" id=\"verdicts\"><h2>Flaky?</h2><ul><li>same commit: {sc}</li><li>pass on retry: {pr}</li>\
<li>flips on a branch: {fr}</li></ul></section></div>",
        p = url(&project.name),
        n = esc(&project.name),
        name = esc(&h.test.name),
        suite = esc(&h.test.suite),
        class = esc(&h.test.classname),
        file = esc(&h.test.file),
        days = h.days,
        pass = pct(h.pass_rate),
        runs = h.runs_counted,
        fail = pct(h.failure_rate),
        p50 = seconds(h.p50_s),
        p95 = seconds(h.p95_s),
        sc = yes(h.flaky.same_commit),
        pr = yes(h.flaky.pass_on_retry),
        fr = yes(h.flaky.flip_rate),
    );
    body.push_str(&format!(
        "<section id=\"runs\"><h2>Runs</h2>{}</section>",
        table_html(
            &[
                "build", "branch", "commit", "finished", "status", "attempts", "time s", "message"
            ],
            &h.runs
                .iter()
                .map(|r| vec![
                    build_link(&project.name, &r.build),
                    esc(&r.branch),
                    format!(
                        "<code>{}</code>",
                        esc(&r.commit.chars().take(10).collect::<String>())
                    ),
                    r.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    esc(&r.status),
                    r.attempts.to_string(),
                    seconds(r.duration_s),
                    esc(r.message.as_deref().unwrap_or("")),
                ])
                .collect::<Vec<_>>()
        )
    ));
    Ok(page(&format!("{} · {}", h.test.name, project.name), &body))
}
