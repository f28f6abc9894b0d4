//! The shared vocabulary of every stage: the raw [`Record`], the field names
//! and aliases of the common schema, the level words, the one date-time
//! grammar, the `_enc` suffix, tenants and the per-source counters.
//!
//! This is the leaf of the crate: it imports no other module of it, and every
//! stage (decode, normalize, pii, encode, sink, metrics) may import it. Keeping
//! the vocabulary here is what lets `decode` and `normalize` depend only
//! downward instead of on each other.

pub mod datetime;
pub mod level;
mod record;
mod stats;
mod tenant;

pub use level::Level;
pub use record::Record;
pub use stats::SourceStats;
pub use tenant::{InvalidTenant, Tenant};

/// Aliases for the timestamp, in priority order (matched case-insensitively):
/// `isodate` is syslog-ng's, `date` Fluent Bit's default (an epoch float),
/// `created` Python logging's.
pub const TS_KEYS: [&str; 7] = [
    "ts",
    "timestamp",
    "time",
    "@timestamp",
    "isodate",
    "date",
    "created",
];
/// Aliases for the level, in priority order (matched case-insensitively):
/// `levelname` is Python logging's, `priority` syslog-ng's, `pri` a syslog
/// PRI number ([`PRI_KEY`]).
pub const LEVEL_KEYS: [&str; 7] = [
    "level",
    "lvl",
    "severity",
    "loglevel",
    "levelname",
    "priority",
    "pri",
];
/// The level alias that holds a syslog PRI number (severity = PRI mod 8).
pub const PRI_KEY: &str = "pri";
/// Aliases for the message, in priority order (matched case-insensitively).
pub const MSG_KEYS: [&str; 5] = ["message", "msg", "log", "raw", "text"];

/// Output keys a leftover input field may not reuse (it becomes `<name>_orig`).
pub const RESERVED: [&str; 8] = [
    "ts",
    "level",
    "msg",
    "emitter",
    "scenario_id",
    "tenant",
    "ts_raw",
    "level_raw",
];

/// Suffix of the Fernet token fields LogOps writes: `<name>_enc`.
pub const ENC_SUFFIX: &str = "_enc";

/// The token field of `name`: `msg` → `msg_enc`.
pub fn enc_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + ENC_SUFFIX.len());
    out.push_str(name);
    out.push_str(ENC_SUFFIX);
    out
}

/// Is `name` (lower-case) one of the ts/level/msg aliases?
///
/// Used by the CSV decoder to store alias columns under their lower-case name.
pub fn is_alias(name: &str) -> bool {
    TS_KEYS.contains(&name) || LEVEL_KEYS.contains(&name) || MSG_KEYS.contains(&name)
}
