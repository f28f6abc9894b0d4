//! Fuzz target `decode_otlp`: see `logops_fuzz::harness::decode_otlp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_otlp(data));
