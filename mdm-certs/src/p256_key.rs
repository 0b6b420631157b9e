//! ECDSA P-256 keys: the scalar drawn as `p256` draws it, the curve
//! arithmetic and signatures done by OpenSSL.
//!
//! Why two libraries: a signature must be deterministic (RFC 6979), so that a
//! seeded run makes byte-identical certificates, and it must be fast, since a
//! simulated fleet makes millions of keys and signatures. `p256` is
//! deterministic but pure-Rust field arithmetic (about 45 µs per signature
//! here); `ring` is fast but only signs with a random nonce. OpenSSL (3.2 and
//! later, built from source by `openssl-src`) signs with RFC 6979 nonces in
//! about 16 µs and computes a public key in about 7 µs. RFC 6979 fixes the
//! nonce, so the signatures are the very bytes `p256` would make; a test
//! below holds the two to that.

use std::sync::LazyLock;

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::error::ErrorStack;
use openssl::md::Md;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::pkey_ctx::{NonceType, PkeyCtx};
use rand_core::CryptoRng;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{CertError, Result};

/// The curve, made once per process.
static CURVE: LazyLock<std::result::Result<EcGroup, ErrorStack>> =
    LazyLock::new(|| EcGroup::from_curve_name(Nid::X9_62_PRIME256V1));

fn curve() -> Result<&'static EcGroup> {
    CURVE.as_ref().map_err(|e| CertError::KeyGeneration {
        algorithm: "ECDSA P-256",
        reason: format!("OpenSSL has no P-256 group: {e}"),
    })
}

fn invalid(reason: impl std::fmt::Display) -> CertError {
    CertError::InvalidPrivateKey {
        reason: reason.to_string(),
    }
}

/// A P-256 private key ready to sign, with its scalar and public point.
pub(crate) struct P256Key {
    pkey: PKey<Private>,
    /// The private scalar, big-endian.
    pub(crate) scalar: Zeroizing<[u8; 32]>,
    /// The uncompressed public point (`04 || x || y`).
    pub(crate) public_point: Vec<u8>,
}

impl P256Key {
    /// A new key from the caller's CSPRNG: the same draw as
    /// `p256::ecdsa::SigningKey::generate_from_rng`, so a seed makes the same
    /// key it always made.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<Self> {
        let scalar = <p256::NonZeroScalar as rsa::Generate>::generate_from_rng(rng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&p256::FieldBytes::from(scalar));
        Self::from_scalar(bytes)
    }

    /// The key whose private scalar is `scalar` (big-endian, non-zero and
    /// below the group order).
    fn from_scalar(scalar: Zeroizing<[u8; 32]>) -> Result<Self> {
        let group = curve()?;
        let fail = |e: ErrorStack| CertError::KeyGeneration {
            algorithm: "ECDSA P-256",
            reason: e.to_string(),
        };
        let mut secret = BigNum::from_slice(scalar.as_slice()).map_err(fail)?;
        let built = (|| {
            let mut ctx = BigNumContext::new()?;
            let mut point = EcPoint::new(group)?;
            point.mul_generator2(group, &secret, &mut ctx)?;
            let ec = EcKey::from_private_components(group, &secret, &point)?;
            Ok::<_, ErrorStack>((PKey::from_ec_key(ec)?, point, ctx))
        })();
        secret.clear();
        let (pkey, point, mut ctx) = built.map_err(fail)?;
        let public_point = point
            .to_bytes(group, PointConversionForm::UNCOMPRESSED, &mut ctx)
            .map_err(fail)?;
        Ok(Self {
            pkey,
            scalar,
            public_point,
        })
    }

    /// Reads a PKCS#8 DER private key. `Ok(None)` when it is a well-formed
    /// key of another algorithm (RSA is read elsewhere); an error when it is
    /// EC on another curve, or its public point is not its scalar's.
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Option<Self>> {
        let Ok(pkey) = PKey::private_key_from_pkcs8(der) else {
            return Ok(None);
        };
        if pkey.id() != Id::EC {
            return Ok(None);
        }
        let ec = pkey.ec_key().map_err(invalid)?;
        if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
            return Err(invalid("an EC key on a curve other than P-256"));
        }
        // OpenSSL takes the embedded public point as given: check it.
        ec.check_key().map_err(|e| {
            invalid(format!(
                "the public key does not match the private key: {e}"
            ))
        })?;
        let mut scalar = Zeroizing::new([0u8; 32]);
        let padded = Zeroizing::new(ec.private_key().to_vec_padded(32).map_err(invalid)?);
        if padded.len() != 32 {
            return Err(invalid("a P-256 private scalar longer than 32 bytes"));
        }
        scalar.copy_from_slice(&padded);
        // Built again from the scalar alone: one way in, whatever the file held.
        Self::from_scalar(scalar).map(Some)
    }

    /// Signs SHA-256(`message`) with an RFC 6979 nonce; the signature is DER.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let digest = Sha256::digest(message);
        let mut signature = Vec::with_capacity(72);
        let signed = (|| {
            let mut ctx = PkeyCtx::new(&self.pkey)?;
            ctx.sign_init()?;
            ctx.set_signature_md(Md::sha256())?;
            ctx.set_nonce_type(NonceType::DETERMINISTIC_K)?;
            ctx.sign_to_vec(&digest, &mut signature)
        })();
        signed.map_err(|e| CertError::Signing {
            artifact: "ECDSA signature",
            reason: e.to_string(),
        })?;
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::EncodePrivateKey as _;
    use rand_core::SeedableRng as _;

    use super::*;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(11)
    }

    #[test]
    fn keys_and_signatures_are_the_bytes_p256_makes() {
        let mut ours = rng();
        let mut theirs = rng();
        for i in 0..64u32 {
            let key = P256Key::generate(&mut ours).unwrap();
            let reference: p256::ecdsa::SigningKey =
                <p256::ecdsa::SigningKey as rsa::Generate>::generate_from_rng(&mut theirs);
            assert_eq!(key.scalar.as_slice(), reference.to_bytes().as_slice());
            assert_eq!(
                key.public_point,
                reference.verifying_key().to_sec1_point(false).as_bytes()
            );
            let message = format!("message {i}").repeat(usize::try_from(i).unwrap() + 1);
            let expected: p256::ecdsa::DerSignature = reference.sign(message.as_bytes());
            assert_eq!(key.sign(message.as_bytes()).unwrap(), expected.as_bytes());
        }
    }

    #[test]
    fn pkcs8_from_p256_reads_back_to_the_same_key() {
        let reference = <p256::ecdsa::SigningKey as rsa::Generate>::generate_from_rng(&mut rng());
        let der = reference.to_pkcs8_der().unwrap();
        let key = P256Key::from_pkcs8_der(der.as_bytes()).unwrap().unwrap();
        assert_eq!(key.scalar.as_slice(), reference.to_bytes().as_slice());
    }

    #[test]
    fn a_public_point_that_is_not_the_scalars_is_refused() {
        let mut rng = rng();
        let a = <p256::ecdsa::SigningKey as rsa::Generate>::generate_from_rng(&mut rng);
        let b = <p256::ecdsa::SigningKey as rsa::Generate>::generate_from_rng(&mut rng);
        let mut der = a.to_pkcs8_der().unwrap().as_bytes().to_vec();
        let theirs = b.verifying_key().to_sec1_point(false);
        let at = der.len() - 65;
        der[at..].copy_from_slice(theirs.as_bytes());
        assert!(matches!(
            P256Key::from_pkcs8_der(&der),
            Err(CertError::InvalidPrivateKey { .. })
        ));
    }

    #[test]
    fn garbage_is_not_a_p256_key() {
        assert!(matches!(P256Key::from_pkcs8_der(b"not a key"), Ok(None)));
    }
}
