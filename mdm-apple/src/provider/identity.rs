//! The push certificate the client authenticates with, checked before any
//! connection is made.

use mdm_certs::CertifiedKey;
use mdm_model::PushTopic;
use time::OffsetDateTime;

use crate::error::{AppleError, Result};

/// A push certificate and key that passed the provider's checks at `now`:
/// its subject's UID is the workspace's topic and it is within its
/// validity. `Debug` shows the topic only.
pub struct ProviderIdentity {
    pub(crate) topic: PushTopic,
    pub(crate) certificate_der: Vec<u8>,
    pub(crate) key: mdm_certs::PrivateKey,
}

impl core::fmt::Debug for ProviderIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProviderIdentity")
            .field("topic", &self.topic.as_str())
            .finish_non_exhaustive()
    }
}

impl ProviderIdentity {
    /// Checks `identity` (the workspace's APNs certificate and key, as
    /// `mdm-certs` accepted them) against the workspace's `topic` at `now`.
    ///
    /// # Errors
    /// [`AppleError::PushCertificateTopic`] when the certificate's UID is not
    /// `topic` (pushes would be dropped by APNs or wake nobody);
    /// [`AppleError::PushCertificateNotValid`] outside its validity;
    /// [`AppleError::KeyCertificateMismatch`] when the key is not the
    /// certificate's.
    pub fn check(identity: &CertifiedKey, topic: &PushTopic, now: OffsetDateTime) -> Result<Self> {
        let info = identity.certificate.info();
        Self::check_certificate(info, topic, now)?;
        if !identity.certificate.matches_key(&identity.key) {
            return Err(AppleError::KeyCertificateMismatch {
                subject: info.subject.clone(),
            });
        }
        Ok(Self {
            topic: topic.clone(),
            certificate_der: identity.certificate.der().to_vec(),
            key: identity
                .key
                .try_clone()
                .map_err(|e| AppleError::InvalidPrivateKey {
                    reason: e.to_string(),
                })?,
        })
    }

    /// The pure part of [`ProviderIdentity::check`], without the key: the
    /// certificate's UID is `topic` and `now` is within its validity. The
    /// harness's simulator decides its in-process pushes with it.
    ///
    /// # Errors
    /// [`AppleError::PushCertificateTopic`], [`AppleError::PushCertificateNotValid`].
    pub fn check_certificate(
        info: &mdm_certs::CertificateInfo,
        topic: &PushTopic,
        now: OffsetDateTime,
    ) -> Result<()> {
        if info.uid.as_deref() != Some(topic.as_str()) {
            return Err(AppleError::PushCertificateTopic {
                expected: topic.as_str().to_owned(),
                found: info.uid.clone(),
            });
        }
        if !info.is_valid_at(now) {
            return Err(AppleError::PushCertificateNotValid {
                subject: info.subject.clone(),
                not_before: info.not_before,
                not_after: info.not_after,
                now,
            });
        }
        Ok(())
    }

    /// The topic every push is sent on.
    pub fn topic(&self) -> &PushTopic {
        &self.topic
    }
}
