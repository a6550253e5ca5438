//! Order statistics over a handful of samples, and pairwise comparisons.
//!
//! Ratios (and differences) are the median of per-pair ratios (sample i of one series against
//! sample i of another, taken back to back in the same round), not a ratio of
//! medians: that cancels slow drift of the machine between rounds.

use std::collections::HashMap;

/// min / median / p95 / max of one series, in the series' unit.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub p95: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Summary {
            n: v.len(),
            min: v[0],
            p25: quantile(&v, 0.25),
            median: quantile(&v, 0.5),
            p75: quantile(&v, 0.75),
            p95: quantile(&v, 0.95),
            max: v[v.len() - 1],
        })
    }
}

/// Linear interpolation between closest ranks (R's type 7) on sorted input.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn median(values: &[f64]) -> Option<f64> {
    Summary::of(values).map(|s| s.median)
}

/// Median over rounds present in both of `num[round] / den[round]`, and how
/// many pairs that was.
pub fn paired_ratio(num: &[(usize, f64)], den: &[(usize, f64)]) -> Option<(f64, usize)> {
    paired(num, den, |n, d| (d > 0.0).then(|| n / d))
}

/// Median over rounds present in both of `f(a[round], b[round])`.
pub fn paired(
    a: &[(usize, f64)],
    b: &[(usize, f64)],
    f: impl Fn(f64, f64) -> Option<f64>,
) -> Option<(f64, usize)> {
    let b: HashMap<usize, f64> = b.iter().copied().collect();
    let values: Vec<f64> = a
        .iter()
        .filter_map(|(round, x)| b.get(round).and_then(|y| f(*x, *y)))
        .collect();
    median(&values).map(|m| (m, values.len()))
}
