//! ECDSA P-256 keys: the scalar drawn as `p256` draws it, signatures with
//! RFC 6979 nonces, so that a seeded run makes byte-identical certificates.
//!
//! Two interchangeable signers do the curve arithmetic. By default the
//! pure-Rust `p256` crate (about 45 µs per signature here). With the
//! `openssl` feature (or `openssl-p256`), OpenSSL (3.2 and later, built from source by
//! `openssl-src`: about 16 µs per signature and 7 µs per public key), for
//! the simulator's millions of keys; `ring` is fast too but only signs with
//! a random nonce. RFC 6979 fixes the nonce, so both make the very same
//! bytes; a test below holds them to that.
//!
//! Reading a key (PKCS#8, and the SEC1 `ECPrivateKey` inside it or alone)
//! and writing its PKCS#8 form are the same code on both paths.

use p256::elliptic_curve::Generate as _;
use rand_core::CryptoRng;
use sec1::der::Decode as _;
use zeroize::Zeroizing;

use crate::error::{CertError, Result};

#[cfg(feature = "openssl")]
mod openssl;
#[cfg(any(test, not(feature = "openssl")))]
mod pure;

#[cfg(feature = "openssl")]
use self::openssl::Signer;
#[cfg(not(feature = "openssl"))]
use self::pure::Signer;

/// `id-ecPublicKey` (RFC 5480): the algorithm of every EC key.
const EC_PUBLIC_KEY: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `prime256v1` (RFC 5480), the curve P-256.
const PRIME256V1: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

fn invalid(reason: impl std::fmt::Display) -> CertError {
    CertError::InvalidPrivateKey {
        reason: reason.to_string(),
    }
}

/// A P-256 private key ready to sign, with its scalar and public point.
pub(crate) struct P256Key {
    signer: Signer,
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
        let scalar = p256::NonZeroScalar::generate_from_rng(rng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&p256::FieldBytes::from(scalar));
        Self::from_scalar(bytes)
    }

    /// The key whose private scalar is `scalar` (big-endian, non-zero and
    /// below the group order).
    fn from_scalar(scalar: Zeroizing<[u8; 32]>) -> Result<Self> {
        if p256::SecretKey::from_bytes(&p256::FieldBytes::from(*scalar)).is_err() {
            return Err(invalid(
                "a P-256 private scalar must be non-zero and below the group order",
            ));
        }
        let (signer, public_point) = Signer::from_scalar(&scalar)?;
        Ok(Self {
            signer,
            scalar,
            public_point,
        })
    }

    /// Reads a PKCS#8 DER private key. `Ok(None)` when it is not a PKCS#8
    /// EC key (RSA is read elsewhere); an error when it is EC on another
    /// curve, malformed inside, or its public point is not its scalar's.
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Option<Self>> {
        let Ok(info) = pkcs8::PrivateKeyInfoRef::try_from(der) else {
            return Ok(None);
        };
        if info.algorithm.oid != EC_PUBLIC_KEY {
            return Ok(None);
        }
        if info.algorithm.parameters_oid().ok() != Some(PRIME256V1) {
            return Err(invalid(
                "an EC key on a curve other than P-256 (prime256v1, the only curve accepted)",
            ));
        }
        Self::from_sec1_der(info.private_key.as_bytes()).map(Some)
    }

    /// Reads a SEC1 `ECPrivateKey` (RFC 5915: the body of an `EC PRIVATE
    /// KEY` PEM block, and what a PKCS#8 EC key wraps). Its curve, when it
    /// names one, must be P-256; its public point, when present, must be its
    /// scalar's. Built again from the scalar alone: one way in, whatever the
    /// file held.
    pub(crate) fn from_sec1_der(der: &[u8]) -> Result<Self> {
        let ec = sec1::EcPrivateKey::from_der(der)
            .map_err(|e| invalid(format!("not a SEC1 ECPrivateKey (RFC 5915) structure: {e}")))?;
        match ec.parameters {
            None => {}
            Some(sec1::EcParameters::NamedCurve(oid)) if oid == PRIME256V1 => {}
            Some(_) => {
                return Err(invalid(
                    "an EC key on a curve other than P-256 (prime256v1, the only curve accepted)",
                ));
            }
        }
        let length = ec.private_key.len();
        let Some(pad) = 32usize.checked_sub(length).filter(|_| length > 0) else {
            return Err(invalid(format!(
                "a P-256 private scalar has 1 to 32 bytes; this one has {length}"
            )));
        };
        let mut scalar = Zeroizing::new([0u8; 32]);
        scalar[pad..].copy_from_slice(ec.private_key);
        let key = Self::from_scalar(scalar)?;
        if let Some(embedded) = ec.public_key
            && !key.has_public_point(embedded)
        {
            return Err(invalid(
                "the public key does not match the private key (the file's public point is not its scalar times the generator)",
            ));
        }
        Ok(key)
    }

    /// Whether `point` (SEC1, uncompressed or compressed) is this key's.
    fn has_public_point(&self, point: &[u8]) -> bool {
        let ours = self.public_point.as_slice();
        match point.first() {
            Some(0x04) => point == ours,
            Some(&tag @ (0x02 | 0x03)) => {
                let y_is_odd = ours.last().is_some_and(|y| y & 1 == 1);
                point.get(1..) == ours.get(1..33) && (tag == 0x03) == y_is_odd
            }
            _ => false,
        }
    }

    /// Signs SHA-256(`message`) with an RFC 6979 nonce; the signature is DER.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.signer.sign(message)
    }

    /// The PKCS#8 v1 encoding (RFC 5208, RFC 5915) of this key: the fixed
    /// prefix every such key shares, the 32-byte scalar, the fixed middle,
    /// and the 65-byte uncompressed public point — exactly what `p256` and
    /// OpenSSL write.
    pub(crate) fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        const PREFIX: [u8; 36] = [
            0x30, 0x81, 0x87, // PrivateKeyInfo
            0x02, 0x01, 0x00, // version 0
            0x30, 0x13, // AlgorithmIdentifier
            0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
            0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // prime256v1
            0x04, 0x6d, // privateKey OCTET STRING
            0x30, 0x6b, // ECPrivateKey
            0x02, 0x01, 0x01, // version 1
            0x04, 0x20, // privateKey
        ];
        const MIDDLE: [u8; 5] = [0xa1, 0x44, 0x03, 0x42, 0x00]; // [1] publicKey BIT STRING
        if self.public_point.len() != 65 {
            return Err(invalid(
                "a P-256 key has a 32-byte scalar and a 65-byte public point",
            ));
        }
        let mut der = Zeroizing::new(Vec::with_capacity(138));
        der.extend_from_slice(&PREFIX);
        der.extend_from_slice(self.scalar.as_slice());
        der.extend_from_slice(&MIDDLE);
        der.extend_from_slice(&self.public_point);
        Ok(der)
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

    /// Whichever signer the build uses (and, with `openssl`, the pure
    /// one beside it) makes the bytes the `p256` crate makes.
    #[test]
    fn keys_and_signatures_are_the_bytes_p256_makes() {
        let mut ours = rng();
        let mut theirs = rng();
        for i in 0..64u32 {
            let key = P256Key::generate(&mut ours).unwrap();
            let reference = p256::ecdsa::SigningKey::generate_from_rng(&mut theirs);
            assert_eq!(key.scalar.as_slice(), reference.to_bytes().as_slice());
            assert_eq!(
                key.public_point,
                reference.verifying_key().to_sec1_point(false).as_bytes()
            );
            let message = format!("message {i}").repeat(usize::try_from(i).unwrap() + 1);
            let expected: p256::ecdsa::DerSignature = reference.sign(message.as_bytes());
            assert_eq!(key.sign(message.as_bytes()).unwrap(), expected.as_bytes());
            assert_eq!(
                key.to_pkcs8_der().unwrap().as_slice(),
                reference.to_pkcs8_der().unwrap().as_bytes()
            );
            #[cfg(feature = "openssl")]
            {
                let (pure, point) = pure::Signer::from_scalar(&key.scalar).unwrap();
                assert_eq!(point, key.public_point);
                assert_eq!(pure.sign(message.as_bytes()).unwrap(), expected.as_bytes());
            }
        }
    }

    #[test]
    fn pkcs8_from_p256_reads_back_to_the_same_key() {
        let reference = p256::ecdsa::SigningKey::generate_from_rng(&mut rng());
        let der = reference.to_pkcs8_der().unwrap();
        let key = P256Key::from_pkcs8_der(der.as_bytes()).unwrap().unwrap();
        assert_eq!(key.scalar.as_slice(), reference.to_bytes().as_slice());
    }

    #[test]
    fn a_public_point_that_is_not_the_scalars_is_refused() {
        let mut rng = rng();
        let a = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let b = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
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
    fn sec1_reads_with_or_without_its_point_and_curve() {
        let key = P256Key::generate(&mut rng()).unwrap();
        let pkcs8 = key.to_pkcs8_der().unwrap();
        // The ECPrivateKey is the PKCS#8 key's last 109 bytes (version,
        // scalar, [1] point); without the point it is version and scalar.
        let full = &pkcs8[pkcs8.len() - 109..];
        assert_eq!(
            P256Key::from_sec1_der(full).unwrap().public_point,
            key.public_point
        );
        let mut bare = vec![0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20];
        bare.extend_from_slice(key.scalar.as_slice());
        assert_eq!(
            P256Key::from_sec1_der(&bare).unwrap().public_point,
            key.public_point
        );
        // secp384r1 named in [0]: refused by its curve.
        let mut other = vec![0x30, 0x2e, 0x02, 0x01, 0x01, 0x04, 0x20];
        other.extend_from_slice(key.scalar.as_slice());
        other.extend_from_slice(&[0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]);
        let Err(CertError::InvalidPrivateKey { reason }) = P256Key::from_sec1_der(&other) else {
            panic!("a P-384 key was read as P-256");
        };
        assert!(reason.contains("P-256"), "{reason}");
    }

    #[test]
    fn a_zero_scalar_is_refused() {
        let mut zero = vec![0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20];
        zero.extend_from_slice(&[0; 32]);
        assert!(matches!(
            P256Key::from_sec1_der(&zero),
            Err(CertError::InvalidPrivateKey { .. })
        ));
    }

    #[test]
    fn garbage_is_not_a_p256_key() {
        assert!(matches!(P256Key::from_pkcs8_der(b"not a key"), Ok(None)));
    }
}
