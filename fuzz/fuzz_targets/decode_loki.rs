//! Fuzz target `decode_loki`: see `logops_fuzz::harness::decode_loki`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_loki(data));
