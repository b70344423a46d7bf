//! The dashboard: server-rendered HTML, no script, no build step. `/` lists the projects;
//! `/projects/{project}` shows the latest build, its gate, the quality score, the trend
//! charts (the SVG routes, so what a manager embeds elsewhere is the same picture) and the
//! flaky and slowest tests.

use actix_web::{HttpRequest, HttpResponse, web};
use cimetrics_history::questions::{BuildsParams, FlakyParams, GateParams, Metric, SlowestParams};
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

/// A table of text cells; a cell that starts with a digit is a number (right-aligned).
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
            out.push_str(&format!("<td{class}>{}</td>", esc(cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
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
    let (latest, gate, score, flaky, slowest) = analytics(&state, move |state| async move {
        let h = &state.history;
        let latest = h
            .builds(
                &p,
                &BuildsParams {
                    branch: b.clone(),
                    limit: 1,
                    ..BuildsParams::default()
                },
            )
            .await?
            .builds
            .into_iter()
            .next();
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
        let score = h.score(&p, b.as_deref(), 30).await?;
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
        Ok((latest, gate, score, flaky, slowest))
    })
    .await?;

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
    match (&latest, &gate) {
        (Some(b), Some(gate)) => {
            let class = if b.status == "passed" { "pass" } else { "fail" };
            body.push_str(&format!(
                "<section class=\"card\" id=\"latest\"><h2>Latest build</h2><div class=\"big {class}\">{}</div>\
<p>#{} · {} · <code>{}</code></p><p>{}</p><p>coverage {}</p></section>",
                esc(&b.status),
                esc(&b.id),
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
                    t.test.classname.clone(),
                    t.test.name.clone(),
                    t.runs.to_string(),
                    pct(t.pass_rate),
                    pct(t.flake_rate),
                    t.same_commit.flaky.to_string(),
                    t.pass_on_retry.flaky.to_string(),
                    t.flip_rate.flaky.to_string(),
                    t.flip_rate.sequence.clone(),
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
                    t.test.classname.clone(),
                    t.test.name.clone(),
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
