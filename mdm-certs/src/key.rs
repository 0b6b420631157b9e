//! Private keys: ECDSA P-256 and RSA, made from a caller-supplied CSPRNG.

use core::fmt;

use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rand_core::CryptoRng;
use rsa::pkcs1::EncodeRsaPublicKey as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{CertError, Result};
use crate::p256_key::P256Key;
use crate::rsa_key::{Pkcs1Digest, RsaKey};

/// The key algorithms this crate makes and signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256: the default, fast to make and sign with.
    #[default]
    EcdsaP256,
    /// RSA 2048 with PKCS#1 v1.5 SHA-256 signatures (what Apple's push portal expects).
    Rsa2048,
    /// RSA 3072.
    Rsa3072,
    /// RSA 4096.
    Rsa4096,
}

impl KeyAlgorithm {
    /// A short human name, e.g. `"RSA 2048"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ECDSA P-256",
            Self::Rsa2048 => "RSA 2048",
            Self::Rsa3072 => "RSA 3072",
            Self::Rsa4096 => "RSA 4096",
        }
    }

    fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::EcdsaP256 => None,
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

enum Signer {
    P256(P256Key),
    Rsa(RsaKey),
}

/// A private key with its public half.
///
/// Signatures are deterministic (RFC 6979 ECDSA, PKCS#1 v1.5 RSA), so a run
/// seeded with the same RNG produces byte-identical certificates. The type
/// never prints its key material (`Debug` shows the algorithm only), is not
/// `Serialize`, and its PKCS#8 encoding is zeroised on drop.
pub struct PrivateKey {
    algorithm: KeyAlgorithm,
    signer: Signer,
    pkcs8: Zeroizing<Vec<u8>>,
    /// The raw subjectPublicKey bits (EC point or PKCS#1 RSAPublicKey).
    public_raw: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Makes a new key of `algorithm` from the caller's CSPRNG.
    ///
    /// RSA generation is slow (a 2048-bit key takes tens to hundreds of
    /// milliseconds); P-256 takes microseconds.
    pub fn generate<R: CryptoRng + ?Sized>(algorithm: KeyAlgorithm, rng: &mut R) -> Result<Self> {
        match algorithm.rsa_bits() {
            None => Self::from_p256(P256Key::generate(rng)?),
            Some(bits) => {
                let key =
                    rsa::PrivateKey::new(rng, bits).map_err(|e| CertError::KeyGeneration {
                        algorithm: algorithm.name(),
                        reason: e.to_string(),
                    })?;
                Self::from_rsa(key)
            }
        }
    }

    fn from_p256(key: P256Key) -> Result<Self> {
        let pkcs8 = key.to_pkcs8_der()?;
        let public_raw = key.public_point.clone();
        Ok(Self {
            algorithm: KeyAlgorithm::EcdsaP256,
            signer: Signer::P256(key),
            pkcs8,
            public_raw,
        })
    }

    fn from_rsa(key: rsa::PrivateKey) -> Result<Self> {
        use rsa::traits::PublicKeyParts as _;
        let algorithm = match key.size() {
            256 => KeyAlgorithm::Rsa2048,
            384 => KeyAlgorithm::Rsa3072,
            512 => KeyAlgorithm::Rsa4096,
            other => {
                return Err(CertError::InvalidPrivateKey {
                    reason: format!(
                        "RSA keys of {} bits are not supported (2048, 3072, 4096)",
                        other * 8
                    ),
                });
            }
        };
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|e| CertError::InvalidPrivateKey {
                reason: e.to_string(),
            })?;
        let public_raw = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| CertError::InvalidPrivateKey {
                reason: e.to_string(),
            })?
            .as_bytes()
            .to_vec();
        let pkcs8 = Zeroizing::new(pkcs8.as_bytes().to_vec());
        Ok(Self {
            algorithm,
            signer: Signer::Rsa(RsaKey::new(key, &pkcs8)?),
            pkcs8,
            public_raw,
        })
    }

    /// Reads an unencrypted PKCS#8 DER key (P-256 or RSA 2048/3072/4096).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        if let Some(key) = P256Key::from_pkcs8_der(der)? {
            return Self::from_p256(key);
        }
        match rsa::PrivateKey::from_pkcs8_der(der) {
            Ok(key) => Self::from_rsa(key),
            Err(e) => Err(CertError::InvalidPrivateKey {
                reason: format!(
                    "not a P-256 or RSA PKCS#8 key (the two read: ECDSA P-256, RSA 2048, 3072 or 4096): {e}"
                ),
            }),
        }
    }

    /// Reads an unencrypted PKCS#1 `RSAPrivateKey` (RFC 8017: the body of
    /// an `RSA PRIVATE KEY` PEM block), RSA 2048, 3072 or 4096.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        match rsa::PrivateKey::from_pkcs1_der(der) {
            Ok(key) => Self::from_rsa(key),
            Err(e) => Err(CertError::InvalidPrivateKey {
                reason: format!("not a PKCS#1 RSAPrivateKey (RFC 8017): {e}"),
            }),
        }
    }

    /// Reads an unencrypted SEC1 `ECPrivateKey` (RFC 5915: the body of an
    /// `EC PRIVATE KEY` PEM block) on P-256, the one curve accepted.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self> {
        Self::from_p256(P256Key::from_sec1_der(der)?)
    }

    /// A second handle on the same key. Deliberately not `Clone`: copies
    /// of secrets should be visible. An RSA key is shared with the first
    /// handle (it is immutable; re-reading its PKCS#8 form would check and
    /// precompute it again, about a private-key operation's cost); a P-256
    /// key is re-read from its PKCS#8 encoding.
    pub fn try_clone(&self) -> Result<Self> {
        match &self.signer {
            Signer::Rsa(key) => Ok(Self {
                algorithm: self.algorithm,
                signer: Signer::Rsa(key.duplicate()),
                pkcs8: self.pkcs8.clone(),
                public_raw: self.public_raw.clone(),
            }),
            Signer::P256(_) => Self::from_pkcs8_der(&self.pkcs8),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// **Secret.** The unencrypted PKCS#8 DER encoding of this key, for
    /// handing to another signer (e.g. CMS signing in `mdm-apple`). Zeroised on
    /// drop; never log it.
    pub fn pkcs8_der_secret(&self) -> &Zeroizing<Vec<u8>> {
        &self.pkcs8
    }

    /// The public key as an X.509 SubjectPublicKeyInfo (DER).
    pub fn public_key_der(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(self)
    }

    /// The raw `subjectPublicKey` bits (EC point or PKCS#1 RSAPublicKey),
    /// which is what two keys are compared by.
    pub fn public_key_raw(&self) -> &[u8] {
        &self.public_raw
    }

    /// Signs `message` (SHA-256; ECDSA signatures DER-encoded, RSA PKCS#1 v1.5).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.signer {
            Signer::P256(key) => key.sign(message),
            Signer::Rsa(key) => key.sign_digest(Pkcs1Digest::Sha256, &Sha256::digest(message)),
        }
    }

    /// The RSA key at work, when this is an RSA key.
    pub(crate) fn rsa_key(&self) -> Option<&RsaKey> {
        match &self.signer {
            Signer::Rsa(key) => Some(key),
            Signer::P256(_) => None,
        }
    }
}

impl rcgen::PublicKeyData for PrivateKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.algorithm {
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                &rcgen::PKCS_RSA_SHA256
            }
        }
    }
}

impl rcgen::SigningKey for PrivateKey {
    fn sign(&self, msg: &[u8]) -> core::result::Result<Vec<u8>, rcgen::Error> {
        PrivateKey::sign(self, msg).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Verifies an RSA PKCS#1 v1.5 SHA-256 signature against a SubjectPublicKeyInfo.
pub(crate) fn verify_rsa_sha256(spki_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs8::DecodePublicKey as _;
    use rsa::signature::Verifier as _;
    let Ok(key) = rsa::PublicKey::from_public_key_der(spki_der) else {
        return false;
    };
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
        .verify(message, &sig)
        .is_ok()
}

#[cfg(test)]
pub(crate) mod test_keys {
    //! Keys shared by the unit tests: RSA made once per test binary.
    use std::sync::OnceLock;

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;

    use super::{KeyAlgorithm, PrivateKey};

    /// A seeded RNG for tests.
    pub fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    /// An RSA 2048 key, the same one for the whole test binary (PKCS#8 DER cached).
    pub fn rsa2048(which: usize) -> PrivateKey {
        static KEYS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            (0..2u64)
                .map(|i| {
                    let key =
                        PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng(1000 + i)).unwrap();
                    key.pkcs8_der_secret().to_vec()
                })
                .collect()
        });
        PrivateKey::from_pkcs8_der(&keys[which]).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_keys::{rng, rsa2048};
    use super::*;

    #[test]
    fn p256_roundtrips_through_pkcs8() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(1)).unwrap();
        let again = PrivateKey::from_pkcs8_der(key.pkcs8_der_secret()).unwrap();
        assert_eq!(again.public_key_raw(), key.public_key_raw());
        assert_eq!(again.algorithm(), KeyAlgorithm::EcdsaP256);
    }

    #[test]
    fn p256_pkcs8_is_what_the_p256_crate_writes() {
        for seed in 0..64 {
            let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(seed)).unwrap();
            let reference =
                <p256::ecdsa::SigningKey as rsa::Generate>::generate_from_rng(&mut rng(seed))
                    .to_pkcs8_der()
                    .unwrap();
            assert_eq!(key.pkcs8_der_secret().as_slice(), reference.as_bytes());
        }
    }

    #[test]
    fn same_seed_same_key_and_signature() {
        let a = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(7)).unwrap();
        let b = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(7)).unwrap();
        assert_eq!(a.public_key_raw(), b.public_key_raw());
        assert_eq!(a.sign(b"x").unwrap(), b.sign(b"x").unwrap());
    }

    #[test]
    fn rsa_key_reads_back_and_signs() {
        let key = rsa2048(0);
        assert_eq!(key.algorithm(), KeyAlgorithm::Rsa2048);
        let sig = key.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 256);
        assert!(verify_rsa_sha256(&key.public_key_der(), b"hello", &sig));
        assert!(!verify_rsa_sha256(&key.public_key_der(), b"hellO", &sig));
    }

    #[test]
    fn a_cloned_key_is_the_same_key() {
        for key in [
            rsa2048(1),
            PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(5)).unwrap(),
        ] {
            let again = key.try_clone().unwrap();
            assert_eq!(again.algorithm(), key.algorithm());
            assert_eq!(again.public_key_raw(), key.public_key_raw());
            assert_eq!(again.pkcs8_der_secret(), key.pkcs8_der_secret());
            // Deterministic signatures: the same bytes from both handles.
            assert_eq!(again.sign(b"x").unwrap(), key.sign(b"x").unwrap());
            drop(key);
            assert!(
                !again
                    .sign(b"after the first handle is gone")
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[test]
    fn debug_does_not_show_key_material() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256, &mut rng(4)).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("EcdsaP256"));
        assert!(!shown.contains(&hex::encode(&key.pkcs8_der_secret()[..8])));
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(PrivateKey::from_pkcs8_der(b"nope").is_err());
        assert!(PrivateKey::from_pkcs8_pem("nope", None).is_err());
    }
}
