//! Fuzz target `body_decode`: see `logops_fuzz::harness::body_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::body_decode(data));
