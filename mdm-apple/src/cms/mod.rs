//! CMS SignedData for profiles: signing ([`ProfileSigner`]), reading back
//! ([`verify_signed_profile`]), and the BER normaliser that lets us read
//! what OpenSSL's streaming mode writes.

mod ber;
mod content;
mod sign;
mod trust;
mod verify;

pub(crate) use ber::ber_to_der;
pub(crate) use content::{cms_content_type, signed_content};
pub use sign::ProfileSigner;
pub(crate) use trust::check_certificate;
pub use verify::{
    MAX_CHAIN_DEPTH, MAX_CMS_CERTIFICATES, MAX_CMS_SIGNERS, MAX_SIGNED_ATTRIBUTES, MIN_RSA_BITS,
    VerifiedProfile, verify_detached_signature, verify_signed_profile,
};
