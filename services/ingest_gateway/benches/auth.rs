//! What authentication costs per request, beside the pipeline it protects:
//! HMAC verification (SHA-256 of a 100-record body, HMAC-SHA256 of the
//! canonical string, base64) and key mode's constant-time comparison, both
//! through `Auth::authenticate` as the routes call it.
//!
//! Run: `cargo bench -p logops-gateway --bench auth` (see docs/benchmarks.md).

use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::{HeaderMap, HeaderValue};
use logops_gateway::auth::{hmac, keys, Auth, AuthConfig, AuthMode, Head};

/// ~15 KB: 100 compact records, the end-to-end benchmark's batch.
fn body() -> Vec<u8> {
    let recs: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"ts":"2026-11-22T10:00:00.{i:03}Z","level":"info","msg":"user u{i}@example.com logged in from 10.0.0.{i}","service":"api"}}"#))
        .collect();
    format!("[{}]", recs.join(",")).into_bytes()
}

fn auth(mode: AuthMode) -> (Auth, tempfile::NamedTempFile) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"[[key]]\nid = \"bench\"\nsecret = \"bench-secret-0123456789\"\n")
        .unwrap();
    let config = AuthConfig {
        mode,
        keys_file: Some(f.path().to_path_buf()),
        nonce_cache: 10_000_000,
        keys: Arc::new(keys::load(f.path()).unwrap()),
        ..AuthConfig::default()
    };
    (Auth::new(config), f)
}

fn bench(c: &mut Criterion) {
    let body = body();
    let mut g = c.benchmark_group("auth");
    g.throughput(Throughput::Elements(100));
    let (key_auth, _kf) = auth(AuthMode::Key);
    let mut key_headers = HeaderMap::new();
    key_headers.insert(
        "authorization",
        HeaderValue::from_static("Bearer bench:bench-secret-0123456789"),
    );
    g.bench_function("key_mode_authenticate", |b| {
        b.iter(|| {
            let head = Head {
                method: "POST",
                path: "/v1/logs",
                headers: &key_headers,
                peer_cn: None,
            };
            black_box(key_auth.authenticate(head, false).unwrap());
        })
    });
    let (hmac_auth, _hf) = auth(AuthMode::Hmac);
    let ts = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut n = 0u64;
    g.bench_function("hmac_mode_authenticate_and_body_hash", |b| {
        b.iter(|| {
            n += 1;
            // What the client did (not timed apart: a few hundred ns of the total).
            let nonce = format!("{n:032x}");
            let sha = hmac::sha256_hex(&body);
            let sig = hmac::sign(
                b"bench-secret-0123456789",
                &hmac::canonical("POST", "/v1/logs", &sha, &ts, &nonce),
            );
            let mut h = HeaderMap::new();
            h.insert("x-api-key", HeaderValue::from_static("bench"));
            h.insert("x-timestamp", HeaderValue::from_str(&ts).unwrap());
            h.insert("x-nonce", HeaderValue::from_str(&nonce).unwrap());
            h.insert("x-content-sha256", HeaderValue::from_str(&sha).unwrap());
            h.insert("x-signature", HeaderValue::from_str(&sig).unwrap());
            let head = Head {
                method: "POST",
                path: "/v1/logs",
                headers: &h,
                peer_cn: None,
            };
            let p = hmac_auth.authenticate(head, false).unwrap();
            // What the gateway does once the body is read.
            black_box(hmac::sha256_hex(black_box(&body)) == p.body_sha256.unwrap());
        })
    });
    g.bench_function("sha256_of_body_alone", |b| {
        b.iter(|| black_box(hmac::sha256_hex(black_box(&body))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
