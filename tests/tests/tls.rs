//! HTTPS through the real binary (SPEC §8): certificates made here with
//! rcgen, clients are Python's `ssl`/`urllib`, `curl` (HTTP/2 by ALPN) and our
//! emitters; client certificates authenticate as the key named by their CN.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use logops_e2e::{bin_path, need_program, stored_lines, Gateway};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA, a server certificate for localhost/127.0.0.1, and client
    /// certificates with the given CNs, all written as PEM files.
    fn new(clients: &[&str]) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "LogOps test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        write("ca.pem", ca_cert.pem());
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&server_key, &ca_cert, &ca_key)
            .unwrap();
        write("server.pem", server.pem());
        write("server.key", server_key.serialize_pem());
        for cn in clients {
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.distinguished_name.push(DnType::CommonName, *cn);
            let key = KeyPair::generate().unwrap();
            let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
            write(&format!("{cn}.pem"), cert.pem());
            write(&format!("{cn}.key"), key.serialize_pem());
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn gateway(&self, extra: &[(&str, &str)]) -> Gateway {
        let mut b = Gateway::builder()
            .process()
            .env("LOGOPS_TLS_CERT", self.path("server.pem").to_str().unwrap())
            .env("LOGOPS_TLS_KEY", self.path("server.key").to_str().unwrap());
        for (k, v) in extra {
            b = b.env(k, v);
        }
        b.start()
    }
}

fn port(gw: &Gateway) -> &str {
    gw.addr.rsplit(':').next().unwrap()
}

/// POSTs one record with Python's urllib over TLS; prints the status or the error.
fn python_post(
    url: &str,
    ca: &Path,
    client: Option<(&Path, &Path)>,
    headers: &[(&str, &str)],
) -> String {
    let client = client
        .map(|(c, k)| {
            format!(
                "ctx.load_cert_chain({:?}, {:?})",
                c.to_str().unwrap(),
                k.to_str().unwrap()
            )
        })
        .unwrap_or_default();
    let headers: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{k:?}: {v:?}"))
        .collect();
    let script = format!(
        "import ssl, urllib.request, urllib.error\n\
         ctx = ssl.create_default_context(cafile={ca:?})\n\
         {client}\n\
         req = urllib.request.Request({url:?}, data=b'[{{\"msg\":\"over tls\"}}]', headers={{'Content-Type': 'application/json', {h}}})\n\
         try:\n    print(urllib.request.urlopen(req, context=ctx, timeout=10).status)\n\
         except urllib.error.HTTPError as e:\n    print(e.code)\n\
         except Exception as e:\n    print(type(e).__name__)\n",
        ca = ca.to_str().unwrap(),
        h = headers.join(", ")
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn have_python() -> bool {
    need_program("python3", "-V")
}

#[test]
fn https_with_python_curl_http2_and_the_emitters() {
    if !have_python() {
        return;
    }
    let pki = Pki::new(&[]);
    let gw = pki.gateway(&[]);
    let url = format!("https://localhost:{}/v1/logs", port(&gw));
    assert_eq!(python_post(&url, &pki.path("ca.pem"), None, &[]), "200");
    if need_program("curl", "--version") {
        let out = Command::new("curl")
            .args([
                "-s",
                "--http2",
                "--cacert",
                pki.path("ca.pem").to_str().unwrap(),
                "-o",
                "/dev/null",
                "-w",
                "%{http_version}",
            ])
            .arg(format!("https://127.0.0.1:{}/healthz", port(&gw)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "2", "h2 by ALPN");
    }
    let out = Command::new(bin_path("emit_json"))
        .args([
            "--url",
            &url,
            "-n",
            "10",
            "--ca",
            pki.path("ca.pem").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stored_lines(&gw.sink_dir).len(), 11);
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = logops_e2e::try_post(&format!("http://{}/v1/logs", gw.addr), &[], b"[]");
    assert!(
        plain.is_err() || plain.as_ref().is_ok_and(|r| r.status >= 400),
        "{plain:?}"
    );
    assert_eq!(stored_lines(&gw.sink_dir).len(), 11);
}

#[test]
fn client_certificates_authenticate_as_the_key_named_by_their_cn() {
    if !have_python() {
        return;
    }
    let pki = Pki::new(&["acme-ingest", "stranger"]);
    let keys = pki.path("keys.toml");
    std::fs::write(&keys, "[[key]]\nid = \"acme-ingest\"\nsecret = \"s1\"\ntenant = \"acme\"\n[[key]]\nid = \"other\"\nsecret = \"s2\"\ntenant = \"other\"\n").unwrap();
    let gw = pki.gateway(&[
        ("LOGOPS_TLS_CLIENT_CA", pki.path("ca.pem").to_str().unwrap()),
        ("LOGOPS_AUTH", "key"),
        ("LOGOPS_KEYS_FILE", keys.to_str().unwrap()),
    ]);
    let url = format!("https://localhost:{}/v1/logs", port(&gw));
    let ca = pki.path("ca.pem");
    let acme = (pki.path("acme-ingest.pem"), pki.path("acme-ingest.key"));
    let stranger = (pki.path("stranger.pem"), pki.path("stranger.key"));
    assert_eq!(
        python_post(&url, &ca, Some((&acme.0, &acme.1)), &[]),
        "200",
        "the certificate is the credential"
    );
    assert_eq!(stored_lines(&gw.sink_dir.join("acme")).len(), 1);
    assert_ne!(
        python_post(&url, &ca, None, &[]),
        "200",
        "no client certificate: no handshake"
    );
    assert_eq!(
        python_post(&url, &ca, Some((&stranger.0, &stranger.1)), &[]),
        "401",
        "a CN that is no key id"
    );
    let bearer = [("Authorization", "Bearer other:s2")];
    assert_eq!(
        python_post(&url, &ca, Some((&stranger.0, &stranger.1)), &bearer),
        "200"
    );
    assert_eq!(stored_lines(&gw.sink_dir.join("other")).len(), 1);
}

#[test]
fn bad_tls_files_refuse_start_up_and_sighup_reloads_the_certificate() {
    if !have_python() {
        return;
    }
    let pki = Pki::new(&[]);
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_TLS_CERT", pki.path("ca.pem").to_str().unwrap())
        .env("LOGOPS_TLS_KEY", pki.path("nope.key").to_str().unwrap())
        .run_expecting_exit();
    assert_eq!(e.code, Some(2), "{}", e.stderr);
    assert!(
        e.stderr.contains("nope.key") && e.stderr.contains("LOGOPS_TLS"),
        "{}",
        e.stderr
    );
    let e = Gateway::builder()
        .process()
        .env("LOGOPS_TLS_CERT", pki.path("server.pem").to_str().unwrap())
        .run_expecting_exit();
    assert!(e.stderr.contains("LOGOPS_TLS_KEY"), "{}", e.stderr);

    let gw = pki.gateway(&[]);
    let url = format!("https://localhost:{}/v1/logs", port(&gw));
    assert_eq!(python_post(&url, &pki.path("ca.pem"), None, &[]), "200");
    let fresh = Pki::new(&[]);
    for f in ["server.pem", "server.key"] {
        std::fs::copy(fresh.path(f), pki.path(f)).unwrap();
    }
    gw.signal("HUP");
    assert!(
        gw.wait_stderr("TLS certificate and key reloaded", Duration::from_secs(10)),
        "{}",
        gw.stderr()
    );
    assert_eq!(
        python_post(&url, &fresh.path("ca.pem"), None, &[]),
        "200",
        "the new certificate is served"
    );
    assert_ne!(python_post(&url, &pki.path("ca.pem"), None, &[]), "200");
}
