//! The forwarding metrics (docs/forwarding.md): records sent, errors by reason, and
//! the lag in bytes and seconds, each labelled by target.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabel {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetReason {
    target: String,
    reason: String,
}

/// The error reasons, created at zero so `increase()` sees them from the start.
pub const REASONS: [&str; 9] = [
    "connect",
    "timeout",
    "server_error",
    "throttled",
    "unknown_table",
    "rejected",
    "auth",
    "file_replaced",
    "io",
];

/// `logops_forward_*`.
#[derive(Debug, Default)]
pub struct ForwardMetrics {
    sent: Family<TargetLabel, Counter>,
    errors: Family<TargetReason, Counter>,
    lag_bytes: Family<TargetLabel, Gauge>,
    lag_seconds: Family<TargetLabel, Gauge<f64, AtomicU64>>,
}

impl ForwardMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register(
            "logops_forward_sent_records",
            "Records the forwarding target acknowledged",
            self.sent.clone(),
        );
        r.register(
            "logops_forward_errors",
            "Failed forwarding attempts by reason",
            self.errors.clone(),
        );
        r.register(
            "logops_forward_lag_bytes",
            "Committed day-file bytes not yet acknowledged by the target",
            self.lag_bytes.clone(),
        );
        r.register(
            "logops_forward_lag_seconds",
            "Seconds the oldest line not yet acknowledged has waited (0 when caught up)",
            self.lag_seconds.clone(),
        );
    }

    fn target(target: &str) -> TargetLabel {
        TargetLabel {
            target: target.to_string(),
        }
    }

    /// A target starts: its series exist from now on, at zero.
    pub fn started(&self, target: &str) {
        let _ = self.sent.get_or_create(&Self::target(target));
        let _ = self.lag_bytes.get_or_create(&Self::target(target));
        let _ = self.lag_seconds.get_or_create(&Self::target(target));
        for reason in REASONS {
            let _ = self.errors.get_or_create(&TargetReason {
                target: target.to_string(),
                reason: reason.to_string(),
            });
        }
    }

    /// `target` acknowledged `records`.
    pub fn sent(&self, target: &str, records: u64) {
        self.sent
            .get_or_create(&Self::target(target))
            .inc_by(records);
    }

    /// One failed attempt (`reason` is one of [`REASONS`]).
    pub fn error(&self, target: &str, reason: &str) {
        self.errors
            .get_or_create(&TargetReason {
                target: target.to_string(),
                reason: reason.to_string(),
            })
            .inc();
    }

    /// The current lag.
    pub fn lag(&self, target: &str, bytes: u64, seconds: f64) {
        self.lag_bytes
            .get_or_create(&Self::target(target))
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        self.lag_seconds
            .get_or_create(&Self::target(target))
            .set(seconds);
    }
}
