//! Reading what was stored (SPEC §9): LogQL-subset queries, metric queries
//! and live tails over the day files and their zip archives — never over
//! memory, so a read sees exactly what was acknowledged, and never
//! decrypting (tokens are returned as stored).
//!
//! - [`logql`]: the language (parse, print).
//! - [`line`]: a stored line's `ts` and top-level fields without a JSON parse.
//! - [`filter`]: a log query compiled into prefilters and checks.
//! - [`source`]: a tenant's day files and archives, read up to the
//!   acknowledged length (`lines` splits them, `index` is the in-memory
//!   sparse index per file).
//! - [`query`], [`metric`]: log and metric queries.
//! - [`tail`]: following the files as they grow.
//! - [`timearg`]: `start`/`end`/`step` parameters.
//!
//! Access control is the HTTP layer's: it resolves the tenant a request may
//! read and hands it here; nothing in this module can widen it.

pub mod filter;
mod index;
pub mod line;
mod lines;
pub mod logql;
pub mod metric;
pub mod query;
pub mod source;
pub mod tail;
pub mod timearg;

/// Default `LOGOPS_QUERY_MAX_BYTES`: most bytes of lines one query returns.
pub const DEFAULT_QUERY_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default `LOGOPS_QUERY_MAX_LIMIT`: the largest `limit` accepted.
pub const DEFAULT_QUERY_MAX_LIMIT: usize = 5000;
/// Default `LOGOPS_MAX_TAILS`: concurrent tails per tenant.
pub const DEFAULT_MAX_TAILS: usize = 32;

/// The read section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadConfig {
    /// `LOGOPS_QUERY_MAX_BYTES`.
    pub max_bytes: u64,
    /// `LOGOPS_QUERY_MAX_LIMIT`.
    pub max_limit: usize,
    /// `LOGOPS_MAX_TAILS`.
    pub max_tails: usize,
}

impl Default for ReadConfig {
    fn default() -> Self {
        ReadConfig {
            max_bytes: DEFAULT_QUERY_MAX_BYTES,
            max_limit: DEFAULT_QUERY_MAX_LIMIT,
            max_tails: DEFAULT_MAX_TAILS,
        }
    }
}
