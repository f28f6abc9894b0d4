//! Fuzz target `decode_es_bulk`: see `logops_fuzz::harness::decode_es_bulk`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| logops_fuzz::harness::decode_es_bulk(data));
