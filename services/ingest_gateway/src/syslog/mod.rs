//! Syslog over TCP and UDP (SPEC §11.5): the way in for rsyslog, syslog-ng,
//! `logger`, network devices and syslog appenders, which speak no HTTP.
//!
//! `LOGOPS_SYSLOG_TCP` / `LOGOPS_SYSLOG_UDP` (addresses; off by default).
//! Messages parse as the text lines of SPEC §2.3 and go, in batches, through
//! the same ingest service as HTTP batches (limits, PII, sink, metrics), as
//! tenant `LOGOPS_SYSLOG_TENANT` with emitter `syslog`. Authentication does
//! not apply: bind the listeners where only trusted senders reach them.
//!
//! - [`framing`]: octet counting or LF per TCP connection, bounded messages.
//! - `tcp`, `udp`: the listeners (TCP backpressure, UDP drops counted).
//! - `batcher`: messages → batches → the ingest service, retried until stored.

pub mod framing;

mod batcher;
mod tcp;
mod udp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::ingest::IngestService;
use crate::metrics::Metrics;
use crate::schema::Tenant;

pub use batcher::EMITTER;

/// Default `LOGOPS_SYSLOG_MAX_MESSAGE` (bytes; longer messages are truncated and counted).
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024;
/// Default `LOGOPS_SYSLOG_BATCH` (messages per batch).
pub const DEFAULT_BATCH: usize = 1000;
/// Default `LOGOPS_SYSLOG_FLUSH_MS`.
pub const DEFAULT_FLUSH_MS: u64 = 200;
/// Default `LOGOPS_SYSLOG_MAX_CONNECTIONS`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default `LOGOPS_SYSLOG_IDLE_TIMEOUT_SEC`.
pub const DEFAULT_IDLE_TIMEOUT_SEC: u64 = 300;

/// The syslog section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    /// `LOGOPS_SYSLOG_TCP`.
    pub tcp: Option<SocketAddr>,
    /// `LOGOPS_SYSLOG_UDP`.
    pub udp: Option<SocketAddr>,
    /// `LOGOPS_SYSLOG_MAX_MESSAGE`.
    pub max_message: usize,
    /// `LOGOPS_SYSLOG_BATCH`.
    pub batch: usize,
    /// `LOGOPS_SYSLOG_FLUSH_MS`.
    pub flush: Duration,
    /// `LOGOPS_SYSLOG_TENANT`.
    pub tenant: Tenant,
    /// `LOGOPS_SYSLOG_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// `LOGOPS_SYSLOG_IDLE_TIMEOUT_SEC`.
    pub idle_timeout: Duration,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            tcp: None,
            udp: None,
            max_message: DEFAULT_MAX_MESSAGE,
            batch: DEFAULT_BATCH,
            flush: Duration::from_millis(DEFAULT_FLUSH_MS),
            tenant: Tenant::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SEC),
        }
    }
}

/// The running listeners and their batchers.
pub struct Listeners {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// The bound addresses, for the log line (and tests binding port 0).
    pub addrs: Vec<(&'static str, SocketAddr)>,
}

impl Listeners {
    /// Binds and starts the configured listeners (none: an empty set).
    ///
    /// # Errors
    /// An address cannot be bound (the message names the key).
    pub async fn start(
        config: &SyslogConfig,
        ingest: Arc<IngestService>,
        metrics: Arc<Metrics>,
    ) -> Result<Listeners, String> {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut addrs = Vec::new();
        let batcher = |listener: &'static str| batcher::Batcher {
            ingest: Arc::clone(&ingest),
            metrics: Arc::clone(&metrics),
            listener,
            tenant: config.tenant.clone(),
            max_messages: config.batch,
            flush: config.flush,
        };
        // A few batches in flight per listener, then backpressure: TCP chunks
        // hold up to a read's messages (~64 KiB), UDP chunks one datagram.
        let tcp_queue = 64;
        let udp_queue = config.batch.saturating_mul(4).max(64);
        if let Some(addr) = config.tcp {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (LOGOPS_SYSLOG_TCP): {e}"))?;
            addrs.push(("tcp", listener.local_addr().map_err(|e| e.to_string())?));
            let (tx, rx) = mpsc::channel(tcp_queue);
            tasks.spawn(batcher("tcp").run(rx));
            let shared = tcp::Shared {
                tx,
                metrics: Arc::clone(&metrics),
                max_message: config.max_message,
                idle: config.idle_timeout,
            };
            tasks.spawn(tcp::serve(
                listener,
                shared,
                config.max_connections,
                stopped.clone(),
            ));
        }
        if let Some(addr) = config.udp {
            let socket = tokio::net::UdpSocket::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (LOGOPS_SYSLOG_UDP): {e}"))?;
            addrs.push(("udp", socket.local_addr().map_err(|e| e.to_string())?));
            let (tx, rx) = mpsc::channel(udp_queue);
            tasks.spawn(batcher("udp").run(rx));
            tasks.spawn(udp::serve(
                socket,
                tx,
                Arc::clone(&metrics),
                config.max_message,
                stopped,
            ));
        }
        Ok(Listeners { stop, tasks, addrs })
    }

    /// Stops reading, stores what was read, and returns when the batchers are done.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}
