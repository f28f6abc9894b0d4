//! Prometheus metrics (SPEC §5) and the label-cardinality cap.
//!
//! Each event the gateway reports is one method here that updates the metrics
//! (and, where it is worth a log line, logs) together, so call sites stay one
//! line and label handling lives in one place. Label values that come from
//! clients (`emitter`, `scenario_id`) pass through a [`LabelCap`]: at most
//! `LOGOPS_MAX_LABEL_VALUES` distinct values each, the rest counted as `_other`.
//! The `tenant` label needs no cap: its values come from the keys file
//! (`default` without auth, `none` for requests refused before a key was known).

use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::schema::{Level, SourceStats};
use crate::status::Activity;

mod forward;
pub use forward::ForwardMetrics;

/// The value used for label values beyond the cap.
pub const OTHER: &str = "_other";

/// Keeps at most `max` distinct values of one label.
#[derive(Debug)]
pub struct LabelCap {
    max: usize,
    seen: RwLock<HashSet<String>>,
}

impl LabelCap {
    /// A cap of `max` distinct values.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            seen: RwLock::new(HashSet::new()),
        }
    }

    /// `value` if it is (or can become) one of the kept values, else [`OTHER`].
    pub fn admit(&self, value: &str) -> String {
        if self.seen.read().map(|s| s.contains(value)).unwrap_or(false) {
            return value.to_string();
        }
        let Ok(mut seen) = self.seen.write() else {
            return OTHER.to_string();
        };
        if seen.contains(value) || seen.len() < self.max {
            seen.insert(value.to_string());
            value.to_string()
        } else {
            OTHER.to_string()
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    emitter: String,
    scenario_id: String,
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EmitterLevel {
    emitter: String,
    level: String,
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EmitterOnly {
    emitter: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Rejection {
    reason: String,
    emitter: String,
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthReason {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Listener {
    listener: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerReason {
    listener: String,
    reason: String,
}

/// The 401 reasons, created at zero so dashboards and `increase()` see them
/// before the first failure.
const AUTH_REASONS: [&str; 7] = [
    "missing_key",
    "invalid_key",
    "missing_signature",
    "bad_timestamp",
    "timestamp_skew",
    "nonce_replay",
    "bad_signature",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HousekeepingAction {
    action: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// A syslog listener's message counters (handles into [`Metrics`]).
#[derive(Debug, Clone)]
pub struct SyslogCounters {
    messages: Counter,
    bytes: Counter,
    truncated: Counter,
}

impl SyslogCounters {
    /// `messages` messages of `bytes` in all were read, `truncated` of them cut to the limit.
    pub fn add(&self, messages: u64, bytes: u64, truncated: u64) {
        self.messages.inc_by(messages);
        self.bytes.inc_by(bytes);
        if truncated > 0 {
            self.truncated.inc_by(truncated);
        }
    }
}

/// Every metric of the gateway, registered once at start-up.
pub struct Metrics {
    registry: Registry,
    emitters: LabelCap,
    scenarios: LabelCap,
    accepted: Family<Source, Counter>,
    ingested: Family<EmitterLevel, Counter>,
    missing_ts: Family<Source, Counter>,
    missing_level: Family<Source, Counter>,
    parse_errors: Family<Source, Counter>,
    invalid_ts: Family<EmitterOnly, Counter>,
    rejected: Family<Rejection, Counter>,
    auth_failures: Family<AuthReason, Counter>,
    keys_reload_errors: Counter,
    syslog_connections: Family<Listener, Gauge>,
    syslog_messages: Family<Listener, Counter>,
    syslog_bytes: Family<Listener, Counter>,
    syslog_truncated: Family<Listener, Counter>,
    syslog_parse_errors: Family<Listener, Counter>,
    syslog_dropped: Family<ListenerReason, Counter>,
    batch_latency: HistogramFamily<Source>,
    batch_size: Histogram,
    /// Requests being processed (`logops_inflight`).
    pub inflight: Gauge,
    sink_bytes: Counter,
    sink_errors: Counter,
    sink_reopened: Counter,
    chain_checkpoints: Counter,
    chain_resealed: Counter,
    chain_errors: Counter,
    sink_sync: Histogram,
    housekeeping: Family<HousekeepingAction, Counter>,
    forward: ForwardMetrics,
    activity: Activity,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric; `max_label_values` caps client-supplied labels.
    pub fn new(max_label_values: usize) -> Self {
        let mut m = Metrics {
            registry: Registry::default(),
            emitters: LabelCap::new(max_label_values),
            scenarios: LabelCap::new(max_label_values),
            accepted: Family::default(),
            ingested: Family::default(),
            missing_ts: Family::default(),
            missing_level: Family::default(),
            parse_errors: Family::default(),
            invalid_ts: Family::default(),
            rejected: Family::default(),
            auth_failures: Family::default(),
            keys_reload_errors: Counter::default(),
            syslog_connections: Family::default(),
            syslog_messages: Family::default(),
            syslog_bytes: Family::default(),
            syslog_truncated: Family::default(),
            syslog_parse_errors: Family::default(),
            syslog_dropped: Family::default(),
            batch_latency: Family::new_with_constructor(latency_histogram),
            batch_size: Histogram::new([
                1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, 50000.0, 100000.0,
            ]),
            inflight: Gauge::default(),
            sink_bytes: Counter::default(),
            sink_errors: Counter::default(),
            sink_reopened: Counter::default(),
            chain_checkpoints: Counter::default(),
            chain_resealed: Counter::default(),
            chain_errors: Counter::default(),
            sink_sync: latency_histogram(),
            housekeeping: Family::default(),
            forward: ForwardMetrics::default(),
            activity: Activity::default(),
        };
        m.register_all();
        for reason in AUTH_REASONS {
            let _ = m.auth_failures.get_or_create(&AuthReason {
                reason: reason.into(),
            });
        }
        for listener in ["tcp", "udp"] {
            let l = Listener {
                listener: listener.into(),
            };
            let _ = m.syslog_messages.get_or_create(&l);
            let _ = m.syslog_bytes.get_or_create(&l);
            let _ = m.syslog_truncated.get_or_create(&l);
            let _ = m.syslog_parse_errors.get_or_create(&l);
        }
        let _ = m.syslog_connections.get_or_create(&Listener {
            listener: "tcp".into(),
        });
        for (listener, reason) in [("tcp", "connection_limit"), ("udp", "queue_full")] {
            let _ = m.syslog_dropped.get_or_create(&ListenerReason {
                listener: listener.into(),
                reason: reason.into(),
            });
        }
        for action in ["deleted", "archived", "failed", "held_for_forwarding"] {
            let _ = m.housekeeping.get_or_create(&HousekeepingAction {
                action: action.into(),
            });
        }
        m
    }

    fn register_all(&mut self) {
        let r = &mut self.registry;
        r.register(
            "logops_accepted",
            "Records accepted and written",
            self.accepted.clone(),
        );
        r.register(
            "logops_ingested",
            "Records ingested by normalized level",
            self.ingested.clone(),
        );
        r.register(
            "logops_missing_ts",
            "Records without a timestamp",
            self.missing_ts.clone(),
        );
        r.register(
            "logops_missing_level",
            "Records without a level",
            self.missing_level.clone(),
        );
        r.register(
            "logops_parse_errors",
            "Batches whose body could not be decoded",
            self.parse_errors.clone(),
        );
        r.register(
            "logops_invalid_ts",
            "Records with an unparseable timestamp",
            self.invalid_ts.clone(),
        );
        r.register(
            "logops_rejected",
            "Requests rejected, by error code",
            self.rejected.clone(),
        );
        r.register(
            "logops_auth_failures",
            "Requests refused by authentication, by reason",
            self.auth_failures.clone(),
        );
        r.register(
            "logops_syslog_connections",
            "Open syslog TCP connections",
            self.syslog_connections.clone(),
        );
        r.register(
            "logops_syslog_messages",
            "Syslog messages received, by listener",
            self.syslog_messages.clone(),
        );
        r.register(
            "logops_syslog_bytes",
            "Syslog message bytes received, by listener",
            self.syslog_bytes.clone(),
        );
        r.register(
            "logops_syslog_truncated",
            "Syslog messages cut to LOGOPS_SYSLOG_MAX_MESSAGE",
            self.syslog_truncated.clone(),
        );
        r.register(
            "logops_syslog_parse_errors",
            "Syslog TCP framing errors (the connection was closed)",
            self.syslog_parse_errors.clone(),
        );
        r.register(
            "logops_syslog_dropped",
            "Syslog messages or connections dropped, by reason",
            self.syslog_dropped.clone(),
        );
        r.register(
            "logops_keys_reload_errors",
            "Keys files refused on reload (the old keys stayed in force)",
            self.keys_reload_errors.clone(),
        );
        r.register(
            "logops_inflight",
            "Ingest requests being processed",
            self.inflight.clone(),
        );
        r.register(
            "logops_batch_size",
            "Records per accepted batch",
            self.batch_size.clone(),
        );
        r.register(
            "logops_batch_latency_seconds",
            "Time from request start to durable append",
            self.batch_latency.clone(),
        );
        r.register(
            "logops_sink_bytes",
            "Bytes appended to the daily files",
            self.sink_bytes.clone(),
        );
        r.register(
            "logops_sink_errors",
            "Failed appends or syncs (rolled back)",
            self.sink_errors.clone(),
        );
        r.register(
            "logops_sink_reopened",
            "Day files found removed or replaced while open, and reopened",
            self.sink_reopened.clone(),
        );
        r.register(
            "logops_chain_checkpoints",
            "Signed chain checkpoints written (LOGOPS_CHAIN)",
            self.chain_checkpoints.clone(),
        );
        r.register(
            "logops_chain_resealed_lines",
            "Lines found after the last checkpoint at start-up (a crash) and resealed",
            self.chain_resealed.clone(),
        );
        r.register(
            "logops_chain_errors",
            "Chain failures: a sidecar not written, or a day file not matching its checkpoint",
            self.chain_errors.clone(),
        );
        r.register(
            "logops_sink_sync_seconds",
            "Duration of each data sync",
            self.sink_sync.clone(),
        );
        r.register(
            "logops_housekeeping_files",
            "Housekeeping actions on files",
            self.housekeeping.clone(),
        );
        self.forward.register(r);
        r.register(
            "logops_build",
            "Build information",
            Info::new(vec![("version", crate::VERSION)]),
        );
    }

    /// The exposition text (OpenMetrics, which Prometheus scrapes natively).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// The forwarding metrics (`logops_forward_*`).
    pub fn forward(&self) -> &ForwardMetrics {
        &self.forward
    }

    /// The per-second activity ring behind `GET /api/v1/status`.
    pub fn activity(&self) -> &Activity {
        &self.activity
    }

    fn source(&self, emitter: &str, scenario_id: &str, tenant: &str) -> Source {
        Source {
            emitter: self.emitters.admit(emitter),
            scenario_id: self.scenarios.admit(scenario_id),
            tenant: tenant.to_string(),
        }
    }

    /// A batch was written: every per-record counter, the size and the latency.
    pub fn batch_accepted(
        &self,
        by_source: &[SourceStats],
        records: u64,
        emitter: &str,
        scenario_id: &str,
        tenant: &str,
        latency: Duration,
    ) {
        for s in by_source {
            let src = self.source(&s.emitter, &s.scenario_id, tenant);
            self.activity
                .accepted(tenant, &src.emitter, s.accepted, s.levels);
            self.accepted.get_or_create(&src).inc_by(s.accepted);
            self.missing_ts.get_or_create(&src).inc_by(s.missing_ts);
            self.missing_level
                .get_or_create(&src)
                .inc_by(s.missing_level);
            if s.invalid_ts > 0 {
                self.invalid_ts
                    .get_or_create(&EmitterOnly {
                        emitter: src.emitter.clone(),
                    })
                    .inc_by(s.invalid_ts);
            }
            for level in Level::ALL {
                let n = s.levels[level.index()];
                if n > 0 {
                    let key = EmitterLevel {
                        emitter: src.emitter.clone(),
                        level: level.as_str().into(),
                        tenant: src.tenant.clone(),
                    };
                    self.ingested.get_or_create(&key).inc_by(n);
                }
            }
        }
        self.batch_size.observe(records as f64);
        self.batch_latency
            .get_or_create(&self.source(emitter, scenario_id, tenant))
            .observe(latency.as_secs_f64());
        tracing::debug!(
            emitter,
            scenario_id,
            records,
            latency_ms = latency.as_secs_f64() * 1e3,
            "batch accepted"
        );
    }

    /// A request was refused with error code `reason`; `parse_error` when its
    /// body could not be decoded (also counted in `logops_parse_errors_total`).
    pub fn batch_rejected(
        &self,
        reason: &'static str,
        parse_error: bool,
        emitter: &str,
        scenario_id: &str,
        tenant: &str,
        detail: &str,
    ) {
        let emitter_label = self.emitters.admit(emitter);
        if parse_error {
            self.parse_errors
                .get_or_create(&self.source(emitter, scenario_id, tenant))
                .inc();
        }
        self.activity.rejected(reason);
        self.rejected
            .get_or_create(&Rejection {
                reason: reason.into(),
                emitter: emitter_label,
                tenant: tenant.to_string(),
            })
            .inc();
        tracing::warn!(reason, emitter, scenario_id, detail, "batch rejected");
    }

    /// A request was refused by authentication with `reason` (`missing_key`, …).
    pub fn auth_failed(&self, reason: &str) {
        self.auth_failures
            .get_or_create(&AuthReason {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// A syslog TCP connection opened (`+1`) or closed (`-1`).
    pub fn syslog_connection(&self, listener: &str, delta: i64) {
        self.syslog_connections
            .get_or_create(&Listener {
                listener: listener.into(),
            })
            .inc_by(delta);
    }

    /// The per-message counters of a syslog listener, resolved once (a
    /// listener counts every message; a label lookup each time would cost
    /// more than the framing).
    pub fn syslog_counters(&self, listener: &str) -> SyslogCounters {
        let l = Listener {
            listener: listener.into(),
        };
        SyslogCounters {
            messages: self.syslog_messages.get_or_create(&l).clone(),
            bytes: self.syslog_bytes.get_or_create(&l).clone(),
            truncated: self.syslog_truncated.get_or_create(&l).clone(),
        }
    }

    /// `n` syslog messages (or connections) dropped for `reason`.
    pub fn syslog_dropped(&self, listener: &str, reason: &str, n: u64) {
        self.syslog_dropped
            .get_or_create(&ListenerReason {
                listener: listener.into(),
                reason: reason.into(),
            })
            .inc_by(n);
    }

    /// A syslog TCP connection sent something that is not syslog framing.
    pub fn syslog_parse_error(&self, listener: &str) {
        self.syslog_parse_errors
            .get_or_create(&Listener {
                listener: listener.into(),
            })
            .inc();
    }

    /// A reloaded keys file was refused.
    pub fn keys_reload_failed(&self) {
        self.keys_reload_errors.inc();
    }

    /// Bytes appended (and kept) by the sink.
    pub fn sink_written(&self, bytes: usize) {
        self.sink_bytes.inc_by(bytes as u64);
        self.activity.sink_written(bytes as u64);
    }

    /// An append or sync failed and was rolled back.
    pub fn sink_error(&self) {
        self.sink_errors.inc();
    }

    /// A chain checkpoint was written.
    pub fn chain_checkpoint(&self) {
        self.chain_checkpoints.inc();
    }

    /// `lines` were resealed at start-up.
    pub fn chain_resealed(&self, lines: u64) {
        self.chain_resealed.inc_by(lines);
    }

    /// A chain failure (logged by the caller).
    pub fn chain_error(&self) {
        self.chain_errors.inc();
    }

    /// A day file was found removed or replaced and its path reopened.
    pub fn sink_reopened(&self) {
        self.sink_reopened.inc();
    }

    /// A data sync took `d`.
    pub fn sink_synced(&self, d: Duration) {
        self.sink_sync.observe(d.as_secs_f64());
        self.activity.synced(d);
    }

    /// Housekeeping did `action` (`deleted`, `archived`, `failed`) to `n` files.
    pub fn housekeeping_files(&self, action: &str, n: u64) {
        self.housekeeping
            .get_or_create(&HousekeepingAction {
                action: action.into(),
            })
            .inc_by(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_cap_keeps_first_values() {
        let cap = LabelCap::new(2);
        assert_eq!(cap.admit("a"), "a");
        assert_eq!(cap.admit("b"), "b");
        assert_eq!(cap.admit("c"), OTHER);
        assert_eq!(cap.admit("a"), "a");
    }

    #[test]
    fn exposition_has_spec_names() {
        let m = Metrics::new(10);
        m.batch_rejected("invalid_json", true, "e", "na", "default", "x");
        m.sink_written(10);
        let text = m.encode();
        for name in [
            "logops_rejected_total",
            "logops_parse_errors_total",
            "logops_inflight",
            "logops_build_info",
            "logops_sink_bytes_total",
        ] {
            assert!(text.contains(name), "{name} missing in:\n{text}");
        }
    }
}
