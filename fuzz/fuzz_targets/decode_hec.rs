//! Fuzz target `decode_hec`: see `logops_fuzz::harness::decode_hec`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_hec(data));
