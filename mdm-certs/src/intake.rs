//! Intake of the APNs certificate the admin uploads (R-AP-2, R-AP-4).

use core::fmt;

use time::OffsetDateTime;

use crate::identity::CertifiedKey;
use mdm_model::{PushTopic, Sha256Digest};

use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::key::PrivateKey;
use crate::key_pem::{is_private_key_label, read_key_block};
use crate::pem;
use crate::pkcs12::Pkcs12;

/// The prefix of the topic in a push certificate Apple's Push Certificates
/// Portal issues to a customer (`com.apple.mgmt.External.<uuid>`); intake
/// accepts no other form.
pub const EXTERNAL_PUSH_TOPIC_PREFIX: &str = "com.apple.mgmt.External.";

/// What the console shows about an uploaded APNs certificate (R-AP-2).
/// In JSON, dates are RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApnsCertificateDetails {
    /// The uploaded file's name.
    pub file_name: String,
    /// The issuing CA's name (issuer CN, else O).
    pub issuer_name: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// The push topic from the subject's UID.
    pub topic: PushTopic,
    /// SHA-256 fingerprint.
    pub fingerprint: Sha256Digest,
}

impl ApnsCertificateDetails {
    /// The expiry watch for this certificate at `now`.
    pub fn expiry_status(&self, now: OffsetDateTime) -> crate::ExpiryStatus {
        crate::ExpiryStatus::at(self.not_before, self.not_after, now)
    }
}

/// An accepted APNs certificate: the details, and the certificate paired with
/// the workspace key, ready for APNs and for a backup.
pub struct AcceptedApnsCertificate {
    /// What the console shows.
    pub details: ApnsCertificateDetails,
    /// The certificate and its key.
    pub identity: CertifiedKey,
}

impl fmt::Debug for AcceptedApnsCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptedApnsCertificate")
            .field("details", &self.details)
            .finish_non_exhaustive()
    }
}

/// The upload checks for one workspace: the push CA the certificate must
/// come from, the key kept from its CSR and, on renewal, its current topic.
///
/// **Trust anchors.** `anchors` are the certificates of the CA that issues
/// push certificates; an upload must be signed by one of them. In
/// production that is Apple's issuing CA for MDM push certificates,
/// *Apple Application Integration 2 Certification Authority* (the issuer
/// named in every certificate from identity.apple.com/pushcert; it chains
/// to Apple Root CA) — pass that intermediate's certificate, as Apple
/// publishes it at apple.com/certificateauthority. In tests and the
/// harness it is the simulator's stand-in,
/// [`PushPortalStandIn::authority`](crate::PushPortalStandIn::authority).
#[derive(Debug, Clone, Copy)]
pub struct ApnsIntake<'a> {
    anchors: &'a [Certificate],
    workspace_key: Option<&'a PrivateKey>,
    current_topic: Option<&'a PushTopic>,
}

impl<'a> ApnsIntake<'a> {
    /// Checks against the push CA `anchors` and the key kept from the
    /// workspace's CSR.
    pub fn new(workspace_key: &'a PrivateKey, anchors: &'a [Certificate]) -> Self {
        Self {
            anchors,
            workspace_key: Some(workspace_key),
            current_topic: None,
        }
    }

    /// Accepts only a file that brings its own key (a PKCS#12 backup of a
    /// certificate prepared elsewhere), issued by one of `anchors`.
    pub fn without_kept_key(anchors: &'a [Certificate]) -> Self {
        Self {
            anchors,
            workspace_key: None,
            current_topic: None,
        }
    }

    /// On renewal: the uploaded certificate must keep this topic (R-AP-4).
    pub fn renewing(mut self, current_topic: &'a PushTopic) -> Self {
        self.current_topic = Some(current_topic);
        self
    }

    /// Reads `bytes` (PEM, DER, or PKCS#12 with `password`) named
    /// `file_name`, checks it at `now`, and returns the details and the
    /// identity. Each failure is its own [`CertError`]: garbage
    /// (`NotACertificate`), a missing or wrong PKCS#12 password, a CA
    /// certificate instead of a push certificate (`PushCertificateIsCa`, e.g.
    /// a self-signed CA in a PKCS#12), an issuer that is not one of the
    /// anchors (`UntrustedPushIssuer`), no UID, a wrong topic prefix
    /// (`InvalidPushTopic`), a topic not of the
    /// `com.apple.mgmt.External.` form (`PushTopicNotExternal`), expiry, a
    /// foreign key (`PublicKeyMismatch`), a changed topic. Never panics on
    /// any input.
    pub fn accept(
        &self,
        file_name: &str,
        bytes: &[u8],
        password: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<AcceptedApnsCertificate> {
        // A kept key wins: the file's key is then not even decrypted.
        let wanted = if self.workspace_key.is_some() {
            FileKey::Skip
        } else {
            FileKey::Read
        };
        let (certificate, file_key) = read_file(file_name, bytes, password, wanted)?;
        let info = certificate.info();
        if info.is_ca {
            return Err(CertError::PushCertificateIsCa {
                subject: info.subject.clone(),
            });
        }
        if !self.anchors.iter().any(|a| certificate.is_signed_by(a)) {
            return Err(CertError::UntrustedPushIssuer {
                subject: info.subject.clone(),
                issuer: info.issuer.clone(),
            });
        }
        let uid = info
            .uid
            .as_deref()
            .ok_or_else(|| CertError::MissingPushTopic {
                subject: info.subject.clone(),
            })?;
        let topic = PushTopic::parse(uid).map_err(|e| CertError::InvalidPushTopic {
            topic: uid.to_owned(),
            reason: match e {
                mdm_model::ModelError::InvalidPushTopic { reason, .. } => reason,
                _ => "is not a push topic",
            },
        })?;
        if uid
            .strip_prefix(EXTERNAL_PUSH_TOPIC_PREFIX)
            .is_none_or(str::is_empty)
        {
            return Err(CertError::PushTopicNotExternal {
                topic: uid.to_owned(),
            });
        }
        if now > info.not_after {
            return Err(CertError::CertificateExpired {
                subject: info.subject.clone(),
                not_after: info.not_after,
            });
        }
        if now < info.not_before {
            return Err(CertError::CertificateNotYetValid {
                subject: info.subject.clone(),
                not_before: info.not_before,
            });
        }
        let key = match (self.workspace_key, file_key) {
            (Some(kept), _) => {
                if !certificate.matches_key(kept) {
                    return Err(CertError::PublicKeyMismatch {
                        subject: info.subject.clone(),
                    });
                }
                kept.try_clone()?
            }
            (None, Some(k)) => k,
            (None, None) => {
                return Err(CertError::MissingPrivateKey {
                    source_name: file_name.to_owned(),
                });
            }
        };
        if let Some(current) = self.current_topic
            && current != &topic
        {
            return Err(CertError::TopicChanged {
                expected: current.to_string(),
                found: topic.to_string(),
            });
        }
        let details = ApnsCertificateDetails {
            file_name: file_name.to_owned(),
            issuer_name: info
                .issuer_name
                .clone()
                .unwrap_or_else(|| info.issuer.clone()),
            not_before: info.not_before,
            not_after: info.not_after,
            topic,
            fingerprint: info.fingerprint,
        };
        Ok(AcceptedApnsCertificate {
            details,
            identity: CertifiedKey { certificate, key },
        })
    }
}

/// Reads an uploaded certificate file: PEM (the first `CERTIFICATE`, and
/// the first private key beside it), DER, or PKCS#12 (which needs
/// `password`; an empty password is tried when none is given).
///
/// A PEM key may be PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`), PKCS#1
/// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`, P-256), the last two also
/// old-style encrypted (`Proc-Type: 4,ENCRYPTED`); an encrypted one is
/// opened with `password`. A key that cannot be read is an error of its own
/// (see [`PrivateKey::from_pem`]), and so is a key that is not the
/// certificate's ([`CertError::KeyDoesNotMatchCertificate`]).
pub fn read_certificate_file(
    file_name: &str,
    bytes: &[u8],
    password: Option<&str>,
) -> Result<(Certificate, Option<PrivateKey>)> {
    read_file(file_name, bytes, password, FileKey::Read)
}

/// Whether a PEM file's private key is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKey {
    Read,
    Skip,
}

fn read_file(
    file_name: &str,
    bytes: &[u8],
    password: Option<&str>,
    wanted: FileKey,
) -> Result<(Certificate, Option<PrivateKey>)> {
    let not_a_cert = |reason: &str| CertError::NotACertificate {
        source_name: file_name.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = trimmed
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(trimmed.len());
    let body = trimmed.get(start..).unwrap_or_default();
    if body.starts_with(b"-----BEGIN") {
        let mut certificate = None;
        let mut key_block = None;
        for block in pem::blocks(body) {
            let block = block.map_err(|e| not_a_cert(&format!("bad PEM: {e}")))?;
            if block.label == "CERTIFICATE" && certificate.is_none() {
                certificate = Some(Certificate::from_der_named(&block.contents, file_name)?);
            } else if is_private_key_label(block.label) && key_block.is_none() {
                key_block = Some(block);
            }
        }
        let certificate =
            certificate.ok_or_else(|| not_a_cert("no CERTIFICATE block in the PEM file"))?;
        let key = match key_block {
            Some(block) if wanted == FileKey::Read => {
                let key = read_key_block(&block, password)?;
                if !certificate.matches_key(&key) {
                    return Err(CertError::KeyDoesNotMatchCertificate {
                        subject: certificate.info().subject.clone(),
                    });
                }
                Some(key)
            }
            _ => None,
        };
        return Ok((certificate, key));
    }
    if Pkcs12::looks_like(bytes) {
        let contents = match password {
            Some(p) => Pkcs12::read(bytes, p, file_name)?,
            None => Pkcs12::read(bytes, "", file_name).map_err(|e| match e {
                CertError::Pkcs12PasswordWrong { source_name } => {
                    CertError::Pkcs12PasswordRequired { source_name }
                }
                other => other,
            })?,
        };
        return Ok((contents.certificate, contents.key));
    }
    let certificate = Certificate::from_der_named(bytes, file_name)?;
    Ok((certificate, None))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn details_json_form_is_stable() {
        let details = ApnsCertificateDetails {
            file_name: "push.pem".into(),
            issuer_name: "Apple Application Integration 2 Certification Authority".into(),
            not_before: datetime!(2026-06-01 12:00 UTC),
            not_after: datetime!(2027-06-01 12:00 UTC),
            topic: PushTopic::parse("com.apple.mgmt.External.1234").unwrap(),
            fingerprint: Sha256Digest::from_bytes([0xab; 32]),
        };
        let json = serde_json::to_value(&details).unwrap();
        assert_eq!(json["not_before"], "2026-06-01T12:00:00Z");
        assert_eq!(json["topic"], "com.apple.mgmt.External.1234");
        assert_eq!(json["fingerprint"], "ab".repeat(32));
        let back: ApnsCertificateDetails = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, details);
        let mut bad = json;
        bad["topic"] = "com.example.x".into();
        assert!(serde_json::from_value::<ApnsCertificateDetails>(bad).is_err());
    }
}
