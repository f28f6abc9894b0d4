//! HTTPS against a TLS server of the test's own: a CA and a `localhost` /
//! `127.0.0.1` certificate made with rcgen, served with tokio-rustls. The
//! emitter trusts exactly `--ca`; without it an https URL is a usage error.

mod common;

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use common::{command, serve};

const EMIT_JSON: &str = env!("CARGO_BIN_EXE_emit_json");

/// A CA certificate (PEM) and a TLS acceptor whose certificate it signed.
fn pki() -> (String, TlsAcceptor) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "LogOps test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (ca_cert.pem(), TlsAcceptor::from(Arc::new(config)))
}

async fn emit(url: &str, ca: Option<&Path>) -> (Option<i32>, String, String) {
    let mut c = command(EMIT_JSON);
    c.args(["--url", url, "-n", "1"]);
    if let Some(ca) = ca {
        c.arg("--ca").arg(ca);
    }
    let out = c.output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, acceptor) = pki();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let server = serve(Vec::new(), Some(acceptor)).await;

    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/v1/logs", server.port);
        let (code, stdout, stderr) = emit(&url, Some(&ca)).await;
        assert_eq!(code, Some(0), "{host}: {stdout}{stderr}");
        assert!(stdout.starts_with("status: 200\n"), "{stdout}");
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].alpn.as_deref(), Some(&b"http/1.1"[..]));

    // Without --ca: refused before any connection, naming the flag.
    let url = format!("https://127.0.0.1:{}/v1/logs", server.port);
    let (code, _, stderr) = emit(&url, None).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("--ca FILE"),
        "{stderr}"
    );

    // Another CA: the handshake fails, clearly.
    let other = dir.path().join("other-ca.pem");
    std::fs::write(&other, pki().0).unwrap();
    let (code, _, stderr) = emit(&url, Some(&other)).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("TLS") && stderr.contains("certificate"),
        "{stderr}"
    );

    // A file that is no PEM certificate: a usage error naming it.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "hello").unwrap();
    let (code, _, stderr) = emit(&url, Some(&junk)).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("junk.pem"), "{stderr}");
    assert_eq!(server.seen().len(), 2, "no request got through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_over_https_preflights_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, acceptor) = pki();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let server = serve(Vec::new(), Some(acceptor)).await;
    let url = format!("https://127.0.0.1:{}/v1/logs", server.port);
    let out = command(EMIT_JSON)
        .args([
            "--url",
            &url,
            "--concurrency",
            "2",
            "-n",
            "40",
            "--batch-size",
            "10",
            "-q",
        ])
        .arg("--ca")
        .arg(&ca)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["accepted"], 40, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");

    // A flood against a server whose certificate is not trusted stops at the preflight.
    let other = dir.path().join("other.pem");
    std::fs::write(&other, pki().0).unwrap();
    let out = command(EMIT_JSON)
        .args(["--url", &url, "--concurrency", "2", "--duration", "5s"])
        .arg("--ca")
        .arg(&other)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TLS"), "{stderr}");
}
