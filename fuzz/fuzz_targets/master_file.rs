//! Fuzz target `master_file`: see `fedns_fuzz::master_file` for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedns_fuzz::master_file(data));
