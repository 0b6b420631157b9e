//! The enrollment state of one Apple device, driven by its check-ins:
//! `Authenticate` → `TokenUpdate` → enrolled; `CheckOut` → removed. A
//! check-in for another topic than the workspace's is refused.

use crate::error::{AppleError, Result};
use crate::ids::ApnsTopic;
use crate::message::{Authenticate, CheckOut, DeviceId, PushMagic, PushToken, TokenUpdate, UnlockToken};

/// Where an enrollment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnrollmentState {
    /// No check-in yet.
    New,
    /// `Authenticate` received; waiting for the first `TokenUpdate`. Do not push.
    Authenticated,
    /// Active: the device can be pushed and commanded.
    Enrolled,
    /// `CheckOut` received: the MDM profile was removed.
    CheckedOut,
}

impl EnrollmentState {
    fn name(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Authenticated => "authenticated",
            Self::Enrolled => "enrolled",
            Self::CheckedOut => "checked out",
        }
    }
}

/// What a check-in changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentEvent {
    /// `Authenticate` accepted (first time or re-enrollment).
    Authenticated,
    /// First `TokenUpdate`: the enrollment became active.
    Enrolled,
    /// A later `TokenUpdate` replaced the token, push magic or unlock token.
    TokensUpdated,
    /// A user-channel `TokenUpdate`: the device channel is unchanged.
    UserChannelTokens,
    /// `CheckOut`: the device left.
    CheckedOut,
}

/// How to reach an enrolled device over APNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    /// The device's APNs token.
    pub token: PushToken,
    /// The magic the push body must carry.
    pub push_magic: PushMagic,
}

/// One device's enrollment, as a workspace's server tracks it.
#[derive(Debug, Clone)]
pub struct AppleEnrollment {
    topic: ApnsTopic,
    device: Option<DeviceId>,
    state: EnrollmentState,
    push: Option<PushTarget>,
    unlock_token: Option<UnlockToken>,
    authenticate: Option<Authenticate>,
}

impl AppleEnrollment {
    /// A new enrollment for a workspace whose APNs topic is `workspace_topic`.
    pub fn new(workspace_topic: ApnsTopic) -> Self {
        Self { topic: workspace_topic, device: None, state: EnrollmentState::New, push: None, unlock_token: None, authenticate: None }
    }

    /// The current state.
    pub fn state(&self) -> EnrollmentState {
        self.state
    }

    /// The device, once it authenticated.
    pub fn device(&self) -> Option<&DeviceId> {
        self.device.as_ref()
    }

    /// Where to push, only while enrolled.
    pub fn push_target(&self) -> Option<&PushTarget> {
        match self.state {
            EnrollmentState::Enrolled => self.push.as_ref(),
            _ => None,
        }
    }

    /// The escrowed unlock token (for `ClearPasscode`).
    pub fn unlock_token(&self) -> Option<&UnlockToken> {
        self.unlock_token.as_ref()
    }

    /// The last `Authenticate` (device facts: serial number, OS, model).
    pub fn last_authenticate(&self) -> Option<&Authenticate> {
        self.authenticate.as_ref()
    }

    fn check(&self, topic: &ApnsTopic, device: &DeviceId) -> Result<()> {
        if topic != &self.topic {
            return Err(AppleError::TopicMismatch { expected: self.topic.to_string(), received: topic.to_string() });
        }
        if let Some(known) = &self.device
            && known != device
        {
            return Err(AppleError::DeviceMismatch { expected: known.to_string(), received: device.to_string() });
        }
        Ok(())
    }

    /// Applies `Authenticate`. Allowed in every state (a device re-enrolls
    /// by authenticating again); forgets the previous push token.
    ///
    /// # Errors
    /// [`AppleError::TopicMismatch`], [`AppleError::DeviceMismatch`].
    pub fn authenticate(&mut self, msg: &Authenticate) -> Result<EnrollmentEvent> {
        self.check(&msg.topic, &msg.device)?;
        self.device = Some(msg.device.clone());
        self.state = EnrollmentState::Authenticated;
        self.push = None;
        self.authenticate = Some(msg.clone());
        Ok(EnrollmentEvent::Authenticated)
    }

    /// Applies `TokenUpdate`.
    ///
    /// # Errors
    /// [`AppleError::TopicMismatch`], [`AppleError::DeviceMismatch`], or
    /// [`AppleError::CheckinOutOfOrder`] before `Authenticate` or after `CheckOut`.
    pub fn token_update(&mut self, msg: &TokenUpdate) -> Result<EnrollmentEvent> {
        self.check(&msg.topic, &msg.device)?;
        if matches!(self.state, EnrollmentState::New | EnrollmentState::CheckedOut) {
            return Err(AppleError::CheckinOutOfOrder { message: "TokenUpdate", state: self.state.name() });
        }
        if msg.user.is_some() {
            return Ok(EnrollmentEvent::UserChannelTokens);
        }
        self.push = Some(PushTarget { token: msg.token.clone(), push_magic: msg.push_magic.clone() });
        if let Some(u) = &msg.unlock_token {
            self.unlock_token = Some(u.clone());
        }
        let event = match self.state {
            EnrollmentState::Enrolled => EnrollmentEvent::TokensUpdated,
            _ => EnrollmentEvent::Enrolled,
        };
        self.state = EnrollmentState::Enrolled;
        Ok(event)
    }

    /// Applies `CheckOut`.
    ///
    /// # Errors
    /// [`AppleError::TopicMismatch`], [`AppleError::DeviceMismatch`], or
    /// [`AppleError::CheckinOutOfOrder`] before `Authenticate`.
    pub fn check_out(&mut self, msg: &CheckOut) -> Result<EnrollmentEvent> {
        self.check(&msg.topic, &msg.device)?;
        if self.state == EnrollmentState::New {
            return Err(AppleError::CheckinOutOfOrder { message: "CheckOut", state: self.state.name() });
        }
        self.state = EnrollmentState::CheckedOut;
        self.push = None;
        self.unlock_token = None;
        Ok(EnrollmentEvent::CheckedOut)
    }
}
