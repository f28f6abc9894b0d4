//! # LogOps ingest gateway
//!
//! Apps, scripts and agents POST batches of logs in whatever shape they have
//! (JSON, NDJSON, syslog-style text, CSV, OTLP/HTTP JSON). The gateway picks a
//! decoder from `Content-Type`, normalizes every record to the common schema
//! (`ts`, `level`, `msg`, the rest kept), masks and encrypts PII, and appends the
//! batch to a daily NDJSON file. The contract is `docs/api.md`.
//!
//! # Layout
//! The modules are named by pipeline stage, in the order the data flows:
//!
//! - [`config`]: raw env/.env strings → one typed, sectioned, validated
//!   [`config::Config`]; each section's type belongs to its stage.
//! - [`app`]: wiring the stages into a running gateway (used by `main` and tests).
//! - [`http`]: the hyper server (accept loop, routes, errors mapped to statuses).
//! - [`syslog`]: syslog over TCP and UDP, batched into the ingest service.
//! - [`auth`]: keys file, API keys and HMAC signatures, tenants and roles.
//! - [`ingest`]: the one way into the pipeline and the sink for every front end
//!   (admission, receive time, inline-or-blocking, content decoding).
//! - [`pipeline`]: the synchronous batch path gluing the stages below together.
//! - [`decode`]: request body bytes → raw records, one decoder per format.
//! - [`normalize`]: raw record → normalized record (ts, level, msg, …).
//! - [`pii`]: masking of emails/IPs and Fernet encryption of sensitive fields.
//! - [`encode`]: normalized record → one compact NDJSON line.
//! - [`sink`]: where batches go ([`sink::Sink`]): the daily-file writer with
//!   group commit, or the discard sink.
//! - [`chain`]: tamper evidence — signed Merkle checkpoints beside each day
//!   file, their verifier and inclusion proofs.
//! - [`housekeeping`]: retention (delete or zip), shared with the `housekeeping` CLI.
//! - [`forward`]: the day files forwarded to a shared store (ClickHouse), at least once.
//! - [`metrics`]: Prometheus metrics and the label-cardinality cap.
//! - [`status`]: per-second activity of the last 15 minutes (status API, console).
//! - [`dayfile`]: day-file naming and the per-tenant directory layout.
//! - [`quota`]: token buckets for per-key rate limits.
//! - [`schema`]: the shared vocabulary (record, aliases, levels, date-time
//!   grammar, tenants); the leaf every stage may import.
//! - [`secret`]: the redacting wrapper for secrets.
//!
//! Dependencies point down this list (config and app at the top, schema at
//! the bottom); no module imports one above it.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod chain;
pub mod config;
pub mod dayfile;
pub mod decode;
pub mod encode;
pub mod forward;
pub mod housekeeping;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod normalize;
pub mod pii;
pub mod pipeline;
pub mod quota;
pub mod read;
pub mod schema;
pub mod secret;
pub mod sink;
pub mod status;
pub mod syslog;
pub mod watermark;

/// The gateway's version, reported by `/healthz` and `logops_build_info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
