//! `bench.svg`: one row per scenario on a shared logarithmic time axis, each
//! sample a dot over a box (quartiles, median bar) and min–max whiskers.
//!
//! Written by hand: a few dozen SVG elements do not justify a plotting crate.
//! Log scale because the scenarios span three decades, from a bare connect
//! to initdb.

use std::fmt::Write as _;

use crate::report::ms;
use crate::results::{Results, Side};

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 330.0;
const RIGHT: f64 = 90.0;
const TOP: f64 = 56.0;
const ROW: f64 = 34.0;
const BOTTOM: f64 = 56.0;

fn colour(side: Side) -> &'static str {
    match side {
        Side::Pgtmp => "#1f6fb4",
        Side::Baseline => "#8a8a8a",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn svg(r: &Results) -> String {
    let rows: Vec<_> = r
        .series
        .iter()
        .filter_map(|s| Some((s, s.summary()?)))
        .collect();
    let height = TOP + ROW * rows.len().max(1) as f64 + BOTTOM;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">pgtmp bench: time to first \
         answered select 1 (blue: pgtmp, grey: baselines)</text>\n",
        WIDTH / 2.0
    );
    let values = rows
        .iter()
        .flat_map(|(s, _)| s.values())
        .filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if rows.is_empty() {
        out.push_str("<text x=\"20\" y=\"80\">no successful samples</text>\n</svg>\n");
        return out;
    }
    // The axis runs between the nice ticks just outside the data.
    let (lo, hi) = (nice(lo, false).log10(), nice(hi, true).log10());
    let hi = hi.max(lo + 2f64.log10());
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |v: f64| LEFT + (v.max(1e-9).log10() - lo) / (hi - lo) * plot_w;
    let bottom = TOP + ROW * rows.len() as f64;

    // Grid and tick labels at 1, 2, 5 × 10^k.
    for decade in lo.floor() as i32..=hi.ceil() as i32 {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(decade);
            if v.log10() < lo - 1e-9 || v.log10() > hi + 1e-9 {
                continue;
            }
            let (px, stroke) = (x(v), if m == 1.0 { "#bbb" } else { "#e4e4e4" });
            let _ = writeln!(
                out,
                "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{bottom}\" stroke=\"{stroke}\"/>\n\
                 <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                bottom + 16.0,
                tick(v)
            );
        }
    }
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">milliseconds (log scale)</text>",
        LEFT + plot_w / 2.0,
        bottom + 40.0
    );

    for (i, (s, sum)) in rows.iter().enumerate() {
        let y = TOP + ROW * (i as f64 + 0.5);
        let c = colour(s.side);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} (n={})</text>\n\
             <line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{c}\"/>\n\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{c}\" fill-opacity=\"0.18\" stroke=\"{c}\"/>\n\
             <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{c}\" stroke-width=\"2.5\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
            LEFT - 10.0,
            y + 4.0,
            escape(s.label),
            sum.n,
            x(sum.min),
            x(sum.max),
            x(sum.p25),
            y - 7.0,
            (x(sum.p75) - x(sum.p25)).max(1.0),
            x(sum.median),
            y - 10.0,
            x(sum.median),
            y + 10.0,
            x(sum.max) + 6.0,
            y + 4.0,
            ms(sum.median)
        );
        for (j, v) in s.values().iter().enumerate() {
            // Deterministic vertical jitter (golden-ratio sequence) so dots
            // of equal value stay apart.
            let jitter = ((j as f64 * 0.618_034).fract() - 0.5) * 16.0;
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.4\" fill=\"{c}\" fill-opacity=\"0.75\"/>",
                x(*v),
                y + jitter
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The closest 1, 2 or 5 × 10^k at or below `v` (`up`: at or above).
fn nice(v: f64, up: bool) -> f64 {
    let decade = 10f64.powf(v.log10().floor());
    let steps = [1.0, 2.0, 5.0, 10.0].map(|m| m * decade);
    if up {
        steps
            .into_iter()
            .find(|s| *s >= v * (1.0 - 1e-9))
            .unwrap_or(10.0 * decade)
    } else {
        steps
            .into_iter()
            .rev()
            .find(|s| *s <= v * (1.0 + 1e-9))
            .unwrap_or(decade)
    }
}

fn tick(v: f64) -> String {
    // Rounded, because 5 × 10^-2 is not exactly 0.05 in binary.
    let v = (v * 1e6).round() / 1e6;
    if v >= 1000.0 {
        format!("{}s", v / 1000.0)
    } else {
        format!("{v}")
    }
}
