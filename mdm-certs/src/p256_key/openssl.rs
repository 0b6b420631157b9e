//! The P-256 signer of the `openssl` feature: curve arithmetic and
//! RFC 6979 signatures by OpenSSL (3.2 and later, built from source).

use std::sync::LazyLock;

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::error::ErrorStack;
use openssl::md::Md;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::{NonceType, PkeyCtx};
use sha2::{Digest as _, Sha256};

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

/// A P-256 key held by OpenSSL.
pub(super) struct Signer(PKey<Private>);

impl Signer {
    /// The signer for `scalar` (checked non-zero and below the order by the
    /// caller) and its uncompressed public point.
    pub(super) fn from_scalar(scalar: &[u8; 32]) -> Result<(Self, Vec<u8>)> {
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
        Ok((Self(pkey), public_point))
    }

    /// Signs SHA-256(`message`) with an RFC 6979 nonce; the signature is DER.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let digest = Sha256::digest(message);
        let mut signature = Vec::with_capacity(72);
        let signed = (|| {
            let mut ctx = PkeyCtx::new(&self.0)?;
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
