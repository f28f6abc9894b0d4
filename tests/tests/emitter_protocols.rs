//! `--protocol`: the emitters' bodies in every agent protocol (OTLP JSON and
//! protobuf, Loki push JSON and protobuf+snappy, Elasticsearch bulk, Splunk
//! HEC) are accepted by a real gateway, every record is stored, and the
//! emitter counts them from that protocol's answers.
//!
//! Every run is bounded by a record count (`-n`), never by time.

use std::process::{Command, Output};

use logops_e2e::{bin_path, Gateway};
use serde_json::Value;

const PROTOCOLS: [&str; 6] = [
    "otlp-json",
    "otlp-proto",
    "loki-json",
    "loki-proto",
    "es-bulk",
    "hec",
];

fn emit(args: &[&str]) -> Output {
    Command::new(bin_path("emit_json"))
        .args(args)
        .env_remove("LOGOPS_URL")
        .output()
        .expect("run emit_json")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_protocol_body_is_accepted_and_stored_whole() {
    for protocol in PROTOCOLS {
        let gw = Gateway::builder().env("LOGOPS_FSYNC", "never").start();
        let url = gw.url("/v1/logs");
        // One batch: the protocol's own success answer, all records counted.
        let out = emit(&[
            "--url",
            &url,
            "--protocol",
            protocol,
            "-n",
            "40",
            "--seed",
            "5",
            "-q",
        ]);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{protocol}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("accepted: 40 of 40"),
            "{protocol}: {stdout}"
        );
        // A flood of 250 records in 100-record batches over two connections.
        let out = emit(&[
            "--url",
            &url,
            "--protocol",
            protocol,
            "--concurrency",
            "2",
            "-n",
            "250",
            "--seed",
            "6",
            "--compact",
            "-q",
        ]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{protocol}: {stdout}");
        let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or(""))
            .unwrap_or_else(|e| panic!("{protocol}: summary is not JSON ({e}): {stdout}"));
        assert_eq!(summary["accepted"], 250, "{protocol}: {summary}");
        assert_eq!(summary["sent"], 250, "{protocol}: {summary}");
        let records = gw.stored_records();
        assert_eq!(records.len(), 290, "{protocol}: lines on disk");
        // The records arrive as the native ones would: a message, masked PII.
        for r in &records {
            let msg = r["msg"].as_str().unwrap_or_default();
            assert!(!msg.is_empty(), "{protocol}: no msg in {r}");
            assert!(
                !msg.contains("@example.com") || msg.contains("***@"),
                "{protocol}: unmasked email in {r}"
            );
        }
    }
}

#[test]
fn dry_run_prints_the_protocol_body_and_text_emitters_refuse() {
    let body = emit(&[
        "--dry-run",
        "-n",
        "3",
        "--seed",
        "1",
        "--protocol",
        "otlp-json",
    ]);
    let v: Value = serde_json::from_slice(&body.stdout).expect("OTLP/JSON body");
    let logs = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
    assert_eq!(logs.as_array().map(Vec::len), Some(3), "{v}");
    let out = Command::new(bin_path("emit_csv"))
        .args(["--dry-run", "-n", "3", "--protocol", "hec"])
        .output()
        .expect("run emit_csv");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--protocol"),
        "{}",
        text(&out.stderr)
    );
}
