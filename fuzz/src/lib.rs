//! # LogOps fuzz targets
//!
//! libFuzzer targets (run with `cargo fuzz`, see `fuzz/run.sh`) for every
//! decoder, `Content-Encoding` decoding, timestamp parsing and the whole
//! decode → normalize → mask → encrypt → encode path. Each binary in
//! `fuzz_targets/` is one line calling its function in [`harness`], which holds
//! the checks; the gateway's `tests/fuzz_regressions.rs` replays saved inputs
//! through the same harness in CI.
//!
//! The harness forbids `unsafe`; the one-line targets do not, because
//! `libfuzzer_sys::fuzz_target!` expands to the `#[no_mangle]` entry point
//! libFuzzer calls, which the `unsafe_code` lint counts as unsafe.

#![forbid(unsafe_code)]

pub mod harness;
