//! Shared fixtures: RSA keys and the portal stand-in are made once per test
//! binary, from fixed seeds, so artifacts are reproducible.

use std::sync::OnceLock;

use mdm_certs::{
    ApnsCsrForm, CertificateAuthority, KeyAlgorithm, PrivateKey, PushPortalStandIn, SubjectName,
    Validity, VendorSigner,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

pub const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

struct Keys {
    vendor: Vec<u8>,
    workspace: Vec<u8>,
    other_workspace: Vec<u8>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let make = |seed| {
            PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng(seed))
                .unwrap()
                .pkcs8_der_secret()
                .to_vec()
        };
        Keys {
            vendor: make(101),
            workspace: make(102),
            other_workspace: make(103),
        }
    })
}

/// The MDM vendor's RSA signing key.
pub fn vendor_key() -> PrivateKey {
    PrivateKey::from_pkcs8_der(&keys().vendor).unwrap()
}

/// The APNs key of "our" workspace.
pub fn workspace_key() -> PrivateKey {
    PrivateKey::from_pkcs8_der(&keys().workspace).unwrap()
}

/// The APNs key of another workspace.
pub fn other_workspace_key() -> PrivateKey {
    PrivateKey::from_pkcs8_der(&keys().other_workspace).unwrap()
}

pub fn form() -> ApnsCsrForm {
    ApnsCsrForm {
        name: "Jane Admin".into(),
        company: "Example Corp".into(),
        department: "IT".into(),
        city: "Osaka".into(),
        state: "Osaka".into(),
        country: "JP".into(),
    }
}

/// The portal stand-in (P-256 test "Apple" CA) and a vendor signer whose
/// certificate it issued.
pub fn portal_and_vendor() -> (PushPortalStandIn, VendorSigner) {
    let portal = PushPortalStandIn::new(KeyAlgorithm::EcdsaP256, NOW, &mut rng(201)).unwrap();
    let vendor_cert = portal
        .issue_vendor_certificate(&vendor_key(), "Example MDM Vendor", NOW, &mut rng(202))
        .unwrap();
    let vendor = VendorSigner::new(
        vendor_cert,
        vendor_key(),
        vec![portal.authority().certificate().clone()],
    )
    .unwrap();
    (portal, vendor)
}

/// The intake's trust anchor: the portal stand-in's test "Apple" CA.
pub fn push_anchors() -> Vec<mdm_certs::Certificate> {
    vec![portal_and_vendor().0.authority().certificate().clone()]
}

pub fn workspace_ca() -> CertificateAuthority {
    CertificateAuthority::create(
        &SubjectName::common_name("Example Workspace CA").unwrap(),
        Validity::days(NOW, 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng(301),
    )
    .unwrap()
}
