//! PKCS#12 files: password-protected backups (R-AP-3), client identities
//! delivered with a server-made key (R-CL-1), and reading uploads (R-AP-2).

use core::fmt;

use zeroize::Zeroizing;

use crate::certificate::Certificate;
use crate::error::{CertError, Result};
use crate::identity::{CertifiedKey, Pkcs12Contents};

/// The shortest backup password accepted (in characters).
pub const MIN_BACKUP_PASSWORD_LEN: usize = 12;

/// PBKDF2 / MAC iterations for files written by [`Pkcs12::write`].
const ITERATIONS: u64 = 100_000;

/// The fewest iterations [`Pkcs12::write_with_iterations`] accepts.
pub const MIN_WRITE_ITERATIONS: u64 = 2048;

/// A password entered twice that matched and is long enough (R-AP-3).
pub struct BackupPassword(Zeroizing<String>);

impl fmt::Debug for BackupPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackupPassword(<redacted>)")
    }
}

impl BackupPassword {
    /// Accepts the password if both entries are equal (compared in constant
    /// time) and it has at least [`MIN_BACKUP_PASSWORD_LEN`] characters.
    pub fn new(entered: &str, repeated: &str) -> Result<Self> {
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(entered.as_bytes(), repeated.as_bytes()).into();
        if !same {
            return Err(CertError::PasswordMismatch);
        }
        let length = entered.chars().count();
        if length < MIN_BACKUP_PASSWORD_LEN {
            return Err(CertError::PasswordTooShort {
                length,
                minimum: MIN_BACKUP_PASSWORD_LEN,
            });
        }
        Ok(Self(Zeroizing::new(entered.to_owned())))
    }

    /// The password text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Reading and writing PKCS#12 (`.p12`) files.
///
/// Files are written with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an
/// HMAC-SHA256 MAC, which OpenSSL 3 opens without `-legacy`. Reading also
/// accepts the legacy 3DES/RC2 files that Keychain exports.
///
/// Known limit: the salts and IVs inside the file come from the operating
/// system's generator (the `p12-keystore` crate draws them itself), so two
/// files made from the same inputs differ byte for byte.
#[derive(Debug, Clone, Copy)]
pub struct Pkcs12;

impl Pkcs12 {
    /// Writes `identity` (certificate and key) with its issuer `chain` under
    /// `friendly_name`, encrypted with `password`.
    pub fn write(
        identity: &CertifiedKey,
        chain: &[Certificate],
        friendly_name: &str,
        password: &str,
    ) -> Result<Vec<u8>> {
        Self::write_with_iterations(identity, chain, friendly_name, password, ITERATIONS)
    }

    /// As [`Self::write`] with a chosen PBKDF2/MAC iteration count, at least
    /// [`MIN_WRITE_ITERATIONS`] (OpenSSL's default). [`Self::write`] uses
    /// 100 000; fewer is for simulations that make many files.
    pub fn write_with_iterations(
        identity: &CertifiedKey,
        chain: &[Certificate],
        friendly_name: &str,
        password: &str,
        iterations: u64,
    ) -> Result<Vec<u8>> {
        let fail = |e: &dyn fmt::Display| CertError::Signing {
            artifact: "PKCS#12 file",
            reason: e.to_string(),
        };
        if iterations < MIN_WRITE_ITERATIONS {
            return Err(fail(&format_args!(
                "{iterations} iterations is below the minimum {MIN_WRITE_ITERATIONS}"
            )));
        }
        let mut certs = Vec::with_capacity(chain.len() + 1);
        for cert in core::iter::once(&identity.certificate).chain(chain) {
            certs.push(p12_keystore::Certificate::from_der(cert.der()).map_err(|e| fail(&e))?);
        }
        let local_key_id = *identity.certificate.info().fingerprint.as_bytes();
        let key_chain = p12_keystore::PrivateKeyChain::new(
            identity.key.pkcs8_der_secret().as_slice(),
            &local_key_id[..20],
            certs,
        );
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(
            friendly_name,
            p12_keystore::KeyStoreEntry::PrivateKeyChain(key_chain),
        );
        store
            .writer(password)
            .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
            .encryption_iterations(iterations)
            .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha256)
            .mac_iterations(iterations)
            .write()
            .map_err(|e| fail(&e))
    }

    /// The password-protected backup of the APNs certificate and its key (R-AP-3).
    pub fn backup(identity: &CertifiedKey, password: &BackupPassword) -> Result<Vec<u8>> {
        let name = identity
            .certificate
            .info()
            .subject_common_name
            .clone()
            .unwrap_or_else(|| "APNs certificate".to_owned());
        Self::write(identity, &[], &name, password.expose())
    }

    /// Whether `bytes` are shaped like a PKCS#12 PFX (SEQUENCE whose first
    /// element is INTEGER 3) rather than an X.509 certificate.
    pub fn looks_like(bytes: &[u8]) -> bool {
        let Some(inner) = der_sequence_contents(bytes) else {
            return false;
        };
        inner.starts_with(&[0x02, 0x01, 0x03])
    }

    /// Reads a PKCS#12 file. A MAC or decryption failure is a wrong password;
    /// `source_name` (the file name) goes into errors.
    ///
    /// The file chooses how much work its key derivation costs, so every
    /// parameter is checked before anything is derived: a file asking for
    /// more than real exporters write is refused with
    /// [`CertError::KdfParameterTooLarge`] (limits:
    /// [`crate::MAX_PBKDF2_ITERATIONS`], [`crate::MAX_PKCS12_KDF_ITERATIONS`],
    /// [`crate::MAX_SCRYPT_N`], [`crate::MAX_SCRYPT_R`],
    /// [`crate::MAX_SCRYPT_P`], [`crate::MAX_TOTAL_KDF_ITERATIONS`]), a file
    /// without MAC with [`CertError::Pkcs12WithoutMac`], a file over
    /// [`crate::MAX_PKCS12_LEN`] bytes with [`CertError::InvalidPkcs12`].
    /// The certificate is the one with the file's key (by local key id,
    /// else by public key); the others follow in file order.
    pub fn read(bytes: &[u8], password: &str, source_name: &str) -> Result<Pkcs12Contents> {
        crate::pfx::read(bytes, password, source_name)
    }
}

/// One DER TLV: (tag, contents, rest). Definite lengths only.
fn der_tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(n);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

/// The contents of a DER SEQUENCE at the start of `bytes`, if well-formed.
fn der_sequence_contents(bytes: &[u8]) -> Option<&[u8]> {
    match der_tlv(bytes)? {
        (0x30, contents, _) => Some(contents),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::authority::{Validity, test_ca};
    use crate::client::ClientIdentity;
    use crate::key::KeyAlgorithm;
    use crate::key::test_keys::rng;

    #[test]
    fn password_rules() {
        assert!(matches!(
            BackupPassword::new("long enough pw", "long enough pW"),
            Err(CertError::PasswordMismatch)
        ));
        assert!(matches!(
            BackupPassword::new("short", "short"),
            Err(CertError::PasswordTooShort { length: 5, .. })
        ));
        let pw = BackupPassword::new("long enough pw", "long enough pw").unwrap();
        assert_eq!(pw.expose(), "long enough pw");
        assert!(!format!("{pw:?}").contains("long"));
    }

    #[test]
    fn iteration_counts_are_found_and_capped() {
        let ca = test_ca();
        let id = ClientIdentity::new("dave", None).unwrap();
        let v = Validity::days(datetime!(2026-02-01 0:00 UTC), 30).unwrap();
        let issued = ca
            .issue_client_certificate_with_key(&id, v, KeyAlgorithm::EcdsaP256, &mut rng(9))
            .unwrap();
        let p12 = Pkcs12::write_with_iterations(&issued, &[], "dave", "pass word 123", 0x01_0001)
            .unwrap();
        assert!(Pkcs12::read(&p12, "pass word 123", "dave.p12").is_ok());
        // Raise the MAC iteration count (the last INTEGER 65537 in the file):
        // found and refused before any derivation.
        let needle = [0x02, 0x03, 0x01, 0x00, 0x01];
        let pos = p12.windows(5).rposition(|w| w == needle).unwrap();
        let mut big = p12.clone();
        big[pos + 2] = 0x7f;
        match Pkcs12::read(&big, "pass word 123", "big.p12") {
            Err(CertError::KdfParameterTooLarge {
                source_name,
                parameter,
                value,
                limit,
            }) => {
                assert_eq!(source_name, "big.p12");
                assert_eq!(parameter, "PKCS#12 KDF iteration count");
                assert_eq!(value, 0x7f_0001);
                assert_eq!(limit, crate::MAX_PKCS12_KDF_ITERATIONS);
            }
            other => panic!("{other:?}"),
        }
        let mut huge = p12[..pos].to_vec();
        huge.extend_from_slice(&[0x02, 0x03, 0xff, 0xff, 0xff]);
        huge.extend_from_slice(&p12[pos + 5..]);
        assert!(matches!(
            Pkcs12::read(&huge, "pass word 123", "huge.p12"),
            Err(CertError::InvalidPkcs12 { .. } | CertError::KdfParameterTooLarge { .. })
        ));
    }

    #[test]
    fn too_few_iterations_are_refused() {
        let ca = test_ca();
        let issued = ca
            .issue_client_certificate_with_key(
                &ClientIdentity::new("x", None).unwrap(),
                Validity::days(datetime!(2026-02-01 0:00 UTC), 30).unwrap(),
                KeyAlgorithm::EcdsaP256,
                &mut rng(10),
            )
            .unwrap();
        assert!(Pkcs12::write_with_iterations(&issued, &[], "x", "pw", 2047).is_err());
    }

    #[test]
    fn write_then_read() {
        let ca = test_ca();
        let id = ClientIdentity::new("carol", None).unwrap();
        let v = Validity::days(datetime!(2026-02-01 0:00 UTC), 30).unwrap();
        let issued = ca
            .issue_client_certificate_with_key(&id, v, KeyAlgorithm::EcdsaP256, &mut rng(8))
            .unwrap();
        let p12 = Pkcs12::write_with_iterations(
            &issued,
            &[ca.certificate().clone()],
            "carol",
            "pass word 123",
            2048,
        )
        .unwrap();
        assert!(Pkcs12::looks_like(&p12));
        assert!(!Pkcs12::looks_like(issued.certificate.der()));
        let back = Pkcs12::read(&p12, "pass word 123", "carol.p12").unwrap();
        assert_eq!(back.certificate, issued.certificate);
        assert_eq!(back.chain, vec![ca.certificate().clone()]);
        assert!(
            back.key
                .as_ref()
                .is_some_and(|k| issued.certificate.matches_key(k))
        );
        assert!(matches!(
            Pkcs12::read(&p12, "wrong", "carol.p12"),
            Err(CertError::Pkcs12PasswordWrong { .. })
        ));
    }
}
