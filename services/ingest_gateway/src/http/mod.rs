//! The HTTP server: accept loop, connection limit, graceful shutdown.
//!
//! hyper 1.x through hyper-util's auto builder (HTTP/1.1 keep-alive and
//! HTTP/2). A semaphore caps concurrent connections (`LOGOPS_MAX_CONNECTIONS`);
//! the HTTP/1 header read timeout is enforced with the tokio timer (slowloris).
//! [`serve`] runs until `shutdown` resolves, then stops accepting and waits up
//! to `LOGOPS_SHUTDOWN_TIMEOUT_SEC` for in-flight requests to finish.

pub mod body;
pub mod error;
mod routes;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::sink::Sink;

/// Everything a request handler needs, shared by all connections.
#[derive(Debug)]
pub struct AppState {
    /// The validated configuration.
    pub config: Config,
    /// The decode → encode stages.
    pub pipeline: Pipeline,
    /// The file sink.
    pub sink: Sink,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
}

/// Serves `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let limit = Arc::new(Semaphore::new(state.config.max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.read_timeout)
        .max_buf_size(64 * 1024);
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
        let st = Arc::clone(&state);
        let svc = service_fn(move |req| {
            let st = Arc::clone(&st);
            async move { Ok::<_, Infallible>(routes::handle(req, &st).await) }
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
        let watched = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(state.config.shutdown_timeout) => {
            tracing::warn!(timeout_s = state.config.shutdown_timeout.as_secs(), "shutdown timeout: closing remaining connections");
        }
    }
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
