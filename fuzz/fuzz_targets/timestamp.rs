//! Fuzz target `timestamp`: see `logops_fuzz::harness::timestamp_parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::timestamp_parse(data));
