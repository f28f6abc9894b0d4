//! Decoders of the agents' protocols beside the native JSON/NDJSON ones, per
//! record, in two sets:
//! - `same/…`: the SAME 100 realistic records (ts, level, message with PII,
//!   service, env, host) encoded as native JSON and NDJSON, OTLP JSON and OTLP
//!   protobuf, Loki push JSON and protobuf+snappy, Elasticsearch bulk and HEC
//!   events — the comparisons of issue #13 (OTLP protobuf and Loki
//!   protobuf+snappy ≥ their JSON forms; ES bulk ≥ 80 % of NDJSON);
//! - `agents/…`: the bodies the agents really sent (`tests/fixtures/agents/`).
//!
//! The protobuf bodies are written here with prost's encoding helpers (the
//! gateway's own message structs are private to its decoders).
//!
//! Run: `cargo bench -p logops-gateway --bench protocols` (see docs/benchmarks.md).

use std::hint::black_box;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logops_gateway::decode::Format;
use prost::encoding::{encode_key, encode_varint, WireType};
use serde_json::{json, Map, Value};

/// Records per body of the `same/…` set.
const RECORDS: usize = 100;

/// One generated record and the parts the protocols carry separately.
struct Rec {
    ns: u64,
    ts: String,
    level: &'static str,
    severity: u64,
    message: String,
    fields: [(&'static str, String); 3],
}

impl Rec {
    fn json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("ts".into(), json!(self.ts));
        m.insert("level".into(), json!(self.level));
        m.insert("message".into(), json!(self.message));
        for (k, v) in &self.fields {
            m.insert((*k).into(), json!(v));
        }
        m
    }
}

/// 100 compact records like `emit_json --compact`, from a fixed LCG.
fn records() -> Vec<Rec> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let levels = [("INFO", 9), ("WARN", 13), ("ERROR", 17), ("DEBUG", 5)];
    let users = ["alice", "bob", "carol.nguyen", "dave"];
    let services = ["api", "auth", "billing", "search"];
    let start = 1_796_112_000_000_000_000u64; // 2026-12-01T08:00:00Z
    (0..RECORDS)
        .map(|i| {
            let ns = start + i as u64 * 7_000_000 + next(1000) * 1000;
            let ms = ns / 1_000_000;
            let (s, frac) = (ms / 1000, ms % 1000);
            let (h, m, sec) = ((s / 3600) % 24, (s / 60) % 60, s % 60);
            let (level, severity) = levels[next(4) as usize];
            let user = users[next(4) as usize];
            let message = match next(3) {
                0 => format!(
                    "login ok for {user}@example.com from 10.0.{}.{}",
                    next(255),
                    next(255)
                ),
                1 => format!(
                    "GET /api/v1/orders/{} 200 in {} ms",
                    next(100_000),
                    next(900)
                ),
                _ => format!("payment retry {} for {user}@mail.example.net", next(9)),
            };
            Rec {
                ns: ms * 1_000_000,
                ts: format!("2026-12-01T{h:02}:{m:02}:{sec:02}.{frac:03}Z"),
                level,
                severity,
                message,
                fields: [
                    ("service", services[next(4) as usize].into()),
                    ("env", "prod".into()),
                    ("host", format!("web-{}", next(12))),
                ],
            }
        })
        .collect()
}

fn ndjson(recs: &[Rec]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in recs {
        serde_json::to_writer(&mut out, &r.json()).expect("serializes");
        out.push(b'\n');
    }
    out
}

fn otlp_json(recs: &[Rec]) -> Vec<u8> {
    let logs: Vec<Value> = recs
        .iter()
        .map(|r| {
            let attrs: Vec<Value> = r
                .fields
                .iter()
                .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
                .collect();
            json!({"timeUnixNano": r.ns.to_string(), "severityNumber": r.severity,
                   "severityText": r.level, "body": {"stringValue": r.message}, "attributes": attrs})
        })
        .collect();
    let req = json!({"resourceLogs": [{"scopeLogs": [{"scope": {"name": "bench"}, "logRecords": logs}]}]});
    serde_json::to_vec(&req).expect("serializes")
}

/// A length-delimited field `tag` holding `inner`.
fn nested(tag: u32, inner: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(inner.len() as u64, out);
    out.extend_from_slice(inner);
}

/// `AnyValue { string_value = 1 }`.
fn any_string(s: &str) -> Vec<u8> {
    let mut v = Vec::new();
    nested(1, s.as_bytes(), &mut v);
    v
}

fn otlp_proto(recs: &[Rec]) -> Vec<u8> {
    let mut scope_logs = Vec::new();
    let mut scope = Vec::new();
    nested(1, b"bench", &mut scope); // InstrumentationScope.name
    nested(1, &scope, &mut scope_logs);
    for r in recs {
        let mut lr = Vec::new();
        encode_key(1, WireType::SixtyFourBit, &mut lr); // time_unix_nano, fixed64
        lr.extend_from_slice(&r.ns.to_le_bytes());
        encode_key(2, WireType::Varint, &mut lr); // severity_number
        encode_varint(r.severity, &mut lr);
        nested(3, r.level.as_bytes(), &mut lr); // severity_text
        nested(5, &any_string(&r.message), &mut lr); // body
        for (k, v) in &r.fields {
            let mut kv = Vec::new();
            nested(1, k.as_bytes(), &mut kv);
            nested(2, &any_string(v), &mut kv);
            nested(6, &kv, &mut lr); // attributes
        }
        nested(2, &lr, &mut scope_logs); // ScopeLogs.log_records
    }
    let mut resource_logs = Vec::new();
    nested(2, &scope_logs, &mut resource_logs); // ResourceLogs.scope_logs
    let mut req = Vec::new();
    nested(1, &resource_logs, &mut req); // ExportLogsServiceRequest.resource_logs
    req
}

/// Records grouped into Loki streams by service: `(service, [(ns, line)])`.
fn streams(recs: &[Rec]) -> Vec<(String, Vec<(u64, String)>)> {
    let mut out: Vec<(String, Vec<(u64, String)>)> = Vec::new();
    for r in recs {
        let line = serde_json::to_string(&r.json()).expect("serializes");
        let svc = r.fields[0].1.clone();
        match out.iter_mut().find(|(s, _)| *s == svc) {
            Some((_, e)) => e.push((r.ns, line)),
            None => out.push((svc, vec![(r.ns, line)])),
        }
    }
    out
}

fn loki_json(recs: &[Rec]) -> Vec<u8> {
    let streams: Vec<Value> = streams(recs)
        .into_iter()
        .map(|(svc, entries)| {
            let values: Vec<Value> = entries
                .into_iter()
                .map(|(ns, line)| json!([ns.to_string(), line]))
                .collect();
            json!({"stream": {"job": "bench", "service": svc}, "values": values})
        })
        .collect();
    serde_json::to_vec(&json!({ "streams": streams })).expect("serializes")
}

fn loki_proto(recs: &[Rec]) -> Vec<u8> {
    let mut push = Vec::new();
    for (svc, entries) in streams(recs) {
        let mut stream = Vec::new();
        nested(
            1,
            format!("{{job=\"bench\", service=\"{svc}\"}}").as_bytes(),
            &mut stream,
        );
        for (ns, line) in entries {
            let mut stamp = Vec::new();
            encode_key(1, WireType::Varint, &mut stamp);
            encode_varint(ns / 1_000_000_000, &mut stamp);
            encode_key(2, WireType::Varint, &mut stamp);
            encode_varint(ns % 1_000_000_000, &mut stamp);
            let mut entry = Vec::new();
            nested(1, &stamp, &mut entry);
            nested(2, line.as_bytes(), &mut entry);
            nested(2, &entry, &mut stream);
        }
        nested(1, &stream, &mut push);
    }
    snap::raw::Encoder::new()
        .compress_vec(&push)
        .expect("snappy compresses")
}

fn es_bulk(recs: &[Rec]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in recs {
        out.extend_from_slice(b"{\"create\":{}}\n");
        serde_json::to_writer(&mut out, &r.json()).expect("serializes");
        out.push(b'\n');
    }
    out
}

fn hec(recs: &[Rec]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in recs {
        let time = (r.ns / 1_000_000) as f64 / 1000.0;
        serde_json::to_writer(&mut out, &json!({"time": time, "event": r.json()}))
            .expect("serializes");
        out.push(b'\n');
    }
    out
}

/// The bodies of one fixture file.
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

fn run(c: &mut Criterion, group: &str, cases: Vec<(&str, Format, Vec<u8>)>) {
    let mut g = c.benchmark_group(group);
    for (name, format, body) in &cases {
        let n = format
            .decode(body, usize::MAX)
            .expect("bench body decodes")
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

fn bench(c: &mut Criterion) {
    let recs = records();
    let array: Vec<Map<String, Value>> = recs.iter().map(Rec::json).collect();
    let same = vec![
        (
            "json",
            Format::Json,
            serde_json::to_vec(&array).expect("serializes"),
        ),
        ("ndjson", Format::Ndjson, ndjson(&recs)),
        ("otlp_json", Format::Json, otlp_json(&recs)),
        ("otlp_proto", Format::OtlpProto, otlp_proto(&recs)),
        ("loki_json", Format::LokiJson, loki_json(&recs)),
        ("loki_proto_snappy", Format::LokiProto, loki_proto(&recs)),
        ("es_bulk", Format::EsBulk, es_bulk(&recs)),
        ("hec_event", Format::HecEvent, hec(&recs)),
    ];
    for (name, format, body) in &same {
        let n = format.decode(body, usize::MAX).expect("decodes").len();
        assert_eq!(n, RECORDS, "{name}: every record decoded");
    }
    run(c, "same", same);
    run(
        c,
        "agents",
        vec![
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
        ],
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
