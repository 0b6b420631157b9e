//! [`AppleService`]: what an integrator holds beside the model's
//! `Workspace` to serve Apple devices. One call per request.

use mdm_model::{DeviceId, PushTopic, Sha256Digest, Workspace};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::answer::{DeviceRequest, Endpoint, Handled};
use super::identity::VerifiedIdentity;
use super::memory::MemoryStore;
use super::refusal::refusal_of;
use super::store::{AppleStore, EnrollmentRecord};
use crate::command::CommandRequest;
use crate::enrollment_state::PushTarget;
use crate::error::{AppleError, Result};
use crate::message::{AppleDeviceId, DeviceMessage, decode};
use crate::push::{PushOptions, PushRequest, push_request};

/// The Apple check-in and command service (nanomdm's
/// `CheckinAndCommandService` with its certificate checks): it takes a
/// device request — body, identity evidence, `now` — and records what it
/// means through the model:
///
/// * `Authenticate` starts (or restarts) an enrollment and binds the
///   identity's SHA-256 to the device id; the identity must have been
///   declared with [`Self::expect_identity`] (or be the one already bound);
/// * the first `TokenUpdate` connects the model device (*Unassigned
///   devices*), later ones replace the push target;
/// * every new connection (`Idle`) is a sync ([`Workspace::record_sync`]);
/// * an acknowledged `EraseDevice` is a wipe ([`Workspace::wipe_device`], R-WP-1);
/// * `CheckOut` ends the enrollment and retires the model device.
///
/// Every refusal is a typed [`AppleError`], written to the model's audit
/// log as an [`mdm_model::AppleRefusal`], answered 400-class
/// ([`super::status_of`]), never 401.
#[derive(Debug, Clone)]
pub struct AppleService<S = MemoryStore> {
    pub(super) store: S,
    device_cas: Vec<mdm_certs::Certificate>,
}

impl AppleService<MemoryStore> {
    /// A service keeping its state in memory, trusting identities issued by
    /// `device_cas` (the workspace's device CA).
    pub fn in_memory(device_cas: Vec<mdm_certs::Certificate>) -> Self {
        Self::new(MemoryStore::new(), device_cas)
    }
}

impl<S: AppleStore> AppleService<S> {
    /// A service over `store`, trusting identities issued by `device_cas`.
    pub fn new(store: S, device_cas: Vec<mdm_certs::Certificate>) -> Self {
        Self { store, device_cas }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, to change it directly.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The CAs whose identities are accepted.
    pub fn device_cas(&self) -> &[mdm_certs::Certificate] {
        &self.device_cas
    }

    /// Declares that `certificate_der` was issued for the model's `device`
    /// (by the SCEP endpoint of its enrollment, or as a renewal): its next
    /// `Authenticate` binds it. Only its SHA-256 is kept.
    ///
    /// # Errors
    /// A store failure.
    pub fn expect_identity(&mut self, certificate_der: &[u8], device: DeviceId) -> Result<()> {
        self.store
            .expect_identity(Sha256Digest::of(certificate_der), device)
    }

    /// Queues a command for `device`.
    ///
    /// # Errors
    /// [`AppleError::DuplicateCommand`], or a store failure.
    pub fn enqueue(&mut self, device: &AppleDeviceId, request: CommandRequest) -> Result<()> {
        self.store.enqueue(device, request)
    }

    /// Where to push `device`: its topic and target, while it is enrolled.
    ///
    /// # Errors
    /// A store failure.
    pub fn push_target(&self, device: &AppleDeviceId) -> Result<Option<(PushTopic, PushTarget)>> {
        Ok(self.store.enrollment(device)?.and_then(|r| {
            let topic = r.enrollment.topic().clone();
            r.enrollment.push_target().cloned().map(|t| (topic, t))
        }))
    }

    /// The APNs request that wakes `device`, while it is enrolled.
    ///
    /// # Errors
    /// A store failure.
    pub fn push_request(
        &self,
        device: &AppleDeviceId,
        options: &PushOptions,
    ) -> Result<Option<PushRequest>> {
        Ok(self
            .push_target(device)?
            .map(|(topic, t)| push_request(&topic, &t.token, &t.push_magic, options)))
    }

    /// Handles one device request at `now`: checks its identity against the
    /// device CAs, decodes the body, applies it and answers.
    ///
    /// # Errors
    /// Every refusal (see the type's documentation), audited in
    /// `workspace` before it is returned.
    pub fn handle(
        &mut self,
        workspace: &mut Workspace,
        request: &DeviceRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Handled> {
        let mut device = None;
        let result = self.handle_inner(workspace, request, now, &mut device);
        if let Err(e) = &result
            && let Some(reason) = refusal_of(e)
        {
            workspace.record_apple_refusal(device, reason, now);
        }
        result
    }

    fn handle_inner(
        &mut self,
        ws: &mut Workspace,
        request: &DeviceRequest<'_>,
        now: OffsetDateTime,
        device: &mut Option<DeviceId>,
    ) -> Result<Handled> {
        let identity = request
            .identity
            .verify(request.body, &self.device_cas, now)?;
        let message = decode(request.body)?;
        let is_report = matches!(message, DeviceMessage::Report(_));
        if is_report != (request.endpoint == Endpoint::Command) {
            return Err(AppleError::WrongEndpoint {
                message: message.kind().to_owned(),
                endpoint: request.endpoint.name(),
            });
        }
        if let DeviceMessage::OtherCheckin { message_type, .. } = &message {
            return Err(AppleError::UnknownMessageType {
                message_type: message_type.clone(),
            });
        }
        if let DeviceMessage::Authenticate(auth) = &message {
            return self.authenticate(ws, auth, &identity, device);
        }
        let id = message.device().ok_or(AppleError::UnknownMessage)?;
        let record = self.bound_record(id, &identity, message.kind(), device)?;
        match &message {
            DeviceMessage::Report(report) => self.report(ws, id, record, report, now),
            _ => self.checkin(ws, id, record, &message, now),
        }
    }

    /// The enrollment of `id`, if the request's identity is the one bound
    /// to it (compared in constant time).
    fn bound_record(
        &self,
        id: &AppleDeviceId,
        identity: &VerifiedIdentity,
        kind: &str,
        device: &mut Option<DeviceId>,
    ) -> Result<EnrollmentRecord> {
        let record = self
            .store
            .enrollment(id)?
            .ok_or_else(|| AppleError::NotEnrolled {
                message: kind.to_owned(),
                device: id.to_string(),
            })?;
        *device = Some(record.device);
        let same: bool = record.identity.as_bytes()[..]
            .ct_eq(&identity.fingerprint.as_bytes()[..])
            .into();
        if !same {
            return Err(AppleError::IdentityMismatch {
                device: id.to_string(),
            });
        }
        Ok(record)
    }

    /// The workspace's APNs topic, which every check-in's `Topic` must be.
    pub(crate) fn check_topic(ws: &Workspace, topic: &PushTopic) -> Result<()> {
        match ws
            .apns_certificate()
            .map(mdm_model::ApnsCertificateRecord::topic)
        {
            Some(expected) if expected == topic => Ok(()),
            expected => Err(AppleError::TopicMismatch {
                expected: expected.map_or_else(
                    || "none (the workspace has no APNs certificate)".to_owned(),
                    ToString::to_string,
                ),
                received: topic.to_string(),
            }),
        }
    }
}

pub(crate) fn model(operation: &'static str) -> impl FnOnce(mdm_model::ModelError) -> AppleError {
    move |source| AppleError::Model { operation, source }
}
