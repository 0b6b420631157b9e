//! Enrollment invitations: one invitation, one device (R-IN-1).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{DeviceId, InvitationId, InvitationToken, TokenHash, UserId};

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
    use crate::ModelError;
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
            assert_eq!(
                InvitationToken::parse(bad),
                Err(ModelError::MalformedToken {
                    what: "invitation token"
                })
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn token_parser_never_panics(text in ".{0,64}") {
            let _ = InvitationToken::parse(&text);
        }
    }
}
