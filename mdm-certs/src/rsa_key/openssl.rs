//! The RSA engine of the `openssl` feature: OpenSSL 3.6, built from source
//! (RSA blinding on by default, constant-time exponentiation, implicit
//! rejection for PKCS #1 v1.5 decryption).

use openssl::bn::BigNum;
use openssl::md::Md;
use openssl::pkey::{PKey, Private, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use rand_core::CryptoRng;
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
#[derive(Clone)]
pub(super) struct PublicEngine {
    key: PKey<Public>,
    size: usize,
}

impl PublicEngine {
    /// The engine for a SubjectPublicKeyInfo (DER), read by OpenSSL. The
    /// keys accepted are those the `rsa` crate accepts (an RSA key with an
    /// odd modulus of 1024 to 8192 bits and an odd public exponent from 3 to
    /// 2^33 − 1), checked on OpenSSL's integers: the `rsa` crate's own
    /// reading builds the Montgomery form of the modulus, which costs about
    /// what a public-key operation does, and a SCEP request reads its
    /// requester's key twice.
    pub(super) fn from_spki(spki: &[u8]) -> Option<Self> {
        use rsa::pkcs1::der::Decode as _;
        // Read here rather than by `PKey::public_key_from_der`: OpenSSL 3's
        // decoder framework takes as long as the rest of a request's key
        // handling together.
        let info = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(spki).ok()?;
        if info.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
            return None;
        }
        let key = rsa::pkcs1::RsaPublicKey::<rsa::pkcs1::der::asn1::UintRef<'_>>::from_der(
            info.subject_public_key.as_bytes()?,
        )
        .ok()?;
        let n = BigNum::from_slice(key.modulus.as_bytes()).ok()?;
        let e = BigNum::from_slice(key.public_exponent.as_bytes()).ok()?;
        let accepted = (1024..=8192).contains(&n.num_bits())
            && n.is_bit_set(0)
            && (2..=33).contains(&e.num_bits())
            && e.is_bit_set(0);
        if !accepted {
            return None;
        }
        let size = usize::try_from(n.num_bytes()).ok()?;
        let rsa = Rsa::from_public_components(n, e).ok()?;
        let key = PKey::from_rsa(rsa).ok()?;
        Some(Self { key, size })
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
