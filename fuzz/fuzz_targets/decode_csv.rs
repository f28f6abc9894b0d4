//! Fuzz target `decode_csv`: see `logops_fuzz::harness::decode_csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_csv(data));
