//! Fuzz target `decode_ndjson`: see `logops_fuzz::harness::decode_ndjson`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_ndjson(data));
