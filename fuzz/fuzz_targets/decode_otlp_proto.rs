//! Fuzz target `decode_otlp_proto`: see `logops_fuzz::harness::decode_otlp_proto`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_otlp_proto(data));
