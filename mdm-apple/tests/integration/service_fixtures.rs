//! A workspace with an APNs certificate, a device CA, and device
//! identities (P-256 and RSA-2048, another CA's, an expired one), made once
//! per test binary, for the service tests.

use std::sync::OnceLock;

use mdm_apple::{
    AppleDeviceId, AppleService, Authenticate, DeviceRequest, Endpoint, Handled, PresentedIdentity,
    ProfileSigner, PushMagic, PushToken, TokenUpdate,
};
use mdm_certs::{
    CertificateAuthority, CertifiedKey, ClientIdentity, KeyAlgorithm, SubjectName, Validity,
};
use mdm_model::{
    ApnsCertificateRecord, DeviceId, EmailAddress, EnrollmentRequest, InstallSource, OsVersion,
    Platform, PushTopic, Sha256Digest, Workspace,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::{Duration, OffsetDateTime, macros::datetime};

/// The topic of the captured nanomdm vectors.
pub const TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";
/// The iPad of `Authenticate.1.plist` / `TokenUpdate.1.plist`.
pub const IPAD: &str = "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69";
/// The Mac of `Authenticate.2.plist` / `TokenUpdate.2.plist`.
pub const MAC: &str = "66ADE930-5FDF-5EC4-8429-15640684C489";

pub const NOW: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);

pub fn topic() -> PushTopic {
    PushTopic::parse(TOPIC).unwrap()
}

/// A device identity: its certificate and a signer for `Mdm-Signature`.
pub struct Identity {
    pub key: CertifiedKey,
    pub signer: ProfileSigner,
}

impl Identity {
    fn new(ca: &CertificateAuthority, name: &str, validity: Validity, alg: KeyAlgorithm) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(name.len() as u64 * 31 + alg as u64);
        let key = ca
            .issue_client_certificate_with_key(
                &ClientIdentity::new(name, Some(name)).unwrap(),
                validity,
                alg,
                &mut rng,
            )
            .unwrap();
        let signer = ProfileSigner::new(
            &[key.certificate.der(), ca.certificate().der()],
            key.key.pkcs8_der_secret(),
        )
        .unwrap();
        Self { key, signer }
    }

    pub fn der(&self) -> &[u8] {
        self.key.certificate.der()
    }

    /// The `Mdm-Signature` (DER) over `body`.
    pub fn sign(&self, body: &[u8]) -> Vec<u8> {
        self.signer.sign_detached(body, NOW).unwrap()
    }
}

pub struct Pki {
    pub ca: CertificateAuthority,
    /// P-256 identities X and Y, an RSA-2048 one, another CA's, an expired one.
    pub x: Identity,
    pub y: Identity,
    pub rsa: Identity,
    pub foreign: Identity,
    pub expired: Identity,
}

/// Made once per test binary (RSA keys are slow).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(17);
        let validity = Validity::days(NOW - Duration::days(30), 3650).unwrap();
        let ca = CertificateAuthority::create(
            &SubjectName::common_name("Device CA").unwrap(),
            validity,
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
        let other_ca = CertificateAuthority::create(
            &SubjectName::common_name("Device CA").unwrap(),
            validity,
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
        let leaf = Validity::days(NOW - Duration::days(1), 365).unwrap();
        let past = Validity::days(NOW - Duration::days(400), 30).unwrap();
        Pki {
            x: Identity::new(&ca, "device-x", leaf, KeyAlgorithm::EcdsaP256),
            y: Identity::new(&ca, "device-y", leaf, KeyAlgorithm::EcdsaP256),
            rsa: Identity::new(&ca, "device-rsa", leaf, KeyAlgorithm::Rsa2048),
            foreign: Identity::new(&other_ca, "device-x", leaf, KeyAlgorithm::EcdsaP256),
            expired: Identity::new(&ca, "device-old", past, KeyAlgorithm::EcdsaP256),
            ca,
        }
    })
}

/// A workspace holding the vectors' APNs topic, and a user to invite.
pub struct Setup {
    pub ws: Workspace,
    pub service: AppleService,
    rng: ChaCha20Rng,
    user: mdm_model::UserId,
}

impl Setup {
    pub fn new() -> Self {
        let mut ws = Workspace::new("acme", "ACME", Some("jp"), NOW - Duration::days(10)).unwrap();
        ws.set_apns_certificate(
            ApnsCertificateRecord::new(
                topic(),
                "Apple Application Integration 2 Certification Authority",
                NOW - Duration::days(10),
                NOW + Duration::days(355),
                Sha256Digest::from_bytes([7; 32]),
            )
            .unwrap(),
            NOW - Duration::days(10),
        );
        let user = ws
            .add_user(
                "alice",
                Some(EmailAddress::parse("alice@acme.example").unwrap()),
                NOW,
            )
            .unwrap();
        let service = AppleService::in_memory(vec![pki().ca.certificate().clone()]);
        Self {
            ws,
            service,
            rng: ChaCha20Rng::seed_from_u64(5),
            user,
        }
    }

    /// A device record in `Enrolling` (its invitation consumed), whose
    /// identity `identity` the service expects.
    pub fn enrolling(&mut self, identity: &Identity) -> DeviceId {
        let inv = self
            .ws
            .issue_invitation(self.user, NOW, &mut self.rng)
            .unwrap();
        let device = self
            .ws
            .enroll(
                &inv.token,
                EnrollmentRequest {
                    platform: Platform::IPadOs,
                    os_version: OsVersion::new(17, 4, 0),
                    model: "iPad".into(),
                    identification_number: None,
                    install_source: InstallSource::EnrollmentProfile,
                },
                NOW,
            )
            .unwrap();
        self.service
            .expect_identity(identity.der(), device)
            .unwrap();
        device
    }

    /// Sends `body` signed by `identity` to `endpoint`.
    pub fn send(
        &mut self,
        endpoint: Endpoint,
        body: &[u8],
        identity: &Identity,
    ) -> mdm_apple::Result<Handled> {
        let signature = identity.sign(body);
        self.service.handle(
            &mut self.ws,
            &DeviceRequest {
                endpoint,
                body,
                identity: PresentedIdentity::MdmSignature(&signature),
            },
            NOW,
        )
    }

    pub fn checkin(&mut self, body: &[u8], identity: &Identity) -> mdm_apple::Result<Handled> {
        self.send(Endpoint::CheckIn, body, identity)
    }

    pub fn command(&mut self, body: &[u8], identity: &Identity) -> mdm_apple::Result<Handled> {
        self.send(Endpoint::Command, body, identity)
    }

    /// Authenticate then TokenUpdate for `udid`, signed by `identity`.
    pub fn enroll(&mut self, udid: &str, identity: &Identity) -> DeviceId {
        let device = self.enrolling(identity);
        let id = AppleDeviceId::Udid(udid.into());
        let auth = Authenticate::new(topic(), id.clone()).to_xml().unwrap();
        self.checkin(&auth, identity).unwrap();
        let update = TokenUpdate::new(
            topic(),
            id,
            PushToken::new(vec![9; 32]).unwrap(),
            PushMagic::new("magic").unwrap(),
        )
        .to_xml()
        .unwrap();
        self.checkin(&update, identity).unwrap();
        device
    }
}

/// A captured nanomdm body from `../shared/vectors/nanomdm/mdm/testdata`.
pub fn vector(name: &str) -> Vec<u8> {
    let path = super::fixtures::shared()
        .join("vectors/nanomdm/mdm/testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
