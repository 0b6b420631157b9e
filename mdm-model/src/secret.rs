//! Secret tokens: what a user or a device presents to prove it was invited
//! or enrolled — an invitation link's token (R-IN-1), an Android agent's
//! credential (issue #13: every device proves who it is).
//!
//! One type for all of them, [`SecretToken`], told apart by what it is for
//! (its [`Purpose`]), so an invitation token can never be passed where an
//! agent credential is expected. Every secret has 256 bits from the caller's
//! cryptographic generator, is shown only by [`SecretToken::expose`], prints
//! as `<secret>` in `Debug`, and is kept by the workspace only as its
//! SHA-256 ([`SecretHash`]), which compares in constant time.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{ModelError, Sha256Digest};

/// Bytes of entropy in a secret token (256 bits; the rule asks for at least 128).
pub const TOKEN_BYTES: usize = 32;

/// Characters of a token's text form (URL-safe base64 of 32 bytes, no padding).
pub const TOKEN_TEXT_LEN: usize = 43;

/// What a secret token is for; fixes its name in `Debug` and errors.
pub trait Purpose: private::Sealed {
    /// The token's name, e.g. "invitation token".
    const NAME: &'static str;
}

/// The secret an invitation link carries (R-IN-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForInvitation {}
impl Purpose for ForInvitation {
    const NAME: &'static str = "invitation token";
}

/// The secret an enrolled Android agent presents on every sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForAgent {}
impl Purpose for ForAgent {
    const NAME: &'static str = "agent credential";
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::ForInvitation {}
    impl Sealed for super::ForAgent {}
}

/// A secret for one purpose. It exists only on its way to its holder: the
/// workspace keeps its [`SecretHash`].
pub struct SecretToken<P: Purpose> {
    bytes: [u8; TOKEN_BYTES],
    purpose: PhantomData<P>,
}

/// The token in an invitation link.
pub type InvitationToken = SecretToken<ForInvitation>;
/// The credential an Android agent is issued at enrollment and presents on
/// every sync (`Authorization: Bearer <credential>` on the wire).
pub type AgentCredential = SecretToken<ForAgent>;

impl<P: Purpose> SecretToken<P> {
    /// Draws a new secret from a caller-supplied cryptographic generator.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self {
            bytes,
            purpose: PhantomData,
        }
    }

    /// Parses the text form (43 characters of URL-safe base64, no padding).
    ///
    /// # Errors
    /// [`ModelError::MalformedToken`] naming the purpose, for anything else.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let malformed = ModelError::MalformedToken { what: P::NAME };
        if text.len() != TOKEN_TEXT_LEN {
            return Err(malformed);
        }
        let mut bytes = [0u8; TOKEN_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(TOKEN_BYTES) => Ok(Self::from_bytes(bytes)),
            _ => Err(malformed),
        }
    }

    /// The secret as URL-safe base64 (no padding). Handle with care.
    #[must_use]
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    /// The hash under which the workspace stores this secret.
    #[must_use]
    pub fn hash(&self) -> SecretHash<P> {
        SecretHash {
            bytes: Sha256::digest(self.bytes).into(),
            purpose: PhantomData,
        }
    }
}

impl<P: Purpose> Clone for SecretToken<P> {
    fn clone(&self) -> Self {
        Self::from_bytes(self.bytes)
    }
}

impl<P: Purpose> PartialEq for SecretToken<P> {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}
impl<P: Purpose> Eq for SecretToken<P> {}

impl<P: Purpose> fmt::Debug for SecretToken<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(<secret>)", P::NAME)
    }
}

/// The SHA-256 of a secret: what the workspace stores and looks up.
pub struct SecretHash<P: Purpose> {
    bytes: [u8; 32],
    purpose: PhantomData<P>,
}

/// The stored form of an invitation token.
pub type TokenHash = SecretHash<ForInvitation>;
/// The stored form of an agent credential.
pub type AgentCredentialHash = SecretHash<ForAgent>;

impl<P: Purpose> SecretHash<P> {
    /// The hash's bytes (they reveal nothing of the secret).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl<P: Purpose> Clone for SecretHash<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: Purpose> Copy for SecretHash<P> {}

impl<P: Purpose> PartialEq for SecretHash<P> {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}
impl<P: Purpose> Eq for SecretHash<P> {}

impl<P: Purpose> Hash for SecretHash<P> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl<P: Purpose> fmt::Debug for SecretHash<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}, ", P::NAME)?;
        for b in &self.bytes[..4] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…)")
    }
}

impl<P: Purpose> Serialize for SecretHash<P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Sha256Digest::from_bytes(self.bytes).serialize(s)
    }
}

impl<'de, P: Purpose> Deserialize<'de> for SecretHash<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Sha256Digest::deserialize(d).map(|digest| Self {
            bytes: *digest.as_bytes(),
            purpose: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn secrets_round_trip_and_stay_apart() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let credential = AgentCredential::generate(&mut rng);
        let text = credential.expose();
        assert_eq!(text.len(), TOKEN_TEXT_LEN);
        assert_eq!(AgentCredential::parse(&text).unwrap(), credential);
        assert_eq!(
            AgentCredential::parse(&text).unwrap().hash(),
            credential.hash()
        );
        assert_eq!(format!("{credential:?}"), "agent credential(<secret>)");
        assert!(!format!("{:?}", credential.hash()).contains(&hex_of(credential.hash())));
        assert_eq!(
            InvitationToken::parse("short"),
            Err(ModelError::MalformedToken {
                what: "invitation token"
            })
        );
        assert!(AgentCredential::parse(&format!("{}=", &text[..42])).is_err());
    }

    fn hex_of(hash: AgentCredentialHash) -> String {
        hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}
