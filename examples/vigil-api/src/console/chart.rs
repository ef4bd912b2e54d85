//! The health page's chart: the rate limiters' recent activity as a small inline SVG (three
//! lines, no script, no external file). Every value drawn is a number computed here, so the
//! markup needs no escaping.

use std::fmt::Write;

use super::activity::{Counts, Outcome, POINTS, STEP};

const WIDTH: u32 = 600;
const HEIGHT: u32 = 160;
/// Room for the axis labels.
const LEFT: u32 = 44;
const BOTTOM: u32 = 20;
const TOP: u32 = 8;
/// Line colours, in the order of [`Outcome::ALL`] (the legend's, in `style.css`).
const COLOURS: [&str; 3] = ["#2e7d32", "#e65100", "#c62828"];

/// The SVG for `points` (oldest first, at most [`POINTS`]), drawn right-aligned so the last
/// point is "now".
pub fn svg(points: &[Counts]) -> String {
    let max = points
        .iter()
        .flat_map(|p| p.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = f64::from(WIDTH - LEFT);
    let plot_h = f64::from(HEIGHT - TOP - BOTTOM);
    let step_w = plot_w / (POINTS as f64 - 1.0);
    let first = POINTS - points.len().min(POINTS);
    let x = |i: usize| f64::from(LEFT) + (first + i) as f64 * step_w;
    let y = |v: u64| f64::from(TOP) + plot_h - (v as f64 / max as f64) * plot_h;

    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="Rate-limit decisions per {}-second step over the last {} minutes">"#,
        STEP.as_secs(),
        STEP.as_secs() * POINTS as u64 / 60
    );
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}" stroke="#999"/><line x1="{LEFT}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}" stroke="#999"/>"##,
        top = TOP,
        bottom = HEIGHT - BOTTOM,
    );
    let _ = write!(
        out,
        r##"<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="#555">{max}</text><text x="{lx}" y="{by}" font-size="11" text-anchor="end" fill="#555">0</text>"##,
        lx = LEFT - 4,
        ty = TOP + 10,
        by = HEIGHT - BOTTOM,
    );
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="{HEIGHT}" font-size="11" fill="#555" dy="-4">−{} min</text><text x="{WIDTH}" y="{HEIGHT}" font-size="11" fill="#555" dy="-4" text-anchor="end">now</text>"##,
        STEP.as_secs() * POINTS as u64 / 60
    );
    for outcome in Outcome::ALL {
        let i = outcome as usize;
        let mut pts = String::new();
        for (n, p) in points.iter().enumerate() {
            let _ = write!(pts, "{:.1},{:.1} ", x(n), y(p[i]));
        }
        let _ = write!(
            out,
            r#"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>"#,
            class = outcome.class(),
            colour = COLOURS[i],
            pts = pts.trim_end(),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polyline(svg: &str, class: &str) -> Vec<(f64, f64)> {
        let start = svg.find(&format!(r#"class="{class}""#)).unwrap();
        let pts = &svg[start..];
        let pts = &pts[pts.find("points=\"").unwrap() + 8..];
        let pts = &pts[..pts.find('"').unwrap()];
        pts.split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn lines_end_at_now_and_scale_to_the_largest_count() {
        let svg = svg(&[[10, 0, 0], [20, 5, 0], [0, 0, 1]]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        let allowed = polyline(&svg, "allowed");
        let limited = polyline(&svg, "limited");
        let failed = polyline(&svg, "failed-open");
        assert_eq!(allowed.len(), 3);
        // The last point is at the right edge ("now"), earlier ones step left.
        assert!((allowed[2].0 - f64::from(WIDTH)).abs() < 0.1);
        assert!(allowed[0].0 < allowed[1].0);
        // 20 is the top of the plot, 0 its bottom, 5 a quarter up.
        let bottom = f64::from(HEIGHT - BOTTOM);
        assert!((allowed[1].1 - f64::from(TOP)).abs() < 0.1);
        assert!((allowed[2].1 - bottom).abs() < 0.1);
        let quarter = bottom - (bottom - f64::from(TOP)) / 4.0;
        assert!((limited[1].1 - quarter).abs() < 0.1);
        assert!(failed[2].1 < bottom);
        assert!(svg.contains(">20</text>"));
    }

    #[test]
    fn no_activity_draws_flat_lines() {
        let svg = svg(&[[0, 0, 0]]);
        let allowed = polyline(&svg, "allowed");
        assert_eq!(allowed.len(), 1);
        assert!((allowed[0].1 - f64::from(HEIGHT - BOTTOM)).abs() < 0.1);
        assert!(svg.contains(">1</text>"), "the scale never divides by zero");
    }
}
