//! Fuzz target `packet`: see `fedns_fuzz::packet` for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedns_fuzz::packet(data));
