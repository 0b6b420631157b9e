//! The identifiers Apple MDM passes around: APNs topics, payload UUIDs,
//! command UUIDs and https URLs, each validated once at construction.

use std::fmt;

use rand_core::CryptoRng;

use mdm_model::PushTopic;

use crate::error::{AppleError, Result};

/// Reads the APNs topic a device names (its check-in's `Topic`), with the
/// model's one topic rule ([`PushTopic`]), as this crate's error.
pub(crate) fn read_topic(text: &str) -> Result<PushTopic> {
    PushTopic::parse(text).map_err(|e| match e {
        mdm_model::ModelError::InvalidPushTopic { topic, reason } => {
            AppleError::InvalidTopic { topic, reason }
        }
        other => AppleError::InvalidTopic {
            topic: other.to_string(),
            reason: "not an APNs topic",
        },
    })
}

fn is_uuid_shape(s: &str) -> bool {
    let groups = [8usize, 4, 4, 4, 12];
    let mut parts = s.split('-');
    for len in groups {
        match parts.next() {
            Some(p) if p.len() == len && p.bytes().all(|b| b.is_ascii_alphanumeric()) => {}
            _ => return false,
        }
    }
    parts.next().is_none()
}

fn random_uuid<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h = hex::encode_upper(b);
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// A `PayloadUUID` (and `IdentityCertificateUUID`): the 8-4-4-4-12 form the
/// schema's `format` requires (`^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-…{12}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadUuid(String);

impl PayloadUuid {
    /// Validates a UUID string.
    ///
    /// # Errors
    /// [`AppleError::InvalidUuid`] when it is not 8-4-4-4-12 alphanumerics.
    pub fn new(uuid: impl Into<String>) -> Result<Self> {
        let uuid = uuid.into();
        if is_uuid_shape(&uuid) {
            Ok(Self(uuid))
        } else {
            Err(AppleError::InvalidUuid {
                field: "PayloadUUID",
                value: uuid,
                rule: "must be 8-4-4-4-12 ASCII letters or digits",
            })
        }
    }

    /// A fresh random (version 4, upper-case) UUID drawn from the caller's RNG.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(random_uuid(rng))
    }

    /// The UUID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PayloadUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `CommandUUID`: the key by which a device's reports are matched to the
/// command queue. Devices echo whatever string the server chose, so any
/// non-empty string without control characters is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandUuid(String);

impl CommandUuid {
    /// Validates a command UUID (non-empty, no control characters).
    ///
    /// # Errors
    /// [`AppleError::InvalidUuid`] otherwise.
    pub fn new(uuid: impl Into<String>) -> Result<Self> {
        let uuid = uuid.into();
        if uuid.is_empty() || uuid.chars().any(char::is_control) {
            Err(AppleError::InvalidUuid {
                field: "CommandUUID",
                value: uuid,
                rule: "must be non-empty, without control characters",
            })
        } else {
            Ok(Self(uuid))
        }
    }

    /// A fresh random (version 4) UUID drawn from the caller's RNG.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(random_uuid(rng))
    }

    /// The UUID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommandUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An absolute `https://` URL with a host, as the MDM payload and the web
/// clip require (`ServerURL`, `CheckInURL` must be https).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    /// Validates that `url` is `https://host[:port][/path…]` without spaces.
    ///
    /// # Errors
    /// [`AppleError::NotHttps`] naming `field`.
    pub fn new(field: &'static str, url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        let ok = url
            .strip_prefix("https://")
            .map(|rest| {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                let host = host.rsplit('@').next().unwrap_or_default();
                let name = host.split(':').next().unwrap_or_default();
                !name.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
            })
            .unwrap_or(false);
        if ok {
            Ok(Self(url))
        } else {
            Err(AppleError::NotHttps { field, url })
        }
    }

    /// The URL as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This URL with `path` appended (one `/` between them).
    pub fn join(&self, path: &str) -> Self {
        let base = self.0.trim_end_matches('/');
        let path = path.trim_start_matches('/');
        Self(format!("{base}/{path}"))
    }
}

impl fmt::Display for HttpsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn topic_needs_prefix_and_suffix() {
        assert!(read_topic("com.apple.mgmt.External.e0bd1eac").is_ok());
        assert!(read_topic("com.apple.mgmt.").is_err());
        assert!(read_topic("com.example.mgmt.x").is_err());
        assert!(matches!(
            read_topic("com.apple.mgmt.a b"),
            Err(AppleError::InvalidTopic { reason, .. }) if reason.contains("character")
        ));
    }

    #[test]
    fn uuids_have_the_schema_shape() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let u = PayloadUuid::random(&mut rng);
        assert!(PayloadUuid::new(u.as_str()).is_ok());
        assert_eq!(u.as_str().len(), 36);
        assert_eq!(u.as_str().as_bytes().get(14), Some(&b'4'));
        assert!(PayloadUuid::new("1234").is_err());
        assert!(PayloadUuid::new("12345678-1234-1234-1234-1234567890ab-").is_err());
        assert!(CommandUuid::new("").is_err());
        assert!(CommandUuid::new("any-string").is_ok());
    }

    #[test]
    fn https_urls_only() {
        assert!(HttpsUrl::new("ServerURL", "https://mdm.example.com:8443/mdm").is_ok());
        assert!(HttpsUrl::new("ServerURL", "http://mdm.example.com").is_err());
        assert!(HttpsUrl::new("ServerURL", "https://").is_err());
        assert!(HttpsUrl::new("ServerURL", "https:///path").is_err());
        assert!(HttpsUrl::new("ServerURL", "https://a b").is_err());
        let u = HttpsUrl::new("ServerURL", "https://h/").unwrap();
        assert_eq!(u.join("/mdm/connect").as_str(), "https://h/mdm/connect");
    }
}
