//! CMS SignedData for profiles: signing ([`ProfileSigner`]), reading back
//! ([`verify_signed_profile`]), and the BER normaliser that lets us read
//! what OpenSSL's streaming mode writes.

mod ber;
mod sign;
mod verify;

pub(crate) use ber::ber_to_der;
pub use sign::ProfileSigner;
pub use verify::{VerifiedProfile, verify_detached_signature, verify_signed_profile};
