//! Per-stage benchmarks of the hot path, so a regression shows up in isolation:
//! decode (per format), normalize, mask, encrypt, encode, and the whole
//! in-process pipeline. Input: 100-record batches of ~140-byte server-style
//! records, most with an email or IP in the message (the issue-6 workload);
//! `batch_10mb/*`: one 70 000-record (~10 MB) JSON batch.
//!
//! Run: `cargo bench -p logops-gateway --bench pipeline` (see docs/benchmarks.md).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logops_gateway::config::Config;
use logops_gateway::decode::Format;
use logops_gateway::encode::{write_line, Tokens};
use logops_gateway::normalize::{normalize, BatchContext};
use logops_gateway::pii::{mask_str, Crypt};
use logops_gateway::pipeline::Pipeline;

const RECORDS: usize = 100;

fn json_records() -> Vec<String> {
    (0..RECORDS)
        .map(|i| {
            let msg = match i % 4 {
                0 => format!("user u{i}@example.com logged in"),
                1 => format!("GET /api/v1/items/{i} from 10.0.{}.{}", i % 250, (i * 7) % 250),
                2 => format!("payment failed for c{i}@shop.io via 2001:db8::{i:x}"),
                _ => format!("cache refreshed in {i} ms"),
            };
            format!(
                r#"{{"ts":"2026-11-22T10:00:{:02}.{:03}Z","level":"info","msg":"{msg}","service":"api","host":"web-{}"}}"#,
                i % 60,
                i,
                i % 8
            )
        })
        .collect()
}

fn bodies() -> [(Format, &'static str, Vec<u8>); 4] {
    let recs = json_records();
    let json = format!("[{}]", recs.join(",")).into_bytes();
    let ndjson = (recs.join("\n") + "\n").into_bytes();
    let text: String = (0..RECORDS)
        .map(|i| format!("2026-11-22 10:00:{:02} INFO web-{} api[{i}]: GET /items/{i} from 10.0.0.{} by u{i}@example.com\n", i % 60, i % 8, i % 250))
        .collect();
    let csv: String = std::iter::once("ts,level,msg,service\n".to_string())
        .chain((0..RECORDS).map(|i| {
            format!(
                "2026-11-22T10:00:{:02}Z,warn,\"user u{i}@example.com, from 10.1.2.{}\",api\n",
                i % 60,
                i % 250
            )
        }))
        .collect();
    [
        (Format::Json, "json", json),
        (Format::Ndjson, "ndjson", ndjson),
        (Format::Text, "text", text.into_bytes()),
        (Format::Csv, "csv", csv.into_bytes()),
    ]
}

fn ctx() -> BatchContext<'static> {
    BatchContext {
        emitter: "bench",
        scenario_id: "na",
        received: "2026-11-22T10:00:00.000Z",
        year: 2026,
        tenant: None,
        defaults: &[],
    }
}

fn pipeline(pairs: &[(&str, &str)]) -> Pipeline {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cfg = Config::from_map(&m).expect("config");
    Pipeline::new(&cfg.pii, cfg.limits.max_records, cfg.limits.debug_sample)
}

fn stages(c: &mut Criterion) {
    let bodies = bodies();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for (format, name, body) in &bodies {
        g.bench_function(*name, |b| {
            b.iter(|| format.decode(black_box(body), usize::MAX).expect("decode"))
        });
    }
    g.finish();

    let records = Format::Json
        .decode(&bodies[0].2, usize::MAX)
        .expect("decode");
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("normalize", |b| {
        b.iter_batched(
            || records.clone(),
            |recs| {
                recs.into_iter()
                    .map(|r| normalize(r, &ctx()).msg.len())
                    .sum::<usize>()
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let normalized: Vec<_> = records
        .iter()
        .cloned()
        .map(|r| normalize(r, &ctx()))
        .collect();
    g.bench_function("mask", |b| {
        b.iter(|| {
            normalized
                .iter()
                .filter(|n| matches!(mask_str(black_box(&n.msg)), std::borrow::Cow::Owned(_)))
                .count()
        })
    });
    g.bench_function("encode", |b| {
        let mut buf = Vec::with_capacity(32 * 1024);
        b.iter(|| {
            buf.clear();
            normalized
                .iter()
                .for_each(|n| write_line(&mut buf, n, &Tokens::default(), &ctx()));
            buf.len()
        })
    });
    g.finish();

    let crypt = Crypt::from_key_list(&Crypt::generate_key()).expect("key");
    let mut g = c.benchmark_group("stage");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encrypt_one_field", |b| {
        b.iter(|| crypt.encrypt(black_box(b"user u42@example.com logged in")))
    });
    g.finish();

    let key = Crypt::generate_key();
    let plain = pipeline(&[]);
    let encrypting = pipeline(&[
        ("LOGOPS_ENCRYPT_PII", "true"),
        ("LOGOPS_SECRET_KEY", &key),
        ("LOGOPS_ENCRYPT_FIELDS", "service,host"),
    ]);
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(RECORDS as u64));
    for (format, name, body) in &bodies {
        g.bench_function(format!("{name}_masked"), |b| {
            b.iter(|| {
                plain
                    .run(*format, black_box(body), &ctx())
                    .expect("run")
                    .lines
                    .len()
            })
        });
    }
    g.bench_function("json_masked_encrypted_3", |b| {
        b.iter(|| {
            encrypting
                .run(Format::Json, black_box(&bodies[0].2), &ctx())
                .expect("run")
                .lines
                .len()
        })
    });
    g.finish();
}

/// One ~10 MB JSON batch (70 000 records): the case that runs on the blocking
/// pool, where the per-record work may be split across cores (issue 17).
fn big_batch(c: &mut Criterion) {
    let recs = json_records();
    let copies = 700;
    let body = format!(
        "[{}]",
        std::iter::repeat_n(recs.join(","), copies)
            .collect::<Vec<_>>()
            .join(",")
    )
    .into_bytes();
    let key = Crypt::generate_key();
    let plain = pipeline(&[]);
    let encrypting = pipeline(&[
        ("LOGOPS_ENCRYPT_PII", "true"),
        ("LOGOPS_SECRET_KEY", &key),
        ("LOGOPS_ENCRYPT_FIELDS", "service,host"),
    ]);
    let mut g = c.benchmark_group("batch_10mb");
    g.sample_size(10);
    g.throughput(Throughput::Elements((RECORDS * copies) as u64));
    g.bench_function("json_decode", |b| {
        b.iter(|| {
            Format::Json
                .decode(black_box(&body), usize::MAX)
                .expect("decode")
                .len()
        })
    });
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let plain_1 = pipeline(&[]).with_parallelism(1);
    let encrypting_1 = pipeline(&[
        ("LOGOPS_ENCRYPT_PII", "true"),
        ("LOGOPS_SECRET_KEY", &key),
        ("LOGOPS_ENCRYPT_FIELDS", "service,host"),
    ])
    .with_parallelism(1);
    // `_1core`: the batch on one thread, as before issue 17; without suffix: as
    // configured (encrypted batches are split across up to `cores` chunks,
    // unencrypted ones are not split: measured, no gain).
    eprintln!("batch_10mb: {cores} cores available");
    for (name, p) in [
        ("json_masked_1core", &plain_1),
        ("json_masked", &plain),
        ("json_masked_encrypted_3_1core", &encrypting_1),
        ("json_masked_encrypted_3", &encrypting),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                p.run(Format::Json, black_box(&body), &ctx())
                    .expect("run")
                    .lines
                    .len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, stages, big_batch);
criterion_main!(benches);
