#![no_main]
//! Fuzz target `model_push_topic`: see `tests/hostile/targets.rs`.

#[path = "../../tests/hostile/targets.rs"]
#[allow(dead_code)]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("model_push_topic", data));
