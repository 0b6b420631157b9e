#![no_main]
//! Fuzz target `android_nfc_payload`: see `tests/hostile/targets.rs`.

#[path = "../../tests/hostile/targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("android_nfc_payload", data));
