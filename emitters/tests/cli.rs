//! CLI checks of the emitter binaries through `CARGO_BIN_EXE_*` (which also makes
//! `cargo test` build them for the black-box tests in `tests/`).

use std::process::Command;

const EMITTERS: [&str; 5] = [
    env!("CARGO_BIN_EXE_emit_json"),
    env!("CARGO_BIN_EXE_emit_minimal"),
    env!("CARGO_BIN_EXE_emit_syslog"),
    env!("CARGO_BIN_EXE_emit_csv"),
    env!("CARGO_BIN_EXE_emit_noise"),
];

fn dry_run(bin: &str, seed: &str) -> Vec<u8> {
    let out = Command::new(bin)
        .args(["--dry-run", "-n", "20", "--seed", seed])
        .output()
        .expect("run emitter");
    assert!(
        out.status.success(),
        "{bin}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "{bin} printed no body");
    out.stdout
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for bin in EMITTERS {
        assert_eq!(dry_run(bin, "7"), dry_run(bin, "7"), "{bin}");
        assert_ne!(dry_run(bin, "7"), dry_run(bin, "8"), "{bin}");
    }
}

#[test]
fn bad_flags_exit_2() {
    for bin in EMITTERS {
        let out = Command::new(bin)
            .args(["--eps", "nope"])
            .output()
            .expect("run emitter");
        assert_eq!(out.status.code(), Some(2), "{bin}");
    }
}
