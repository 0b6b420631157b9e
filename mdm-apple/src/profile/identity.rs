//! Identity payloads: a device identity shipped as PKCS#12
//! (`com.apple.security.pkcs12`) or enrolled over SCEP
//! (`com.apple.security.scep`). The MDM payload's
//! `IdentityCertificateUUID` points at one of these.

use std::fmt;

use der::{Decode, Tagged, asn1::AnyRef};

use crate::error::{AppleError, Result};
use crate::fields::DictWriter;
use crate::value::PlistValue;

/// A PKCS#12 identity payload. The password is a secret: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs12Identity {
    pkcs12: Vec<u8>,
    password: Option<String>,
    /// `PayloadCertificateFileName`.
    pub file_name: Option<String>,
    /// `KeyIsExtractable` (macOS; device default true).
    pub key_is_extractable: Option<bool>,
    /// `AllowAllAppsAccess` (macOS; device default false).
    pub allow_all_apps_access: Option<bool>,
}

impl Pkcs12Identity {
    /// Wraps PKCS#12 (`.p12`) bytes and the password that opens them.
    ///
    /// # Errors
    /// [`AppleError::InvalidPkcs12`] when the bytes are not one DER
    /// SEQUENCE (the outer `PFX` structure).
    pub fn new(pkcs12: Vec<u8>, password: Option<String>) -> Result<Self> {
        let any = AnyRef::from_der(&pkcs12).map_err(|e| AppleError::InvalidPkcs12 {
            name: "PKCS#12".into(),
            reason: e.to_string(),
        })?;
        if any.tag() != der::Tag::Sequence {
            return Err(AppleError::InvalidPkcs12 {
                name: "PKCS#12".into(),
                reason: format!("outer tag is {}, not SEQUENCE", any.tag()),
            });
        }
        Ok(Self {
            pkcs12,
            password,
            file_name: None,
            key_is_extractable: None,
            allow_all_apps_access: None,
        })
    }

    /// The PKCS#12 bytes.
    pub fn pkcs12(&self) -> &[u8] {
        &self.pkcs12
    }

    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.security.pkcs12";

    pub(crate) fn write(&self, w: &mut DictWriter) {
        w.data("PayloadContent", &self.pkcs12)
            .opt("Password", self.password.clone())
            .opt("PayloadCertificateFileName", self.file_name.clone())
            .opt("KeyIsExtractable", self.key_is_extractable)
            .opt("AllowAllAppsAccess", self.allow_all_apps_access);
    }
}

impl fmt::Debug for Pkcs12Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs12Identity")
            .field("pkcs12_len", &self.pkcs12.len())
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("file_name", &self.file_name)
            .finish_non_exhaustive()
    }
}

/// SCEP `Keysize`: the schema allows 1024, 2048 and 4096 (device default 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScepKeySize {
    /// 1024 bits (the device default; weak, avoid).
    Rsa1024,
    /// 2048 bits.
    Rsa2048,
    /// 4096 bits.
    Rsa4096,
}

impl ScepKeySize {
    /// The bit count.
    pub const fn bits(self) -> u32 {
        match self {
            Self::Rsa1024 => 1024,
            Self::Rsa2048 => 2048,
            Self::Rsa4096 => 4096,
        }
    }
}

/// SCEP `Key Usage` bitmask (1 signing, 4 encryption).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScepKeyUsage {
    /// 1: digital signature.
    Signing,
    /// 4: key encipherment.
    Encryption,
    /// 5: both (what MDM identities use).
    SigningAndEncryption,
}

impl ScepKeyUsage {
    /// The bitmask written to the profile.
    pub const fn bits(self) -> u32 {
        match self {
            Self::Signing => 1,
            Self::Encryption => 4,
            Self::SigningAndEncryption => 5,
        }
    }
}

/// SCEP `SubjectAltName` values (each a single string, as the schema types them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScepSubjectAltName {
    /// `rfc822Name`.
    pub rfc822_name: Option<String>,
    /// `dNSName`.
    pub dns_name: Option<String>,
    /// `uniformResourceIdentifier`.
    pub uri: Option<String>,
    /// `ntPrincipalName`.
    pub nt_principal_name: Option<String>,
}

impl ScepSubjectAltName {
    fn is_empty(&self) -> bool {
        self.rfc822_name.is_none()
            && self.dns_name.is_none()
            && self.uri.is_none()
            && self.nt_principal_name.is_none()
    }
}

/// A SCEP identity payload: the device makes its own key and gets its
/// certificate from `url`. All settings sit in a nested `PayloadContent`
/// dictionary, two of whose keys contain spaces (`Key Type`, `Key Usage`).
/// The challenge is a secret: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ScepIdentity {
    /// `URL`: the SCEP endpoint (http or https; SCEP protects its own payloads).
    pub url: String,
    /// `Name`: the CA instance name.
    pub name: Option<String>,
    /// `Subject`: relative distinguished names in order, each `(attribute, value)`;
    /// attributes are `C`, `L`, `ST`, `O`, `OU`, `CN` or a dotted OID.
    /// Device variables such as `%SerialNumber%` are allowed in values.
    pub subject: Vec<(String, String)>,
    /// `Challenge`: the pre-shared challenge password.
    pub challenge: Option<String>,
    /// `Keysize`.
    pub key_size: ScepKeySize,
    /// `Key Usage`.
    pub key_usage: ScepKeyUsage,
    /// `Retries` on PENDING.
    pub retries: Option<u32>,
    /// `RetryDelay` in seconds.
    pub retry_delay: Option<u32>,
    /// `CAFingerprint`: digest of the CA certificate.
    pub ca_fingerprint: Option<Vec<u8>>,
    /// `SubjectAltName`.
    pub subject_alt_name: ScepSubjectAltName,
}

impl ScepIdentity {
    /// A SCEP identity with a 2048-bit RSA key used for signing and encryption.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            name: None,
            subject: Vec::new(),
            challenge: None,
            key_size: ScepKeySize::Rsa2048,
            key_usage: ScepKeyUsage::SigningAndEncryption,
            retries: None,
            retry_delay: None,
            ca_fingerprint: None,
            subject_alt_name: ScepSubjectAltName::default(),
        }
    }

    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.security.scep";

    pub(crate) fn validate(&self) -> Result<()> {
        let ok_scheme = self.url.starts_with("https://") || self.url.starts_with("http://");
        if !ok_scheme || self.url.chars().any(char::is_whitespace) {
            return Err(AppleError::InvalidValue {
                payload: Self::PAYLOAD_TYPE.into(),
                key: "URL",
                value: self.url.clone(),
                reason: "must start with http:// or https:// and hold no whitespace",
            });
        }
        for (attr, value) in &self.subject {
            let known = matches!(attr.as_str(), "C" | "L" | "ST" | "O" | "OU" | "CN");
            let oid = !attr.is_empty()
                && attr
                    .split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                && attr.contains('.');
            if !(known || oid) || value.is_empty() {
                return Err(AppleError::InvalidValue {
                    payload: Self::PAYLOAD_TYPE.into(),
                    key: "Subject",
                    value: format!("{attr}={value}"),
                    reason: "attribute must be C, L, ST, O, OU, CN or a dotted numeric OID, with a non-empty value",
                });
            }
        }
        Ok(())
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        let mut inner = DictWriter::new();
        inner
            .put("URL", self.url.as_str())
            .opt("Name", self.name.clone())
            .opt("Challenge", self.challenge.clone())
            .put("Keysize", u64::from(self.key_size.bits()))
            .put("Key Type", "RSA")
            .put("Key Usage", u64::from(self.key_usage.bits()))
            .opt("Retries", self.retries.map(u64::from))
            .opt("RetryDelay", self.retry_delay.map(u64::from));
        if let Some(fp) = &self.ca_fingerprint {
            inner.data("CAFingerprint", fp);
        }
        if !self.subject.is_empty() {
            let rdns: Vec<PlistValue> = self
                .subject
                .iter()
                .map(|(a, v)| {
                    PlistValue::from(vec![PlistValue::from(vec![
                        PlistValue::from(a.clone()),
                        PlistValue::from(v.clone()),
                    ])])
                })
                .collect();
            inner.put("Subject", rdns);
        }
        if !self.subject_alt_name.is_empty() {
            let san = &self.subject_alt_name;
            let mut d = DictWriter::new();
            d.opt("rfc822Name", san.rfc822_name.clone())
                .opt("dNSName", san.dns_name.clone())
                .opt("uniformResourceIdentifier", san.uri.clone())
                .opt("ntPrincipalName", san.nt_principal_name.clone());
            inner.put("SubjectAltName", d.finish());
        }
        w.put("PayloadContent", inner.finish());
    }
}

impl fmt::Debug for ScepIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScepIdentity")
            .field("url", &self.url)
            .field("subject", &self.subject)
            .field("challenge", &self.challenge.as_ref().map(|_| "<redacted>"))
            .field("key_size", &self.key_size)
            .field("key_usage", &self.key_usage)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs12_must_be_der_and_debug_hides_password() {
        assert!(Pkcs12Identity::new(b"not der".to_vec(), None).is_err());
        assert!(Pkcs12Identity::new(vec![0x02, 0x01, 0x00], None).is_err());
        let p = Pkcs12Identity::new(vec![0x30, 0x00], Some("hunter2".into())).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn scep_subject_attributes_are_checked() {
        let mut s = ScepIdentity::new("https://scep.example.com/scep");
        s.challenge = Some("secret".into());
        s.subject = vec![("O".into(), "Acme".into()), ("1.2.5.3".into(), "x".into())];
        assert!(s.validate().is_ok());
        assert!(!format!("{s:?}").contains("secret"));
        s.subject.push(("Bogus".into(), "x".into()));
        assert!(s.validate().is_err());
        let bad = ScepIdentity::new("ftp://x");
        assert!(bad.validate().is_err());
    }
}
