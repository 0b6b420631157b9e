//! Shared fixtures: the shared vectors, and a workspace with one managed
//! Android device.

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/android/");

/// A file of `shared/vectors/android/`, or `None` when the vectors are not
/// checked out (which fails in CI).
pub fn vector(name: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("{VECTORS}{name}")).ok();
    if text.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shared vectors missing in CI"
        );
    }
    text
}
