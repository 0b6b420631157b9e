//! The check-in endpoint: `Authenticate`, `TokenUpdate`, `CheckOut`,
//! `UserAuthenticate`, the bootstrap token, `GetToken` and
//! `DeclarativeManagement`.

use mdm_model::{DeviceId, DeviceState, Workspace};
use time::OffsetDateTime;

use super::answer::{Handled, ServiceEvent};
use super::apple_service::{AppleService, model};
use super::identity::VerifiedIdentity;
use super::store::{AppleStore, EnrollmentRecord};
use crate::enrollment_state::{AppleEnrollment, EnrollmentEvent};
use crate::error::{AppleError, Result};
use crate::fields::DictWriter;
use crate::message::{AppleDeviceId, Authenticate, DeviceMessage, Received};
use crate::value::dictionary_to_xml;

impl<S: AppleStore> AppleService<S> {
    /// `Authenticate`: the identity must be the one already bound to this
    /// device id (a restart) or one declared for a model device with
    /// [`AppleService::expect_identity`] (a new enrollment, or a renewed
    /// identity re-binding). Its push target is forgotten until the next
    /// `TokenUpdate`.
    pub(super) fn authenticate(
        &mut self,
        ws: &mut Workspace,
        auth: &Received<Authenticate>,
        identity: &VerifiedIdentity,
        device: &mut Option<DeviceId>,
    ) -> Result<Handled> {
        Self::check_topic(ws, &auth.topic)?;
        let id = &auth.device;
        let existing = self.store.enrollment(id)?;
        let model_device = match self.store.take_expected_identity(&identity.fingerprint)? {
            Some(expected) => expected,
            None => match &existing {
                Some(r) if r.identity == identity.fingerprint => r.device,
                _ => {
                    *device = existing.as_ref().map(|r| r.device);
                    return Err(AppleError::UnknownIdentity {
                        device: id.to_string(),
                    });
                }
            },
        };
        *device = Some(model_device);
        let state = ws
            .device(model_device)
            .map_err(model("Authenticate"))?
            .state();
        if state.is_terminal() {
            return Err(AppleError::NotEnrolled {
                message: "Authenticate".into(),
                device: id.to_string(),
            });
        }
        // A device id still bound to another live model device is not taken
        // over by an identity issued for this one.
        if let Some(r) = &existing
            && r.device != model_device
            && ws.device(r.device).is_ok_and(|d| !d.state().is_terminal())
        {
            return Err(AppleError::IdentityMismatch {
                device: id.to_string(),
            });
        }
        // The same model device keeps its escrowed tokens; another one
        // (a device enrolled again after a wipe) starts afresh.
        let (mut enrollment, bootstrap_token) = match existing {
            Some(r) if r.device == model_device => (r.enrollment, r.bootstrap_token),
            _ => (AppleEnrollment::new(auth.topic.clone()), None),
        };
        if enrollment.topic() != &auth.topic {
            enrollment = AppleEnrollment::new(auth.topic.clone());
        }
        enrollment.authenticate(auth)?;
        self.store.save_enrollment(
            id,
            EnrollmentRecord {
                device: model_device,
                identity: identity.fingerprint,
                identity_window: Some(identity.window),
                enrollment,
                bootstrap_token,
            },
        )?;
        Ok(Handled::ok(model_device, vec![ServiceEvent::Authenticated]))
    }

    /// Every check-in but `Authenticate`, from a device whose bound
    /// identity signed it.
    pub(super) fn checkin(
        &mut self,
        ws: &mut Workspace,
        id: &AppleDeviceId,
        mut record: EnrollmentRecord,
        message: &DeviceMessage,
        now: OffsetDateTime,
    ) -> Result<Handled> {
        let device = record.device;
        let mut handled = Handled::ok(device, Vec::new());
        match message {
            DeviceMessage::TokenUpdate(update) => {
                Self::check_topic(ws, &update.topic)?;
                let event = record.enrollment.token_update(update)?;
                handled.events.push(match event {
                    EnrollmentEvent::UserChannelTokens => ServiceEvent::UserChannelTokens,
                    _ => {
                        let connected = ws
                            .apple_device_connected(device, now)
                            .map_err(model("TokenUpdate"))?;
                        if connected {
                            ServiceEvent::Connected
                        } else {
                            ServiceEvent::TokensUpdated
                        }
                    }
                });
            }
            DeviceMessage::CheckOut(check_out) => {
                Self::check_topic(ws, &check_out.topic)?;
                record.enrollment.check_out(check_out)?;
                let state = ws.device(device).map_err(model("CheckOut"))?.state();
                if !state.is_terminal() {
                    ws.retire_device(device, now).map_err(model("CheckOut"))?;
                }
                handled.events.push(ServiceEvent::CheckedOut);
            }
            DeviceMessage::UserAuthenticate(_) => {
                // The user channel is not managed: 410 tells macOS not to ask
                // again for this login session (nanomdm's default).
                handled.status = 410;
                return Ok(handled);
            }
            DeviceMessage::SetBootstrapToken(set) => {
                if let Some(topic) = &set.topic {
                    Self::check_topic(ws, topic)?;
                }
                self.require_active(ws, &record, id, "SetBootstrapToken")?;
                record.bootstrap_token.clone_from(&set.token);
                handled
                    .events
                    .push(ServiceEvent::BootstrapToken(set.token.is_some()));
            }
            DeviceMessage::GetBootstrapToken(get) => {
                if let Some(topic) = &get.topic {
                    Self::check_topic(ws, topic)?;
                }
                self.require_active(ws, &record, id, "GetBootstrapToken")?;
                let mut w = DictWriter::new();
                if let Some(token) = &record.bootstrap_token {
                    w.data("BootstrapToken", token.as_bytes());
                }
                handled.body = dictionary_to_xml(&w.finish())?;
                return Ok(handled);
            }
            DeviceMessage::GetToken(get) => {
                return Err(AppleError::UnsupportedCheckin {
                    message_type: "GetToken",
                    reason: format!(
                        "no token service is configured for TokenServiceType {:?}",
                        get.token_service_type
                    ),
                });
            }
            DeviceMessage::DeclarativeManagement(_) => {
                return Err(AppleError::UnsupportedCheckin {
                    message_type: "DeclarativeManagement",
                    reason: "declarative device management is not implemented yet; \
                             manage this device with MDM commands"
                        .into(),
                });
            }
            other => {
                return Err(AppleError::UnknownMessageType {
                    message_type: other.kind().to_owned(),
                });
            }
        }
        self.store.save_enrollment(id, record)?;
        Ok(handled)
    }

    /// Refuses a request from a device that is not enrolled now (before its
    /// first `TokenUpdate`, after `CheckOut`, or left management).
    pub(super) fn require_active(
        &self,
        ws: &Workspace,
        record: &EnrollmentRecord,
        id: &AppleDeviceId,
        kind: &str,
    ) -> Result<()> {
        let live = ws.device(record.device).is_ok_and(|d| {
            matches!(
                d.state(),
                DeviceState::Connected | DeviceState::Managed | DeviceState::ConnectionLost
            )
        });
        if live && record.enrollment.push_target().is_some() {
            Ok(())
        } else {
            Err(AppleError::NotEnrolled {
                message: kind.to_owned(),
                device: id.to_string(),
            })
        }
    }
}
