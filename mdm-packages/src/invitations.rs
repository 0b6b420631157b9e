//! Sending instructions (R-IN-1, R-IN-2): for the users an administrator
//! selected, one invitation each through `mdm-model`, its link, its QR
//! code and the localised message.

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

/// Issues one invitation per selected user through the model and composes
/// each user's message (R-IN-1, R-IN-2). Users without an e-mail address
/// are listed in [`InstructionBatch::without_email`], not skipped silently.
///
/// Invitations are issued in order through the model; the messages (each
/// with its QR code, the costly part) are then composed on all cores. The
/// result does not depend on the number of cores. A parsed [`LinkBase`] is
/// known to fit a QR code, so no invitation is issued for a message that
/// could not be composed.
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

    let outcomes = workspace
        .send_instructions(users, now, rng)
        .map_err(|source| PackagesError::Model {
            action: "issuing invitations",
            source,
        })?;
    let company = workspace.company().to_owned();
    let mut batch = InstructionBatch::default();
    let mut issued = Vec::with_capacity(outcomes.len());
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
                let link = settings.link_base.link(invitation.token);
                issued.push((user, email, invitation.id, link, account, expires_at));
            }
            InstructionOutcome::NoEmail { user } => {
                let account = workspace
                    .user(user)
                    .map(|u| u.account().to_owned())
                    .unwrap_or_default();
                batch.without_email.push((user, account));
            }
        }
    }
    batch.messages = issued
        .into_par_iter()
        .map(|(user, email, invitation, link, account, expires_at)| {
            let message = compose_instructions(
                settings.language,
                &MessageDetails {
                    service_name: settings.service_name,
                    agent_name: settings.agent_name,
                    company: &company,
                    account: &account,
                    link: &link,
                    expires_at,
                    android: settings.android,
                },
            )?;
            Ok(OutgoingInstruction {
                user,
                email,
                invitation,
                link,
                message,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(batch)
}
