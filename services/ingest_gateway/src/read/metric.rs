//! Metric queries: `count_over_time`, `rate`, `bytes_over_time` over a log
//! query, under `sum [by (…)]` and `topk`, evaluated at `start`, `start +
//! step`, … ≤ `end` like Loki's range queries (an instant query is one step).
//!
//! One scan fills, per series, counters over buckets of `gcd(step, range)`;
//! the value at `t` sums the buckets of `(t - range, t]`. A point whose
//! window holds no line is absent (as in Loki). Series are keyed by the
//! stream labels (`level`, `emitter`, `scenario_id`) or, under a `sum by`, by
//! its labels straight away, so a `sum by (service)` over a million streams
//! holds only the services.

use std::collections::HashMap;
use std::io;

use super::filter::Filter;
use super::line::{key_is, Fields, Raw};
use super::logql::{MetricExpr, RangeFn};
use super::source::{Line, ScanStats, Store};
use crate::schema::Tenant;

/// The labels a stored line's stream has.
pub const STREAM_LABELS: [&str; 3] = ["level", "emitter", "scenario_id"];
/// Most points per series (Loki's own limit).
pub const MAX_POINTS: i64 = 11_000;
/// Most series × buckets held by one query.
const MAX_CELLS: usize = 8_000_000;
/// Most series.
pub const MAX_SERIES: usize = 10_000;

/// Why a metric query cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    /// Too many points per series for the time span.
    #[error("exceeded maximum resolution of 11,000 points per timeseries; try a larger step")]
    TooManyPoints,
    /// The query would hold too much.
    #[error("{0}")]
    TooBig(String),
    /// `step` must be positive, `end` not before `start`.
    #[error("{0}")]
    BadRange(String),
    /// A source cannot be read.
    #[error("reading the stored data: {0}")]
    Io(#[from] io::Error),
}

/// What to evaluate.
#[derive(Debug)]
pub struct MetricRequest<'a> {
    /// The expression.
    pub expr: &'a MetricExpr,
    /// Its log query, compiled.
    pub filter: &'a Filter,
    /// First evaluation time (Unix ns).
    pub start: i64,
    /// Last evaluation time, inclusive (Unix ns).
    pub end: i64,
    /// Step (ns, > 0).
    pub step: i64,
}

/// One result series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its labels (empty values left out), sorted by name.
    pub labels: Vec<(String, String)>,
    /// (time in Unix ns, value), only where the value exists.
    pub points: Vec<(i64, f64)>,
}

struct Grid {
    origin: i64,
    g: i64,
    buckets: usize,
    points: usize,
}

/// Evaluates `req` over `tenant`'s store.
///
/// # Errors
/// [`MetricError`].
pub fn evaluate(
    store: &Store,
    tenant: &Tenant,
    req: &MetricRequest<'_>,
) -> Result<(Vec<Series>, ScanStats), MetricError> {
    if req.step <= 0 {
        return Err(MetricError::BadRange("step must be positive".into()));
    }
    if req.end < req.start {
        return Err(MetricError::BadRange("end is before start".into()));
    }
    let range = i64::try_from(req.expr.range_ns())
        .map_err(|_| MetricError::BadRange("range too long".into()))?;
    let points = (req.end - req.start) / req.step + 1;
    if points > MAX_POINTS {
        return Err(MetricError::TooManyPoints);
    }
    let g = gcd(req.step, range);
    let origin = req.start.saturating_sub(range);
    let buckets = ((req.end - origin) / g + 1) as usize;
    let grid = Grid {
        origin,
        g,
        buckets,
        points: points as usize,
    };
    if buckets > MAX_CELLS {
        return Err(MetricError::TooBig(format!(
            "{buckets} time buckets of {g} ns: make step and range multiples of each other"
        )));
    }
    let base = base_labels(req.expr);
    let names: Vec<&str> = match &base {
        Some(by) => by.iter().map(String::as_str).collect(),
        None => STREAM_LABELS.to_vec(),
    };
    let bytes = matches!(range_fn(req.expr), RangeFn::BytesOverTime);
    let mut keys: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut series: Vec<(Vec<String>, Vec<f64>)> = Vec::new();
    let mut key = Vec::new();
    let mut stats = ScanStats::default();
    let mut too_big = false;
    let lo = origin.saturating_add(1);
    let hi = req.end.saturating_add(1);
    for src in store.sources(tenant)? {
        let mut visit = |l: Line<'_>| {
            if !req.filter.matches(l.bytes) {
                return true;
            }
            let values = label_values(l.bytes, &names);
            key.clear();
            for v in &values {
                key.extend_from_slice(v.as_bytes());
                key.push(0);
            }
            let idx = match keys.get(key.as_slice()) {
                Some(i) => *i,
                None => {
                    if series.len() >= MAX_SERIES || (series.len() + 1) * grid.buckets > MAX_CELLS {
                        too_big = true;
                        return false;
                    }
                    keys.insert(key.clone(), series.len());
                    series.push((values, vec![0.0; grid.buckets]));
                    series.len() - 1
                }
            };
            let b = ((l.ts - grid.origin - 1) / grid.g) as usize;
            if let Some(cell) = series[idx].1.get_mut(b) {
                *cell += if bytes { l.bytes.len() as f64 } else { 1.0 };
            }
            true
        };
        store.scan(&src, 0, (lo, hi), &mut stats, &mut visit)?;
        if too_big {
            return Err(MetricError::TooBig(format!(
                "more than {MAX_SERIES} series (or {MAX_CELLS} points held): narrow the query or group with sum by"
            )));
        }
    }
    let base_series: Vec<Points> = series
        .into_iter()
        .map(|(values, cells)| {
            let labels = names
                .iter()
                .zip(values)
                .map(|(n, v)| (n.to_string(), v))
                .collect();
            Points {
                labels,
                values: windows(&cells, &grid, req.step, range, range_fn(req.expr)),
            }
        })
        .collect();
    let mut out: Vec<Series> = eval(req.expr, base_series)
        .into_iter()
        .filter_map(|p| {
            let points: Vec<(i64, f64)> = p
                .values
                .iter()
                .enumerate()
                .filter_map(|(k, v)| v.map(|v| (req.start + k as i64 * req.step, v)))
                .collect();
            let mut labels: Vec<(String, String)> = p
                .labels
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            labels.sort();
            (!points.is_empty()).then_some(Series { labels, points })
        })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok((out, stats))
}

struct Points {
    labels: Vec<(String, String)>,
    values: Vec<Option<f64>>,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn range_fn(e: &MetricExpr) -> RangeFn {
    match e {
        MetricExpr::Range { func, .. } => *func,
        MetricExpr::Sum { inner, .. } | MetricExpr::Topk { inner, .. } => range_fn(inner),
    }
}

/// The labels the scan groups by: a `sum by` right above the range
/// aggregation groups straight away; otherwise the stream labels.
fn base_labels(e: &MetricExpr) -> Option<Vec<String>> {
    match e {
        MetricExpr::Range { .. } => None,
        MetricExpr::Sum { by, inner } if matches!(**inner, MetricExpr::Range { .. }) => {
            Some(by.clone().unwrap_or_default())
        }
        MetricExpr::Sum { inner, .. } | MetricExpr::Topk { inner, .. } => base_labels(inner),
    }
}

/// The values of `names` in `line`: top-level strings, "" when absent or not a string.
fn label_values(line: &[u8], names: &[&str]) -> Vec<String> {
    let mut out = vec![String::new(); names.len()];
    if names.is_empty() {
        return out;
    }
    let mut left = names.len();
    for (k, v) in Fields::new(line) {
        if let Some(i) = names.iter().position(|n| key_is(k, n)) {
            if let Raw::Str(_) = v {
                out[i] = v.text().into_owned();
            }
            left -= 1;
            if left == 0 {
                break;
            }
        }
    }
    out
}

/// The value at every step from the bucket counters.
fn windows(cells: &[f64], grid: &Grid, step: i64, range: i64, func: RangeFn) -> Vec<Option<f64>> {
    let mut prefix = Vec::with_capacity(cells.len() + 1);
    prefix.push(0.0);
    for c in cells {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + c);
    }
    (0..grid.points)
        .map(|k| {
            let first = (k as i64 * step / grid.g) as usize;
            let last = (((k as i64 * step + range) / grid.g) as usize).min(cells.len());
            let v = prefix[last] - prefix[first.min(last)];
            (v > 0.0).then(|| match func {
                RangeFn::Rate => v / (range as f64 / 1e9),
                RangeFn::CountOverTime | RangeFn::BytesOverTime => v,
            })
        })
        .collect()
}

fn eval(e: &MetricExpr, base: Vec<Points>) -> Vec<Points> {
    match e {
        MetricExpr::Range { .. } => base,
        MetricExpr::Sum { by, inner } => {
            let inner = eval(inner, base);
            let keep: Vec<String> = by.clone().unwrap_or_default();
            // Groups in first-seen order, found by their labels in O(1).
            let mut groups: Vec<Points> = Vec::new();
            let mut index: std::collections::HashMap<Vec<(String, String)>, usize> =
                std::collections::HashMap::new();
            for p in inner {
                let labels: Vec<(String, String)> = keep
                    .iter()
                    .map(|n| {
                        let v = p
                            .labels
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.clone());
                        (n.clone(), v.unwrap_or_default())
                    })
                    .collect();
                match index.get(&labels) {
                    Some(&i) => {
                        for (a, b) in groups[i].values.iter_mut().zip(&p.values) {
                            if let Some(b) = b {
                                *a = Some(a.unwrap_or(0.0) + b);
                            }
                        }
                    }
                    None => {
                        index.insert(labels.clone(), groups.len());
                        groups.push(Points {
                            labels,
                            values: p.values,
                        });
                    }
                }
            }
            groups
        }
        MetricExpr::Topk { k, inner } => {
            let mut inner = eval(inner, base);
            let points = inner.first().map_or(0, |p| p.values.len());
            for t in 0..points {
                let mut ranked: Vec<(usize, f64)> = inner
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| p.values[t].map(|v| (i, v)))
                    .collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                for &(i, _) in ranked.iter().skip(*k) {
                    inner[i].values[t] = None;
                }
            }
            inner.retain(|p| p.values.iter().any(Option::is_some));
            inner
        }
    }
}
