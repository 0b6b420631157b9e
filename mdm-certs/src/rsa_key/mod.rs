//! RSA private keys at work: PKCS #1 v1.5 signatures over a digest (the CA
//! signing certificates and SCEP `CertRep`s, a device signing its requests)
//! and PKCS #1 v1.5 decryption (SCEP's key transport).
//!
//! Two interchangeable engines do the private-key arithmetic. By default
//! the pure-Rust `rsa` crate. With the `openssl` feature (which
//! `openssl-p256` turns on), OpenSSL 3.6, built from source by
//! `openssl-src`: about three times faster on RSA 2048, which is what a
//! SCEP issuance spends its time in. Both make the very same bytes: a
//! PKCS #1 v1.5 signature is a function of the key and the digest, and
//! decryption of the key and the ciphertext — including a ciphertext whose
//! padding is wrong, which both answer with the same synthetic message
//! (implicit rejection, draft-irtf-cfrg-rsa-guidance §7, on by default in
//! the `rsa` crate 0.10 and in OpenSSL 3.2+). The tests below hold them to
//! that.
//!
//! Side channels: both engines blind every private-key operation, and
//! neither draws the blinding from the caller's RNG (the `rsa` crate takes
//! the operating system's generator, OpenSSL its own DRBG; RSA blinding is
//! on by default there and its modular exponentiation is constant-time).
//! Blinding changes no output, so a seeded run stays reproducible and makes
//! the same bytes on both paths.
//!
//! Making and reading keys stays with the `rsa` crate on both paths, so a
//! seed draws the same key and a file is refused for the same reasons.

use rand_core::CryptoRng;
use rsa::traits::PublicKeyParts as _;
use zeroize::Zeroizing;

use crate::error::{CertError, Result};

#[cfg(feature = "openssl")]
mod openssl;
#[cfg(any(test, not(feature = "openssl")))]
mod pure;

#[cfg(feature = "openssl")]
use self::openssl::{Engine, PublicEngine};
#[cfg(not(feature = "openssl"))]
use self::pure::{Engine, PublicEngine};

/// The digest a PKCS #1 v1.5 signature is made over (its DigestInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pkcs1Digest {
    /// SHA-1, for older SCEP clients only.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Pkcs1Digest {
    /// The digest's length in bytes.
    fn len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// The `rsa` crate's signature scheme for this digest (the pure
    /// engine's).
    #[cfg(any(test, not(feature = "openssl")))]
    fn rsa_scheme(self) -> rsa::Pkcs1v15Sign {
        // The DigestInfo prefix of SHA-1 (RFC 8017 §9.2, note 1): `sha1`
        // 0.11, which `rsa` 0.10 would take, is not in the tree.
        const SHA1_PREFIX: &[u8] = &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ];
        match self {
            Self::Sha1 => rsa::Pkcs1v15Sign {
                hash_len: Some(20),
                prefix: SHA1_PREFIX.into(),
            },
            Self::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Self::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// An RSA private key ready to sign and decrypt.
pub(crate) struct RsaKey {
    engine: Engine,
    /// The modulus length in bytes.
    size: usize,
}

impl RsaKey {
    /// The key `key`, whose PKCS #8 DER encoding is `pkcs8` (read or made by
    /// the `rsa` crate, which has checked it).
    pub(crate) fn new(key: rsa::PrivateKey, pkcs8: &[u8]) -> Result<Self> {
        let size = key.size();
        Ok(Self {
            engine: Engine::new(key, pkcs8)?,
            size,
        })
    }

    /// The modulus length in bytes (256 for RSA 2048).
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// A second handle on the same key, for another owner.
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            engine: self.engine.duplicate(),
            size: self.size,
        }
    }

    /// The PKCS #1 v1.5 signature of `hashed`, the `digest` of the message.
    pub(crate) fn sign_digest(&self, digest: Pkcs1Digest, hashed: &[u8]) -> Result<Vec<u8>> {
        if hashed.len() != digest.len() {
            return Err(CertError::Signing {
                artifact: "RSA signature",
                reason: format!(
                    "a {digest:?} digest has {} bytes, not {}",
                    digest.len(),
                    hashed.len()
                ),
            });
        }
        self.engine
            .sign_digest(digest, hashed)
            .map_err(|reason| CertError::Signing {
                artifact: "RSA signature",
                reason,
            })
    }

    /// Decrypts a PKCS #1 v1.5 `ciphertext`. A ciphertext of the wrong
    /// length is an error; one whose padding is wrong yields the synthetic
    /// message of implicit rejection, so the caller must check what it got
    /// (SCEP: the content key's length, then the content's padding).
    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if ciphertext.len() != self.size {
            return Err(CertError::Decryption {
                reason: format!(
                    "an RSA ciphertext for this key has {} bytes, not {}",
                    self.size,
                    ciphertext.len()
                ),
            });
        }
        self.engine
            .decrypt(ciphertext)
            .map_err(|reason| CertError::Decryption { reason })
    }
}

/// An RSA public key: verifying PKCS #1 v1.5 signatures and encrypting
/// to it (SCEP: a requester's signature, the CertRep's key transport).
///
/// Read by the `rsa` crate on both paths (so the same keys are accepted);
/// with the `openssl` feature OpenSSL does the arithmetic, about ten times
/// faster. Encryption pads as the `rsa` crate pads, drawing the same bytes
/// from the caller's RNG, so the ciphertext is the same on both paths.
#[derive(Clone)]
pub(crate) struct RsaPublicKey {
    engine: PublicEngine,
}

impl RsaPublicKey {
    /// The key of a SubjectPublicKeyInfo (DER); `None` when it is not an
    /// RSA key the `rsa` crate accepts.
    pub(crate) fn from_spki_der(spki: &[u8]) -> Option<Self> {
        PublicEngine::from_spki(spki).map(|engine| Self { engine })
    }

    /// Whether `signature` is this key's PKCS #1 v1.5 signature of
    /// `hashed`, the `digest` of the message.
    pub(crate) fn verify(&self, digest: Pkcs1Digest, hashed: &[u8], signature: &[u8]) -> bool {
        hashed.len() == digest.len() && self.engine.verify(digest, hashed, signature)
    }

    /// `message` encrypted to this key (PKCS #1 v1.5, the padding from
    /// `rng`).
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &self,
        message: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        self.engine
            .encrypt(message, rng)
            .map_err(|reason| CertError::Signing {
                artifact: "RSA key transport",
                reason,
            })
    }
}

#[cfg(test)]
mod tests {
    use rand_core::{Rng as _, SeedableRng as _};
    use rsa::pkcs8::EncodePrivateKey as _;
    use sha2::Digest as _;

    use super::*;

    fn key(seed: u64) -> (rsa::PrivateKey, Zeroizing<Vec<u8>>) {
        let key = crate::key::test_keys::rsa2048(usize::try_from(seed).unwrap());
        let pkcs8 = key.pkcs8_der_secret().clone();
        let rsa_key = rsa::pkcs8::DecodePrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        (rsa_key, pkcs8)
    }

    fn hashed(digest: Pkcs1Digest, message: &[u8]) -> Vec<u8> {
        match digest {
            Pkcs1Digest::Sha1 => <sha1_010::Sha1 as sha1_010::Digest>::digest(message).to_vec(),
            Pkcs1Digest::Sha256 => sha2::Sha256::digest(message).to_vec(),
            Pkcs1Digest::Sha512 => sha2::Sha512::digest(message).to_vec(),
        }
    }

    fn verifies(key: &rsa::PrivateKey, digest: Pkcs1Digest, message: &[u8], sig: &[u8]) -> bool {
        key.to_public_key()
            .verify(digest.rsa_scheme(), &hashed(digest, message), sig)
            .is_ok()
    }

    /// The engine of this build signs what the `rsa` crate signs, the
    /// signature verifies, and with `openssl` the pure engine beside it
    /// agrees byte for byte.
    #[test]
    fn signatures_are_the_bytes_the_rsa_crate_makes() {
        for seed in 0..2 {
            let (reference, pkcs8) = key(seed);
            let ours = RsaKey::new(reference.clone(), &pkcs8).unwrap();
            for (i, digest) in [Pkcs1Digest::Sha1, Pkcs1Digest::Sha256, Pkcs1Digest::Sha512]
                .into_iter()
                .enumerate()
            {
                let message = format!("message {seed} {i}").repeat(i + 1);
                let h = hashed(digest, message.as_bytes());
                let sig = ours.sign_digest(digest, &h).unwrap();
                let expected = reference.sign(digest.rsa_scheme(), &h).unwrap();
                assert_eq!(sig, expected, "{digest:?}");
                assert!(verifies(&reference, digest, message.as_bytes(), &sig));
                assert!(!verifies(&reference, digest, b"another message", &sig));
                #[cfg(feature = "openssl")]
                {
                    let pure = pure::Engine::new(reference.clone(), &pkcs8).unwrap();
                    assert_eq!(pure.sign_digest(digest, &h).unwrap(), sig, "{digest:?}");
                }
            }
        }
    }

    /// Decryption gives back what was encrypted, and a ciphertext with
    /// wrong padding gives the `rsa` crate's synthetic message (implicit
    /// rejection) — on both engines.
    #[test]
    fn decryption_is_the_plaintext_or_the_same_synthetic_message() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let (reference, pkcs8) = key(0);
        let ours = RsaKey::new(reference.clone(), &pkcs8).unwrap();
        let public = reference.to_public_key();
        for len in [8usize, 16, 24, 32, 0, 245] {
            let mut plain = vec![0u8; len];
            rng.fill_bytes(&mut plain);
            let ct = public.pkcs1v15_encrypt_with_rng(&mut rng, &plain).unwrap();
            assert_eq!(ours.decrypt(&ct).unwrap().as_slice(), plain.as_slice());
            #[cfg(feature = "openssl")]
            {
                let pure = pure::Engine::new(reference.clone(), &pkcs8).unwrap();
                assert_eq!(pure.decrypt(&ct).unwrap().as_slice(), plain.as_slice());
            }
        }
        for i in 0..16 {
            // A random number below the modulus: almost surely bad padding.
            let mut ct = vec![0u8; 256];
            rng.fill_bytes(&mut ct);
            ct[0] = u8::try_from(i).unwrap();
            let synthetic = reference.decrypt(rsa::Pkcs1v15Encrypt, &ct).unwrap();
            assert_eq!(ours.decrypt(&ct).unwrap().as_slice(), synthetic.as_slice());
            #[cfg(feature = "openssl")]
            {
                let pure = pure::Engine::new(reference.clone(), &pkcs8).unwrap();
                assert_eq!(pure.decrypt(&ct).unwrap().as_slice(), synthetic.as_slice());
            }
        }
    }

    /// Encryption is the `rsa` crate's, byte for byte, from the same RNG
    /// (and, with `openssl`, the pure engine's too); verification accepts
    /// the key's signatures and nothing else.
    #[test]
    fn public_key_encrypts_and_verifies_as_the_rsa_crate() {
        use rsa::pkcs8::EncodePublicKey as _;
        let (reference, pkcs8) = key(0);
        let private = RsaKey::new(reference.clone(), &pkcs8).unwrap();
        let public = reference.to_public_key();
        let spki = public.to_public_key_der().unwrap();
        let ours = RsaPublicKey::from_spki_der(spki.as_bytes()).unwrap();
        for seed in 0..32u64 {
            let message = vec![u8::try_from(seed).unwrap(); usize::try_from(seed % 4).unwrap() * 8];
            let mut a = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
            let mut b = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
            let ct = ours.encrypt(&message, &mut a).unwrap();
            let expected = public.pkcs1v15_encrypt_with_rng(&mut b, &message).unwrap();
            assert_eq!(ct, expected, "seed {seed}");
            assert_eq!(a.next_u64(), b.next_u64(), "the same RNG draws");
            assert_eq!(private.decrypt(&ct).unwrap().as_slice(), message.as_slice());
            #[cfg(feature = "openssl")]
            {
                let pure = pure::PublicEngine::from_spki(spki.as_bytes()).unwrap();
                let mut c = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
                assert_eq!(pure.encrypt(&message, &mut c).unwrap(), ct);
            }
        }
        for digest in [Pkcs1Digest::Sha1, Pkcs1Digest::Sha256, Pkcs1Digest::Sha512] {
            let h = hashed(digest, b"signed");
            let sig = private.sign_digest(digest, &h).unwrap();
            assert!(ours.verify(digest, &h, &sig));
            #[cfg(feature = "openssl")]
            {
                let pure = pure::PublicEngine::from_spki(spki.as_bytes()).unwrap();
                assert!(pure.verify(digest, &h, &sig));
                assert!(!pure.verify(digest, &hashed(digest, b"signeD"), &sig));
            }
            assert!(!ours.verify(digest, &hashed(digest, b"signeD"), &sig));
            let mut bad = sig.clone();
            bad[100] ^= 1;
            assert!(!ours.verify(digest, &h, &bad));
            assert!(!ours.verify(digest, &h, &sig[1..]));
        }
        let sig = private
            .sign_digest(Pkcs1Digest::Sha256, &hashed(Pkcs1Digest::Sha256, b"x"))
            .unwrap();
        assert!(!ours.verify(
            Pkcs1Digest::Sha512,
            &hashed(Pkcs1Digest::Sha256, b"x"),
            &sig
        ));
        assert!(RsaPublicKey::from_spki_der(b"not a key").is_none());
        let ec = crate::key::PrivateKey::generate(
            crate::key::KeyAlgorithm::EcdsaP256,
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(1),
        )
        .unwrap();
        assert!(RsaPublicKey::from_spki_der(&ec.public_key_der()).is_none());
    }

    /// OpenSSL's engine accepts exactly the public keys the `rsa` crate
    /// accepts, though it checks them without the `rsa` crate.
    #[cfg(feature = "openssl")]
    #[test]
    fn both_engines_accept_the_same_public_keys() {
        use ::openssl::bn::BigNum;
        use ::openssl::pkey::PKey;
        use ::openssl::rsa::Rsa;
        let (reference, _) = key(1);
        let n = BigNum::from_slice(&rsa::traits::PublicKeyParts::n_bytes(&reference)).unwrap();
        let small = Rsa::generate(512).unwrap();
        let spki = |n: &::openssl::bn::BigNumRef, e: u64| {
            let e = BigNum::from_slice(&e.to_be_bytes()).unwrap();
            let rsa = Rsa::from_public_components(n.to_owned().unwrap(), e).unwrap();
            PKey::from_rsa(rsa).unwrap().public_key_to_der().unwrap()
        };
        let mut even = n.to_owned().unwrap();
        even.add_word(1).unwrap();
        let cases = [
            (spki(&n, 65_537), true),
            (spki(&n, 3), true),
            (spki(&n, (1 << 33) - 1), true),
            (spki(&n, 1 << 33 | 1), false),
            (spki(&n, 4), false),
            (spki(&n, 1), false),
            (spki(&even, 65_537), false),
            (spki(small.n(), 65_537), false),
        ];
        for (i, (der, accepted)) in cases.iter().enumerate() {
            assert_eq!(
                pure::PublicEngine::from_spki(der).is_some(),
                *accepted,
                "case {i}: rsa crate"
            );
            assert_eq!(
                openssl::PublicEngine::from_spki(der).is_some(),
                *accepted,
                "case {i}: OpenSSL"
            );
        }
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let (reference, pkcs8) = key(1);
        let ours = RsaKey::new(reference, &pkcs8).unwrap();
        assert!(matches!(
            ours.sign_digest(Pkcs1Digest::Sha256, &[0; 20]),
            Err(CertError::Signing { .. })
        ));
        assert!(matches!(
            ours.decrypt(&[1; 255]),
            Err(CertError::Decryption { .. })
        ));
        assert_eq!(ours.size(), 256);
    }

    #[test]
    fn a_duplicate_signs_the_same() {
        let (reference, pkcs8) = key(1);
        let ours = RsaKey::new(reference.clone(), &pkcs8).unwrap();
        let h = hashed(Pkcs1Digest::Sha256, b"x");
        assert_eq!(
            ours.duplicate()
                .sign_digest(Pkcs1Digest::Sha256, &h)
                .unwrap(),
            ours.sign_digest(Pkcs1Digest::Sha256, &h).unwrap()
        );
        #[cfg(feature = "openssl")]
        {
            let pure = pure::Engine::new(reference.clone(), &pkcs8).unwrap();
            assert_eq!(
                pure.duplicate()
                    .sign_digest(Pkcs1Digest::Sha256, &h)
                    .unwrap(),
                ours.sign_digest(Pkcs1Digest::Sha256, &h).unwrap()
            );
        }
        // The PKCS #8 the engines read is the `rsa` crate's own encoding.
        assert_eq!(
            reference.to_pkcs8_der().unwrap().as_bytes(),
            pkcs8.as_slice()
        );
    }
}
