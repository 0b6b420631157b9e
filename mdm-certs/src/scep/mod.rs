//! SCEP, the Simple Certificate Enrolment Protocol (RFC 8894): how a device
//! presents its one-time password and gets its client certificate (R-CL-1).
//!
//! The server side is [`ScepServer`]: it answers `GetCACaps`
//! ([`ScepCapabilities`]), `GetCACert` (the CA alone, or a degenerate PKCS#7
//! with the CA and an RA certificate) and `PKIOperation` (`PKCSReq`,
//! `RenewalReq`, `GetCertInitial`). A `PKIOperation` message is read by
//! [`PkiMessage::parse`], its signature checked against the requester's
//! certificate, its `EnvelopedData` opened with the CA's (or RA's) RSA key,
//! the CSR's own signature checked, and its `challengePassword` redeemed
//! through a [`ScepChallengeStore`] ([`ScepChallenges`] keeps one-time
//! passwords hashed, used once, expiring, and hands out
//! [`ScepChallengeRecord`]s to keep them across a restart). The certificate is issued by the
//! workspace CA with the subject and key usages the policy gives
//! ([`crate::ClientIdentity`], `clientAuth`), whatever the CSR asked for; the
//! answer is a `CertRep` signed by the CA (or RA) whose content is
//! encrypted to the requester's key, with `transactionID` and the nonces
//! echoed. A refusal is a `CertRep` FAILURE with its [`FailInfo`], and the
//! [`ScepOutcome`] returned beside the bytes says what happened, for the
//! audit log.
//!
//! The client side ([`ScepRequest`], [`ScepReply`]) builds the requests a
//! device sends and reads the server's answers, for tests, load clients and
//! the harness's simulated devices.
//!
//! The ASN.1 is the RustCrypto `cms` 0.2 / `der` 0.7 / `x509-cert` 0.2
//! family (already used here for PKCS#12); RSA is the `rsa` crate, its
//! private-key operations OpenSSL's with the `openssl` feature; the
//! content ciphers are `aes`, `des` and `cbc`. No ASN.1 is written by hand.

mod caps;
mod challenge;
mod client;
mod envelope;
#[cfg(feature = "http")]
mod http;
mod message;
mod server;
mod signed;

pub use caps::{ScepCapabilities, ScepCapability};
pub use challenge::{ScepChallengeRecord, ScepChallengeStore, ScepChallenges, ScepGrant};
pub use client::{ScepReply, ScepRequest, ScepRequestKind, ca_certificates, csr_with_challenge};
pub use envelope::ContentCipher;
#[cfg(feature = "http")]
pub use http::{MAX_SCEP_BODY_LEN, ScepRoute, scep_router};
pub use message::{
    FailInfo, MAX_PKI_MESSAGE_LEN, MessageType, Nonce, PkiMessage, PkiStatus, ScepDigest,
    TransactionId,
};
pub use server::{ScepConfig, ScepOperation, ScepOutcome, ScepResponse, ScepServer};
pub use signed::ScepSigner;

use cms_02::cert::x509::der::asn1::ObjectIdentifier;

/// `id-data` (RFC 5652).
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData`.
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// `id-envelopedData`.
const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
/// `rsaEncryption` (PKCS #1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

fn malformed(reason: impl Into<String>) -> crate::CertError {
    crate::CertError::ScepMalformed {
        reason: reason.into(),
    }
}
