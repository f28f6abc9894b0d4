//! The ingest service: the one way into the pipeline and the sink.
//!
//! Every protocol front end (HTTP routes today; OTLP protobuf, Loki push,
//! Elasticsearch bulk, Splunk HEC and syslog sockets later) parses its own
//! framing into a [`Request`] and calls [`IngestService::ingest`]. The service
//! owns what must be the same for all of them:
//! - admission ([`IngestService::admit`]): a semaphore of
//!   `LOGOPS_MAX_INFLIGHT` permits, taken before the body is read, so overload
//!   sheds with a 503 instead of queueing;
//! - the receive time (which also picks the day file);
//! - the inline-or-blocking choice: small bodies run on the reactor, big and
//!   compressed ones on the blocking pool;
//! - the call into the pipeline and the append to the sink, and the
//!   accepted-batch metrics.
//!
//! Front ends only parse their protocol and map [`IngestError`] to their own
//! answer.

pub mod encoding;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::decode::{DecodeError, Format};
use crate::metrics::Metrics;
use crate::normalize::{timestamp, BatchContext};
use crate::pii::PiiConfig;
use crate::pipeline::{Encoded, Pipeline};
use crate::quota::{Quota, Refusal};
use crate::schema::{SourceStats, Tenant};
use crate::sink::{Batch, Sink, SinkError};
pub use encoding::Encoding;

/// Default `LOGOPS_MAX_BODY_BYTES`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Default `LOGOPS_MAX_RECORDS`.
pub const DEFAULT_MAX_RECORDS: usize = 100_000;
/// Default `LOGOPS_MAX_INFLIGHT`.
pub const DEFAULT_MAX_INFLIGHT: usize = 64;
/// Default `LOGOPS_DEBUG_SAMPLE_SIZE`.
pub const DEFAULT_DEBUG_SAMPLE_SIZE: usize = 5;

/// Bodies larger than this are processed on a blocking thread, not the reactor.
const INLINE_BODY_BYTES: usize = 256 * 1024;
/// Compressed bodies larger than this are decoded on a blocking thread too.
const INLINE_ENCODED_BYTES: usize = 4 * 1024;

/// The limits section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `LOGOPS_MAX_BODY_BYTES`: raw and decompressed body limit.
    pub max_body_bytes: usize,
    /// `LOGOPS_MAX_RECORDS`: records per batch.
    pub max_records: usize,
    /// `LOGOPS_MAX_INFLIGHT`: ingest requests processed at once; beyond → 503.
    pub max_inflight: usize,
    /// `LOGOPS_DEBUG_SAMPLE` + `_SIZE`: stored records echoed in the response (0 = off).
    pub debug_sample: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            max_inflight: DEFAULT_MAX_INFLIGHT,
            debug_sample: 0,
        }
    }
}

/// Why a batch was not accepted. Nothing of it was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The body could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Raw or decompressed body over `LOGOPS_MAX_BODY_BYTES`.
    #[error("body exceeds the limit of {limit} bytes (LOGOPS_MAX_BODY_BYTES)")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A `Content-Encoding` other than gzip/zstd/identity.
    #[error(
        "unsupported content encoding {encoding:?}; supported: {}",
        encoding::SUPPORTED
    )]
    UnsupportedEncoding {
        /// The encoding given.
        encoding: String,
    },
    /// The body is not valid for its declared `Content-Encoding`.
    #[error("body is not valid {encoding}: {detail}")]
    InvalidEncoding {
        /// The declared encoding.
        encoding: &'static str,
        /// Decoder message.
        detail: String,
    },
    /// More ingest requests in progress than `LOGOPS_MAX_INFLIGHT`.
    #[error("too many requests in progress (limit {limit}, LOGOPS_MAX_INFLIGHT); retry later")]
    Overloaded {
        /// The limit.
        limit: usize,
    },
    /// The sink could not take or write the batch.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The sender's rate limit refuses the batch.
    #[error(transparent)]
    Quota(#[from] Refusal),
    /// A bug: the pipeline worker panicked. Answered 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl IngestError {
    /// The error code (also the `reason` label of `logops_rejected_total`).
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Decode(d) => d.code(),
            IngestError::BodyTooLarge { .. } => "body_too_large",
            IngestError::UnsupportedEncoding { .. } => "unsupported_encoding",
            IngestError::InvalidEncoding { .. } => "invalid_encoding",
            IngestError::Overloaded { .. } | IngestError::Sink(SinkError::Overloaded { .. }) => {
                "overloaded"
            }
            IngestError::Sink(SinkError::Unavailable(_)) => "sink_unavailable",
            IngestError::Quota(Refusal::Limited { .. }) => "rate_limited",
            IngestError::Quota(Refusal::ExceedsBurst { .. }) => "batch_exceeds_burst",
            IngestError::Internal(_) => "internal",
        }
    }

    /// Could the body not be parsed (`logops_parse_errors_total`)?
    pub fn is_parse_error(&self) -> bool {
        matches!(self, IngestError::Decode(d) if d.is_parse_error())
    }
}

/// One batch as a front end received it.
#[derive(Debug)]
pub struct Request {
    /// The decoder to use.
    pub format: Format,
    /// The body as received (still compressed when `encodings` is not empty).
    pub body: Bytes,
    /// `Content-Encoding`s to undo, in the order they were applied.
    pub encodings: Vec<Encoding>,
    /// Emitter label for records without their own (`X-Emitter`, or the protocol's name).
    pub emitter: String,
    /// Scenario id for records without their own.
    pub scenario: String,
    /// Whose records these are.
    pub tenant: Tenant,
    /// The sender's rate-limit buckets: the batch's records and bytes are
    /// debited once it is decoded, before anything is written.
    pub quota: Option<Arc<Quota>>,
    /// Fields every record gets when it has none of that name (the index of
    /// an Elasticsearch bulk URL, …).
    pub defaults: Vec<(String, Value)>,
}

/// What the service reports for an accepted batch.
#[derive(Debug)]
pub struct Accepted {
    /// Totals over the batch.
    pub totals: SourceStats,
    /// Receive time, RFC 3339 with milliseconds.
    pub received: String,
    /// The first stored records, when the debug sample is on.
    pub sample: Vec<Value>,
}

/// A permit to process one request; holds one `LOGOPS_MAX_INFLIGHT` slot and
/// the `logops_inflight` gauge until dropped.
#[derive(Debug)]
pub struct Admission {
    _permit: OwnedSemaphorePermit,
    started: Instant,
    metrics: Arc<Metrics>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.metrics.inflight.dec();
    }
}

/// The pipeline, the sink and the admission control, shared by all front ends.
#[derive(Debug)]
pub struct IngestService {
    limits: Limits,
    pipeline: Arc<Pipeline>,
    sink: Arc<dyn Sink>,
    metrics: Arc<Metrics>,
    admission: Arc<Semaphore>,
}

impl IngestService {
    /// Builds the pipeline from the PII section and wires it to `sink`.
    pub fn new(
        limits: Limits,
        pii: &PiiConfig,
        sink: Arc<dyn Sink>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let pipeline = Pipeline::new(pii, limits.max_records, limits.debug_sample);
        IngestService {
            admission: Arc::new(Semaphore::new(limits.max_inflight)),
            limits,
            pipeline: Arc::new(pipeline),
            sink,
            metrics,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The sink batches go to.
    pub fn sink(&self) -> &Arc<dyn Sink> {
        &self.sink
    }

    /// Is PII encryption on?
    pub fn encrypts(&self) -> bool {
        self.pipeline.encrypts()
    }

    /// Takes an in-flight slot, or refuses at once when all are taken.
    ///
    /// # Errors
    /// [`IngestError::Overloaded`].
    pub fn admit(&self) -> Result<Admission, IngestError> {
        let permit = Arc::clone(&self.admission)
            .try_acquire_owned()
            .map_err(|_| IngestError::Overloaded {
                limit: self.limits.max_inflight,
            })?;
        self.metrics.inflight.inc();
        Ok(Admission {
            _permit: permit,
            started: Instant::now(),
            metrics: Arc::clone(&self.metrics),
        })
    }

    /// Decompresses, decodes, normalizes, protects and encodes the batch, and
    /// appends it to the sink. `Ok` only once the batch is stored.
    ///
    /// # Errors
    /// An [`IngestError`]; then nothing of the batch was written.
    pub async fn ingest(
        &self,
        admission: Admission,
        req: Request,
    ) -> Result<Accepted, IngestError> {
        let now = OffsetDateTime::now_utc();
        let received = timestamp::format_millis(now);
        let raw_bytes = req.body.len() as u64;
        let inline = req.body.len()
            <= if req.encodings.is_empty() {
                INLINE_BODY_BYTES
            } else {
                INLINE_ENCODED_BYTES
            };
        let job = Job {
            pipeline: Arc::clone(&self.pipeline),
            max_body_bytes: self.limits.max_body_bytes,
            received: received.clone(),
            year: now.year(),
        };
        let (emitter, scenario, tenant) = (
            req.emitter.clone(),
            req.scenario.clone(),
            req.tenant.clone(),
        );
        let quota = req.quota.clone();
        let tenant_label = tenant.as_str().to_string();
        let mut batch = if inline {
            job.run(req)?
        } else {
            tokio::task::spawn_blocking(move || job.run(req))
                .await
                .map_err(|e| IngestError::Internal(format!("pipeline worker failed: {e}")))??
        };
        if let Some(q) = &quota {
            q.debit(batch.totals.accepted, raw_bytes)?;
        }
        if batch.totals.accepted > 0 {
            let lines = std::mem::take(&mut batch.lines);
            self.sink
                .append(Batch {
                    tenant,
                    day: now.date(),
                    lines,
                })
                .await?;
        }
        self.metrics.batch_accepted(
            &batch.by_source,
            batch.totals.accepted,
            &emitter,
            &scenario,
            tenant_label.as_str(),
            admission.started.elapsed(),
        );
        drop(admission);
        Ok(Accepted {
            totals: batch.totals,
            received,
            sample: batch.sample,
        })
    }
}

/// The synchronous part of one batch, runnable on either kind of thread.
struct Job {
    pipeline: Arc<Pipeline>,
    max_body_bytes: usize,
    received: String,
    year: i32,
}

impl Job {
    fn run(self, req: Request) -> Result<Encoded, IngestError> {
        let body = encoding::decode(req.body, &req.encodings, self.max_body_bytes)?;
        let tenant = (!req.tenant.is_default()).then(|| req.tenant.as_str());
        let ctx = BatchContext {
            emitter: &req.emitter,
            scenario_id: &req.scenario,
            received: &self.received,
            year: self.year,
            tenant,
            defaults: &req.defaults,
        };
        Ok(self.pipeline.run(req.format, &body, &ctx)?)
    }
}
