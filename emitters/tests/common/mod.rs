//! A tiny scripted gateway for the emitter tests: answers the n-th request
//! with the n-th scripted status (then 200), over plain TCP or TLS, and keeps
//! every request it saw (arrival time, headers, path, body, ALPN).

#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub alpn: Option<Vec<u8>>,
}

/// A running server.
pub struct Server {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A scripted answer: status and optional `Retry-After` value.
pub type Answer = (u16, Option<&'static str>);

/// Starts the server on a loopback port; `tls` makes it HTTPS.
pub async fn serve(script: Vec<Answer>, tls: Option<TlsAcceptor>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (log, script, tls) = (log.clone(), script.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    None => connection(TokioIo::new(tcp), None, log, script).await,
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return; // e.g. the client refused our certificate
                        };
                        let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                        connection(TokioIo::new(stream), alpn, log, script).await;
                    }
                }
            });
        }
    });
    Server { port, seen }
}

async fn connection<I>(
    io: I,
    alpn: Option<Vec<u8>>,
    log: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Vec<Answer>>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let (log, script, alpn) = (log.clone(), script.clone(), alpn.clone());
        async move {
            let at = Instant::now();
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let n = {
                let mut log = log.lock().unwrap();
                log.push(Seen {
                    at,
                    path_and_query: parts
                        .uri
                        .path_and_query()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    headers: parts.headers,
                    body,
                    alpn,
                });
                log.len() - 1
            };
            let (status, retry_after) = script.get(n).copied().unwrap_or((200, None));
            let text = if status == 200 {
                r#"{"accepted":0}"#
            } else {
                r#"{"error":"rate_limited"}"#
            };
            let mut resp = Response::builder()
                .status(status)
                .header("content-type", "application/json");
            if let Some(v) = retry_after {
                resp = resp.header("retry-after", v);
            }
            Ok::<_, Infallible>(
                resp.body(Full::new(Bytes::from_static(text.as_bytes())))
                    .unwrap(),
            )
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// The emitter binaries' common environment: no inherited LogOps settings.
pub fn command(bin: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(bin);
    for key in [
        "LOGOPS_URL",
        "LOGOPS_API_KEY",
        "LOGOPS_SECRET",
        "LOGOPS_AUTH",
    ] {
        c.env_remove(key);
    }
    c
}
