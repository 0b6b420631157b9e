//! A self-contained HTML page of a report: summary, invariants, and SVG
//! charts of the time series (no scripts, no external fonts or files).

use std::fmt::Write as _;

use crate::Report;

/// One line of a chart.
struct Series<'a> {
    name: &'a str,
    color: &'a str,
    points: Vec<u64>,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const PAD: f64 = 40.0;

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Scales `value` of `max` to a pixel offset over `span`.
#[allow(clippy::cast_precision_loss)]
fn scale(value: u64, max: u64, span: f64) -> f64 {
    if max == 0 {
        0.0
    } else {
        value as f64 / max as f64 * span
    }
}

/// What a chart with nothing to show says instead of drawing an empty frame.
fn nothing_to_show(id: &str, title: &str, what: &str) -> String {
    format!(
        "<h2>{t}</h2>\n<p id=\"{id}\" class=\"chart empty\">Nothing to show: {w}.</p>\n",
        t = escape(title),
        w = escape(what)
    )
}

fn line_chart(id: &str, title: &str, series: &[Series<'_>], marker: Option<(u32, &str)>) -> String {
    if series.iter().all(|s| s.points.iter().all(|v| *v == 0)) {
        return nothing_to_show(id, title, "no device reached this state during the run");
    }
    let n = series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(0)
        .max(2) as u64;
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h) = (WIDTH - 2.0 * PAD, HEIGHT - 2.0 * PAD);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        svg,
        r##"<rect x="{PAD}" y="{PAD}" width="{w}" height="{h}" fill="#fafafa" stroke="#ccc"/>"##
    );
    for k in 0..=4u64 {
        let y = PAD + h - scale(k, 4, h);
        let _ = write!(
            svg,
            r##"<line x1="{PAD}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{tx}" y="{ty:.1}" font-size="10" text-anchor="end">{v}</text>"##,
            x2 = PAD + w,
            tx = PAD - 4.0,
            ty = y + 3.0,
            v = max * k / 4
        );
    }
    let days = (n - 1) / 24;
    for day in 0..=days {
        if days > 12 && day % 5 != 0 {
            continue;
        }
        let x = PAD + scale(day * 24, n - 1, w);
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{y}" font-size="10" text-anchor="middle">d{day}</text>"#,
            y = PAD + h + 14.0
        );
    }
    if let Some((hour, label)) = marker {
        let x = PAD + scale(u64::from(hour), n - 1, w);
        let _ = write!(
            svg,
            r##"<line class="marker" x1="{x:.1}" x2="{x:.1}" y1="{PAD}" y2="{y2}" stroke="#c00" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{ty}" font-size="10" fill="#c00">{l}</text>"##,
            y2 = PAD + h,
            tx = x + 4.0,
            ty = PAD + 12.0,
            l = escape(label)
        );
    }
    for (k, s) in series.iter().enumerate() {
        let mut points = String::new();
        for (i, v) in s.points.iter().enumerate() {
            let x = PAD + scale(i as u64, n - 1, w);
            let y = PAD + h - scale(*v, max, h);
            let _ = write!(points, "{x:.1},{y:.1} ");
        }
        let _ = write!(
            svg,
            r#"<polyline class="series" fill="none" stroke="{c}" stroke-width="2" points="{p}"/>"#,
            c = s.color,
            p = points.trim_end()
        );
        let lx = PAD + 8.0 + 150.0 * k as f64;
        let _ = write!(
            svg,
            r#"<rect x="{lx:.1}" y="8" width="10" height="10" fill="{c}"/><text x="{tx:.1}" y="17" font-size="11">{name}</text>"#,
            c = s.color,
            tx = lx + 14.0,
            name = escape(s.name)
        );
    }
    svg.push_str("</svg>");
    format!("<h2>{}</h2>\n{svg}\n", escape(title))
}

fn bar_chart(id: &str, title: &str, bars: &[(String, u64)]) -> String {
    if bars.iter().all(|(_, v)| *v == 0) {
        return nothing_to_show(id, title, "no command was sent during the run");
    }
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let row = 22.0;
    #[allow(clippy::cast_precision_loss)]
    let height = PAD + row * bars.len() as f64 + 10.0;
    let label_w = 360.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    );
    for (k, (name, v)) in bars.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = 10.0 + row * k as f64;
        let bw = scale(*v, max, WIDTH - label_w - 80.0);
        let _ = write!(
            svg,
            r##"<text x="{lx}" y="{ty:.1}" font-size="11" text-anchor="end">{n}</text><rect class="bar" x="{label_w}" y="{y:.1}" width="{bw:.1}" height="16" fill="#4a7ebb"/><text x="{vx:.1}" y="{ty:.1}" font-size="11">{v}</text>"##,
            lx = label_w - 6.0,
            ty = y + 12.0,
            n = escape(name),
            vx = label_w + bw + 6.0
        );
    }
    svg.push_str("</svg>");
    format!("<h2>{}</h2>\n{svg}\n", escape(title))
}

/// The report as one HTML page with three SVG charts: enrollment over time,
/// connected and lost devices (through a certificate rotation when there is
/// one), and commands by outcome.
#[must_use]
pub fn render(report: &Report) -> String {
    let ts = &report.timeseries;
    let enrollment = line_chart(
        "enrollment",
        "Devices enrolled over time",
        &[
            Series {
                name: "Android",
                color: "#3c9a5f",
                points: ts.iter().map(|s| s.enrolled.android).collect(),
            },
            Series {
                name: "iPhone",
                color: "#4a7ebb",
                points: ts.iter().map(|s| s.enrolled.ios).collect(),
            },
            Series {
                name: "iPad",
                color: "#b5651d",
                points: ts.iter().map(|s| s.enrolled.ipados).collect(),
            },
        ],
        None,
    );
    let marker = report
        .rotation
        .filter(|r| r.activated)
        .map(|r| (r.activates_at.hour(), "reserve certificate active"));
    let connected = line_chart(
        "connected",
        "Connected and lost devices",
        &[
            Series {
                name: "connected",
                color: "#3c9a5f",
                points: ts.iter().map(|s| s.connected).collect(),
            },
            Series {
                name: "lost (cumulative)",
                color: "#c0392b",
                points: ts.iter().map(|s| s.lost).collect(),
            },
            Series {
                name: "pending commands",
                color: "#8e44ad",
                points: ts.iter().map(|s| s.pending_commands).collect(),
            },
        ],
        marker,
    );
    let commands = bar_chart(
        "commands",
        "Commands by outcome",
        &report
            .commands
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect::<Vec<_>>(),
    );
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mdm-harness: {s}</title><style>body{{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:3px 8px;text-align:left}}.fail{{color:#c00;font-weight:bold}}.ok{{color:#2a7}}pre{{background:#f6f6f6;padding:1em;white-space:pre-wrap}}</style></head><body>\n",
        s = escape(&report.scenario)
    );
    let _ = write!(
        page,
        "<h1>Fleet simulation: {}</h1>\n<pre>{}</pre>\n",
        escape(&report.scenario),
        escape(&report.summary())
    );
    page.push_str(&enrollment);
    page.push_str(&connected);
    page.push_str(&commands);
    page.push_str(
        "<h2>Invariants</h2>\n<table><tr><th>invariant</th><th>checks</th><th>result</th></tr>\n",
    );
    for i in &report.invariants {
        let (class, text) = if i.holds() {
            ("ok", "holds".to_owned())
        } else {
            (
                "fail",
                format!("BROKEN: {}", i.first_violation.as_deref().unwrap_or("")),
            )
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            escape(i.invariant),
            i.checks,
            escape(&text)
        );
    }
    page.push_str("</table>\n</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_with_nothing_to_show_says_so() {
        let empty = bar_chart("commands", "Commands by outcome", &[]);
        assert!(
            empty.contains("Nothing to show") && !empty.contains("<svg"),
            "{empty}"
        );
        let zeros = line_chart(
            "enrollment",
            "Devices enrolled over time",
            &[Series {
                name: "Android",
                color: "#000",
                points: vec![0, 0, 0],
            }],
            None,
        );
        assert!(
            zeros.contains("Nothing to show") && !zeros.contains("<svg"),
            "{zeros}"
        );
        let drawn = bar_chart(
            "commands",
            "Commands by outcome",
            &[("Acknowledged".into(), 3)],
        );
        assert!(drawn.contains("<svg") && drawn.contains("class=\"bar\""));
    }
}
