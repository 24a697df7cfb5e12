//! Fuzz target `toml_zone`: see `fedns_fuzz::toml_zone` for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedns_fuzz::toml_zone(data));
