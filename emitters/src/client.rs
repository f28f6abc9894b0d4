//! The HTTP side: one keep-alive client, built once, posting bodies to the
//! gateway with the emitter's headers.
//!
//! Uses hyper-util's pooled client over HTTP/1.1 with `TCP_NODELAY`; the pool
//! keeps up to `pool` idle connections, so `C` tasks in flight reuse `C`
//! connections. Requests carry a precomputed set of headers and a `Full<Bytes>`
//! body, so sending a pre-generated body costs a refcount, not a copy.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

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

/// A bad `--url` or header value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not an absolute `http://host[:port]/path` URL.
    #[error("invalid --url {url:?}: {reason}")]
    Url {
        /// The given URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header value with characters HTTP does not allow.
    #[error("invalid {flag} value {value:?}: only visible ASCII is allowed in HTTP headers")]
    Header {
        /// The flag that gave it.
        flag: &'static str,
        /// The value.
        value: String,
    },
}

/// Where and how to post: URL, content type and the `X-Emitter`/`X-Scenario-Id` headers.
#[derive(Debug, Clone)]
pub struct Target {
    uri: Uri,
    url: String,
    content_type: HeaderValue,
    emitter: HeaderValue,
    scenario: Option<HeaderValue>,
}

impl Target {
    /// Validates the URL (plain `http://` only) and header values.
    ///
    /// # Errors
    /// [`TargetError`] naming the bad flag.
    pub fn new(
        url: &str,
        content_type: &'static str,
        emitter: &str,
        scenario: Option<&str>,
    ) -> Result<Self, TargetError> {
        let bad = |reason: &str| TargetError::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(bad(
                    "https is not supported; use http:// (e.g. behind a TLS proxy)",
                ))
            }
            _ => return Err(bad("expected http://host[:port]/path")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("no host"));
        }
        let header = |flag: &'static str, v: &str| {
            HeaderValue::from_str(v).map_err(|_| TargetError::Header {
                flag,
                value: v.to_string(),
            })
        };
        Ok(Target {
            uri,
            url: url.to_string(),
            content_type: HeaderValue::from_static(content_type),
            emitter: header("--emitter", emitter)?,
            scenario: scenario.map(|s| header("--scenario-id", s)).transpose()?,
        })
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `host:port` to connect to (port 80 when the URL has none).
    pub fn authority(&self) -> String {
        let host = self.uri.host().unwrap_or_default();
        format!("{host}:{}", self.uri.port_u16().unwrap_or(80))
    }
}

/// A gateway answer: status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Response body.
    pub body: Bytes,
}

/// A pooled keep-alive client bound to one [`Target`]. Cheap to clone.
#[derive(Clone)]
pub struct Sender {
    client: Client<HttpConnector, Full<Bytes>>,
    target: std::sync::Arc<Target>,
    timeout: Duration,
}

impl Sender {
    /// Builds the client once, keeping up to `pool` idle connections.
    pub fn new(target: Target, pool: usize, timeout: Duration) -> Self {
        let mut conn = HttpConnector::new();
        conn.set_nodelay(true);
        conn.set_connect_timeout(Some(timeout.min(Duration::from_secs(5))));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(pool.max(1))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            .build(conn);
        Sender {
            client,
            target: std::sync::Arc::new(target),
            timeout,
        }
    }

    /// The target this sender posts to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// POSTs `body` and reads the whole response.
    ///
    /// # Errors
    /// [`SendError`] when no complete HTTP response arrived.
    pub async fn send(&self, body: Bytes) -> Result<Reply, SendError> {
        let t = &*self.target;
        let mut req = Request::post(t.uri.clone())
            .body(Full::new(body))
            .expect("valid request parts");
        let headers = req.headers_mut();
        headers.insert(CONTENT_TYPE, t.content_type.clone());
        headers.insert("x-emitter", t.emitter.clone());
        if let Some(s) = &t.scenario {
            headers.insert("x-scenario-id", s.clone());
        }
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| self.classify(&e, e.is_connect()))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| self.classify(&e, false))?
                .to_bytes();
            Ok(Reply { status, body })
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
    fn target_validates_url_and_headers() {
        let t = Target::new(
            "http://127.0.0.1:9/v1/logs",
            "text/csv",
            "emit_csv",
            Some("s1"),
        )
        .unwrap();
        assert_eq!(t.authority(), "127.0.0.1:9");
        assert_eq!(
            Target::new("http://localhost/v1/logs", "text/csv", "e", None)
                .unwrap()
                .authority(),
            "localhost:80"
        );
        let e = Target::new("https://x/v1/logs", "text/csv", "e", None).unwrap_err();
        assert!(e.to_string().contains("https is not supported"), "{e}");
        assert!(Target::new("127.0.0.1:8080/v1/logs", "text/csv", "e", None).is_err());
        assert!(Target::new("not a url", "text/csv", "e", None).is_err());
        let e = Target::new("http://x/", "text/csv", "bad\nname", None).unwrap_err();
        assert!(e.to_string().contains("--emitter"), "{e}");
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
