//! Fuzz target `decode_text`: see `logops_fuzz::harness::decode_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_text(data));
