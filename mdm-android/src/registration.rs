//! The agent's first contact (issue #19): which device am I?
//!
//! An agent installed from the store or from a standalone package holds the
//! invitation link the user opened (the store's install referrer, the
//! package, or the link pasted into its *Server* field, R-IN-4), but not the
//! id of the device record that opening it created: the model assigns the
//! id when the invitation is consumed, after the package was built. So the
//! agent first presents the link's token (`Authorization: Invitation
//! <token>`) and is told its device id; its first sync then presents the
//! same token and is answered with its credential
//! ([`AndroidEndpoint::handle_sync`](crate::AndroidEndpoint::handle_sync)).
//!
//! Registration is a read: it changes nothing and may be repeated. It
//! grants nothing either: a device id is no secret, and whether the token
//! still earns a credential is for the first sync to decide, by the
//! model's rules ([`Workspace::authenticate_agent`]).

use mdm_model::{DeviceId, DeviceState, InvitationState, InvitationToken, Platform, Workspace};
use serde::{Deserialize, Serialize};

use crate::AndroidError;

/// What a registration answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRegistration {
    /// The device the invitation enrolled: the `deviceId` of every sync.
    pub device_id: DeviceId,
    /// Its state now (`enrolling` until the first sync).
    pub device_state: DeviceState,
}

impl AgentRegistration {
    /// The device an invitation token enrolled, for its agent.
    ///
    /// # Errors
    /// [`AndroidError::UnknownInvitation`] when the token enrolled no device
    /// (unknown, still pending, revoked); [`AndroidError::NotAndroid`] when it enrolled an Apple
    /// device; [`AndroidError::DeviceLeftManagement`] when the device was
    /// wiped or retired.
    pub fn find(workspace: &Workspace, token: &InvitationToken) -> Result<Self, AndroidError> {
        let device = Self::enrolled_by(workspace, token).ok_or(AndroidError::UnknownInvitation)?;
        let record = workspace
            .device(device)
            .map_err(|_| AndroidError::UnknownInvitation)?;
        let device_id = || device.to_string();
        if record.platform() != Platform::Android {
            return Err(AndroidError::NotAndroid {
                device_id: device_id(),
            });
        }
        if record.state().is_terminal() {
            return Err(AndroidError::DeviceLeftManagement {
                device_id: device_id(),
                state: record.state(),
            });
        }
        Ok(Self {
            device_id: device,
            device_state: record.state(),
        })
    }

    /// The device an invitation token enrolled, whatever its platform or state.
    pub(crate) fn enrolled_by(workspace: &Workspace, token: &InvitationToken) -> Option<DeviceId> {
        match workspace.invitation_for(token)?.state() {
            InvitationState::Consumed { device } => Some(device),
            InvitationState::Pending | InvitationState::Revoked => None,
        }
    }

    /// The JSON body.
    ///
    /// # Errors
    /// [`AndroidError::Render`] if serialisation fails.
    pub fn to_json(&self) -> Result<Vec<u8>, AndroidError> {
        serde_json::to_vec(self).map_err(|e| AndroidError::Render {
            reason: e.to_string(),
        })
    }

    /// Decodes an answer (the agent's side).
    ///
    /// # Errors
    /// [`AndroidError::Render`] for a body that is not a registration.
    pub fn parse(body: &[u8]) -> Result<Self, AndroidError> {
        serde_json::from_slice(body).map_err(|e| AndroidError::Render {
            reason: format!("registration answer: {e}"),
        })
    }
}
