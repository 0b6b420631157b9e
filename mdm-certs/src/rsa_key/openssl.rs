//! The RSA engine of the `openssl` feature: OpenSSL 3.6, built from source
//! (RSA blinding on by default, constant-time exponentiation, implicit
//! rejection for PKCS #1 v1.5 decryption).

use openssl::md::Md;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use rand_core::CryptoRng;
use rsa::traits::PublicKeyParts as _;
use zeroize::Zeroizing;

use super::Pkcs1Digest;
use crate::error::{CertError, Result};

fn md(digest: Pkcs1Digest) -> &'static openssl::md::MdRef {
    match digest {
        Pkcs1Digest::Sha1 => Md::sha1(),
        Pkcs1Digest::Sha256 => Md::sha256(),
        Pkcs1Digest::Sha512 => Md::sha512(),
    }
}

/// An RSA private key held by OpenSSL.
pub(super) struct Engine(PKey<Private>);

impl Engine {
    /// The engine for `key`, read by OpenSSL from its PKCS #8 form.
    pub(super) fn new(_key: rsa::PrivateKey, pkcs8: &[u8]) -> Result<Self> {
        PKey::private_key_from_pkcs8(pkcs8)
            .map(Self)
            .map_err(|e| CertError::InvalidPrivateKey {
                reason: format!("OpenSSL does not read the RSA key: {e}"),
            })
    }

    /// Another reference to the same OpenSSL key (it is immutable and
    /// shared safely between threads).
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
        let md = md(digest);
        let mut signature = Vec::with_capacity(512);
        let signed = (|| {
            let mut ctx = PkeyCtx::new(&self.0)?;
            ctx.sign_init()?;
            ctx.set_rsa_padding(Padding::PKCS1)?;
            ctx.set_signature_md(md)?;
            ctx.sign_to_vec(hashed, &mut signature)
        })();
        signed.map_err(|e| e.to_string())?;
        Ok(signature)
    }

    /// PKCS #1 v1.5 decryption; OpenSSL 3.2+ answers bad padding with the
    /// synthetic message of implicit rejection, as the `rsa` crate does.
    pub(super) fn decrypt(
        &self,
        ciphertext: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
        let mut plain = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
        let decrypted = (|| {
            let mut ctx = PkeyCtx::new(&self.0)?;
            ctx.decrypt_init()?;
            ctx.set_rsa_padding(Padding::PKCS1)?;
            ctx.decrypt_to_vec(ciphertext, &mut plain)
        })();
        decrypted.map_err(|e| e.to_string())?;
        Ok(plain)
    }
}

/// An RSA public key held by OpenSSL, with its modulus length.
pub(super) struct PublicEngine {
    key: PKey<Public>,
    size: usize,
}

impl PublicEngine {
    /// The engine for `key` (read and checked by the `rsa` crate), read by
    /// OpenSSL from the same SubjectPublicKeyInfo.
    pub(super) fn new(key: rsa::PublicKey, spki: &[u8]) -> Option<Self> {
        let pkey = PKey::public_key_from_der(spki).ok()?;
        (pkey.id() == Id::RSA).then(|| Self {
            key: pkey,
            size: key.size(),
        })
    }

    pub(super) fn verify(&self, digest: Pkcs1Digest, hashed: &[u8], signature: &[u8]) -> bool {
        let verified = (|| {
            let mut ctx = PkeyCtx::new(&self.key)?;
            ctx.verify_init()?;
            ctx.set_rsa_padding(Padding::PKCS1)?;
            ctx.set_signature_md(md(digest))?;
            ctx.verify(hashed, signature)
        })();
        verified.unwrap_or(false)
    }

    /// EME-PKCS1-v1_5 (RFC 8017 §7.2.1) drawn from `rng` exactly as the
    /// `rsa` crate draws it (the padding string filled at once, each zero
    /// byte drawn again until it is not), then the raw RSA operation by
    /// OpenSSL: the same ciphertext as the pure path from the same RNG.
    pub(super) fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        message: &[u8],
        rng: &mut R,
    ) -> std::result::Result<Vec<u8>, String> {
        let k = self.size;
        if message.len() + 11 > k {
            return Err(format!(
                "a message of {} bytes does not fit a {k}-byte key",
                message.len()
            ));
        }
        let mut em = Zeroizing::new(vec![0u8; k]);
        em[1] = 2;
        let end = k - message.len() - 1;
        rng.fill_bytes(&mut em[2..end]);
        for byte in &mut em[2..end] {
            while *byte == 0 {
                rng.fill_bytes(core::slice::from_mut(byte));
            }
        }
        em[end + 1..].copy_from_slice(message);
        let mut out = Vec::with_capacity(k);
        let encrypted = (|| {
            let mut ctx = PkeyCtx::new(&self.key)?;
            ctx.encrypt_init()?;
            ctx.set_rsa_padding(Padding::NONE)?;
            ctx.encrypt_to_vec(&em, &mut out)
        })();
        encrypted.map_err(|e| e.to_string())?;
        Ok(out)
    }
}
