//! Fuzz target `decode_json`: see `logops_fuzz::harness::decode_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_json(data));
