//! Trend charts (SVG and PNG, drawn with plotters) and shields-style badges.
//!
//! `GET /api/v1/projects/{project}/charts/{metric}.svg|.png` takes the trend query
//! (`window`, `tz`, `branch`, `from`, `to`) plus `width`, `height` and `theme=light|dark`.
//! One point per window, labelled with the window's first local day; an empty window is a
//! gap in the line, never a zero. PNG text is drawn with DejaVu Sans, embedded in the binary
//! (no system fonts needed); SVG text names the same family, with generic fallbacks.

use std::sync::Once;

use actix_web::{HttpRequest, HttpResponse, web};
use cimetrics_history::answers::Trend;
use cimetrics_history::questions::Metric;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::read::{TrendQuery, trend};
use super::{Problem, Shared, analytics, auth, blocking};

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const FAMILY: &str = "DejaVu Sans";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Under its own name and the generic one plotters uses for defaults (axis
        // descriptions), so no text ever looks for a system font.
        for family in [FAMILY, "sans-serif"] {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                if plotters::style::register_font(family, style, FONT).is_err() {
                    tracing::error!("the embedded font does not load");
                }
            }
        }
    });
}

/// Colours of a theme.
#[derive(Clone, Copy)]
struct Theme {
    background: RGBColor,
    text: RGBColor,
    grid: RGBColor,
    line: RGBColor,
}

const LIGHT: Theme = Theme {
    background: RGBColor(255, 255, 255),
    text: RGBColor(40, 40, 40),
    grid: RGBColor(225, 225, 225),
    line: RGBColor(31, 119, 180),
};

const DARK: Theme = Theme {
    background: RGBColor(24, 26, 27),
    text: RGBColor(220, 220, 220),
    grid: RGBColor(60, 63, 65),
    line: RGBColor(94, 170, 240),
};

/// A series ready to draw: window labels and values (None: empty window).
pub(crate) struct Series {
    pub(crate) title: String,
    pub(crate) labels: Vec<String>,
    pub(crate) values: Vec<Option<f64>>,
    /// Values on a 0–100 scale (rates in percent, the quality score in points).
    pub(crate) percent: bool,
    /// What follows a value on the axis: `%` for rates, nothing for points, `s` for times.
    pub(crate) suffix: &'static str,
    /// For open issues: each window's value by severity (blocker, critical, major, minor,
    /// info), drawn as stacked bars rather than a line.
    pub(crate) stacks: Option<Vec<Option<[f64; 5]>>>,
}

/// The severities of a stacked issues chart, worst (the bottom of a bar) first, with their
/// colours (SonarQube's reds to greys).
const SEVERITIES: [(&str, RGBColor); 5] = [
    ("blocker", RGBColor(130, 20, 30)),
    ("critical", RGBColor(214, 39, 40)),
    ("major", RGBColor(255, 127, 14)),
    ("minor", RGBColor(240, 200, 60)),
    ("info", RGBColor(150, 150, 150)),
];

impl Series {
    pub(crate) fn from_trend(metric: Metric, trend: &Trend, title: String) -> Series {
        Series {
            title,
            labels: trend
                .points
                .iter()
                .map(|p| p.window_start.to_string())
                .collect(),
            values: trend
                .points
                .iter()
                .map(|p| {
                    p.value
                        .map(|v| if metric.is_rate() { v * 100.0 } else { v })
                })
                .collect(),
            percent: metric.is_rate() || matches!(metric, Metric::Quality | Metric::CodeQuality),
            suffix: match metric {
                Metric::Duration => "s",
                m if m.is_rate() => "%",
                _ => "",
            },
            stacks: (metric == Metric::Issues).then(|| {
                trend
                    .points
                    .iter()
                    .map(|p| {
                        p.by_severity.map(|s| {
                            [s.blocker, s.critical, s.major, s.minor, s.info].map(|n| n as f64)
                        })
                    })
                    .collect()
            }),
        }
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Series,
    theme: Theme,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&theme.background).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let n = s.values.len().max(1);
    let present: Vec<f64> = s.values.iter().flatten().copied().collect();
    let (lo, hi) = if s.percent {
        let min = present.iter().copied().fold(f64::INFINITY, f64::min);
        let lo = if min.is_finite() {
            (min - 5.0).clamp(0.0, 90.0).floor()
        } else {
            0.0
        };
        (lo, 100.0)
    } else {
        let max = present.iter().copied().fold(0.0, f64::max);
        (0.0, if max > 0.0 { max * 1.15 } else { 1.0 })
    };
    let title_size = (w / 40).clamp(12, 22);
    let label_size = (w / 60).clamp(10, 15);
    let mut chart = ChartBuilder::on(root)
        .caption(
            &s.title,
            (FAMILY, title_size).into_font().color(&theme.text),
        )
        .margin(12)
        .x_label_area_size(label_size * 3)
        .y_label_area_size(label_size * 4)
        .build_cartesian_2d(0f64..(n as f64 - 0.5).max(0.5), lo..hi)
        .map_err(err)?;
    let labels = &s.labels;
    let suffix = s.suffix;
    chart
        .configure_mesh()
        .light_line_style(theme.background)
        .bold_line_style(theme.grid)
        .axis_style(theme.text)
        .label_style((FAMILY, label_size).into_font().color(&theme.text))
        .x_labels(n.min(8))
        .x_label_formatter(&|x| {
            // Ticks fall on whole windows; each is labelled with its window's first day.
            if (x - x.round()).abs() < 1e-6 && *x >= 0.0 {
                labels.get(x.round() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| format!("{y:.0}{suffix}"))
        .draw()
        .map_err(err)?;
    if let Some(stacks) = &s.stacks {
        // A bar per window, its severities stacked worst first; a legend of those drawn.
        for (i, stack) in stacks.iter().enumerate() {
            let Some(stack) = stack else { continue };
            let x = i as f64;
            let mut base = 0.0;
            for (n, (_, color)) in stack.iter().zip(SEVERITIES) {
                if *n > 0.0 {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x - 0.35, base), (x + 0.35, base + n)],
                            color.filled(),
                        )))
                        .map_err(err)?;
                }
                base += n;
            }
        }
        let mut at = (w as i32) - 12 - 5 * 70;
        for (name, color) in SEVERITIES {
            root.draw(&Rectangle::new([(at, 8), (at + 10, 18)], color.filled()))
                .map_err(err)?;
            root.draw(&Text::new(
                name,
                (at + 13, 7),
                (FAMILY, label_size).into_font().color(&theme.text),
            ))
            .map_err(err)?;
            at += 70;
        }
    } else {
        draw_line(&mut chart, &s.values, &theme).map_err(err)?;
    }
    if present.is_empty() {
        root.draw(&Text::new(
            "no data in this period",
            ((w / 2).saturating_sub(80) as i32, 60),
            (FAMILY, label_size + 2).into_font().color(&theme.text),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// The values as a line with a point per window: one line per run of non-empty windows, an
/// empty window being a gap.
fn draw_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    values: &[Option<f64>],
    theme: &Theme,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut runs = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push((i as f64, *v)),
            None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    for run in runs {
        chart.draw_series(LineSeries::new(
            run.iter().copied(),
            theme.line.stroke_width(2),
        ))?;
        chart.draw_series(run.iter().map(|&p| Circle::new(p, 3, theme.line.filled())))?;
    }
    Ok(())
}

/// The series as an SVG document.
pub(crate) fn svg(s: &Series, (w, h): (u32, u32), dark: bool) -> Result<String, String> {
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        draw(&root, s, if dark { DARK } else { LIGHT })?;
    }
    Ok(out)
}

/// The series as a PNG image.
pub(crate) fn png(s: &Series, (w, h): (u32, u32), dark: bool) -> Result<Vec<u8>, String> {
    register_font();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, s, if dark { DARK } else { LIGHT })?;
    }
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// A metric's trend drawn as SVG or PNG (`{chart}` is `METRIC.svg` or `METRIC.png`).
#[utoipa::path(get, path = "/api/v1/projects/{project}/charts/{chart}", tag = "read",
    params(("project" = String, Path, description = "Project name"),
        ("chart" = String, Path, description = "`success_rate.svg`, `coverage.png`, ..."),
        TrendQuery),
    responses((status = 200, description = "The chart", content(
        (String = "image/svg+xml"), (Vec<u8> = "image/png")))))]
pub(crate) async fn chart(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<TrendQuery>,
) -> Result<HttpResponse, Problem> {
    let (name, file) = path.into_inner();
    let (metric, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| Problem::not_found(format!("{file:?}: ask for METRIC.svg or METRIC.png")))?;
    let metric: Metric = metric
        .parse()
        .map_err(|e: cimetrics_history::Error| Problem::not_found(e.to_string()))?;
    if ext != "svg" && ext != "png" {
        return Err(Problem::not_found(format!(
            "{file:?}: charts are .svg or .png"
        )));
    }
    let project = auth::project(&state, &name).await?;
    auth::reader(&state, &req, &project).await?;
    let size = (
        q.width.unwrap_or(800).clamp(200, 4000),
        q.height.unwrap_or(300).clamp(120, 3000),
    );
    let dark = q.theme.as_deref() == Some("dark");
    let params = q.params(metric)?;
    let mut title = format!(
        "{} · {} per {}",
        project.name,
        metric.title(),
        q.window.as_deref().unwrap_or("week")
    );
    if let Some(b) = &q.branch {
        title.push_str(&format!(" · {b}"));
    }
    let trend = trend(&state, project, params).await?;
    let series = Series::from_trend(metric, &trend, title);
    let svg_wanted = ext == "svg";
    let body = blocking(move || {
        if svg_wanted {
            svg(&series, size, dark).map(String::into_bytes)
        } else {
            png(&series, size, dark)
        }
        .map_err(|e| Problem::internal(format_args!("chart: {e}")))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(if svg_wanted {
            "image/svg+xml"
        } else {
            "image/png"
        })
        .insert_header(("cache-control", "no-cache"))
        .body(body))
}

/// A shields-style badge: grey label, coloured value.
pub(crate) fn badge_svg(label: &str, value: &str, color: &str) -> String {
    // DejaVu Sans at 11 px averages ~6.5 px per character.
    let lw = 10 + (label.chars().count() as u32 * 13).div_ceil(2);
    let vw = 10 + (value.chars().count() as u32 * 13).div_ceil(2);
    let w = lw + vw;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{l}: {v}\">\
<title>{l}: {v}</title>\
<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
<clipPath id=\"r\"><rect width=\"{w}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
<g clip-path=\"url(#r)\"><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{color}\"/><rect width=\"{w}\" height=\"20\" fill=\"url(#s)\"/></g>\
<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" font-size=\"11\">\
<text x=\"{lx}\" y=\"14\">{l}</text><text x=\"{vx}\" y=\"14\">{v}</text></g></svg>",
        l = esc(label),
        v = esc(value),
        lx = lw / 2,
        vx = lw + vw / 2,
    )
}

fn color_for(pct: f64) -> &'static str {
    match pct {
        p if p >= 90.0 => "#4c1",
        p if p >= 80.0 => "#97ca00",
        p if p >= 70.0 => "#a4a61d",
        p if p >= 60.0 => "#dfb317",
        p if p >= 50.0 => "#fe7d37",
        _ => "#e05d44",
    }
}

/// A badge: `coverage.svg`, `success_rate.svg`, `quality.svg` or `code_quality.svg`
/// (`?branch=`).
#[utoipa::path(get, path = "/api/v1/projects/{project}/badges/{badge}", tag = "read",
    params(("project" = String, Path, description = "Project name"),
        ("badge" = String, Path, description = "`coverage.svg`, `success_rate.svg`, `quality.svg` or `code_quality.svg`"),
        TrendQuery),
    responses((status = 200, description = "The badge", body = String, content_type = "image/svg+xml")))]
pub(crate) async fn badge(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<TrendQuery>,
) -> Result<HttpResponse, Problem> {
    let (name, file) = path.into_inner();
    let kind = file
        .strip_suffix(".svg")
        .ok_or_else(|| Problem::not_found("badges are .svg"))?;
    let project = auth::project(&state, &name).await?;
    auth::reader(&state, &req, &project).await?;
    let branch = q.branch.clone();
    let (label, value, color) = match kind {
        "coverage" | "success_rate" => {
            let metric = if kind == "coverage" {
                Metric::Coverage
            } else {
                Metric::SuccessRate
            };
            let current = analytics(&state, move |state| async move {
                Ok(state
                    .history
                    .current(&project, branch.as_deref(), 30)
                    .await?)
            })
            .await?;
            let value = if metric == Metric::Coverage {
                current.line_rate
            } else {
                current.success_rate
            };
            let label = if kind == "coverage" {
                "coverage"
            } else {
                "build success"
            };
            match value {
                Some(v) => (label, format!("{:.1}%", v * 100.0), color_for(v * 100.0)),
                None => (label, "unknown".to_owned(), "#9f9f9f"),
            }
        }
        "quality" => {
            let score = super::read::score_of(
                &state,
                project,
                branch,
                cimetrics_history::questions::SCORE_DAYS,
            )
            .await?;
            match (score.score, score.grade) {
                (Some(s), Some(g)) => ("quality", format!("{g} ({s:.0})"), color_for(s)),
                _ => ("quality", "unknown".to_owned(), "#9f9f9f"),
            }
        }
        "code_quality" => {
            let summary = analytics(&state, move |state| async move {
                Ok(state
                    .history
                    .issues_summary(&project, None, branch.as_deref())
                    .await?)
            })
            .await?;
            match summary.code_quality {
                Some(q) => (
                    "code quality",
                    format!("{:.0} ({} issues)", q.score, summary.open),
                    color_for(q.score),
                ),
                None => ("code quality", "unknown".to_owned(), "#9f9f9f"),
            }
        }
        other => {
            return Err(Problem::not_found(format!(
                "no badge {other:?} (coverage, success_rate, quality, code_quality)"
            )));
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "no-cache, max-age=0"))
        .body(badge_svg(label, &value, color)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: Vec<Option<f64>>) -> Series {
        Series {
            title: "t".into(),
            labels: (0..values.len())
                .map(|i| format!("2026-01-{:02}", i + 1))
                .collect(),
            values,
            percent: true,
            suffix: "%",
            stacks: None,
        }
    }

    #[test]
    fn the_quality_axis_is_in_points_and_rates_in_percent() {
        let trend = |metric: &str, unit: &str| Trend {
            project: "p".into(),
            metric: metric.into(),
            unit: unit.into(),
            window: "week".into(),
            time_zone: "UTC".into(),
            branch: None,
            points: vec![cimetrics_history::answers::TrendPoint {
                window_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
                value: Some(if unit == "points" { 80.0 } else { 0.8 }),
                builds: 1,
                components: None,
                by_severity: None,
            }],
        };
        let quality = Series::from_trend(Metric::Quality, &trend("quality", "points"), "q".into());
        let coverage =
            Series::from_trend(Metric::Coverage, &trend("coverage", "fraction"), "c".into());
        assert_eq!(quality.values, [Some(80.0)]);
        assert_eq!(coverage.values, [Some(80.0)], "a rate is drawn in percent");
        let q = svg(&quality, (400, 200), false).unwrap();
        let c = svg(&coverage, (400, 200), false).unwrap();
        // Axis labels are text elements of their own line: `80%` for a rate, `80` points.
        assert!(c.contains("\n80%\n"), "{c}");
        assert!(q.contains("\n80\n") && !q.contains("%\n"), "{q}");
    }

    #[test]
    fn an_empty_window_is_a_gap_in_the_line_not_a_zero() {
        let joined = svg(
            &series(vec![Some(80.0), Some(82.0), Some(85.0)]),
            (400, 200),
            false,
        )
        .unwrap();
        let gapped = svg(
            &series(vec![Some(80.0), None, Some(85.0)]),
            (400, 200),
            false,
        )
        .unwrap();
        // The data line is the one in the theme's line colour (the mesh has its own).
        let line = "<polyline fill=\"none\" opacity=\"1\" stroke=\"#1F77B4\"";
        assert_eq!(joined.matches(line).count(), 1, "{joined}");
        assert_eq!(
            gapped.matches(line).count(),
            2,
            "two runs around the gap: {gapped}"
        );
        assert_eq!(joined.matches("<circle").count(), 3);
        assert_eq!(
            gapped.matches("<circle").count(),
            2,
            "no point for the empty window"
        );
    }

    #[test]
    fn open_issues_are_bars_stacked_by_severity() {
        let mut issues = series(vec![Some(6.0), None, Some(3.0)]);
        issues.percent = false;
        issues.suffix = "";
        issues.stacks = Some(vec![
            Some([1.0, 0.0, 2.0, 3.0, 0.0]),
            None,
            Some([0.0, 0.0, 0.0, 1.0, 2.0]),
        ]);
        let drawn = svg(&issues, (600, 200), false).unwrap();
        let rects = |rgb: &str| drawn.matches(&format!("fill=\"#{rgb}\"")).count();
        // A rectangle per severity a window has, and one in the legend; no line.
        assert_eq!(rects("82141E"), 1 + 1, "blocker: {drawn}");
        assert_eq!(rects("D62728"), 1, "critical: legend only");
        assert_eq!(rects("FF7F0E"), 1 + 1, "major");
        assert_eq!(rects("F0C83C"), 2 + 1, "minor");
        assert_eq!(rects("969696"), 1 + 1, "info");
        assert!(!drawn.contains("stroke=\"#1F77B4\""), "{drawn}");
        for name in ["blocker", "critical", "major", "minor", "info"] {
            assert!(drawn.contains(&format!("\n{name}\n")), "{name}: {drawn}");
        }
    }

    #[test]
    fn a_png_has_the_asked_size_and_badges_escape_their_text() {
        let png = png(&series(vec![Some(50.0), Some(60.0)]), (300, 150), true).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(
            u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
            300
        );
        assert_eq!(
            u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
            150
        );
        let b = badge_svg("a<b", "1 & 2", "#4c1");
        assert!(b.contains("a&lt;b") && b.contains("1 &amp; 2"), "{b}");
    }
}
