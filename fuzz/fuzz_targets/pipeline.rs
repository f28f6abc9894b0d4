//! Fuzz target `pipeline`: see `logops_fuzz::harness::pipeline`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::pipeline(data));
