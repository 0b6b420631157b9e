//! X.509 for mobile device management.
//!
//! `mdm-certs` owns every certificate an MDM workspace deals with
//! (requirements R-AP-1…4, R-SV-1, R-SV-2, R-CL-1):
//!
//! * the **workspace CA** ([`CertificateAuthority`]): ECDSA P-256 by default,
//!   RSA on request; saved and loaded as PEM with the key in PKCS#8,
//!   optionally encrypted;
//! * **server certificates** for the connection address, an FQDN or an IP
//!   ([`mdm_model::ServerHost`]), and **reserve** certificates with their
//!   rotation schedule ([`ServerCertificateRotation`]);
//! * **client certificates** for users' devices, from a device CSR
//!   ([`Csr::for_device`]) or with a server-made key in a PKCS#12
//!   ([`Pkcs12`]), delivered by **one-time password**
//!   ([`ClientCertificateDelivery`]);
//! * the **APNs certificate flow**: the CSR from the console form
//!   ([`ApnsCsrForm`], [`ApnsKeyRequest`]), vendor signing into the portal's
//!   request plist ([`VendorSigner`], [`PushCertificateRequest`]), intake of
//!   the uploaded certificate ([`ApnsIntake`]) and its password-protected
//!   backup ([`Pkcs12::backup`]);
//! * the **expiry watch** ([`ExpiryStatus`]);
//! * a **SCEP server** (RFC 8894, [`ScepServer`]): a device presents its
//!   one-time password as the `challengePassword` ([`ScepChallenges`]) and
//!   gets its client certificate in a `CertRep`; refusals are `CertRep`
//!   FAILUREs with their [`FailInfo`] and an audit fact ([`ScepOutcome`]).
//!   The device side ([`ScepRequest`], [`ScepReply`]) is here too, for tests
//!   and the harness; the HTTP route (`scep_router`) is behind the `http`
//!   feature. Tested against micromdm's `scepclient`.
//!
//! It knows nothing of workspaces: it takes names, dates, keys and bytes and
//! returns certificates and facts about them ([`CertificateInfo`]). Time
//! comes in as `now`; randomness (keys, serials, OTPs, salts) from a
//! caller-supplied CSPRNG, and signatures are deterministic, so a seeded run
//! is reproducible. [`PushPortalStandIn`] simulates Apple's portal for tests
//! and the harness; it is not Apple.
//!
//! # Features
//!
//! * `http` (off by default): the SCEP server as an axum route,
//!   `GET/POST /scep?operation=…` (RFC 8894 §4).
//! * `openssl` (off by default; `openssl-p256`, its first name, turns it
//!   on too): the private-key arithmetic by OpenSSL instead of the
//!   pure-Rust crates, byte for byte the same results (tests hold the two
//!   paths together). ECDSA P-256 signatures about 3x faster than `p256`
//!   (16 µs against 45 µs): RFC 6979 fixes every nonce, and the key drawn
//!   from a seed is the same on both paths. RSA signatures and decryption
//!   (a SCEP issuance is three of them with an RSA CA) about 3x faster
//!   than `rsa`: PKCS #1 v1.5 signatures are deterministic, and both
//!   answer a badly padded ciphertext with the same implicit-rejection
//!   message. Both engines blind every RSA private-key operation (the `rsa`
//!   crate with the operating system's generator, OpenSSL with its own;
//!   never the caller's RNG, so a seeded run makes the same bytes on both).
//!   OpenSSL is built from source (`openssl-src`, needing a C compiler,
//!   `perl` and `make`, about three minutes on two cores), since
//!   deterministic nonces need OpenSSL 3.2 or later. The harness turns it on
//!   for its simulated fleets and its servers; a server that makes a few
//!   keys an hour and issues a few certificates a minute does not need it.
//!
//! # Example: a CA issues a client certificate from a device's CSR
//!
//! ```
//! use mdm_certs::{CertificateAuthority, ClientIdentity, Csr, KeyAlgorithm, SubjectName, Validity};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), mdm_certs::CertError> {
//! let mut rng = ChaCha20Rng::seed_from_u64(7);
//! let now = datetime!(2026-06-01 12:00 UTC);
//!
//! let ca = CertificateAuthority::create(
//!     &SubjectName::common_name("Example Workspace CA")?,
//!     Validity::days(now, 3650)?,
//!     KeyAlgorithm::EcdsaP256,
//!     &mut rng,
//! )?;
//!
//! // On the device: a P-256 key and a CSR. The key never leaves the device.
//! let (device_key, csr) = Csr::for_device("device-0001", &mut rng)?;
//!
//! // On the server: the subject comes from the server's records, not the CSR.
//! let identity = ClientIdentity::new("alice@example.com", Some("device-0001"))?;
//! let cert = ca.issue_client_certificate(&csr, &identity, Validity::days(now, 365)?, &mut rng)?;
//!
//! assert!(cert.matches_key(&device_key));
//! assert!(cert.is_signed_by(ca.certificate()));
//! assert_eq!(cert.info().subject_common_name.as_deref(), Some("alice@example.com"));
//! assert!(cert.pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! # Ok(())
//! # }
//! ```
//!
//! # Example: the APNs certificate flow, against the portal simulator
//!
//! ```
//! use mdm_certs::{
//!     ApnsCsrForm, ApnsIntake, ApnsKeyRequest, BackupPassword, DEFAULT_REQUEST_MAX_AGE, KeyAlgorithm,
//!     Pkcs12, PrivateKey, PushPortalStandIn, VendorSigner,
//! };
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), mdm_certs::CertError> {
//! let mut rng = ChaCha20Rng::seed_from_u64(7);
//! let now = datetime!(2026-06-01 12:00 UTC);
//!
//! // The console form (all six fields required) → RSA 2048 key + CSR.
//! let form = ApnsCsrForm {
//!     name: "Jane Admin".into(),
//!     company: "Example Corp".into(),
//!     department: "IT".into(),
//!     city: "Osaka".into(),
//!     state: "Osaka".into(),
//!     country: "JP".into(),
//! };
//! let request = ApnsKeyRequest::create(&form, &mut rng)?;
//!
//! // The vendor signs it (the simulator stands in for Apple's portals).
//! let portal = PushPortalStandIn::new(KeyAlgorithm::EcdsaP256, now, &mut rng)?;
//! let vendor_key = PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng)?;
//! let vendor_cert = portal.issue_vendor_certificate(&vendor_key, "Example MDM", now, &mut rng)?;
//! let vendor = VendorSigner::new(vendor_cert, vendor_key, vec![])?;
//! let signed = vendor.sign_request(request.csr(), now)?;
//!
//! // The admin uploads the request to the portal and downloads the certificate…
//! let upload = signed.for_upload(now, DEFAULT_REQUEST_MAX_AGE)?;
//! let push_pem = portal.create_push_certificate(upload, now, &mut rng)?.pem();
//!
//! // …and uploads it to the console, which checks it belongs to this workspace.
//! let key = request.into_key();
//! // The trust anchor is Apple's push CA in production, here the simulator's.
//! let anchors = [portal.authority().certificate().clone()];
//! let accepted = ApnsIntake::new(&key, &anchors).accept("push.pem", push_pem.as_bytes(), None, now)?;
//! assert!(accepted.details.topic.as_str().starts_with("com.apple.mgmt.External."));
//!
//! // Optional password-protected backup (the password is entered twice).
//! let password = BackupPassword::new("a long pass phrase", "a long pass phrase")?;
//! let backup = Pkcs12::backup(&accepted.identity, &password)?;
//! assert!(Pkcs12::looks_like(&backup));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod apns_request;
mod authority;
mod certificate;
mod client;
mod csr;
mod delivery;
mod error;
mod expiry;
mod identity;
mod intake;
mod kdf;
mod key;
mod key_pem;
mod name;
mod p256_key;
mod pem;
mod pfx;
mod pkcs12;
mod portal;
mod push_request;
mod rotation;
mod rsa_key;
mod scep;
mod serde_forms;
mod server;

pub use apns_request::{ApnsCsrForm, ApnsKeyRequest, is_iso3166_alpha2};
pub use authority::{CaPem, CertificateAuthority, Validity};
pub use certificate::{Certificate, CertificateInfo, SubjectAltName};
pub use client::ClientIdentity;
pub use csr::Csr;
pub use delivery::{
    ClientCertificateDelivery, DeliveryPayload, DeliveryStatus, OTP_ALPHABET, OneTimePassword,
    OtpPolicy,
};
pub use error::CertError;
pub use expiry::ExpiryStatus;
pub use identity::{CertifiedKey, Pkcs12Contents};
pub use intake::{
    AcceptedApnsCertificate, ApnsCertificateDetails, ApnsIntake, EXTERNAL_PUSH_TOPIC_PREFIX,
    read_certificate_file,
};
pub use kdf::{
    MAX_PBKDF2_ITERATIONS, MAX_PKCS12_KDF_ITERATIONS, MAX_SCRYPT_N, MAX_SCRYPT_P, MAX_SCRYPT_R,
    MAX_TOTAL_KDF_ITERATIONS,
};
pub use key::{KeyAlgorithm, PrivateKey};
pub use name::{NameAttribute, SubjectName, UID_OID};
pub use pfx::MAX_PKCS12_LEN;
pub use pkcs12::{BackupPassword, MIN_BACKUP_PASSWORD_LEN, MIN_WRITE_ITERATIONS, Pkcs12};
pub use portal::{PUSH_CERTIFICATE_VALIDITY, PushPortalStandIn};
pub use push_request::{
    DEFAULT_REQUEST_MAX_AGE, DecodedPushRequest, MAX_PUSH_REQUEST_KEYS, MAX_PUSH_REQUEST_LEN,
    PushCertificateRequest, VendorSigner,
};
pub use rotation::{
    ActiveServerCertificate, DEFAULT_ACTIVATION_DELAY, LossForecast, RESERVE_VALIDITY,
    ReserveCertificate, ServerCertificateRotation,
};
pub use scep::{
    ContentCipher, FailInfo, MAX_PKI_MESSAGE_LEN, MessageType, Nonce, PkiMessage, PkiStatus,
    ScepCapabilities, ScepCapability, ScepChallengeRecord, ScepChallengeStore, ScepChallenges,
    ScepConfig, ScepDigest, ScepGrant, ScepOperation, ScepOutcome, ScepReply, ScepRequest,
    ScepRequestKind, ScepResponse, ScepServer, ScepSigner, TransactionId, ca_certificates,
    csr_with_challenge,
};
#[cfg(feature = "http")]
pub use scep::{MAX_SCEP_BODY_LEN, ScepRoute, scep_router};

#[cfg(test)]
mod tests {
    #[test]
    fn key_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<crate::PrivateKey>();
        check::<crate::CertificateAuthority>();
        check::<crate::Certificate>();
        check::<crate::ServerCertificateRotation>();
        check::<crate::ClientCertificateDelivery>();
        check::<crate::PushPortalStandIn>();
    }
}
