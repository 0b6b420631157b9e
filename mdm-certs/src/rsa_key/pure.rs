//! The default RSA engine: the pure-Rust `rsa` crate (blinded with the
//! operating system's generator, its `getrandom` feature).

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::Pkcs1Digest;
use crate::error::Result;

/// An RSA private key held by `rsa` (zeroised on drop).
pub(super) struct Engine(rsa::PrivateKey);

impl Engine {
    /// The engine for `key`; its PKCS #8 form is not needed here.
    pub(super) fn new(key: rsa::PrivateKey, _pkcs8: &[u8]) -> Result<Self> {
        Ok(Self(key))
    }

    pub(super) fn duplicate(&self) -> Self {
        Self(self.0.clone())
    }

    /// The PKCS #1 v1.5 signature of `hashed` (checked to be `digest`'s
    /// length by the caller).
    pub(super) fn sign_digest(
        &self,
        digest: Pkcs1Digest,
        hashed: &[u8],
    ) -> std::result::Result<Vec<u8>, String> {
        self.0
            .sign(digest.rsa_scheme(), hashed)
            .map_err(|e| e.to_string())
    }

    /// PKCS #1 v1.5 decryption with implicit rejection.
    pub(super) fn decrypt(
        &self,
        ciphertext: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        self.0
            .pkcs1v15_decrypt(ciphertext)
            .map(Zeroizing::new)
            .map_err(|e| e.to_string())
    }
}

/// An RSA public key held by `rsa`.
#[derive(Clone)]
pub(super) struct PublicEngine(rsa::PublicKey);

impl PublicEngine {
    /// The engine for a SubjectPublicKeyInfo (DER), as the `rsa` crate
    /// reads and checks it.
    pub(super) fn from_spki(spki: &[u8]) -> Option<Self> {
        use rsa::pkcs8::DecodePublicKey as _;
        rsa::PublicKey::from_public_key_der(spki).ok().map(Self)
    }

    pub(super) fn verify(&self, digest: Pkcs1Digest, hashed: &[u8], signature: &[u8]) -> bool {
        self.0
            .verify(digest.rsa_scheme(), hashed, signature)
            .is_ok()
    }

    pub(super) fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        message: &[u8],
        rng: &mut R,
    ) -> std::result::Result<Vec<u8>, String> {
        self.0
            .encrypt(rng, rsa::Pkcs1v15Encrypt, message)
            .map_err(|e| e.to_string())
    }
}
