//! Sending instructions (R-IN-1, R-IN-2): for the users an administrator
//! selected, one invitation each through `mdm-model`, its link, its QR
//! code and the localised message.

use std::sync::Arc;

use mdm_model::{EmailAddress, InstructionOutcome, InvitationId, UserId, Workspace};
use rand_core::CryptoRng;
use time::OffsetDateTime;

use crate::error::{PackagesError, Result};
use crate::link::{InvitationLink, LinkBase};
use crate::message::{
    AndroidDelivery, InstructionMessage, Language, MessageDetails, compose_instructions,
};

/// What every message of a batch shares.
#[derive(Debug, Clone)]
pub struct InstructionSettings<'a> {
    /// Where invitation links point.
    pub link_base: &'a LinkBase,
    /// The management service's name, as the message shows it.
    pub service_name: &'a str,
    /// The agent app's name, as the message shows it.
    pub agent_name: &'a str,
    /// How Android devices get the agent.
    pub android: AndroidDelivery,
    /// The language of the messages.
    pub language: Language,
}

/// One message ready to send: to one user, carrying one invitation.
#[derive(Debug, Clone)]
pub struct OutgoingInstruction {
    /// The user.
    pub user: UserId,
    /// Where the message goes.
    pub email: EmailAddress,
    /// The invitation the model issued.
    pub invitation: InvitationId,
    /// The link carrying its token.
    pub link: InvitationLink,
    /// The composed message, QR code attached.
    pub message: InstructionMessage,
}

/// The result of sending instructions to a selection of users.
#[derive(Debug, Clone, Default)]
pub struct InstructionBatch {
    /// One message per user with an e-mail address, in selection order.
    pub messages: Vec<OutgoingInstruction>,
    /// Users who have no e-mail address: nothing was issued for them, and
    /// the console should say so (R-US-1). Each with their account name.
    pub without_email: Vec<(UserId, String)>,
}

/// An invitation issued to one user, its link made, its message not yet
/// written. [`PendingInstruction::compose`] writes it: the costly part (the
/// QR code), which touches nothing shared, so a caller may run it on any
/// thread, at any time after the issue.
#[derive(Debug, Clone)]
pub struct PendingInstruction {
    user: UserId,
    email: EmailAddress,
    invitation: InvitationId,
    link: InvitationLink,
    account: String,
    expires_at: OffsetDateTime,
    shared: Arc<SharedText>,
}

/// What every message of a batch says alike.
#[derive(Debug)]
struct SharedText {
    service_name: String,
    agent_name: String,
    company: String,
    android: AndroidDelivery,
    language: Language,
}

impl PendingInstruction {
    /// The user the message goes to.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The invitation the model issued.
    pub fn invitation(&self) -> InvitationId {
        self.invitation
    }

    /// The link the message will carry.
    pub fn link(&self) -> &InvitationLink {
        &self.link
    }

    /// Writes the message, QR code attached.
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] if the link does not fit a QR code (a parsed
    /// [`LinkBase`] makes only links that do).
    pub fn compose(self) -> Result<OutgoingInstruction> {
        let shared = &*self.shared;
        let message = compose_instructions(
            shared.language,
            &MessageDetails {
                service_name: &shared.service_name,
                agent_name: &shared.agent_name,
                company: &shared.company,
                account: &self.account,
                link: &self.link,
                expires_at: self.expires_at,
                android: shared.android,
            },
        )?;
        Ok(OutgoingInstruction {
            user: self.user,
            email: self.email,
            invitation: self.invitation,
            link: self.link,
            message,
        })
    }
}

/// Invitations issued for a selection of users, their messages still to write.
#[derive(Debug, Clone, Default)]
pub struct IssuedInstructions {
    /// One per user with an e-mail address, in selection order.
    pub pending: Vec<PendingInstruction>,
    /// Users who have no e-mail address: nothing was issued for them, and
    /// the console should say so (R-US-1). Each with their account name.
    pub without_email: Vec<(UserId, String)>,
}

/// Issues one invitation per selected user through the model and makes its
/// link (R-IN-1); the messages are written by [`PendingInstruction::compose`].
/// [`send_instructions`] does both; this half lets a caller write the
/// messages on other threads while it goes on with the workspace.
///
/// # Errors
/// [`PackagesError::Model`] when the model refuses (an unknown user: then
/// nothing is issued).
pub fn issue_instructions<R: CryptoRng + ?Sized>(
    workspace: &mut Workspace,
    users: &[UserId],
    settings: &InstructionSettings<'_>,
    now: OffsetDateTime,
    rng: &mut R,
) -> Result<IssuedInstructions> {
    let outcomes = workspace
        .send_instructions(users, now, rng)
        .map_err(|source| PackagesError::Model {
            action: "issuing invitations",
            source,
        })?;
    let shared = Arc::new(SharedText {
        service_name: settings.service_name.to_owned(),
        agent_name: settings.agent_name.to_owned(),
        company: workspace.company().to_owned(),
        android: settings.android,
        language: settings.language,
    });
    let mut issued = IssuedInstructions::default();
    for outcome in outcomes {
        match outcome {
            InstructionOutcome::Sent {
                user,
                email,
                invitation,
            } => {
                let record =
                    workspace
                        .invitation(invitation.id)
                        .map_err(|source| PackagesError::Model {
                            action: "reading an issued invitation",
                            source,
                        })?;
                let expires_at = record.expires_at();
                let account = workspace
                    .user(user)
                    .map_err(|source| PackagesError::Model {
                        action: "reading a user",
                        source,
                    })?
                    .account()
                    .to_owned();
                issued.pending.push(PendingInstruction {
                    user,
                    email,
                    invitation: invitation.id,
                    link: settings.link_base.link(invitation.token),
                    account,
                    expires_at,
                    shared: Arc::clone(&shared),
                });
            }
            InstructionOutcome::NoEmail { user } => {
                let account = workspace
                    .user(user)
                    .map(|u| u.account().to_owned())
                    .unwrap_or_default();
                issued.without_email.push((user, account));
            }
        }
    }
    Ok(issued)
}

/// Issues one invitation per selected user through the model and composes
/// each user's message (R-IN-1, R-IN-2). Users without an e-mail address
/// are listed in [`InstructionBatch::without_email`], not skipped silently.
///
/// Invitations are issued in order through the model
/// ([`issue_instructions`]); the messages (each with its QR code, the costly
/// part) are then composed on all cores. The result does not depend on the
/// number of cores. A parsed [`LinkBase`] is known to fit a QR code, so no
/// invitation is issued for a message that could not be composed.
///
/// # Errors
/// [`PackagesError::Model`] when the model refuses (an unknown user: then
/// nothing is issued).
pub fn send_instructions<R: CryptoRng + ?Sized>(
    workspace: &mut Workspace,
    users: &[UserId],
    settings: &InstructionSettings<'_>,
    now: OffsetDateTime,
    rng: &mut R,
) -> Result<InstructionBatch> {
    use rayon::prelude::*;

    let issued = issue_instructions(workspace, users, settings, now, rng)?;
    let messages = issued
        .pending
        .into_par_iter()
        .map(PendingInstruction::compose)
        .collect::<Result<Vec<_>>>()?;
    Ok(InstructionBatch {
        messages,
        without_email: issued.without_email,
    })
}
