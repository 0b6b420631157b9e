//! The `mdm` value of a push's body (the device's PushMagic), read the way
//! a JSON parser reads it. MDM pushes are exactly `{"mdm":"<PushMagic>"}`
//! with a plain magic: that form is read directly; any other body goes
//! through `serde_json`.

const OPEN: &[u8] = b"{\"mdm\":\"";
const CLOSE: &[u8] = b"\"}";

/// The body's `mdm` string, if it is a JSON object with one.
pub(super) fn mdm_magic(body: &[u8]) -> Option<String> {
    match plain_magic(body) {
        Some(magic) => Some(magic.to_owned()),
        None => parsed_magic(body),
    }
}

/// The magic of `{"mdm":"<magic>"}` when it needs no unescaping: no quote,
/// backslash or control character (which JSON does not allow raw).
fn plain_magic(body: &[u8]) -> Option<&str> {
    let inner = body.strip_prefix(OPEN)?.strip_suffix(CLOSE)?;
    if inner.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        return None;
    }
    std::str::from_utf8(inner).ok()
}

fn parsed_magic(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("mdm")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_plain_form_reads_as_json_does(magic in "\\PC*") {
            let body = format!("{{\"mdm\":\"{magic}\"}}");
            proptest::prop_assert_eq!(mdm_magic(body.as_bytes()), parsed_magic(body.as_bytes()));
        }

        #[test]
        fn any_body_reads_as_json_does(body in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut framed = OPEN.to_vec();
            framed.extend_from_slice(&body);
            framed.extend_from_slice(CLOSE);
            proptest::prop_assert_eq!(mdm_magic(&framed), parsed_magic(&framed));
            proptest::prop_assert_eq!(mdm_magic(&body), parsed_magic(&body));
        }
    }

    #[test]
    fn escaped_and_spaced_bodies_are_read_too() {
        assert_eq!(
            mdm_magic(br#"{"mdm":"5C3AB0D3-7E7B"}"#).as_deref(),
            Some("5C3AB0D3-7E7B")
        );
        assert_eq!(mdm_magic(br#"{"mdm":"a\"b"}"#).as_deref(), Some("a\"b"));
        assert_eq!(mdm_magic(br#"{ "mdm" : "x" }"#).as_deref(), Some("x"));
        assert_eq!(mdm_magic(br#"{"mdm":1}"#), None);
        assert_eq!(mdm_magic(b"{\"mdm\":\"\x01\"}"), None);
    }
}
