//! Run statistics: counts by outcome, a latency histogram, and the one-line
//! JSON summary printed at the end of paced and flood runs.
//!
//! Each flood worker keeps its own [`Stats`] (no shared lock on the hot path)
//! and they are merged at the end. Latencies go into a log-linear histogram
//! (32 sub-buckets per power of two, about 3 % relative error) of fixed size.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::gen::Expect;
use crate::protocol::Protocol;

const SUB: usize = 32;
const BUCKETS: usize = SUB + (64 - 5) * SUB;

/// Latency histogram over microseconds.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; BUCKETS]>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Box::new([0; BUCKETS]),
            total: 0,
            max: 0,
        }
    }
}

fn bucket(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as usize; // >= 5
    let sub = (v >> (e - 5)) as usize - SUB;
    SUB + (e - 5) * SUB + sub
}

/// The midpoint of a bucket, in microseconds.
fn bucket_value(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let e = (i - SUB) / SUB + 5;
    let sub = ((i - SUB) % SUB + SUB) as u64;
    let lo = sub << (e - 5);
    let width = 1u64 << (e - 5);
    lo + width / 2
}

impl Histogram {
    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
        self.counts[bucket(us)] += 1;
        self.total += 1;
        self.max = self.max.max(us);
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The `q` quantile (0..=1) in microseconds; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_value(i).min(self.max);
            }
        }
        self.max
    }

    /// The largest recorded value in microseconds.
    pub fn max(&self) -> u64 {
        self.max
    }
}

/// Counters of one run (or one worker of it).
#[derive(Default, Clone)]
pub struct Stats {
    /// Requests that got an answer or failed.
    pub requests: u64,
    /// Records sent (in every request, answered or not).
    pub sent: u64,
    /// Records in batches answered 2xx.
    pub accepted: u64,
    /// Records in batches answered non-2xx, by status.
    pub rejected: BTreeMap<u16, u64>,
    /// Records in requests that got no response (connection or timeout errors).
    pub failed: u64,
    /// What the emitter generated, over accepted batches.
    pub expected: Expect,
    /// What the gateway reported in its 2xx answers.
    pub reported: Expect,
    /// Requests answered `429` and sent again after `Retry-After` (also in `requests`).
    pub retries_429: u64,
    /// Request latencies (answered requests only, retried ones included).
    pub latency: Histogram,
}

impl Stats {
    /// Counts an answered request of `batch` with that status and body, the
    /// accepted records read from the answer as `protocol` writes it. Records a
    /// `2xx` answer refuses (Elasticsearch items, an OTLP partial success)
    /// count as rejected under that `2xx` status.
    pub fn answered(
        &mut self,
        protocol: Protocol,
        batch: &Expect,
        status: u16,
        body: &[u8],
        latency: Duration,
    ) {
        self.requests += 1;
        self.sent += batch.records;
        self.latency.record(latency);
        let accepted = protocol.accepted(status, body, batch.records);
        self.accepted += accepted;
        if accepted < batch.records {
            *self.rejected.entry(status).or_default() += batch.records - accepted;
        }
        if accepted == 0 {
            return;
        }
        if accepted == batch.records {
            self.expected.add(batch);
        }
        if protocol == Protocol::Native {
            self.reported.add(&reported_counts(body));
        } else {
            // The agents' protocols answer no per-field counts.
            self.reported.records += accepted;
        }
    }

    /// Counts a request answered `429` whose batch is sent again (its records
    /// are counted once, by the final answer).
    pub fn retried(&mut self, latency: Duration) {
        self.requests += 1;
        self.retries_429 += 1;
        self.latency.record(latency);
    }

    /// Counts a request of `batch` that got no response.
    pub fn failed(&mut self, batch: &Expect) {
        self.requests += 1;
        self.sent += batch.records;
        self.failed += batch.records;
    }

    /// Adds another worker's counters.
    pub fn merge(&mut self, other: &Stats) {
        self.requests += other.requests;
        self.sent += other.sent;
        self.accepted += other.accepted;
        for (k, v) in &other.rejected {
            *self.rejected.entry(*k).or_default() += v;
        }
        self.failed += other.failed;
        self.retries_429 += other.retries_429;
        self.expected.add(&other.expected);
        self.reported.add(&other.reported);
        self.latency.merge(&other.latency);
    }

    /// The summary line: counts, rates, latency quantiles in ms, elapsed seconds.
    pub fn summary(&self, emitter: &str, mode: &str, seed: u64, elapsed: Duration) -> Value {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.accepted as f64 / secs
        } else {
            0.0
        };
        let ms = |us: u64| us as f64 / 1000.0;
        let rejected: serde_json::Map<String, Value> = self
            .rejected
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "emitter": emitter,
            "mode": mode,
            "seed": seed,
            "requests": self.requests,
            "sent": self.sent,
            "accepted": self.accepted,
            "rejected": rejected,
            "failed": self.failed,
            "retries_429": self.retries_429,
            "records_per_sec": (rate * 10.0).round() / 10.0,
            "latency_ms": {
                "p50": ms(self.latency.quantile(0.50)),
                "p95": ms(self.latency.quantile(0.95)),
                "p99": ms(self.latency.quantile(0.99)),
                "max": ms(self.latency.max()),
            },
            "elapsed_s": (secs * 1000.0).round() / 1000.0,
            "expected": self.expected.to_json(),
            "reported": self.reported.to_json(),
        })
    }
}

/// The `accepted`/`missing_ts`/`missing_level`/`invalid_ts` of a gateway 2xx body
/// (zeros for keys it lacks or a body that is not JSON).
pub fn reported_counts(body: &[u8]) -> Expect {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    Expect {
        records: n("accepted"),
        missing_ts: n("missing_ts"),
        missing_level: n("missing_level"),
        invalid_ts: n("invalid_ts"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in [
            0u64,
            1,
            31,
            32,
            33,
            63,
            64,
            100,
            1000,
            12_345,
            1 << 40,
            u64::MAX,
        ] {
            let b = bucket(v);
            assert!(b >= last && b < BUCKETS, "{v}");
            last = b;
            let mid = bucket_value(b) as f64;
            assert!(
                (mid - v as f64).abs() <= (v as f64) * 0.04 + 1.0,
                "{v} -> {mid}"
            );
        }
    }

    #[test]
    fn quantiles_of_a_uniform_spread() {
        let mut h = Histogram::default();
        for us in 1..=10_000u64 {
            h.record(Duration::from_micros(us));
        }
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 - 5000.0).abs() < 200.0, "p50 {p50}");
        assert!((p99 - 9900.0).abs() < 350.0, "p99 {p99}");
        assert_eq!(h.max(), 10_000);
        let mut other = Histogram::default();
        other.record(Duration::from_secs(1));
        h.merge(&other);
        assert_eq!(h.len(), 10_001);
        assert_eq!(h.quantile(1.0), 1_000_000);
    }

    #[test]
    fn stats_split_by_outcome_and_summarize() {
        let batch = Expect {
            records: 10,
            missing_ts: 2,
            missing_level: 1,
            invalid_ts: 0,
        };
        let mut a = Stats::default();
        a.answered(
            Protocol::Native,
            &batch,
            200,
            br#"{"accepted":10,"missing_ts":2,"missing_level":1,"invalid_ts":0}"#,
            Duration::from_millis(3),
        );
        a.answered(
            Protocol::Native,
            &batch,
            503,
            br#"{"error":"overloaded"}"#,
            Duration::from_millis(1),
        );
        let mut b = Stats::default();
        b.failed(&batch);
        b.retried(Duration::from_millis(2));
        a.merge(&b);
        let s = a.summary("emit_json", "flood", 7, Duration::from_secs(2));
        assert_eq!(s["sent"], 30);
        assert_eq!(s["accepted"], 10);
        assert_eq!(s["rejected"]["503"], 10);
        assert_eq!(s["failed"], 10);
        assert_eq!(s["retries_429"], 1);
        assert_eq!(s["requests"], 4);
        assert_eq!(s["records_per_sec"], 5.0);
        assert_eq!(s["expected"], s["reported"]);
        assert!(s["latency_ms"]["p99"].as_f64().unwrap() > 2.5);
    }
}
