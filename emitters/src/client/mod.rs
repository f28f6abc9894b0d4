//! The HTTP side: one keep-alive client, built once, posting bodies to the
//! gateway with the emitter's headers and credentials.
//!
//! Uses hyper-util's pooled client over HTTP/1.1 with `TCP_NODELAY` (and TLS
//! for `https://`, see `tls`); the pool keeps up to `pool` idle connections,
//! so `C` tasks in flight reuse `C` connections. Requests carry a precomputed
//! set of headers and a `Full<Bytes>` body, so sending a pre-generated body
//! costs a refcount, not a copy. A [`Payload`] carries the body's SHA-256 when
//! requests are HMAC-signed, so only the signature headers are made per request.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower_service::Service;

use crate::auth::{body_digest, BodyDigest};
use crate::tls::{Connector, HandshakeError};

mod target;

pub use self::target::{Target, TargetError};

/// Longest `Retry-After` honoured, in seconds.
pub const MAX_RETRY_AFTER_SECS: u64 = 60;

/// Why a request got no HTTP response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The TCP connection could not be made (refused, unreachable, DNS, timeout).
    #[error("cannot reach {url}: {cause}")]
    Unreachable {
        /// The gateway URL.
        url: String,
        /// Short cause, e.g. `connection refused`.
        cause: String,
    },
    /// The TLS handshake failed (untrusted certificate, wrong name, ...).
    #[error("TLS with {url} failed: {cause}")]
    Tls {
        /// The gateway URL.
        url: String,
        /// What rustls said.
        cause: String,
    },
    /// No complete response within the request timeout.
    #[error("request to {url} timed out after {secs} s")]
    Timeout {
        /// The gateway URL.
        url: String,
        /// The timeout in seconds.
        secs: u64,
    },
    /// The connection broke during the exchange.
    #[error("request to {url} failed: {cause}")]
    Io {
        /// The gateway URL.
        url: String,
        /// What went wrong.
        cause: String,
    },
}

/// A body ready to send: the bytes and, when requests are signed, their digest.
#[derive(Debug, Clone)]
pub struct Payload {
    body: Bytes,
    digest: Option<BodyDigest>,
}

impl Payload {
    /// The body bytes.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// A gateway answer: status, `Retry-After` and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// The `Retry-After` header as whole seconds (capped at
    /// [`MAX_RETRY_AFTER_SECS`]); `None` when absent or not an integer.
    pub retry_after: Option<Duration>,
    /// Response body.
    pub body: Bytes,
}

/// Parses a `Retry-After` value of whole seconds (`"3"`), capped at
/// [`MAX_RETRY_AFTER_SECS`]; `None` for anything else (HTTP dates included).
pub fn parse_retry_after(value: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = text.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs.min(MAX_RETRY_AFTER_SECS)))
}

/// A pooled keep-alive client bound to one [`Target`]. Cheap to clone.
#[derive(Clone)]
pub struct Sender {
    client: Client<Connector, Full<Bytes>>,
    connector: Connector,
    target: Arc<Target>,
    timeout: Duration,
}

impl Sender {
    /// Builds the client once, keeping up to `pool` idle connections.
    pub fn new(target: Target, pool: usize, timeout: Duration) -> Self {
        let connector = Connector::new(target.tls.clone(), timeout.min(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(pool.max(1))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            .build(connector.clone());
        Sender {
            client,
            connector,
            target: Arc::new(target),
            timeout,
        }
    }

    /// The target this sender posts to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Wraps `body` for sending, hashing it once when requests are signed.
    pub fn prepare(&self, body: Bytes) -> Payload {
        let digest = self.target.signer.signs().then(|| body_digest(&body));
        Payload { body, digest }
    }

    /// One connection (TCP, plus the TLS handshake for https) to the gateway,
    /// so an unreachable gateway or an untrusted certificate is one clear
    /// error before a long run.
    ///
    /// # Errors
    /// [`SendError::Unreachable`], [`SendError::Tls`] or [`SendError::Timeout`].
    pub async fn preflight(&self) -> Result<(), SendError> {
        let mut connector = self.connector.clone();
        let connect = connector.call(self.target.uri.clone());
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.classify(&*e, true)),
            Err(_) => Err(SendError::Unreachable {
                url: self.target.url.clone(),
                cause: "connect timed out".into(),
            }),
        }
    }

    /// Prepares and POSTs `body` once (see [`Sender::send_payload`]).
    ///
    /// # Errors
    /// [`SendError`] when no complete HTTP response arrived.
    pub async fn send(&self, body: Bytes) -> Result<Reply, SendError> {
        self.send_payload(&self.prepare(body)).await
    }

    /// POSTs a prepared body (signed afresh when in HMAC mode) and reads the
    /// whole response.
    ///
    /// # Errors
    /// [`SendError`] when no complete HTTP response arrived.
    pub async fn send_payload(&self, payload: &Payload) -> Result<Reply, SendError> {
        let t = &*self.target;
        let mut req = Request::post(t.uri.clone())
            .body(Full::new(payload.body.clone()))
            .expect("valid request parts");
        let headers = req.headers_mut();
        headers.insert(CONTENT_TYPE, t.content_type.clone());
        headers.insert("x-emitter", t.emitter.clone());
        if let Some(s) = &t.scenario {
            headers.insert("x-scenario-id", s.clone());
        }
        t.signer.apply(headers, payload.digest.as_ref());
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| self.classify(&e, e.is_connect()))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| parse_retry_after(v.as_bytes()));
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| self.classify(&e, false))?
                .to_bytes();
            Ok(Reply {
                status,
                retry_after,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Timeout {
                url: t.url.clone(),
                secs: self.timeout.as_secs(),
            }),
        }
    }

    fn classify(&self, err: &(dyn StdError + 'static), connect: bool) -> SendError {
        let url = self.target.url.clone();
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(h) = e.downcast_ref::<HandshakeError>() {
                let cause = h.cause.clone();
                return SendError::Tls { url, cause };
            }
            cur = e.source();
        }
        let cause = root_cause(err);
        if connect {
            SendError::Unreachable { url, cause }
        } else {
            SendError::Io { url, cause }
        }
    }
}

/// A short, lower-case description of the innermost cause of `err`.
pub fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut cur: &(dyn StdError + 'static) = err;
    let mut io_kind = None;
    loop {
        if let Some(e) = cur.downcast_ref::<io::Error>() {
            io_kind = Some(e.kind());
        }
        match cur.source() {
            Some(next) => cur = next,
            None => break,
        }
    }
    match io_kind {
        Some(io::ErrorKind::ConnectionRefused) => "connection refused".into(),
        Some(io::ErrorKind::ConnectionReset) => "connection reset by peer".into(),
        Some(io::ErrorKind::ConnectionAborted) => "connection aborted".into(),
        Some(io::ErrorKind::TimedOut) => "connect timed out".into(),
        Some(io::ErrorKind::AddrNotAvailable) => "address not available".into(),
        _ => {
            let text = cur.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut c = text.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => "unknown error".into(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_capped() {
        let secs = |v: &[u8]| parse_retry_after(v).map(|d| d.as_secs());
        assert_eq!(secs(b"1"), Some(1));
        assert_eq!(secs(b" 7 "), Some(7));
        assert_eq!(secs(b"0"), Some(0));
        assert_eq!(secs(b"3600"), Some(MAX_RETRY_AFTER_SECS));
        assert_eq!(secs(b"99999999999999999999999"), Some(MAX_RETRY_AFTER_SECS));
        assert_eq!(secs(b""), None);
        assert_eq!(secs(b"-1"), None);
        assert_eq!(secs(b"1.5"), None);
        assert_eq!(secs(b"Wed, 21 Oct 2026 07:28:00 GMT"), None);
        assert_eq!(secs(b"\xff"), None);
    }

    #[test]
    fn root_cause_names_refusal() {
        let inner = io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        );
        assert_eq!(root_cause(&inner), "connection refused");
        let other = io::Error::other("Broken pipe (os error 32)");
        assert_eq!(root_cause(&other), "broken pipe");
    }

    #[tokio::test]
    async fn unreachable_gateway_is_named() {
        // Bind then drop a listener to get a loopback port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/v1/logs");
        let t = Target::new(&url, "application/json", "emit_json", None).unwrap();
        let err = Sender::new(t, 1, Duration::from_secs(5))
            .send(Bytes::from_static(b"[]"))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot reach {url}: connection refused")
        );
    }
}
