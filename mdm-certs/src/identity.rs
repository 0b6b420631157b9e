//! A certificate with its private key: what the CA issues with a key made
//! on the server, what a PKCS#12 file holds, what the APNs intake accepts.
//! Below the CA and the PKCS#12 reader and writer, which both use it.

use core::fmt;

use crate::certificate::Certificate;
use crate::key::PrivateKey;

/// A certificate together with the private key it certifies (a server
/// identity, a client identity made on the server, the APNs identity).
pub struct CertifiedKey {
    /// The certificate.
    pub certificate: Certificate,
    /// Its private key.
    pub key: PrivateKey,
}

impl fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("certificate", &self.certificate.info().subject)
            .field("key", &self.key)
            .finish()
    }
}

/// What a PKCS#12 file held.
pub struct Pkcs12Contents {
    /// The end-entity certificate (the one with the key, else the first).
    pub certificate: Certificate,
    /// Its private key, if the file had one this crate can use.
    pub key: Option<PrivateKey>,
    /// The other certificates (issuers), in file order.
    pub chain: Vec<Certificate>,
}

impl fmt::Debug for Pkcs12Contents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs12Contents")
            .field("certificate", &self.certificate.info().subject)
            .field("has_key", &self.key.is_some())
            .field("chain", &self.chain.len())
            .finish()
    }
}
