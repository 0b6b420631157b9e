//! Administrator bearer tokens: one operator token (every tenant) and one
//! per tenant, 256 bits from the CSPRNG, printed once when made; only their
//! SHA-256 is kept (`operator-token.sha256`, `<tenant>/token.sha256`) and a
//! presented token is compared by hash in constant time.

use std::path::Path;

use base64::Engine as _;
use mdm_model::Sha256Digest;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng as _;
use subtle::ConstantTimeEq as _;

use super::config::serve_error;
use super::tenant::{io, write_secret};
use crate::HarnessError;

/// The hash of the token kept in `file`, making a new token (returned in
/// clear, to print once) when there is none.
fn read_or_make(
    file: &Path,
    prefix: &str,
    rng: &mut ChaCha20Rng,
) -> Result<(Sha256Digest, Option<String>), HarnessError> {
    match std::fs::read_to_string(file) {
        Ok(hex) => {
            let hash =
                Sha256Digest::from_hex(hex.trim()).map_err(serve_error("token hash file"))?;
            Ok((hash, None))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            let token = format!(
                "{prefix}{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            );
            let hash = Sha256Digest::of(token.as_bytes());
            write_secret(file, &format!("{}\n", hash.to_hex()))?;
            Ok((hash, Some(token)))
        }
        Err(e) => Err(io(file)(e)),
    }
}

/// The operator token's hash (and the token, when new).
///
/// # Errors
/// The file cannot be read or written.
pub fn operator_token(
    state_dir: &Path,
    rng: &mut ChaCha20Rng,
) -> Result<(Sha256Digest, Option<String>), HarnessError> {
    read_or_make(&state_dir.join("operator-token.sha256"), "mdmop_", rng)
}

/// A tenant token's hash (and the token, when new).
///
/// # Errors
/// The file cannot be read or written.
pub fn tenant_token(
    tenant_dir: &Path,
    rng: &mut ChaCha20Rng,
) -> Result<(Sha256Digest, Option<String>), HarnessError> {
    read_or_make(&tenant_dir.join("token.sha256"), "mdmtn_", rng)
}

/// Whether `presented` is the token whose hash is `kept`.
pub fn matches(presented: &str, kept: &Sha256Digest) -> bool {
    let hash = Sha256Digest::of(presented.as_bytes());
    hash.as_bytes()[..].ct_eq(&kept.as_bytes()[..]).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng as _;

    #[test]
    fn a_token_is_made_once_and_only_its_hash_is_kept() {
        let dir = std::env::temp_dir().join(format!("token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (hash, token) = operator_token(&dir, &mut rng).unwrap();
        let token = token.unwrap();
        assert!(token.starts_with("mdmop_") && token.len() == 6 + 43);
        let kept = std::fs::read_to_string(dir.join("operator-token.sha256")).unwrap();
        assert!(!kept.contains(&token[6..]));
        let (again, none) = operator_token(&dir, &mut rng).unwrap();
        assert_eq!((again, none), (hash, None));
        assert!(matches(&token, &hash));
        assert!(!matches("mdmop_wrong", &hash));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
