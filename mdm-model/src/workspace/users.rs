//! Users, invitations and instructions (R-US-1, R-US-2, R-IN-1).

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Kind, Workspace};
use crate::user::check_name;
use crate::{
    AuditEvent, DeviceId, DeviceState, EmailAddress, Invitation, InvitationId, InvitationState,
    InvitationToken, IssuedInvitation, ModelError, Platform, User, UserId,
};

/// What became of sending instructions to one user (R-IN-1, R-US-1).
#[derive(Debug)]
pub enum InstructionOutcome {
    /// An invitation was issued; the message goes to this address.
    Sent {
        /// The user.
        user: UserId,
        /// Where the message goes.
        email: EmailAddress,
        /// The invitation, with its token for the link.
        invitation: IssuedInvitation,
    },
    /// The user has no e-mail address; nothing was issued (R-US-1).
    NoEmail {
        /// The user.
        user: UserId,
    },
}

/// One row of the user list: the user's devices and each one's state (R-US-2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The user.
    pub user: UserId,
    /// The account name.
    pub account: String,
    /// How many devices the user has connected (not counting wiped or retired ones).
    pub connected_devices: usize,
    /// Each device the user enrolled, with its platform and state.
    pub devices: Vec<(DeviceId, Platform, DeviceState)>,
}

impl Workspace {
    /// Adds a user with an account name and optionally an e-mail address (R-US-1).
    ///
    /// # Errors
    /// [`ModelError::InvalidName`] for an empty name, [`ModelError::DuplicateAccount`]
    /// when the account name is taken.
    pub fn add_user(
        &mut self,
        account: &str,
        email: Option<EmailAddress>,
        now: OffsetDateTime,
    ) -> Result<UserId, ModelError> {
        check_name("account name", account)?;
        if self.index.accounts.contains_key(account) {
            return Err(ModelError::DuplicateAccount(account.to_owned()));
        }
        let id = UserId::from_index(Self::next_id(self.data.users.len(), "users")?);
        self.data.users.push(User {
            id,
            account: account.into(),
            email,
            devices: Vec::new(),
        });
        self.index.accounts.insert(account.into(), id);
        self.log(now, AuditEvent::UserAdded { user: id });
        Ok(id)
    }

    /// Sets or clears a user's e-mail address.
    ///
    /// # Errors
    /// [`ModelError::UnknownUser`].
    pub fn set_user_email(
        &mut self,
        user: UserId,
        email: Option<EmailAddress>,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.user(user)?;
        self.mark(Kind::User, user.index());
        let u = self
            .data
            .users
            .get_mut(user.index())
            .ok_or(ModelError::UnknownUser(user))?;
        u.email = email;
        self.log(now, AuditEvent::UserEmailChanged { user });
        Ok(())
    }

    /// The user with this account name.
    #[must_use]
    pub fn user_by_account(&self, account: &str) -> Option<&User> {
        let id = self.index.accounts.get(account)?;
        self.data.users.get(id.index())
    }

    /// Issues one invitation to a user who has an e-mail address; it enrolls
    /// exactly one device and expires after the workspace's invitation validity
    /// (R-IN-1). The token is drawn from `rng`; only its hash is kept.
    ///
    /// # Errors
    /// [`ModelError::UnknownUser`], [`ModelError::UserHasNoEmail`] (R-US-1).
    pub fn issue_invitation<R: CryptoRng + ?Sized>(
        &mut self,
        user: UserId,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<IssuedInvitation, ModelError> {
        if self.user(user)?.email.is_none() {
            return Err(ModelError::UserHasNoEmail(user));
        }
        let id =
            InvitationId::from_index(Self::next_id(self.data.invitations.len(), "invitations")?);
        let expires_at = now
            .checked_add(self.data.settings.invitation_validity)
            .ok_or(ModelError::TimeOutOfRange {
                what: "invitation expiry",
                now,
            })?;
        let token = InvitationToken::generate(rng);
        let token_hash = token.hash();
        self.data.invitations.push(Invitation {
            id,
            user,
            token_hash,
            issued_at: now,
            expires_at,
            state: InvitationState::Pending,
        });
        self.index.tokens.insert(token_hash, id);
        self.log(
            now,
            AuditEvent::InvitationIssued {
                invitation: id,
                user,
            },
        );
        Ok(IssuedInvitation { id, token })
    }

    /// Sends instructions to the selected users: one invitation each for those
    /// with an e-mail address, and a `NoEmail` outcome for the others, so
    /// nobody is skipped silently (R-IN-1, R-US-1).
    ///
    /// # Errors
    /// [`ModelError::UnknownUser`] when a selected user does not exist; nothing
    /// is issued then.
    pub fn send_instructions<R: CryptoRng + ?Sized>(
        &mut self,
        users: &[UserId],
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Vec<InstructionOutcome>, ModelError> {
        for &user in users {
            self.user(user)?;
        }
        let mut outcomes = Vec::with_capacity(users.len());
        for &user in users {
            let email = self.user(user)?.email.clone();
            outcomes.push(match email {
                Some(email) => InstructionOutcome::Sent {
                    user,
                    email,
                    invitation: self.issue_invitation(user, now, rng)?,
                },
                None => InstructionOutcome::NoEmail { user },
            });
        }
        Ok(outcomes)
    }

    /// Withdraws a pending invitation.
    ///
    /// # Errors
    /// [`ModelError::UnknownInvitation`], [`ModelError::InvitationNotPending`].
    pub fn revoke_invitation(
        &mut self,
        invitation: InvitationId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        let inv = self
            .data
            .invitations
            .get_mut(invitation.index())
            .ok_or(ModelError::UnknownInvitation(invitation))?;
        if inv.state != InvitationState::Pending || inv.is_expired(now) {
            return Err(ModelError::InvitationNotPending {
                invitation,
                state: inv.state_name(now),
            });
        }
        inv.state = InvitationState::Revoked;
        self.mark(Kind::Invitation, invitation.index());
        self.log(now, AuditEvent::InvitationRevoked { invitation });
        Ok(())
    }

    /// The user-list row of R-US-2: devices connected and each device's state.
    ///
    /// # Errors
    /// [`ModelError::UnknownUser`].
    pub fn user_summary(&self, user: UserId) -> Result<UserSummary, ModelError> {
        let u = self.user(user)?;
        let devices: Vec<_> = u
            .devices
            .iter()
            .filter_map(|&d| self.data.devices.get(d.index()))
            .map(|d| (d.id, d.platform, d.state))
            .collect();
        Ok(UserSummary {
            user,
            account: u.account.to_string(),
            connected_devices: devices.iter().filter(|(_, _, s)| !s.is_terminal()).count(),
            devices,
        })
    }
}
