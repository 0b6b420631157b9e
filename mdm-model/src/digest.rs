//! SHA-256 digests and fingerprints: one type for a certificate's
//! fingerprint (`mdm-certs`), an APK's or product file's digest
//! (`mdm-android`, `mdm-packages`), and what the workspace records of an
//! APNs or client certificate.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest: of an APK file, of an APK's signing certificate, of a CA
/// or client certificate.
///
/// Two text forms: [`Sha256Digest::to_base64url`] (URL-safe base64 without
/// padding, what `PROVISIONING_*_CHECKSUM` carries; the parser accepts padding
/// too, as ManagedProvisioning does) and lower-case hex (what we use for
/// certificate fingerprints, like `openssl x509 -fingerprint -sha256` minus
/// the colons; serde uses this form).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// URL-safe base64 without padding (43 characters).
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads URL-safe base64, with or without `=` padding. Returns a reason
    /// on failure; a 64-character hex string is named as the common mistake it is.
    pub fn from_base64url(text: &str) -> Result<Self, &'static str> {
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("this is a hex digest; give URL-safe base64 of the 32 digest bytes");
        }
        let bytes = URL_SAFE_NO_PAD_INDIFFERENT
            .decode(text)
            .map_err(|_| "not URL-safe base64")?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| "not 32 bytes once decoded (expected a SHA-256 digest)")
    }

    /// Upper-case hex pairs joined by `:`, as `openssl x509 -fingerprint
    /// -sha256` prints a certificate's fingerprint.
    pub fn to_colon_hex(&self) -> String {
        let mut text = String::with_capacity(95);
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                text.push(':');
            }
            text.push_str(&format!("{b:02X}"));
        }
        text
    }

    /// Lower-case hex (64 characters).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads hex, upper or lower case, with or without `:` separators.
    pub fn from_hex(text: &str) -> Result<Self, &'static str> {
        let mut bytes = [0u8; 32];
        let mut count = 0usize;
        let mut high: Option<u8> = None;
        for b in text.bytes() {
            if b == b':' {
                continue;
            }
            let nibble = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err("not a hex digest"),
            };
            match high.take() {
                None => high = Some(nibble),
                Some(h) => {
                    let slot = bytes
                        .get_mut(count)
                        .ok_or("longer than a SHA-256 digest (32 bytes)")?;
                    *slot = (h << 4) | nibble;
                    count += 1;
                }
            }
        }
        if high.is_some() || count != 32 {
            return Err("not a SHA-256 digest (64 hex digits)");
        }
        Ok(Self(bytes))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 64];
        // hex::encode_to_slice cannot fail for a 64-byte buffer and 32 input bytes.
        hex::encode_to_slice(self.0, &mut buffer).map_err(serde::ser::Error::custom)?;
        let text = std::str::from_utf8(&buffer).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor rather than `Cow<str>` (which serde always copies): every
        // sync carries digests, and reading them should not allocate.
        struct HexVisitor;
        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = Sha256Digest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a SHA-256 digest in hex")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Sha256Digest, E> {
                Sha256Digest::from_hex(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64url_accepts_padded_and_unpadded() {
        // The AOSP README example (padded) and the AMAPI one (unpadded).
        let aosp =
            Sha256Digest::from_base64url("gJD2YwtOiWJHkSMkkIfLRlj-quNqG1fb6v100QmzM9w=").unwrap();
        assert_eq!(
            aosp.to_base64url(),
            "gJD2YwtOiWJHkSMkkIfLRlj-quNqG1fb6v100QmzM9w"
        );
        let amapi =
            Sha256Digest::from_base64url("I5YvS0O5hXY46mb01BlRjq4oJJGs2kuUcHvVkAPEXlg").unwrap();
        assert_eq!(amapi.to_base64url().len(), 43);
    }

    #[test]
    fn headwind_checksum_is_sha256_of_the_example_bytes() {
        let digest = Sha256Digest::of(b"example apk bytes");
        let vector = "-fcBQAXK38HMeIxyAksTHZFik-kaototlO1IXUYmJAU=";
        assert_eq!(Sha256Digest::from_base64url(vector).unwrap(), digest);
    }

    #[test]
    fn refusals_name_the_mistake() {
        let hex = Sha256Digest::of(b"x").to_hex();
        assert!(
            Sha256Digest::from_base64url(&hex)
                .unwrap_err()
                .contains("hex digest")
        );
        assert!(
            Sha256Digest::from_base64url("AAAA")
                .unwrap_err()
                .contains("32 bytes")
        );
        assert!(Sha256Digest::from_base64url("a+b/").is_err());
    }

    #[test]
    fn hex_forms() {
        let digest = Sha256Digest::of(b"abc");
        assert_eq!(
            digest.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let colons = digest
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(Sha256Digest::from_hex(&colons).unwrap(), digest);
        assert!(Sha256Digest::from_hex("abc").is_err());
        assert!(Sha256Digest::from_hex(&"a".repeat(66)).is_err());
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(serde_json::from_str::<Sha256Digest>(&json).unwrap(), digest);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(text in ".{0,100}") {
            let _ = Sha256Digest::from_base64url(&text);
            let _ = Sha256Digest::from_hex(&text);
        }

        #[test]
        fn round_trips(bytes in proptest::array::uniform32(any::<u8>())) {
            let d = Sha256Digest::from_bytes(bytes);
            prop_assert_eq!(Sha256Digest::from_base64url(&d.to_base64url()).unwrap(), d);
            prop_assert_eq!(Sha256Digest::from_hex(&d.to_hex()).unwrap(), d);
        }
    }
}
