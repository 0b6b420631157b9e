#![no_main]
//! Fuzz target `packages_product`: see `tests/hostile/targets.rs`.

#[path = "../../tests/hostile/targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("packages_product", data));
