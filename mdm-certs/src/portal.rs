//! A **simulator** of Apple's Push Certificates Portal, for tests and the
//! fleet harness. It is not Apple and talks to nothing.

use rand_core::CryptoRng;
use time::{Duration, OffsetDateTime};

use crate::authority::{CertificateAuthority, LeafKind, Validity};
use crate::certificate::Certificate;
use crate::csr::Csr;
use crate::error::{CertError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::name::{NameAttribute, SubjectName};
use crate::push_request::DecodedPushRequest;
use mdm_model::PushTopic;

/// How long the simulated portal's push certificates are valid (Apple: 1 year).
pub const PUSH_CERTIFICATE_VALIDITY: Duration = Duration::days(365);

/// A stand-in for Apple's Push Certificates Portal (identity.apple.com/pushcert).
///
/// **This is a simulator, not Apple.** It owns a test "Apple" CA and turns a
/// vendor-signed push certificate request into a certificate shaped like
/// Apple's: subject `UID=com.apple.mgmt.External.<uuid>, CN=APSP:<uuid>,
/// C=US`, issued for the customer CSR's public key, valid one year. It
/// verifies the vendor signature and that the vendor certificate was issued
/// by its CA, as the real portal checks the vendor's Apple-issued
/// certificate. Certificates it issues are trusted by nothing but tests.
#[derive(Debug)]
pub struct PushPortalStandIn {
    apple_ca: CertificateAuthority,
}

fn uuid_from<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    let part = |r: core::ops::Range<usize>| h.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

impl PushPortalStandIn {
    /// A stand-in with a new test "Apple" CA (valid 20 years from `now`).
    pub fn new<R: CryptoRng + ?Sized>(
        algorithm: KeyAlgorithm,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self> {
        let subject = SubjectName::common_name(
            "Apple Application Integration 2 Certification Authority (SIMULATED)",
        )?
        .with(
            NameAttribute::OrganizationalUnit,
            "Push portal stand-in, not Apple",
        )?
        .with(NameAttribute::Organization, "MDM test fixture")?
        .with(NameAttribute::Country, "US")?;
        let validity = Validity::new(now - Duration::days(1), now + Duration::days(365 * 20))?;
        Ok(Self {
            apple_ca: CertificateAuthority::create(&subject, validity, algorithm, rng)?,
        })
    }

    /// A stand-in around an existing test CA.
    pub fn from_authority(apple_ca: CertificateAuthority) -> Self {
        Self { apple_ca }
    }

    /// The test "Apple" CA.
    pub fn authority(&self) -> &CertificateAuthority {
        &self.apple_ca
    }

    /// Issues the vendor's MDM CSR-signing certificate for `vendor_key`
    /// (what Apple's developer portal gives an MDM vendor), valid one year.
    pub fn issue_vendor_certificate<R: CryptoRng + ?Sized>(
        &self,
        vendor_key: &PrivateKey,
        vendor_name: &str,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Certificate> {
        let subject = SubjectName::common_name(format!("MDM Vendor: {vendor_name}"))?
            .with(NameAttribute::Organization, vendor_name)?
            .with(NameAttribute::Country, "US")?;
        let validity = Validity::starting(now, Duration::days(365))?;
        self.apple_ca.issue_leaf(
            LeafKind::Signing,
            &subject,
            Vec::new(),
            vendor_key,
            validity,
            rng,
        )
    }

    /// "Create a Certificate": checks the request and issues a push
    /// certificate with a new topic `com.apple.mgmt.External.<uuid>`.
    pub fn create_push_certificate<R: CryptoRng + ?Sized>(
        &self,
        request: &str,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Certificate> {
        let uuid = uuid_from(rng);
        self.issue_push(request, &uuid, now, rng)
    }

    /// "Renew": the same checks, keeping `topic`.
    pub fn renew_push_certificate<R: CryptoRng + ?Sized>(
        &self,
        request: &str,
        topic: &PushTopic,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Certificate> {
        let uuid = topic
            .as_str()
            .strip_prefix("com.apple.mgmt.External.")
            .unwrap_or(topic.as_str())
            .to_owned();
        self.issue_push(request, &uuid, now, rng)
    }

    fn issue_push<R: CryptoRng + ?Sized>(
        &self,
        request: &str,
        uuid: &str,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Certificate> {
        let decoded = DecodedPushRequest::decode(request)?;
        let vendor = decoded
            .chain
            .first()
            .ok_or(CertError::BadSignature { what: "vendor" })?;
        if !vendor.is_signed_by(self.apple_ca.certificate()) || !vendor.info().is_valid_at(now) {
            return Err(CertError::BadSignature {
                what: "vendor certificate",
            });
        }
        if !decoded.signature_verifies() {
            return Err(CertError::BadSignature { what: "vendor" });
        }
        let subject = SubjectName::default()
            .with(
                NameAttribute::UserId,
                format!("com.apple.mgmt.External.{uuid}"),
            )?
            .with(NameAttribute::CommonName, format!("APSP:{uuid}"))?
            .with(NameAttribute::Country, "US")?;
        let validity = Validity::starting(now, PUSH_CERTIFICATE_VALIDITY)?;
        self.issue_custom(&decoded.csr, &subject, validity, rng)
    }

    /// Fault injection for tests and the harness: a certificate for `csr`'s
    /// key with any `subject` and `validity` (e.g. no UID, a wrong topic
    /// prefix, already expired).
    pub fn issue_custom<R: CryptoRng + ?Sized>(
        &self,
        csr: &Csr,
        subject: &SubjectName,
        validity: Validity,
        rng: &mut R,
    ) -> Result<Certificate> {
        self.apple_ca.issue_leaf(
            LeafKind::Push,
            subject,
            Vec::new(),
            csr.public_key(),
            validity,
            rng,
        )
    }
}
