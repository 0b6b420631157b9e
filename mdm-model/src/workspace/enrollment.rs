//! Consuming invitations: the enrollment decision and device registration
//! (R-IN-1, R-IN-3, R-IN-4, R-IN-5).

use time::OffsetDateTime;

use super::{Kind, Workspace};
use crate::{
    AuditEvent, ClientCertificateState, Device, DeviceId, DeviceState, EnrollmentRequest,
    EnrollmentRoute, IdentificationNumber, Invitation, InvitationState, InvitationToken,
    ModelError, Platform, ProtectionStatus, Refusal, UserId,
};

impl Workspace {
    /// Decides, without changing anything, whether the holder of `token` may
    /// enroll the device described by `request` at `now`, and how (R-IN-3):
    /// Android through the agent; iOS and iPadOS through the MDM profile, only
    /// while the workspace holds an APNs certificate valid at `now`.
    ///
    /// # Errors
    /// The specific [`Refusal`]: unknown, used, expired or revoked invitation;
    /// no, expired or not-yet-valid APNs certificate; an agent installed through
    /// KNOX or a third-party EMM (R-IN-4); a device registered to another user
    /// or not registered when registration is required (R-IN-5).
    pub fn decide_enrollment(
        &self,
        token: &InvitationToken,
        request: &EnrollmentRequest,
        now: OffsetDateTime,
    ) -> Result<EnrollmentRoute, Refusal> {
        let invitation = self
            .invitation_for(token)
            .ok_or(Refusal::UnknownInvitation)?;
        self.check_invitation(invitation, now)?;
        let source = request.install_source;
        if let Some(refusal) = source.refusal() {
            return Err(refusal);
        }
        if source.is_android_agent() != (request.platform == Platform::Android) {
            return Err(Refusal::InstallSourceMismatch);
        }
        self.check_registration(invitation.user, request.identification_number.as_ref())?;
        if request.platform.is_apple() {
            let apns = self
                .data
                .apns_certificate
                .as_ref()
                .ok_or(Refusal::NoApnsCertificate)?;
            if now < apns.not_before() {
                return Err(Refusal::ApnsCertificateNotYetValid);
            }
            if now >= apns.not_after() {
                return Err(Refusal::ApnsCertificateExpired);
            }
            Ok(EnrollmentRoute::Apple(request.platform))
        } else {
            Ok(EnrollmentRoute::Android)
        }
    }

    /// Consumes the invitation and creates the device record in state
    /// [`DeviceState::Enrolling`], in *Unassigned devices* (R-IN-1, R-GR-1).
    /// A refusal is recorded in the audit log and returned.
    ///
    /// # Errors
    /// [`ModelError::EnrollmentRefused`] with the reason of
    /// [`decide_enrollment`](Self::decide_enrollment);
    /// [`ModelError::CapacityExceeded`].
    pub fn enroll(
        &mut self,
        token: &InvitationToken,
        request: EnrollmentRequest,
        now: OffsetDateTime,
    ) -> Result<DeviceId, ModelError> {
        if let Err(reason) = self.decide_enrollment(token, &request, now) {
            let invitation = self.invitation_for(token).map(|i| i.id);
            self.log(now, AuditEvent::EnrollmentRefused { invitation, reason });
            return Err(ModelError::EnrollmentRefused(reason));
        }
        let invitation_id = self
            .invitation_for(token)
            .map(|i| i.id)
            .ok_or(ModelError::EnrollmentRefused(Refusal::UnknownInvitation))?;
        let id = DeviceId::from_index(Self::next_id(self.data.devices.len(), "devices")?);
        let owner = self.invitation(invitation_id)?.user;
        let model = request.model.trim();
        self.data.devices.push(Device {
            id,
            platform: request.platform,
            os_version: request.os_version,
            model: if model.is_empty() {
                "unknown".into()
            } else {
                model.into()
            },
            owner,
            invitation: invitation_id,
            identification_number: request.identification_number,
            install_source: request.install_source,
            state: DeviceState::Enrolling,
            group: Some(Self::UNASSIGNED),
            enrolled_at: now,
            last_sync: None,
            next_sync_due: None,
            syncs: 0,
            applied_policy: None,
            license: None,
            client_certificate: ClientCertificateState::None,
            protection: ProtectionStatus::default(),
            agent_credential: None,
        });
        self.mark(Kind::Invitation, invitation_id.index());
        self.mark(Kind::User, owner.index());
        if let Some(inv) = self.data.invitations.get_mut(invitation_id.index()) {
            inv.state = InvitationState::Consumed { device: id };
        }
        if let Some(user) = self.data.users.get_mut(owner.index()) {
            user.devices.push(id);
        }
        if let Some(group) = self.data.groups.get_mut(Self::UNASSIGNED.index()) {
            group.members.insert(id);
        }
        self.log(
            now,
            AuditEvent::DeviceEnrolled {
                device: id,
                invitation: invitation_id,
            },
        );
        Ok(id)
    }

    /// Registers a device by its identification number before it is handed
    /// out; only `user` may then enroll it (R-IN-5).
    ///
    /// # Errors
    /// [`ModelError::UnknownUser`], [`ModelError::AlreadyRegistered`].
    pub fn register_device(
        &mut self,
        identification_number: IdentificationNumber,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.user(user)?;
        if self.data.registrations.contains_key(&identification_number) {
            return Err(ModelError::AlreadyRegistered(
                identification_number.to_string(),
            ));
        }
        let text = identification_number.to_string();
        self.mark_registration(&identification_number);
        self.data.registrations.insert(identification_number, user);
        self.log(
            now,
            AuditEvent::DeviceRegistered {
                identification_number: text,
                user,
            },
        );
        Ok(())
    }

    /// The user a device identification number is registered to.
    #[must_use]
    pub fn registered_user(&self, identification_number: &IdentificationNumber) -> Option<UserId> {
        self.data.registrations.get(identification_number).copied()
    }

    pub(crate) fn unregister(&mut self, number: &IdentificationNumber, now: OffsetDateTime) {
        if self.data.registrations.remove(number).is_some() {
            self.mark_registration(number);
            self.log(
                now,
                AuditEvent::DeviceUnregistered {
                    identification_number: number.to_string(),
                },
            );
        }
    }

    /// The invitation a token belongs to, found by the token's hash (compared
    /// in constant time).
    #[must_use]
    pub fn invitation_for(&self, token: &InvitationToken) -> Option<&Invitation> {
        let hash = token.hash();
        let id = self.index.tokens.get(&hash)?;
        self.data
            .invitations
            .get(id.index())
            .filter(|i| i.token_hash == hash)
    }

    fn check_invitation(
        &self,
        invitation: &Invitation,
        now: OffsetDateTime,
    ) -> Result<(), Refusal> {
        match invitation.state {
            InvitationState::Consumed { .. } => Err(Refusal::InvitationAlreadyUsed),
            InvitationState::Revoked => Err(Refusal::InvitationRevoked),
            InvitationState::Pending if invitation.is_expired(now) => {
                Err(Refusal::InvitationExpired)
            }
            InvitationState::Pending if invitation.user.index() >= self.data.users.len() => {
                Err(Refusal::UserUnavailable)
            }
            InvitationState::Pending => Ok(()),
        }
    }

    fn check_registration(
        &self,
        user: UserId,
        number: Option<&IdentificationNumber>,
    ) -> Result<(), Refusal> {
        let registered = number.and_then(|n| self.data.registrations.get(n));
        match (registered, number) {
            (Some(owner), _) if *owner != user => Err(Refusal::RegisteredToAnotherUser),
            (Some(_), _) => Ok(()),
            (None, None) if self.data.settings.require_registration => {
                Err(Refusal::IdentificationNumberMissing)
            }
            (None, Some(_)) if self.data.settings.require_registration => {
                Err(Refusal::DeviceNotRegistered)
            }
            (None, _) => Ok(()),
        }
    }
}
