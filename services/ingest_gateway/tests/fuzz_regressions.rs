//! Replays every saved fuzz input through every fuzz target's checks.
//!
//! `tests/fuzz_regressions/` holds the inputs that once failed a target
//! (`<target>-<what>`) and hand-made hostile inputs (`hostile-<what>`: deep
//! nesting, bombs, timestamp range edges, key collisions); `open/` holds
//! findings not fixed yet, which are not replayed. Each file goes through *all* targets of `fuzz/src/harness.rs`
//! (the same code `cargo fuzz` runs), so a fix that regresses anywhere in the
//! decode → normalize → mask → encode path fails here, in CI, without fuzzing.
//! The bodies real agents sent (`tests/fixtures/agents/`, the seeds of the
//! protocol targets) go through every target too, and must be accepted by
//! their own protocol's decoder.

#[path = "../../../fuzz/src/harness.rs"]
mod harness;

use std::path::PathBuf;

use base64::Engine as _;
use logops_gateway::decode::Format;
use serde_json::Value;

fn inputs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_saved_input_passes_every_target() {
    let files = inputs();
    assert!(!files.is_empty(), "no regression inputs found");
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("read input");
        for (name, target) in harness::TARGETS {
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failed.push(format!("{} in target {name}", path.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "inputs that fail:\n{}",
        failed.join("\n")
    );
}

/// Every captured request body of `tests/fixtures/agents/`, with the decoder
/// its path and `Content-Type` choose (`None` for the native formats).
fn agent_bodies() -> Vec<(String, Option<Format>, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/agents");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/agents") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read fixture");
        for (i, line) in text.lines().enumerate() {
            let req: Value = serde_json::from_str(line).expect("fixture line is JSON");
            let Some(b64) = req["body_b64"].as_str() else {
                continue; // syslog captures carry bytes_b64, no HTTP body
            };
            let body = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("body_b64 is base64");
            let headers = req["headers"].as_object().cloned().unwrap_or_default();
            let ct = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .and_then(|(_, v)| v.as_str())
                .unwrap_or("");
            let format = match req["path"].as_str().unwrap_or("") {
                "/loki/api/v1/push" if ct.contains("json") => Some(Format::LokiJson),
                "/loki/api/v1/push" => Some(Format::LokiProto),
                p if p.ends_with("/_bulk") => Some(Format::EsBulk),
                p if p.starts_with("/services/collector/raw") => Some(Format::HecRaw),
                p if p.starts_with("/services/collector") => Some(Format::HecEvent),
                "/v1/logs" if ct.contains("protobuf") => Some(Format::OtlpProto),
                _ => None,
            };
            let name = format!("{}#{}", path.display(), i + 1);
            out.push((name, format, body));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_agent_body_passes_every_target() {
    let bodies = agent_bodies();
    let protocols = bodies.iter().filter(|(_, f, _)| f.is_some()).count();
    assert!(
        protocols >= 5,
        "only {protocols} protocol bodies in the fixtures"
    );
    let mut failed = Vec::new();
    for (name, format, body) in &bodies {
        if let Some(format) = format {
            if let Err(e) = format.decode(body, harness::MAX_RECORDS) {
                failed.push(format!("{name}: refused as {format:?}: {e}"));
            }
        }
        for (target, run) in harness::TARGETS {
            if std::panic::catch_unwind(|| run(body)).is_err() {
                failed.push(format!("{name} in target {target}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "agent bodies that fail:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_snappy_bomb_is_refused_on_its_declared_size() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let bomb = std::fs::read(dir.join("hostile-loki-snappy-bomb")).expect("bomb input");
    assert_eq!(snap::raw::decompress_len(&bomb).ok(), Some(1 << 30));
    let err = Format::LokiProto
        .decode(&bomb, harness::MAX_RECORDS)
        .expect_err("a 1 GiB declaration from 10 bytes is refused");
    // Refused on the declared size, not after trying to decompress it.
    assert!(err.to_string().contains("declares"), "{err}");
}

#[test]
fn the_line_checks_reject_bad_output() {
    let good = r#"{"ts":"2026-11-22T10:00:00Z","level":"INFO","msg":"m","emitter":"e","scenario_id":"na","x":1}"#;
    harness::check_line(good, true, None);
    let bad = [
        r#"{"ts":"2026-11-22T10:00:00Z","level":"INFO","msg":"m","emitter":"e","scenario_id":"na","x":1,"x":2}"#,
        r#"{"level":"INFO","ts":"2026-11-22T10:00:00Z","msg":"m","emitter":"e","scenario_id":"na"}"#,
        r#"{"ts":"2026-11-22 10:00:00","level":"INFO","msg":"m","emitter":"e","scenario_id":"na"}"#,
        r#"{"ts":"2026-11-22T10:00:00Z","level":"info","msg":"m","emitter":"e","scenario_id":"na"}"#,
        r#"{"ts":"2026-11-22T10:00:00Z","level":"INFO","msg":"m","emitter":"e","scenario_id":"na""#,
    ];
    for line in bad {
        assert!(
            std::panic::catch_unwind(|| harness::check_line(line, true, None)).is_err(),
            "accepted: {line}"
        );
    }
}

#[test]
fn the_whole_path_runs_on_a_valid_batch() {
    // Selector 0b1001: NDJSON, encrypting pipeline: msg_enc must decrypt to msg.
    let mut body = vec![0b1001u8];
    body.extend_from_slice(
        b"{\"msg\":\"mail a@b.example from 10.1.2.3\",\"level\":3,\"ts\":1700000000}\n{\"x\":1}\n",
    );
    assert_eq!(harness::run_pipeline(&body), Some(2));
    // gzip (selector 0), 128 KiB limit (7): compressed for real, must round-trip.
    harness::body_decode(b"\x00\x07hello hello hello");
}
