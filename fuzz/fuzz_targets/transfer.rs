//! Fuzz target `transfer`: see `fedns_fuzz::transfer` for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedns_fuzz::transfer(data));
