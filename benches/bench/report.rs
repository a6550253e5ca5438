//! The two renderings of a run: a Markdown report (stdout and `bench.md`)
//! for people, and `bench.json` with every sample for anything else.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::results::{Results, Series, Side};
use crate::stats::paired_ratio;
use crate::targets::{Target, mib};

/// Speed-up columns: baseline ÷ this, per pair. `floor` is the other way
/// round (this ÷ floor), a cost multiple over a bare connection.
const SPEEDUP_VS: [&str; 2] = ["naive", "pg_tmp"];

pub fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{:.0} µs", v * 1e3)
    } else if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// `(JSON key, (median ratio, pairs))` per comparison; `None` where the
/// series is not paired, is the baseline itself, or has no pairs.
fn ratios(r: &Results, s: &Series) -> Vec<(String, Option<(f64, usize)>)> {
    let ratio = |key: &str, invert: bool| {
        let other = r.get(key).filter(|o| s.paired && o.key != s.key)?;
        if invert {
            paired_ratio(&s.samples, &other.samples)
        } else {
            paired_ratio(&other.samples, &s.samples)
        }
    };
    let mut all: Vec<_> = SPEEDUP_VS
        .iter()
        .map(|key| (format!("speedup_vs_{key}"), ratio(key, false)))
        .collect();
    all.push(("times_floor".into(), ratio("floor", true)));
    all
}

pub fn markdown(r: &Results, targets: &[Target]) -> String {
    let mut out = String::from("## pgtmp benchmark\n\n");
    for (name, value) in &r.meta {
        let _ = writeln!(out, "- {name}: {value}");
    }
    if r.interrupted {
        out.push_str("- **interrupted**: the run was cut short; numbers are partial\n");
    }
    out.push_str(
        "\nTime from starting the command to the first answered `select 1` through the \
         `postgres` crate, unless the scenario says otherwise.\n\n",
    );
    out.push_str("| scenario | N | min | median | p95 | max | speed-up vs naive | speed-up vs pg_tmp-style | × floor |\n");
    out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for s in &r.series {
        let mut cells = vec![s.label.to_string()];
        match s.summary() {
            Some(x) => {
                cells.push(x.n.to_string());
                cells.extend([x.min, x.median, x.p95, x.max].map(ms));
            }
            None => cells.extend(["0", "—", "—", "—", "—"].map(String::from)),
        }
        cells.extend(ratios(r, s).into_iter().map(|(key, ratio)| match ratio {
            Some((v, _)) if key == "times_floor" => format!("{v:.1}×"),
            Some((v, _)) => format!("{v:.2}×"),
            None => "—".into(),
        }));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push_str(
        "\nSpeed-up: median over rounds of (baseline ÷ this) for samples taken back to back in the \
         same round; above 1 means faster than the baseline. × floor: median of (this ÷ floor), \
         floor being a new connection and `select 1` to a server already running.\n",
    );
    let remarks: Vec<String> = r.series.iter().flat_map(remarks).collect();
    if !remarks.is_empty() {
        out.push_str("\nFailures and notes:\n");
        for line in remarks {
            let _ = writeln!(out, "- {line}");
        }
    }
    out.push_str("\n### Footprint of one idle instance\n\n| what | processes | RSS sum | PSS sum | disk |\n|---|--:|--:|--:|--:|\n");
    for f in &r.footprints {
        let _ = match f {
            Ok(f) => writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                f.label,
                f.processes,
                mib(f.rss_kib),
                f.pss_kib.map_or("—".into(), mib),
                mib(f.disk_bytes / 1024)
            ),
            Err(e) => writeln!(
                out,
                "| pgtmp instance | failed: {} | | | |",
                e.replace('|', "\\|")
            ),
        };
    }
    out.push_str("\nRSS counts shared pages once per process; PSS splits them among sharers.\n");
    out.push_str("\n### Targets\n\n");
    for t in targets {
        let verdict = match t.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        };
        let _ = writeln!(out, "- {verdict}: {} — {}", t.goal, t.detail);
    }
    out
}

/// "key: k of N failed: error" and the series' notes.
fn remarks(s: &Series) -> Vec<String> {
    let mut lines = Vec::new();
    if !s.errors.is_empty() {
        let total = s.errors.len() + s.samples.len();
        let mut distinct: Vec<&String> = Vec::new();
        for e in &s.errors {
            if !distinct.contains(&e) {
                distinct.push(e);
            }
        }
        let skipped = if s.given_up() {
            " (skipped the rest)"
        } else {
            ""
        };
        let shown: Vec<&str> = distinct.iter().take(3).map(|e| e.as_str()).collect();
        lines.push(format!(
            "**{}**: {} of {total} failed{skipped}: {}",
            s.key,
            s.errors.len(),
            shown.join("; ")
        ));
    }
    lines.extend(s.notes.iter().map(|n| format!("{}: {n}", s.key)));
    lines
}

pub fn json(r: &Results, targets: &[Target]) -> Value {
    let series: Vec<Value> = r
        .series
        .iter()
        .map(|s| {
            let summary = s.summary().map(|x| {
                json!({"n": x.n, "min": x.min, "p25": x.p25, "median": x.median,
                       "p75": x.p75, "p95": x.p95, "max": x.max})
            });
            let ratios: serde_json::Map<String, Value> = ratios(r, s)
                .into_iter()
                .filter_map(|(k, v)| v.map(|(m, n)| (k, json!({"median": m, "pairs": n}))))
                .collect();
            json!({
                "key": s.key,
                "label": s.label,
                "side": if s.side == Side::Pgtmp { "pgtmp" } else { "baseline" },
                "paired": s.paired,
                "unit": "ms",
                "samples": s.samples.iter().map(|(i, v)| json!({"round": i, "ms": v})).collect::<Vec<_>>(),
                "errors": s.errors,
                "notes": s.notes,
                "summary": summary,
                "ratios": ratios,
            })
        })
        .collect();
    let footprints: Vec<Value> = r
        .footprints
        .iter()
        .map(|f| match f {
            Ok(f) => json!({"label": f.label, "processes": f.processes, "rss_kib": f.rss_kib,
                            "pss_kib": f.pss_kib, "disk_bytes": f.disk_bytes, "dir": f.dir}),
            Err(e) => json!({"error": e}),
        })
        .collect();
    let meta: serde_json::Map<String, Value> = r
        .meta
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "meta": meta,
        "interrupted": r.interrupted,
        "scenarios": series,
        "footprint": footprints,
        "targets": targets.iter().map(|t| json!({"goal": t.goal, "met": t.met, "detail": t.detail})).collect::<Vec<_>>(),
    })
}
