//! Decoders of the agents' protocols beside the native JSON/NDJSON ones, on
//! the bodies the agents really sent (`tests/fixtures/agents/`), per record:
//! OTLP protobuf vs OTLP JSON vs plain NDJSON of the same records, Loki push
//! JSON, Elasticsearch bulk, Splunk HEC.
//!
//! Run: `cargo bench -p logops-gateway --bench protocols` (see docs/benchmarks.md).

use std::hint::black_box;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logops_gateway::decode::Format;
use serde_json::Value;

/// The bodies of one fixture file, concatenated per format where the format allows.
fn bodies(name: &str) -> Vec<Vec<u8>> {
    let path = format!(
        "{}/../../tests/fixtures/agents/{name}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("fixture line");
            base64::engine::general_purpose::STANDARD
                .decode(v["body_b64"].as_str().expect("body"))
                .expect("base64")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("protocols");
    let cases: Vec<(&str, Format, Vec<u8>)> = vec![
        (
            "otlp_protobuf_sdk",
            Format::OtlpProto,
            bodies("python-otel-sdk-proto").remove(0),
        ),
        (
            "loki_json_fluentbit",
            Format::LokiJson,
            bodies("fluentbit-loki").remove(0),
        ),
        (
            "es_bulk_fluentbit",
            Format::EsBulk,
            bodies("fluentbit-es").remove(0),
        ),
        (
            "hec_event_fluentbit",
            Format::HecEvent,
            bodies("fluentbit-splunk").remove(0),
        ),
        (
            "ndjson_fluentbit",
            Format::Ndjson,
            bodies("fluentbit-http-json-lines").remove(0),
        ),
    ];
    for (name, format, body) in &cases {
        let n = format
            .decode(body, usize::MAX)
            .expect("fixture decodes")
            .len();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(*name, |b| {
            b.iter(|| {
                format
                    .decode(black_box(body), usize::MAX)
                    .expect("decode")
                    .len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
