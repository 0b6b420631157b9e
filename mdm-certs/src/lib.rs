//! X.509 for mobile device management.
#![forbid(unsafe_code)]

mod authority;
mod certificate;
mod error;
mod expiry;
mod key;
mod name;
mod server;

pub use authority::{CaPem, CertificateAuthority, CertifiedKey, Validity};
pub use certificate::{Certificate, CertificateInfo, Fingerprint, SubjectAltName};
pub use error::CertError;
pub use expiry::ExpiryStatus;
pub use key::{KeyAlgorithm, PrivateKey};
pub use name::{NameAttribute, SubjectName, UID_OID};
pub use server::ConnectionAddress;
