//! [`AppleService`]: what an integrator holds beside the model's
//! `Workspace` to serve Apple devices. One call per request.

use mdm_model::{DeviceId, PushTopic, Sha256Digest, Workspace};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::answer::{DeviceRequest, Endpoint, Handled};
use super::checked::CheckedRequest;
#[cfg(test)]
use super::identity::CheckedWindow;
use super::identity::{PresentedIdentity, VerifiedIdentity};
use super::memory::MemoryStore;
use super::refusal::refusal_of;
use super::store::{AppleStore, EnrollmentRecord};
use crate::command::CommandRequest;
use crate::enrollment_state::PushTarget;
use crate::error::{AppleError, Result};
use crate::message::{AppleDeviceId, DeviceMessage};
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
/// A certificate presented by the transport
/// ([`PresentedIdentity::Certificate`]) that is the one already bound to
/// the request's device id, within the window recorded at binding
/// ([`super::CheckedWindow`]), is not chain-checked again: it was checked
/// at `Authenticate` (nanomdm's `certauth` association check). A large
/// fleet behind TLS then pays the chain check once per binding, not once
/// per contact. Any other certificate, a signature, and `Authenticate`
/// itself always get the full check.
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
        let checked = CheckedRequest::check(*request, &self.device_cas, now);
        self.handle_checked(workspace, checked, now)
    }

    /// Handles a request whose stateless part was done already
    /// ([`CheckedRequest::check`], perhaps outside the lock this service is
    /// kept behind), at `now`: exactly what [`Self::handle`] does, using
    /// the signature check when it was made against this service's CAs at
    /// this `now` (and checking again when not).
    ///
    /// # Errors
    /// As [`Self::handle`].
    pub fn handle_checked(
        &mut self,
        workspace: &mut Workspace,
        checked: CheckedRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Handled> {
        let mut device = None;
        let result = self.handle_inner(workspace, checked, now, &mut device);
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
        checked: CheckedRequest<'_>,
        now: OffsetDateTime,
        device: &mut Option<DeviceId>,
    ) -> Result<Handled> {
        let CheckedRequest {
            request,
            decoded,
            signature,
        } = checked;
        let identity = match self.already_checked(&request, decoded.as_ref().ok(), now)? {
            Some(identity) => identity,
            None => match signature {
                Some(check) if check.holds_for(&self.device_cas, now) => check.verified?,
                _ => request
                    .identity
                    .verify(request.body, &self.device_cas, now)?,
            },
        };
        let message = decoded?;
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

    /// The fast path for a transport-vouched certificate (TLS peer or a
    /// trusted proxy's `Client-Cert`): when its SHA-256 is the fingerprint
    /// already bound to the request's device id and `now` lies within the
    /// window recorded when it was bound, its chain was checked at
    /// `Authenticate` and is not checked again (nanomdm's `certauth` makes
    /// the same association check). `Authenticate` itself, a signature, a
    /// certificate that is not the bound one, or a time outside the window
    /// all take the full check.
    fn already_checked(
        &self,
        request: &DeviceRequest<'_>,
        message: Option<&DeviceMessage>,
        now: OffsetDateTime,
    ) -> Result<Option<VerifiedIdentity>> {
        let PresentedIdentity::Certificate(der) = request.identity else {
            return Ok(None);
        };
        let Some(id) = message
            .filter(|m| !matches!(m, DeviceMessage::Authenticate(_)))
            .and_then(DeviceMessage::device)
        else {
            return Ok(None);
        };
        let Some(record) = self.store.enrollment(id)? else {
            return Ok(None);
        };
        let fingerprint = Sha256Digest::of(der);
        let same: bool = record.identity.as_bytes()[..]
            .ct_eq(&fingerprint.as_bytes()[..])
            .into();
        Ok(match record.identity_window {
            Some(window) if same && window.contains(now) => Some(VerifiedIdentity {
                fingerprint,
                window,
            }),
            _ => None,
        })
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

#[cfg(test)]
mod tests {
    use mdm_certs::{
        CertificateAuthority, CertifiedKey, ClientIdentity, KeyAlgorithm, SubjectName, Validity,
    };
    use mdm_model::{ApnsCertificateRecord, EnrollmentRequest, InstallSource, OsVersion, Platform};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng as _;
    use time::{Duration, macros::datetime};

    use super::*;
    use crate::message::{Authenticate, CommandReport, TokenUpdate};
    use crate::{PushMagic, PushToken, ServiceEvent};

    const NOW: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);
    const UDID: &str = "00008110-001C000000000001";

    struct Fixture {
        ws: Workspace,
        service: AppleService,
        ca: mdm_certs::Certificate,
        x: CertifiedKey,
        y: CertifiedKey,
        device: DeviceId,
        topic: PushTopic,
    }

    fn fixture() -> Fixture {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let ca = CertificateAuthority::create(
            &SubjectName::common_name("Device CA").unwrap(),
            Validity::days(NOW - Duration::days(30), 3650).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
        let leaf = Validity::days(NOW - Duration::days(1), 365).unwrap();
        let issue = |name: &str, rng: &mut ChaCha20Rng| {
            ca.issue_client_certificate_with_key(
                &ClientIdentity::new(name, Some(name)).unwrap(),
                leaf,
                KeyAlgorithm::EcdsaP256,
                rng,
            )
            .unwrap()
        };
        let x = issue("device-x", &mut rng);
        let y = issue("device-y", &mut rng);
        let topic = PushTopic::parse("com.apple.mgmt.External.fast-path").unwrap();
        let mut ws = Workspace::new("acme", "ACME", Some("jp"), NOW - Duration::days(10)).unwrap();
        ws.set_apns_certificate(
            ApnsCertificateRecord::new(
                topic.clone(),
                "Apple Application Integration 2 Certification Authority",
                NOW - Duration::days(10),
                NOW + Duration::days(355),
                Sha256Digest::from_bytes([7; 32]),
            )
            .unwrap(),
            NOW - Duration::days(10),
        );
        let user = ws
            .add_user(
                "alice",
                Some(mdm_model::EmailAddress::parse("alice@acme.example").unwrap()),
                NOW,
            )
            .unwrap();
        let inv = ws.issue_invitation(user, NOW, &mut rng).unwrap();
        let device = ws
            .enroll(
                &inv.token,
                EnrollmentRequest {
                    platform: Platform::IOs,
                    os_version: OsVersion::new(17, 4, 0),
                    model: "iPhone".into(),
                    identification_number: None,
                    install_source: InstallSource::EnrollmentProfile,
                },
                NOW,
            )
            .unwrap();
        let mut service = AppleService::in_memory(vec![ca.certificate().clone()]);
        service
            .expect_identity(x.certificate.der(), device)
            .unwrap();
        Fixture {
            ws,
            service,
            ca: ca.certificate().clone(),
            x,
            y,
            device,
            topic,
        }
    }

    fn id() -> AppleDeviceId {
        AppleDeviceId::Udid(UDID.into())
    }

    impl Fixture {
        fn send(
            &mut self,
            endpoint: Endpoint,
            body: &[u8],
            cert: &[u8],
            now: OffsetDateTime,
        ) -> Result<Handled> {
            self.service.handle(
                &mut self.ws,
                &DeviceRequest {
                    endpoint,
                    body,
                    identity: PresentedIdentity::Certificate(cert),
                },
                now,
            )
        }

        fn authenticate(&mut self, cert: &[u8]) -> Result<Handled> {
            let body = Authenticate::new(self.topic.clone(), id())
                .to_xml()
                .unwrap();
            self.send(Endpoint::CheckIn, &body, cert, NOW)
        }

        fn enroll(&mut self, cert: &[u8]) {
            self.authenticate(cert).unwrap();
            let update = TokenUpdate::new(
                self.topic.clone(),
                id(),
                PushToken::new(vec![1; 32]).unwrap(),
                PushMagic::new("CEFDF0BD-E342-4A27-8742-E930EA116B0A").unwrap(),
            )
            .to_xml()
            .unwrap();
            let connected = self.send(Endpoint::CheckIn, &update, cert, NOW).unwrap();
            assert_eq!(connected.events, vec![ServiceEvent::Connected]);
        }

        fn idle(&mut self, cert: &[u8], now: OffsetDateTime) -> Result<Handled> {
            let body = CommandReport::idle(id()).to_xml().unwrap();
            self.send(Endpoint::Command, &body, cert, now)
        }
    }

    #[test]
    fn the_bound_certificate_within_its_window_is_not_chain_checked_again() {
        let mut f = fixture();
        let x = f.x.certificate.der().to_vec();
        f.enroll(&x);
        let record = f.service.store().enrollment(&id()).unwrap().unwrap();
        let window = record.identity_window.unwrap();
        assert_eq!(window.not_after, f.x.certificate.info().not_after);
        assert_eq!(window.not_before, f.x.certificate.info().not_before);

        // With the device CAs gone, the full check refuses everything: what
        // still passes took the fast path.
        f.service.device_cas.clear();
        let synced = f.idle(&x, NOW + Duration::hours(1)).unwrap();
        assert!(matches!(synced.events[0], ServiceEvent::Synced(_)));
        assert_eq!(f.ws.device(f.device).unwrap().sync_count(), 1);

        // Outside the window: the full check, which refuses.
        let after = window.not_after + Duration::seconds(1);
        assert!(matches!(
            f.idle(&x, after),
            Err(AppleError::UntrustedSigner { .. } | AppleError::CertificateNotValidAt { .. })
        ));
        // Another certificate of the same CA is checked in full.
        let y = f.y.certificate.der().to_vec();
        assert!(matches!(
            f.idle(&y, NOW),
            Err(AppleError::UntrustedSigner { .. })
        ));
        // A signature is always verified, even by the bound identity.
        let body = CommandReport::idle(id()).to_xml().unwrap();
        assert!(
            f.service
                .handle(
                    &mut f.ws,
                    &DeviceRequest {
                        endpoint: Endpoint::Command,
                        body: &body,
                        identity: PresentedIdentity::MdmSignature(b"not a signature"),
                    },
                    NOW,
                )
                .is_err()
        );
        // Authenticate is always checked in full, even with the bound one.
        assert!(matches!(
            f.authenticate(&x),
            Err(AppleError::UntrustedSigner { .. })
        ));
    }

    #[test]
    fn after_rebinding_the_old_certificate_goes_the_full_path() {
        let mut f = fixture();
        let x = f.x.certificate.der().to_vec();
        let y = f.y.certificate.der().to_vec();
        f.enroll(&x);
        // A renewed identity re-binds through a new Authenticate.
        f.service.expect_identity(&y, f.device).unwrap();
        f.authenticate(&y).unwrap();
        // X is checked in full: its chain holds, and then it is not the bound one.
        assert!(matches!(
            f.idle(&x, NOW),
            Err(AppleError::IdentityMismatch { .. })
        ));
        // Without the CAs, X fails at the chain check (full path), while Y,
        // now bound, takes the fast path as far as the binding goes.
        f.service.device_cas.clear();
        assert!(matches!(
            f.idle(&x, NOW),
            Err(AppleError::UntrustedSigner { .. })
        ));
        assert!(!matches!(
            f.idle(&y, NOW),
            Err(AppleError::UntrustedSigner { .. })
        ));
        f.service.device_cas.push(f.ca.clone());
        assert_eq!(
            f.service
                .store()
                .enrollment(&id())
                .unwrap()
                .unwrap()
                .identity,
            Sha256Digest::of(&y)
        );
    }

    #[test]
    fn a_window_is_narrowed_to_the_device_cas() {
        let f = fixture();
        let w = CheckedWindow::of(f.x.certificate.der(), std::slice::from_ref(&f.ca)).unwrap();
        assert!(w.contains(NOW));
        assert!(!w.contains(f.x.certificate.info().not_after + Duration::seconds(1)));
        assert!(w.not_before >= f.ca.info().not_before);
        assert!(w.not_after <= f.ca.info().not_after);
        assert!(CheckedWindow::of(b"junk", &[]).is_err());
    }

    /// An Idle signed (`Mdm-Signature`) by `key`.
    fn signed_idle(key: &CertifiedKey) -> (Vec<u8>, Vec<u8>) {
        let body = CommandReport::idle(id()).to_xml().unwrap();
        let signer = crate::ProfileSigner::new(
            &[key.certificate.der()],
            key.key.pkcs8_der_secret().as_slice(),
        )
        .unwrap();
        let signature = signer.sign_detached(&body, NOW).unwrap();
        (body, signature)
    }

    #[test]
    fn a_request_checked_outside_is_handled_as_handle_would() {
        let mut f = fixture();
        let x = f.x.certificate.der().to_vec();
        f.enroll(&x);
        let (body, signature) = signed_idle(&f.x);
        let request = DeviceRequest {
            endpoint: Endpoint::Command,
            body: &body,
            identity: PresentedIdentity::MdmSignature(&signature),
        };
        let cas = vec![f.ca.clone()];
        let checked = CheckedRequest::check(request, &cas, NOW);
        assert_eq!(checked.request().body, body.as_slice());
        let handled = f.service.handle_checked(&mut f.ws, checked, NOW).unwrap();
        assert!(matches!(handled.events[0], ServiceEvent::Synced(_)));

        // Checked against no CA (so refused), or at another time: the
        // service checks again with its own CAs at its own time, and accepts.
        for (cas, at) in [(Vec::new(), NOW), (cas.clone(), NOW - Duration::days(400))] {
            let checked = CheckedRequest::check(request, &cas, at);
            assert!(checked.signature.as_ref().unwrap().verified.is_err());
            let handled = f.service.handle_checked(&mut f.ws, checked, NOW).unwrap();
            assert!(matches!(handled.events[0], ServiceEvent::Synced(_)));
        }
        // And the other way: checked (and accepted) against a CA the
        // service no longer trusts, it is refused and audited.
        let audited = f.ws.audit_log().len();
        let checked = CheckedRequest::check(request, &cas, NOW);
        assert!(checked.signature.as_ref().unwrap().verified.is_ok());
        f.service.device_cas.clear();
        assert!(matches!(
            f.service.handle_checked(&mut f.ws, checked, NOW),
            Err(AppleError::UntrustedSigner { .. })
        ));
        assert_eq!(f.ws.audit_log().len(), audited + 1);
    }
}
