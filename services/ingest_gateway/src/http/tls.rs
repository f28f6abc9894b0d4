//! HTTPS (SPEC §8): `LOGOPS_TLS_CERT` + `LOGOPS_TLS_KEY` (PEM) serve TLS 1.2+
//! only, ALPN `h2` and `http/1.1`, with rustls (ring provider). With
//! `LOGOPS_TLS_CLIENT_CA` every client must present a certificate signed by
//! that CA; its subject CN is offered to authentication as a key id.
//!
//! The files are read and checked when the configuration loads (an invalid
//! certificate or key refuses start-up) and again on `SIGHUP`
//! ([`Tls::reload`]); a reload that fails keeps the configuration in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// The TLS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `LOGOPS_TLS_CERT`: certificate chain, PEM.
    pub cert: PathBuf,
    /// `LOGOPS_TLS_KEY`: private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// `LOGOPS_TLS_CLIENT_CA`: CA whose client certificates are required, PEM.
    pub client_ca: Option<PathBuf>,
}

/// Why the TLS files cannot be used. Names the file, never key material.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct TlsError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// The TLS configuration in force, swappable on reload.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError {
        path: path.to_path_buf(),
        reason: format!("cannot read: {e}"),
    })
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut pem.as_slice()).collect();
    let certs = certs.map_err(|e| TlsError {
        path: path.to_path_buf(),
        reason: format!("bad PEM: {e}"),
    })?;
    if certs.is_empty() {
        return Err(TlsError {
            path: path.to_path_buf(),
            reason: "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        });
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError {
            path: path.to_path_buf(),
            reason: "no PEM private key (PKCS#8, PKCS#1 or SEC1) in it".into(),
        })
}

/// Builds the rustls server configuration from the files.
///
/// # Errors
/// [`TlsError`] naming the file.
pub fn build(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError {
            path: files.cert.clone(),
            reason: e.to_string(),
        })?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certs(ca)? {
                roots.add(c).map_err(|e| TlsError {
                    path: ca.clone(),
                    reason: format!("not a usable CA certificate: {e}"),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError {
                    path: ca.clone(),
                    reason: e.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs(&files.cert)?, key(&files.key)?)
        .map_err(|e| TlsError {
            path: files.key.clone(),
            reason: format!("certificate and key do not form a usable pair: {e}"),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl Tls {
    /// Reads and checks the files.
    ///
    /// # Errors
    /// [`TlsError`] naming the file.
    pub fn new(files: TlsFiles) -> Result<Tls, TlsError> {
        let current = RwLock::new(build(&files)?);
        Ok(Tls { files, current })
    }

    /// The configuration for the next handshake.
    pub fn current(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Re-reads the files; on error the configuration in force stays.
    ///
    /// # Errors
    /// [`TlsError`].
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = build(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// Are client certificates required?
    pub fn client_auth(&self) -> bool {
        self.files.client_ca.is_some()
    }
}

/// The subject CN of the client's certificate, if it sent one.
pub fn peer_common_name(conn: &rustls::ServerConnection) -> Option<String> {
    let cert = conn.peer_certificates()?.first()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_string)
}
