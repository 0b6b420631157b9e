//! Enrollment invitations: one invitation, one device (R-IN-1).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::{DeviceId, InvitationId, ModelError, UserId};

/// Bytes of entropy in an invitation token (256 bits; the rule asks for at least 128).
pub const TOKEN_BYTES: usize = 32;

/// The secret that an invitation link carries.
///
/// It exists only on its way to the user: the workspace keeps its
/// [`TokenHash`], never the token. `Debug` does not show it; use
/// [`InvitationToken::expose`] where the link is built.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken([u8; TOKEN_BYTES]);

impl InvitationToken {
    /// Draws a new token from a caller-supplied cryptographic generator.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses the URL-safe base64 text a link carries.
    ///
    /// # Errors
    /// [`ModelError::MalformedToken`] when the text is not 43 characters of
    /// URL-safe base64 without padding encoding 32 bytes.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        if text.len() != 43 {
            return Err(ModelError::MalformedToken);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| ModelError::MalformedToken)?;
        let array: [u8; TOKEN_BYTES] = bytes.try_into().map_err(|_| ModelError::MalformedToken)?;
        Ok(Self(array))
    }

    /// The token as URL-safe base64 (no padding), for the link. Handle with care.
    #[must_use]
    pub fn expose(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The hash under which the workspace stores this token.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken(<secret>)")
    }
}

/// The SHA-256 of an invitation token: what the workspace stores and looks up.
#[derive(Clone, Copy, Debug, Eq, Serialize, Deserialize)]
pub struct TokenHash(#[serde(with = "crate::hex32")] pub(crate) [u8; 32]);

impl PartialEq for TokenHash {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

/// What became of an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum InvitationState {
    /// Sent, not yet used.
    Pending,
    /// Used by exactly this device (R-IN-1).
    Consumed {
        /// The device that enrolled with it.
        device: DeviceId,
    },
    /// Withdrawn by the administrator.
    Revoked,
}

/// One invitation, sent to one user, that enrolls exactly one device (R-IN-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub(crate) id: InvitationId,
    pub(crate) user: UserId,
    pub(crate) token_hash: TokenHash,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) state: InvitationState,
}

impl Invitation {
    /// The invitation's id.
    #[must_use]
    pub fn id(&self) -> InvitationId {
        self.id
    }
    /// The user it was sent to.
    #[must_use]
    pub fn user(&self) -> UserId {
        self.user
    }
    /// When it was issued.
    #[must_use]
    pub fn issued_at(&self) -> OffsetDateTime {
        self.issued_at
    }
    /// When it stops being usable.
    #[must_use]
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
    /// Pending, consumed by a device, or revoked.
    #[must_use]
    pub fn state(&self) -> InvitationState {
        self.state
    }
    /// Whether it has expired at `now` (a pending invitation only).
    #[must_use]
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        matches!(self.state, InvitationState::Pending) && now >= self.expires_at
    }

    pub(crate) fn state_name(&self, now: OffsetDateTime) -> &'static str {
        match self.state {
            InvitationState::Pending if self.is_expired(now) => "expired",
            InvitationState::Pending => "pending",
            InvitationState::Consumed { .. } => "consumed",
            InvitationState::Revoked => "revoked",
        }
    }
}

/// An invitation freshly issued: the record's id and the secret token for the link.
#[derive(Debug)]
pub struct IssuedInvitation {
    /// The invitation's id.
    pub id: InvitationId,
    /// The token for the link; the workspace keeps only its hash.
    pub token: InvitationToken,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn r_in_1_tokens_round_trip_and_hide_in_debug() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let token = InvitationToken::generate(&mut rng);
        let text = token.expose();
        assert_eq!(text.len(), 43);
        assert_eq!(InvitationToken::parse(&text).unwrap(), token);
        assert!(!format!("{token:?}").contains(&text));
        assert_ne!(InvitationToken::generate(&mut rng), token);
    }

    #[test]
    fn r_in_1_malformed_tokens_are_refused() {
        for bad in ["", "short", &"!".repeat(43), &"A".repeat(44)] {
            assert_eq!(InvitationToken::parse(bad), Err(ModelError::MalformedToken));
        }
    }

    proptest::proptest! {
        #[test]
        fn token_parser_never_panics(text in ".{0,64}") {
            let _ = InvitationToken::parse(&text);
        }
    }
}
