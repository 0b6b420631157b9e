#![no_main]
//! Fuzz target `certs_pkcs12`: see `tests/hostile/targets.rs`.

#[path = "../../tests/hostile/targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("certs_pkcs12", data));
