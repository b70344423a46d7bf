//! The dashboard: server-rendered HTML, no script, no build step. `/` lists the projects;
//! `/projects/{project}` shows the latest build, its gate, the quality score, the trend
//! charts (the SVG routes, so what a manager embeds elsewhere is the same picture) and the
//! flaky and slowest tests.

use actix_web::{HttpRequest, HttpResponse, web};
use cimetrics_metrics::{FlakyConfig, GateConfig, ScoreWeights, SlowestBy, Table, Value};
use serde::Deserialize;

use super::read::{build_facts, with_test_names};
use super::{Problem, Shared, analytics, auth, percent_encode as url};
use crate::queries::{self, Metric};

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

/// `GET /`: the projects.
pub(crate) async fn index(state: Shared) -> Result<HttpResponse, Problem> {
    let mut projects = state.store.projects().await?;
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

fn table_html(table: &Table, columns: &[(&str, &str)]) -> String {
    if table.rows.is_empty() {
        return "<p class=\"muted\">None in this period.</p>".into();
    }
    let mut out = String::from("<table><tr>");
    for (_, title) in columns {
        out.push_str(&format!("<th>{}</th>", esc(title)));
    }
    out.push_str("</tr>");
    for i in 0..table.rows.len() {
        out.push_str("<tr>");
        for (col, _) in columns {
            let cell = match table.get(i, col) {
                Some(Value::Float(f)) if col.ends_with("rate") => format!("{:.1}%", f * 100.0),
                Some(Value::Float(f)) => format!("{f:.2}"),
                Some(Value::List(items)) => items
                    .iter()
                    .map(Value::to_csv)
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(v) => v.to_csv(),
                None => String::new(),
            };
            let class = if matches!(table.get(i, col), Some(Value::Float(_) | Value::Int(_))) {
                " class=\"num\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{}</td>", esc(&cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// `GET /projects/{project}?window=week&branch=&tz=`.
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
    let latest = state
        .store
        .builds(project.id, branch.as_deref(), None, None, 1, 0)
        .await?;
    let (pid, b) = (project.id, branch.clone());
    let (score, flaky, slowest) = analytics(&state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, pid).await?;
        let (store, b) = (&state.store, b.as_deref());
        let score = queries::score(
            store,
            &snapshot,
            pid,
            b,
            30,
            &ScoreWeights::default(),
            &FlakyConfig::default(),
        )
        .await?;
        let flaky =
            queries::flaky(store, &snapshot, pid, b, 90, &FlakyConfig::default(), 10).await?;
        let slowest = queries::slowest(store, &snapshot, pid, b, 30, SlowestBy::P95, 10).await?;
        Ok((score, flaky, slowest))
    })
    .await?;
    let mut ids = Vec::new();
    for frame in [&flaky, &slowest] {
        if let Ok(c) = frame
            .column(cimetrics_metrics::schema::TEST_ID)
            .and_then(|c| c.i64().cloned())
        {
            ids.extend((0..c.len()).filter_map(|i| c.get(i)));
        }
    }
    let names = state.store.test_names(project.id, &ids).await?;
    let mut flaky_table = Table::from_frame(&flaky)?;
    with_test_names(&mut flaky_table, &names);
    let mut slow_table = Table::from_frame(&slowest)?;
    with_test_names(&mut slow_table, &names);

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
    match latest.first() {
        Some(b) => {
            let status = b.status.clone().unwrap_or_else(|| "incomplete".into());
            let class = if status == "passed" { "pass" } else { "fail" };
            let t = b.tests;
            let facts = build_facts(b);
            let gate = cimetrics_metrics::gate::evaluate(&GateConfig::default(), &facts)?;
            body.push_str(&format!(
                "<section class=\"card\" id=\"latest\"><h2>Latest build</h2><div class=\"big {class}\">{}</div>\
<p>#{} · {} · <code>{}</code></p><p>{}</p><p>coverage {}</p></section>",
                esc(&status),
                esc(&b.ci_build_id),
                if b.branch.is_empty() { "no branch".to_owned() } else { esc(&b.branch) },
                esc(&b.commit.chars().take(10).collect::<String>()),
                match t {
                    Some(t) => format!("{} tests: {} passed ({} flaky), {} failed, {} errored, {} skipped", t[0], t[1], t[5], t[2], t[3], t[4]),
                    None => "no test report".into(),
                },
                pct(facts.coverage.map(|c| c / 100.0)),
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
        None => body.push_str("<section class=\"card\"><h2>Latest build</h2><p class=\"muted\">No build yet.</p></section>"),
    }
    body.push_str(&format!(
        "<section class=\"card\" id=\"score\"><h2>Quality score (30 days)</h2><div class=\"big\">{}</div><ul>{}</ul></section></div>",
        match (score.score, score.grade) {
            (Some(s), Some(g)) => format!("{g} · {s:.0}"),
            _ => "–".into(),
        },
        score
            .components
            .iter()
            .map(|c| format!("<li>{}: {:.1} of {:.0} points</li>", esc(c.name), c.points, c.weight * 100.0))
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
            &flaky_table,
            &[
                ("classname", "class"),
                ("name", "test"),
                ("runs", "runs"),
                ("pass_rate", "pass rate"),
                ("flake_rate", "flake rate"),
                ("same_commit", "same commit"),
                ("pass_on_retry", "pass on retry"),
                ("flip_rate_flaky", "flip rate"),
                ("flip_sequence", "last runs")
            ]
        )
    ));
    body.push_str(&format!(
        "<section id=\"slowest\"><h2>Slowest tests (30 days, by p95)</h2>{}</section>",
        table_html(
            &slow_table,
            &[
                ("classname", "class"),
                ("name", "test"),
                ("runs", "runs"),
                ("p50_s", "p50 s"),
                ("p95_s", "p95 s"),
                ("max_s", "max s")
            ]
        )
    ));
    Ok(page(&format!("{} · cimetrics", project.name), &body))
}
