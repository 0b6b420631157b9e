//! Client (mobile) certificates identifying a device's user (R-CL-1).

use rand_core::CryptoRng;

use crate::authority::{CertificateAuthority, LeafKind, Validity};
use crate::certificate::Certificate;
use crate::csr::Csr;
use crate::error::Result;
use crate::identity::CertifiedKey;
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::{NameAttribute, SubjectName};

/// Who a client certificate is for: the user, and optionally the device.
///
/// The subject is set by the server from this identity (`CN=<user>`,
/// `OU=<device>`), never copied from what the device put in its CSR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    subject: SubjectName,
}

impl ClientIdentity {
    /// An identity for `user`, on `device` if given.
    pub fn new(user: &str, device: Option<&str>) -> Result<Self> {
        let mut subject = SubjectName::common_name(user)?;
        if let Some(device) = device {
            subject = subject.with(NameAttribute::OrganizationalUnit, device)?;
        }
        Ok(Self { subject })
    }

    /// The subject name the certificate will carry.
    pub fn subject(&self) -> &SubjectName {
        &self.subject
    }
}

impl CertificateAuthority {
    /// Issues a client certificate for the key in a device's `csr` (the
    /// device keeps its key): one P-256 or RSA signature by the CA, EKU
    /// `clientAuth`.
    pub fn issue_client_certificate<R: CryptoRng + ?Sized>(
        &self,
        csr: &Csr,
        identity: &ClientIdentity,
        validity: Validity,
        rng: &mut R,
    ) -> Result<Certificate> {
        self.issue_leaf(
            LeafKind::Client,
            identity.subject(),
            Vec::new(),
            csr.public_key(),
            validity,
            rng,
        )
    }

    /// Issues a client certificate with a key made here, to be delivered as
    /// a password-protected PKCS#12 (see [`crate::Pkcs12`]).
    pub fn issue_client_certificate_with_key<R: CryptoRng + ?Sized>(
        &self,
        identity: &ClientIdentity,
        validity: Validity,
        algorithm: KeyAlgorithm,
        rng: &mut R,
    ) -> Result<CertifiedKey> {
        let key = PrivateKey::generate(algorithm, rng)?;
        let certificate = self.issue_leaf(
            LeafKind::Client,
            identity.subject(),
            Vec::new(),
            &key,
            validity,
            rng,
        )?;
        Ok(CertifiedKey { certificate, key })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::authority::test_ca;
    use crate::key::test_keys::rng;

    #[test]
    fn issues_from_device_csr() {
        let ca = test_ca();
        let mut r = rng(3);
        let (key, csr) = Csr::for_device("whatever the device says", &mut r).unwrap();
        let id = ClientIdentity::new("alice@example.com", Some("device-42")).unwrap();
        let v = Validity::days(datetime!(2026-02-01 0:00 UTC), 365).unwrap();
        let cert = ca.issue_client_certificate(&csr, &id, v, &mut r).unwrap();
        assert!(cert.matches_key(&key));
        assert!(cert.is_signed_by(ca.certificate()));
        assert_eq!(cert.info().subject, "CN=alice@example.com, OU=device-42");
        assert!(!cert.info().is_ca);
    }

    #[test]
    fn serials_are_unique() {
        let ca = test_ca();
        let mut r = rng(4);
        let id = ClientIdentity::new("bob", None).unwrap();
        let v = Validity::days(datetime!(2026-02-01 0:00 UTC), 30).unwrap();
        let (_, csr) = Csr::for_device("d", &mut r).unwrap();
        let mut serials = std::collections::HashSet::new();
        for _ in 0..200 {
            let cert = ca.issue_client_certificate(&csr, &id, v, &mut r).unwrap();
            assert!(serials.insert(cert.info().serial_hex.clone()));
        }
    }
}
