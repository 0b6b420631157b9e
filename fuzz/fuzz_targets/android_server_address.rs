#![no_main]
//! Fuzz target `android_server_address`: see `tests/hostile/targets.rs`.

#[path = "../../tests/hostile/targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("android_server_address", data));
