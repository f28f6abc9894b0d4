//! # LogOps ingest gateway
//!
//! Apps, scripts and agents POST batches of logs in whatever shape they have
//! (JSON, NDJSON, syslog-style text, CSV, OTLP/HTTP JSON). The gateway picks a
//! decoder from `Content-Type`, normalizes every record to the common schema
//! (`ts`, `level`, `msg`, the rest kept), masks and encrypts PII, and appends the
//! batch to a daily NDJSON file. The contract is `shared/SPEC.md`.
//!
//! # Layout
//! The modules are named by pipeline stage, in the order the data flows:
//!
//! - [`config`]: one typed, validated [`config::Config`], loaded once at start-up.
//! - [`http`]: the hyper server (accept loop, routes, errors mapped to statuses).
//! - [`decode`]: request body bytes → raw records, one decoder per format.
//! - [`normalize`]: raw record → normalized record (ts, level, msg, …).
//! - [`pii`]: masking of emails/IPs and Fernet encryption of sensitive fields.
//! - [`encode`]: normalized record → one compact NDJSON line.
//! - [`pipeline`]: the synchronous batch path gluing the stages together.
//! - [`sink`]: the daily-file writer with group commit.
//! - [`metrics`]: Prometheus metrics and the label-cardinality cap.
//! - [`housekeeping`]: retention (delete or zip), shared with the `housekeeping` CLI.

pub mod config;
pub mod decode;
pub mod encode;
pub mod housekeeping;
pub mod http;
pub mod metrics;
pub mod normalize;
pub mod pii;
pub mod pipeline;
pub mod sink;

/// The gateway's version, reported by `/healthz` and `logops_build_info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
