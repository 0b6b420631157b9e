//! The workspace's record of its APNs certificate (R-WS-1, R-AP-2, R-IN-3).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ModelError, PushTopic, Sha256Digest};

/// Plain facts about the workspace's APNs certificate, as `mdm-certs` read them
/// from the uploaded file. The model needs only these to decide whether iOS
/// devices may enroll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApnsCertificateRecord {
    topic: PushTopic,
    issuer: Box<str>,
    #[serde(with = "time::serde::rfc3339")]
    not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    not_after: OffsetDateTime,
    fingerprint: Sha256Digest,
}

impl ApnsCertificateRecord {
    /// Records the facts of an APNs certificate.
    ///
    /// # Errors
    /// [`ModelError::InvalidApnsRecord`] when the validity ends before it starts.
    pub fn new(
        topic: PushTopic,
        issuer: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        fingerprint: Sha256Digest,
    ) -> Result<Self, ModelError> {
        if not_after <= not_before {
            return Err(ModelError::InvalidApnsRecord(
                "the validity ends before it starts",
            ));
        }
        Ok(Self {
            topic,
            issuer: issuer.into(),
            not_before,
            not_after,
            fingerprint,
        })
    }

    /// The push topic (the UID of the certificate's subject).
    #[must_use]
    pub fn topic(&self) -> &PushTopic {
        &self.topic
    }
    /// The issuing CA's name.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// Start of validity.
    #[must_use]
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }
    /// End of validity.
    #[must_use]
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }
    /// SHA-256 of the certificate's DER.
    #[must_use]
    pub fn fingerprint(&self) -> Sha256Digest {
        self.fingerprint
    }
    /// Whether the certificate is valid at `now`.
    #[must_use]
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now < self.not_after
    }
}
