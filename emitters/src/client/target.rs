//! The request target: a validated `--url`, the fixed headers
//! (`Content-Type`, `X-Emitter`, `X-Scenario-Id`), the credentials' header
//! builder and, for `https://`, the TLS client configuration from `--ca`.

use std::path::Path;
use std::sync::Arc;

use hyper::header::HeaderValue;
use hyper::Uri;

use crate::auth::{AuthError, Credentials, Signer};
use crate::protocol::Protocol;
use crate::tls::TlsError;

/// A bad `--url` or header value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not an absolute `http(s)://host[:port]/path` URL.
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

/// Where and how to post: URL, content type, the `X-Emitter`/`X-Scenario-Id`
/// headers, the credentials and (for https) the TLS configuration.
#[derive(Debug, Clone)]
pub struct Target {
    pub(super) uri: Uri,
    pub(super) url: String,
    pub(super) content_type: HeaderValue,
    pub(super) emitter: HeaderValue,
    pub(super) scenario: Option<HeaderValue>,
    pub(super) signer: Signer,
    pub(super) tls: Option<Arc<rustls::ClientConfig>>,
    pub(super) protocol: Protocol,
}

impl Target {
    /// Validates the URL (`http://` or `https://`) and header values; no
    /// credentials until [`Target::with_auth`], and an https target needs
    /// [`Target::with_ca`].
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
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(bad("expected http(s)://host[:port]/path"));
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
            signer: Signer::None,
            tls: None,
            protocol: Protocol::Native,
        })
    }

    /// Posts `protocol`'s bodies: its path replaces the URL's (the query is
    /// kept; the content type given to [`Target::new`] is already the
    /// protocol's, see `protocol::Reencode`). Call before
    /// [`Target::with_auth`], which signs the path.
    ///
    /// # Errors
    /// [`TargetError::Url`] when the new URL does not parse (it always should).
    pub fn with_protocol(mut self, protocol: Protocol) -> Result<Self, TargetError> {
        self.protocol = protocol;
        let Some(path) = protocol.path() else {
            return Ok(self);
        };
        let query = self
            .uri
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let mut parts = self.uri.clone().into_parts();
        parts.path_and_query = Some(format!("{path}{query}").parse().map_err(
            |e: hyper::http::uri::InvalidUri| TargetError::Url {
                url: self.url.clone(),
                reason: e.to_string(),
            },
        )?);
        self.uri = Uri::from_parts(parts).map_err(|e| TargetError::Url {
            url: self.url.clone(),
            reason: e.to_string(),
        })?;
        self.url = self.uri.to_string();
        Ok(self)
    }

    /// The protocol the target speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Sends with these credentials (HMAC signs the URL's path, without query).
    ///
    /// # Errors
    /// [`AuthError`] when the key id or secret cannot go into a header.
    pub fn with_auth(mut self, creds: &Credentials) -> Result<Self, AuthError> {
        self.signer = Signer::new(creds, self.uri.path())?;
        Ok(self)
    }

    /// Trusts the CA certificates of `ca` for an https URL.
    ///
    /// # Errors
    /// [`TlsError`] for an https URL without `ca`, `ca` with an http URL, or a
    /// CA file that cannot be read or holds no certificate.
    pub fn with_ca(mut self, ca: Option<&Path>) -> Result<Self, TlsError> {
        let url = self.url.clone();
        self.tls = match (self.is_https(), ca) {
            (true, Some(path)) => Some(crate::tls::client_config(path)?),
            (true, None) => return Err(TlsError::NeedsCa { url }),
            (false, Some(_)) => return Err(TlsError::CaWithoutHttps { url }),
            (false, None) => None,
        };
        Ok(self)
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True for an `https://` URL.
    pub fn is_https(&self) -> bool {
        self.uri.scheme_str() == Some("https")
    }

    /// `host:port` to connect to (port 80, or 443 for https, when the URL has none).
    pub fn authority(&self) -> String {
        let host = self.uri.host().unwrap_or_default();
        let default = if self.is_https() { 443 } else { 80 };
        format!("{host}:{}", self.uri.port_u16().unwrap_or(default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Secret;

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
        assert!(Target::new("127.0.0.1:8080/v1/logs", "text/csv", "e", None).is_err());
        assert!(Target::new("ftp://x/v1/logs", "text/csv", "e", None).is_err());
        assert!(Target::new("not a url", "text/csv", "e", None).is_err());
        let e = Target::new("http://x/", "text/csv", "bad\nname", None).unwrap_err();
        assert!(e.to_string().contains("--emitter"), "{e}");
    }

    #[test]
    fn a_protocol_posts_to_its_path() {
        let t = Target::new("http://x:9/v1/logs?debug=1", "application/json", "e", None)
            .unwrap()
            .with_protocol(Protocol::LokiProto)
            .unwrap();
        assert_eq!(t.url(), "http://x:9/loki/api/v1/push?debug=1");
        assert_eq!(t.protocol(), Protocol::LokiProto);
        let native = Target::new("http://x:9/ingest", "text/csv", "e", None)
            .unwrap()
            .with_protocol(Protocol::Native)
            .unwrap();
        assert_eq!(
            (native.url(), native.content_type.to_str().unwrap()),
            ("http://x:9/ingest", "text/csv")
        );
    }

    #[test]
    fn https_needs_a_ca_and_http_refuses_one() {
        let t = Target::new("https://x/v1/logs", "text/csv", "e", None).unwrap();
        assert!(t.is_https());
        assert_eq!(t.authority(), "x:443");
        let e = t.with_ca(None).unwrap_err().to_string();
        assert!(e.contains("--ca FILE"), "{e}");
        let plain = Target::new("http://x/v1/logs", "text/csv", "e", None).unwrap();
        let e = plain
            .with_ca(Some(Path::new("ca.pem")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("only applies to https"), "{e}");
    }

    #[test]
    fn auth_signs_the_path_without_query() {
        let creds = Credentials::Hmac {
            id: "demo-pub-1".into(),
            secret: Secret::new("demo-priv-1"),
        };
        let t = Target::new("http://x/v1/logs?debug=1", "text/csv", "e", None)
            .unwrap()
            .with_auth(&creds)
            .unwrap();
        let Signer::Hmac { prefix, .. } = &t.signer else {
            panic!("hmac expected");
        };
        assert_eq!(&prefix[..], b"POST\n/v1/logs\n");
        assert!(!format!("{t:?}").contains("demo-priv-1"));
    }
}
