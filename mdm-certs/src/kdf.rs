//! Bounds on the password-based key derivation a file asks for.
//!
//! An encrypted key or a PKCS#12 file names its own key-derivation function
//! and its cost: PBKDF2's iteration count, scrypt's `N`, `r` and `p`, the
//! PKCS#12 KDF's iteration count (legacy PBE and the MAC). Whoever made the
//! file chooses them, so a few hundred bytes could ask for seconds of CPU or
//! gigabytes of memory. Every parameter is read and checked against the
//! limits below **before** anything is derived.
//!
//! The limits cover what real exporters write, with headroom:
//!
//! | exporter | scheme | cost |
//! |---|---|---|
//! | OpenSSL 3 `pkcs12 -export` (default) | PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC; MAC HMAC-SHA256 | 2048 iterations each |
//! | OpenSSL 1.x / 3 `-legacy` | PBE-SHA1-RC2-40 (certificates), PBE-SHA1-3DES (key); MAC SHA-1 | 2048 |
//! | OpenSSL `pkcs8 -topk8` (default) / `-scrypt` | PBKDF2-HMAC-SHA256 / scrypt | 2048 / N = 2^14, r = 8, p = 1 |
//! | macOS Keychain export | PBE-SHA1-3DES and RC2-40; MAC SHA-1 | 2048 |
//! | Windows certificate export | PBES2 AES-256 or PBE-SHA1-3DES | 2000 |
//! | Java `keytool` (JDK 12+) | PBES2 AES-256 | 10 000 |
//! | this crate, [`crate::Pkcs12::write`] | PBES2 PBKDF2-HMAC-SHA256 AES-256; MAC HMAC-SHA256 | 100 000 |
//! | this crate, [`crate::PrivateKey::to_pkcs8_pem`] | PBES2 PBKDF2-HMAC-SHA256 AES-256 | 600 000 (OWASP 2023) |
//!
//! Nothing real writes more than 600 000 iterations, scrypt above
//! N = 2^14, r = 8, or any `p` but 1 (RustCrypto's `pkcs5` defaults are
//! chosen to match OpenSSL 3's). A file asking for more is refused with
//! [`CertError::KdfParameterTooLarge`](crate::CertError::KdfParameterTooLarge),
//! naming the parameter, its value and the limit.

use crate::error::{CertError, Result};

/// The most PBKDF2 iterations a file may ask for (600 000, what this crate
/// writes for encrypted keys, with headroom; OpenSSL writes 2048). At the
/// limit one derivation costs about 0.2 s of CPU.
pub const MAX_PBKDF2_ITERATIONS: u64 = 1_000_000;

/// The most PKCS#12-KDF iterations (RFC 7292 appendix B: legacy PBE and the
/// MAC key) a file may ask for. OpenSSL and Keychain write 2048, this crate
/// 100 000.
pub const MAX_PKCS12_KDF_ITERATIONS: u64 = 1_000_000;

/// The largest scrypt cost `N` accepted: 2^16, four times OpenSSL's
/// default 2^14 (64 MiB of memory at `r` = 8).
pub const MAX_SCRYPT_N: u64 = 1 << 16;

/// The largest scrypt block size `r` accepted: 8, what OpenSSL and
/// RustCrypto write. Memory is `128 · r · N` bytes.
pub const MAX_SCRYPT_R: u64 = 8;

/// The largest scrypt parallelisation `p` accepted: 1, the only value
/// OpenSSL and RustCrypto write (time grows linearly with `p`).
pub const MAX_SCRYPT_P: u64 = 1;

/// The total key-derivation work one PKCS#12 file may ask for, in
/// iterations summed over its MAC and every encrypted part (OpenSSL's
/// files need 3 × 2048, this crate's 3 × 100 000). A file cannot multiply
/// the per-derivation limit by holding many encrypted parts.
pub const MAX_TOTAL_KDF_ITERATIONS: u64 = 3_000_000;

/// One key derivation, as the file describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KdfRequest {
    /// PBKDF2 (PBES2), any PRF.
    Pbkdf2 {
        /// Iteration count.
        iterations: u64,
    },
    /// The PKCS#12 KDF (legacy PBE of RFC 7292 and the MAC key).
    Pkcs12 {
        /// Iteration count.
        iterations: u64,
    },
    /// PKCS#5 v1.5 PBES1 (MD5/SHA-1 with DES or RC2).
    Pbes1 {
        /// Iteration count.
        iterations: u64,
    },
    /// scrypt (RFC 7914) in PBES2.
    Scrypt {
        /// Cost `N`.
        n: u64,
        /// Block size `r`.
        r: u64,
        /// Parallelisation `p`.
        p: u64,
    },
}

impl KdfRequest {
    /// Checks every parameter against its limit; returns the work this
    /// derivation costs in iteration equivalents (for [`KdfBudget`]).
    pub(crate) fn check(self, source_name: &str) -> Result<u64> {
        let refuse = |parameter: &'static str, value: u64, limit: u64| {
            Err(CertError::KdfParameterTooLarge {
                source_name: source_name.to_owned(),
                parameter,
                value,
                limit,
            })
        };
        match self {
            Self::Pbkdf2 { iterations } if iterations > MAX_PBKDF2_ITERATIONS => {
                refuse("PBKDF2 iteration count", iterations, MAX_PBKDF2_ITERATIONS)
            }
            Self::Pkcs12 { iterations } | Self::Pbes1 { iterations }
                if iterations > MAX_PKCS12_KDF_ITERATIONS =>
            {
                refuse(
                    "PKCS#12 KDF iteration count",
                    iterations,
                    MAX_PKCS12_KDF_ITERATIONS,
                )
            }
            Self::Pbkdf2 { iterations }
            | Self::Pkcs12 { iterations }
            | Self::Pbes1 { iterations } => Ok(iterations),
            Self::Scrypt { n, .. } if n > MAX_SCRYPT_N => refuse("scrypt N", n, MAX_SCRYPT_N),
            Self::Scrypt { r, .. } if r > MAX_SCRYPT_R => refuse("scrypt r", r, MAX_SCRYPT_R),
            Self::Scrypt { p, .. } if p > MAX_SCRYPT_P => refuse("scrypt p", p, MAX_SCRYPT_P),
            // scrypt's ROMix runs 2·N BlockMix rounds of 2·r Salsa20/8
            // cores each: about as much CPU as that many PBKDF2 iterations.
            Self::Scrypt { n, r, p } => Ok(n.saturating_mul(r).saturating_mul(p).saturating_mul(4)),
        }
    }
}

/// What is left of [`MAX_TOTAL_KDF_ITERATIONS`] while one file is read.
#[derive(Debug)]
pub(crate) struct KdfBudget {
    spent: u64,
}

impl KdfBudget {
    /// A full budget.
    pub(crate) fn new() -> Self {
        Self { spent: 0 }
    }

    /// Checks `request` and charges its work, refusing the file once the
    /// total passes [`MAX_TOTAL_KDF_ITERATIONS`].
    pub(crate) fn charge(&mut self, request: KdfRequest, source_name: &str) -> Result<()> {
        let cost = request.check(source_name)?;
        self.spent = self.spent.saturating_add(cost);
        if self.spent > MAX_TOTAL_KDF_ITERATIONS {
            return Err(CertError::KdfParameterTooLarge {
                source_name: source_name.to_owned(),
                parameter: "total key-derivation work (iterations over the whole file)",
                value: self.spent,
                limit: MAX_TOTAL_KDF_ITERATIONS,
            });
        }
        Ok(())
    }
}

/// The derivation a PKCS#8 `EncryptedPrivateKeyInfo` (RustCrypto `pkcs5`
/// 0.8, as `pkcs8` parses it) asks for.
pub(crate) fn pkcs5_request(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Option<KdfRequest> {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    match scheme {
        EncryptionScheme::Pbes1(alg) => Some(KdfRequest::Pbes1 {
            iterations: u64::from(alg.parameters.iteration_count),
        }),
        EncryptionScheme::Pbes2(params) => match &params.kdf {
            Kdf::Pbkdf2(p) => Some(KdfRequest::Pbkdf2 {
                iterations: u64::from(p.iteration_count),
            }),
            Kdf::Scrypt(s) => Some(KdfRequest::Scrypt {
                n: s.cost_parameter,
                r: u64::from(s.block_size),
                p: u64::from(s.parallelization),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// The derivation PBES2 parameters inside a PKCS#12 file (`pkcs5` 0.7, the
/// `der` 0.7 family the PKCS#12 types use) ask for.
pub(crate) fn pbes2_request(params: &pkcs5_07::pbes2::Parameters<'_>) -> Option<KdfRequest> {
    use pkcs5_07::pbes2::Kdf;
    match &params.kdf {
        Kdf::Pbkdf2(p) => Some(KdfRequest::Pbkdf2 {
            iterations: u64::from(p.iteration_count),
        }),
        Kdf::Scrypt(s) => Some(KdfRequest::Scrypt {
            n: s.cost_parameter,
            r: u64::from(s.block_size),
            p: u64::from(s.parallelization),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_exporters_fit_and_hostile_values_do_not() {
        for ok in [
            KdfRequest::Pbkdf2 { iterations: 2048 },
            KdfRequest::Pbkdf2 {
                iterations: 600_000,
            },
            KdfRequest::Pkcs12 {
                iterations: 100_000,
            },
            KdfRequest::Scrypt {
                n: 1 << 14,
                r: 8,
                p: 1,
            },
        ] {
            assert!(ok.check("f").is_ok(), "{ok:?}");
        }
        for (bad, parameter) in [
            (
                KdfRequest::Pbkdf2 {
                    iterations: 10_000_000,
                },
                "PBKDF2 iteration count",
            ),
            (
                KdfRequest::Pkcs12 {
                    iterations: 10_000_000,
                },
                "PKCS#12 KDF iteration count",
            ),
            (
                KdfRequest::Scrypt {
                    n: 1 << 20,
                    r: 8,
                    p: 1,
                },
                "scrypt N",
            ),
            (
                KdfRequest::Scrypt {
                    n: 1 << 14,
                    r: 65535,
                    p: 1,
                },
                "scrypt r",
            ),
            (
                KdfRequest::Scrypt {
                    n: 1 << 14,
                    r: 8,
                    p: 64,
                },
                "scrypt p",
            ),
        ] {
            match bad.check("f") {
                Err(CertError::KdfParameterTooLarge { parameter: p, .. }) => {
                    assert_eq!(p, parameter);
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_budget_bounds_the_whole_file() {
        let mut budget = KdfBudget::new();
        for _ in 0..3 {
            budget
                .charge(
                    KdfRequest::Pbkdf2 {
                        iterations: 1_000_000,
                    },
                    "f",
                )
                .unwrap();
        }
        assert!(matches!(
            budget.charge(KdfRequest::Pkcs12 { iterations: 1 }, "f"),
            Err(CertError::KdfParameterTooLarge { .. })
        ));
    }
}
