//! The enrollment state of one Apple device, driven by its check-ins:
//! `Authenticate` → `TokenUpdate` → enrolled; `CheckOut` → removed. A
//! check-in for another topic than the workspace's is refused.

use crate::error::{AppleError, Result};
use crate::message::{
    AppleDeviceId, Authenticate, CheckOut, DeviceMessage, PushMagic, PushToken, TokenUpdate,
    UnlockToken,
};
use mdm_model::PushTopic;

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
    topic: PushTopic,
    device: Option<AppleDeviceId>,
    state: EnrollmentState,
    push: Option<PushTarget>,
    unlock_token: Option<UnlockToken>,
    authenticate: Option<Authenticate>,
}

impl AppleEnrollment {
    /// A new enrollment for a workspace whose APNs topic is `workspace_topic`.
    pub fn new(workspace_topic: PushTopic) -> Self {
        Self {
            topic: workspace_topic,
            device: None,
            state: EnrollmentState::New,
            push: None,
            unlock_token: None,
            authenticate: None,
        }
    }

    /// An enrollment rebuilt from what a durable [`crate::AppleStore`]
    /// saved of it (each part as its accessor gives it). The push target
    /// is kept only while `state` is [`EnrollmentState::Enrolled`].
    pub fn from_parts(
        topic: PushTopic,
        state: EnrollmentState,
        last_authenticate: Option<Authenticate>,
        push: Option<PushTarget>,
        unlock_token: Option<UnlockToken>,
    ) -> Self {
        Self {
            topic,
            device: last_authenticate.as_ref().map(|a| a.device.clone()),
            push: push.filter(|_| state == EnrollmentState::Enrolled),
            state,
            unlock_token,
            authenticate: last_authenticate,
        }
    }

    /// The workspace topic this enrollment follows (the push topic).
    pub fn topic(&self) -> &PushTopic {
        &self.topic
    }

    /// The current state.
    pub fn state(&self) -> EnrollmentState {
        self.state
    }

    /// The device, once it authenticated.
    pub fn device(&self) -> Option<&AppleDeviceId> {
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

    fn check(&self, topic: &PushTopic, device: &AppleDeviceId) -> Result<()> {
        if topic != &self.topic {
            return Err(AppleError::TopicMismatch {
                expected: self.topic.to_string(),
                received: topic.to_string(),
            });
        }
        if let Some(known) = &self.device
            && known != device
        {
            return Err(AppleError::DeviceMismatch {
                expected: known.to_string(),
                received: device.to_string(),
            });
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
        if matches!(
            self.state,
            EnrollmentState::New | EnrollmentState::CheckedOut
        ) {
            return Err(AppleError::CheckinOutOfOrder {
                message: "TokenUpdate",
                state: self.state.name(),
            });
        }
        if msg.user.is_some() {
            return Ok(EnrollmentEvent::UserChannelTokens);
        }
        self.push = Some(PushTarget {
            token: msg.token.clone(),
            push_magic: msg.push_magic.clone(),
        });
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

    /// Applies whichever check-in `msg` is; command reports and check-ins
    /// this crate does not model change nothing (`Ok(None)`).
    ///
    /// # Errors
    /// As [`Self::authenticate`], [`Self::token_update`], [`Self::check_out`].
    pub fn apply(&mut self, msg: &DeviceMessage) -> Result<Option<EnrollmentEvent>> {
        match msg {
            DeviceMessage::Authenticate(m) => self.authenticate(m).map(Some),
            DeviceMessage::TokenUpdate(m) => self.token_update(m).map(Some),
            DeviceMessage::CheckOut(m) => self.check_out(m).map(Some),
            _ => Ok(None),
        }
    }

    /// Ends the enrollment without a `CheckOut` (the device erased itself):
    /// as after `CheckOut`, no push target and no unlock token remain.
    pub fn end(&mut self) {
        self.state = EnrollmentState::CheckedOut;
        self.push = None;
        self.unlock_token = None;
    }

    /// Applies `CheckOut`.
    ///
    /// # Errors
    /// [`AppleError::TopicMismatch`], [`AppleError::DeviceMismatch`], or
    /// [`AppleError::CheckinOutOfOrder`] before `Authenticate`.
    pub fn check_out(&mut self, msg: &CheckOut) -> Result<EnrollmentEvent> {
        self.check(&msg.topic, &msg.device)?;
        if self.state == EnrollmentState::New {
            return Err(AppleError::CheckinOutOfOrder {
                message: "CheckOut",
                state: self.state.name(),
            });
        }
        self.state = EnrollmentState::CheckedOut;
        self.push = None;
        self.unlock_token = None;
        Ok(EnrollmentEvent::CheckedOut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> PushTopic {
        PushTopic::parse("com.apple.mgmt.External.1").unwrap()
    }

    fn dev() -> AppleDeviceId {
        AppleDeviceId::Udid("U1".into())
    }

    fn token_update() -> TokenUpdate {
        TokenUpdate::new(
            topic(),
            dev(),
            PushToken::new(vec![1; 32]).unwrap(),
            PushMagic::new("m").unwrap(),
        )
    }

    #[test]
    fn authenticate_token_update_checkout() {
        let mut e = AppleEnrollment::new(topic());
        assert!(matches!(
            e.token_update(&token_update()),
            Err(AppleError::CheckinOutOfOrder { .. })
        ));
        assert!(matches!(
            e.check_out(&CheckOut {
                topic: topic(),
                device: dev()
            }),
            Err(AppleError::CheckinOutOfOrder { .. })
        ));
        assert_eq!(
            e.authenticate(&Authenticate::new(topic(), dev())).unwrap(),
            EnrollmentEvent::Authenticated
        );
        assert_eq!(e.state(), EnrollmentState::Authenticated);
        assert!(
            e.push_target().is_none(),
            "no push before the first TokenUpdate"
        );
        assert_eq!(
            e.token_update(&token_update()).unwrap(),
            EnrollmentEvent::Enrolled
        );
        assert_eq!(
            e.token_update(&token_update()).unwrap(),
            EnrollmentEvent::TokensUpdated
        );
        assert!(e.push_target().is_some());
        let mut user = token_update();
        user.user = Some(crate::message::UserChannel {
            user_id: Some("u".into()),
            ..Default::default()
        });
        assert_eq!(
            e.token_update(&user).unwrap(),
            EnrollmentEvent::UserChannelTokens
        );
        assert_eq!(
            e.check_out(&CheckOut {
                topic: topic(),
                device: dev()
            })
            .unwrap(),
            EnrollmentEvent::CheckedOut
        );
        assert_eq!(e.state(), EnrollmentState::CheckedOut);
        assert!(e.push_target().is_none());
        assert!(matches!(
            e.token_update(&token_update()),
            Err(AppleError::CheckinOutOfOrder { .. })
        ));
        // Re-enrollment.
        e.authenticate(&Authenticate::new(topic(), dev())).unwrap();
        e.token_update(&token_update()).unwrap();
        assert_eq!(e.state(), EnrollmentState::Enrolled);
    }

    #[test]
    fn an_enrollment_rebuilt_from_its_parts_behaves_as_the_original() {
        let mut e = AppleEnrollment::new(topic());
        e.authenticate(&Authenticate::new(topic(), dev())).unwrap();
        e.token_update(&token_update()).unwrap();
        let mut back = AppleEnrollment::from_parts(
            e.topic().clone(),
            e.state(),
            e.last_authenticate().cloned(),
            e.push_target().cloned(),
            e.unlock_token().cloned(),
        );
        assert_eq!(back.state(), EnrollmentState::Enrolled);
        assert_eq!(back.device(), Some(&dev()));
        assert_eq!(back.push_target(), e.push_target());
        assert_eq!(
            back.token_update(&token_update()).unwrap(),
            EnrollmentEvent::TokensUpdated
        );
        let stranger = Authenticate::new(topic(), AppleDeviceId::Udid("U2".into()));
        assert!(back.authenticate(&stranger).is_err());
    }

    #[test]
    fn foreign_topic_and_device_are_refused() {
        let mut e = AppleEnrollment::new(topic());
        let other = PushTopic::parse("com.apple.mgmt.External.2").unwrap();
        assert!(matches!(
            e.authenticate(&Authenticate::new(other, dev())),
            Err(AppleError::TopicMismatch { .. })
        ));
        assert_eq!(e.state(), EnrollmentState::New);
        e.authenticate(&Authenticate::new(topic(), dev())).unwrap();
        let stranger = Authenticate::new(topic(), AppleDeviceId::Udid("U2".into()));
        assert!(matches!(
            e.authenticate(&stranger),
            Err(AppleError::DeviceMismatch { .. })
        ));
    }
}
