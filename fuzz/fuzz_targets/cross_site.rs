#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tower_vigil_fuzz_checks::cross_site::check(data));
