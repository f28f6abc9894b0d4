//! Replays every saved fuzz input through every fuzz target's checks.
//!
//! `tests/fuzz_regressions/` holds the inputs that once failed a target
//! (`<target>-<what>`) and hand-made hostile inputs (`hostile-<what>`: deep
//! nesting, bombs, timestamp range edges, key collisions); `open/` holds
//! findings not fixed yet, which are not replayed. Each file goes through *all* targets of `fuzz/src/harness.rs`
//! (the same code `cargo fuzz` runs), so a fix that regresses anywhere in the
//! decode → normalize → mask → encode path fails here, in CI, without fuzzing.

#[path = "../../../fuzz/src/harness.rs"]
mod harness;

use std::path::PathBuf;

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
