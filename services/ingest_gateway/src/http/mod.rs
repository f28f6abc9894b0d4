//! The HTTP server: accept loop, connection limit, graceful shutdown.
//!
//! hyper 1.x through hyper-util's auto builder (HTTP/1.1 keep-alive and
//! HTTP/2). A semaphore caps concurrent connections (`LOGOPS_MAX_CONNECTIONS`);
//! the HTTP/1 header read timeout is enforced with the tokio timer (slowloris).
//! [`serve`] runs until `shutdown` resolves, then stops accepting and waits up
//! to `LOGOPS_SHUTDOWN_TIMEOUT_SEC` for in-flight requests to finish.

mod batch;
pub mod body;
pub mod error;
mod files;
mod loki;
mod loki_meta;
mod loki_tail;
mod proof;
mod protocols;
mod read;
mod routes;
pub mod status;
pub mod stream;
mod tail;
pub mod tls;
mod ui;

pub use files::LineCache;
pub use status::ConsoleState;
pub use tail::Tails;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::ingest::IngestService;
use crate::metrics::Metrics;
use crate::read::source::Store;
use crate::read::ReadConfig;

/// Default `LOGOPS_LISTEN`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default `LOGOPS_MAX_CONNECTIONS`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default `LOGOPS_READ_TIMEOUT_MS`.
pub const DEFAULT_READ_TIMEOUT_MS: u64 = 30_000;
/// Default `LOGOPS_SHUTDOWN_TIMEOUT_SEC`.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SEC: u64 = 10;

/// The server section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `LOGOPS_LISTEN`: address to bind.
    pub listen: SocketAddr,
    /// `LOGOPS_MAX_CONNECTIONS`: concurrent connections accepted.
    pub max_connections: usize,
    /// `LOGOPS_READ_TIMEOUT_MS`: header and body read timeout.
    pub read_timeout: Duration,
    /// `LOGOPS_SHUTDOWN_TIMEOUT_SEC`: how long graceful shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// `LOGOPS_UI`: serve the web console at `/ui/`.
    pub ui: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_timeout: Duration::from_millis(DEFAULT_READ_TIMEOUT_MS),
            shutdown_timeout: Duration::from_secs(DEFAULT_SHUTDOWN_TIMEOUT_SEC),
            ui: true,
        }
    }
}

/// Everything a request handler needs, shared by all connections.
#[derive(Debug)]
pub struct AppState {
    /// The server section of the configuration.
    pub server: ServerConfig,
    /// Who may do what.
    pub auth: Arc<Auth>,
    /// HTTPS, when `LOGOPS_TLS_CERT` and `LOGOPS_TLS_KEY` are set.
    pub tls: Option<Arc<tls::Tls>>,
    /// The way into the pipeline and the sink (shared with the syslog listeners).
    pub ingest: Arc<IngestService>,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// What was stored, for reads.
    pub store: Arc<Store>,
    /// Read limits.
    pub read: ReadConfig,
    /// Open live tails per tenant.
    pub tails: Tails,
    /// The status API and the web console.
    pub console: ConsoleState,
    /// The forwarders (none unless `LOGOPS_FORWARD` is set).
    pub forward: Arc<crate::forward::Forwarders>,
}

/// Serves `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let limit = Arc::new(Semaphore::new(state.server.max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.server.read_timeout)
        .max_buf_size(64 * 1024);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&limit).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    handle_accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (st, builder, watcher) = (Arc::clone(&state), Arc::clone(&builder), graceful.watcher());
        let acceptor = state
            .tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.current()));
        tokio::spawn(async move {
            match acceptor {
                None => serve_conn(&builder, watcher, TokioIo::new(stream), st, None).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(st.server.read_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(tls)) => {
                            let cn = tls::peer_common_name(tls.get_ref().1).map(Arc::<str>::from);
                            serve_conn(&builder, watcher, TokioIo::new(tls), st, cn).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(state.server.shutdown_timeout) => {
            tracing::warn!(timeout_s = state.server.shutdown_timeout.as_secs(), "shutdown timeout: closing remaining connections");
        }
    }
}

/// Serves one connection (plain or TLS) until it ends or shutdown drains it.
async fn serve_conn<I>(
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    io: TokioIo<I>,
    state: Arc<AppState>,
    peer_cn: Option<Arc<str>>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let (st, peer) = (Arc::clone(&state), peer_cn.clone());
        async move { Ok::<_, Infallible>(dispatch(req, &st, peer.as_deref()).await) }
    });
    let conn = builder.serve_connection_with_upgrades(io, svc);
    if let Err(e) = watcher.watch(conn.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Read routes stream their answers; every other route answers whole.
async fn dispatch(
    req: hyper::Request<hyper::body::Incoming>,
    state: &Arc<AppState>,
    peer_cn: Option<&str>,
) -> hyper::Response<stream::Body> {
    use http_body_util::BodyExt;
    if let Some(resp) = ui::route(&req, state, peer_cn).await {
        return resp;
    }
    let path = req.uri().path();
    let get = req.method() == hyper::Method::GET
        || req.method() == hyper::Method::POST && path.starts_with("/loki/api/v1/query");
    if req.method() == hyper::Method::GET && path == "/loki/api/v1/tail" {
        return loki_tail::tail(req, state, peer_cn).unwrap_or_else(loki::error);
    }
    if get && loki::is_route(path) {
        return loki::handle(req, state, peer_cn).await;
    }
    if req.method() == hyper::Method::GET {
        let answer = match path {
            "/v1/query" => Some(read::query(&req, state, peer_cn)),
            "/v1/stats" => Some(read::stats(&req, state, peer_cn).await),
            "/v1/tail" => Some(tail::tail(&req, state, peer_cn)),
            "/v1/proof" => Some(proof::proof(&req, state, peer_cn).await),
            _ => None,
        };
        if let Some(a) = answer {
            return a.unwrap_or_else(|e| {
                let (parts, body) = e.into_response().into_parts();
                hyper::Response::from_parts(parts, body.boxed())
            });
        }
    }
    let (parts, body) = routes::handle(req, state, peer_cn).await.into_parts();
    hyper::Response::from_parts(parts, body.boxed())
}

/// Connection-level accept errors are expected; anything else (EMFILE) backs off.
async fn handle_accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; backing off 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
