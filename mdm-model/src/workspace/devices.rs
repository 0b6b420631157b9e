//! The device lifecycle as explicit operations (R-DV-2, R-GR-1, R-WP-1, R-CL-1).

use time::OffsetDateTime;

use super::{Kind, Workspace};
use crate::{
    AuditEvent, ClientCertificateState, Device, DeviceId, DeviceState, GroupId, ModelError,
    Sha256Digest,
};

impl Workspace {
    /// The device made its first connection: `Enrolling → Connected`, in
    /// *Unassigned devices* — or, when the workspace has an automatic moving
    /// rule, straight on into that managed group (R-GR-1). Its first sync is due at once.
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`], [`ModelError::IllegalTransition`].
    pub fn complete_enrollment(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_state(device, "complete enrollment", &[DeviceState::Enrolling])?;
        self.set_state(device, DeviceState::Connected, now)?;
        self.schedule_sync(device, Some(now))?;
        if let Some(group) = self.data.settings.auto_move_to {
            self.move_device(device, group, now)?;
        }
        Ok(())
    }

    /// Moves a connected device to another group. Into a managed group the
    /// device becomes `Managed` and its policy and license apply from its next
    /// sync; back into *Unassigned devices* it becomes `Connected` and gives up
    /// its license seat (R-GR-1).
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`], [`ModelError::UnknownGroup`],
    /// [`ModelError::IllegalTransition`] unless the device is connected or managed.
    pub fn move_device(
        &mut self,
        device: DeviceId,
        to: GroupId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.group(to)?;
        let from = self.expect_state(
            device,
            "move between groups",
            &[DeviceState::Connected, DeviceState::Managed],
        )?;
        let from_group = self.device(device)?.group.unwrap_or(Self::UNASSIGNED);
        let managed = self.is_managed_group(to);
        if from_group != to {
            if let Some(g) = self.data.groups.get_mut(from_group.index()) {
                g.members.remove(&device);
            }
            if let Some(g) = self.data.groups.get_mut(to.index()) {
                g.members.insert(device);
            }
            self.device_mut(device)?.group = Some(to);
            self.log(
                now,
                AuditEvent::DeviceMoved {
                    device,
                    from: from_group,
                    to,
                },
            );
        }
        if !managed {
            self.release_license(device, now)?;
        }
        let state = if managed {
            DeviceState::Managed
        } else {
            DeviceState::Connected
        };
        if state != from {
            self.set_state(device, state, now)?;
        }
        Ok(())
    }

    /// The device can no longer reach the server (e.g. it missed a
    /// server-certificate rotation, R-SV-1).
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] unless the device is connected or managed.
    pub fn mark_connection_lost(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_state(
            device,
            "lose its connection",
            &[DeviceState::Connected, DeviceState::Managed],
        )?;
        self.schedule_sync(device, None)?;
        self.set_state(device, DeviceState::ConnectionLost, now)
    }

    /// The device reached the server again; it returns to `Connected` or
    /// `Managed` according to its group, and its sync is due at once.
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] unless the connection was lost.
    pub fn restore_connection(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_state(
            device,
            "restore its connection",
            &[DeviceState::ConnectionLost],
        )?;
        let group = self.device(device)?.group.unwrap_or(Self::UNASSIGNED);
        let state = if self.is_managed_group(group) {
            DeviceState::Managed
        } else {
            DeviceState::Connected
        };
        self.set_state(device, state, now)?;
        self.schedule_sync(device, Some(now))
    }

    /// APNs answered 410 `Unregistered` for the Apple device's push token
    /// (issue #14): a connected or managed device becomes `ConnectionLost`
    /// (shown unreachable, not pushed, see [`Workspace::may_push`]) until its
    /// next `TokenUpdate` restores it. `since` is APNs's timestamp; an answer
    /// older than the device's last contact is stale (a newer token may have
    /// replaced the one refused) and changes nothing. Returns whether the
    /// device was marked unreachable by this call.
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`]; [`ModelError::IllegalTransition`] for a
    /// device that is not Apple or has left management.
    pub fn record_push_unregistered(
        &mut self,
        device: DeviceId,
        since: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool, ModelError> {
        let d = self.device(device)?;
        let state = d.state;
        if !d.platform.is_apple() || state.is_terminal() {
            return Err(ModelError::IllegalTransition {
                device,
                operation: "be unregistered from APNs",
                state,
            });
        }
        let stale = matches!((since, d.last_sync), (Some(at), Some(seen)) if at < seen);
        if stale || !state.is_connected() {
            return Ok(false);
        }
        self.log(now, AuditEvent::PushTokenUnregistered { device, since });
        self.schedule_sync(device, None)?;
        self.set_state(device, DeviceState::ConnectionLost, now)?;
        Ok(true)
    }

    /// Whether the server may push to the device: an Apple device that is
    /// connected or managed (not one APNs called `Unregistered`, R-AP-3).
    ///
    /// # Errors
    /// [`ModelError::UnknownDevice`].
    pub fn may_push(&self, device: DeviceId) -> Result<bool, ModelError> {
        let d = self.device(device)?;
        Ok(d.platform.is_apple() && d.state.is_connected())
    }

    /// Remote wipe or factory reset: the agent's data is gone, the device
    /// leaves management, gives back its license seat, and its registration is
    /// removed, so it must be registered and invited again (R-WP-1).
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] when the device already left management.
    pub fn wipe_device(&mut self, device: DeviceId, now: OffsetDateTime) -> Result<(), ModelError> {
        self.leave_management(device, DeviceState::Wiped, "be wiped", now)?;
        if let Some(number) = self.device(device)?.identification_number.clone() {
            self.unregister(&number, now);
        }
        Ok(())
    }

    /// The administrator removes the device from management.
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] when the device already left management.
    pub fn retire_device(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.leave_management(device, DeviceState::Retired, "be retired", now)
    }

    /// A client certificate was issued for the device and waits for its
    /// one-time password (R-CL-1).
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] when the device left management.
    pub fn record_client_certificate_issued(
        &mut self,
        device: DeviceId,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_live(device, "be issued a client certificate")?;
        self.device_mut(device)?.client_certificate = ClientCertificateState::Issued;
        self.log(now, AuditEvent::ClientCertificateChanged { device });
        Ok(())
    }

    /// The device fetched its client certificate with the one-time password:
    /// its status becomes *certificate applied* (R-CL-1).
    ///
    /// # Errors
    /// [`ModelError::IllegalTransition`] when the device left management.
    pub fn record_client_certificate_applied(
        &mut self,
        device: DeviceId,
        sha256: Sha256Digest,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_live(device, "apply a client certificate")?;
        self.device_mut(device)?.client_certificate = ClientCertificateState::Applied(sha256);
        self.log(now, AuditEvent::ClientCertificateChanged { device });
        Ok(())
    }

    fn leave_management(
        &mut self,
        device: DeviceId,
        state: DeviceState,
        operation: &'static str,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        self.expect_live(device, operation)?;
        self.release_license(device, now)?;
        self.schedule_sync(device, None)?;
        if let Some(group) = self.device_mut(device)?.group.take()
            && let Some(g) = self.data.groups.get_mut(group.index())
        {
            g.members.remove(&device);
        }
        self.set_state(device, state, now)
    }

    /// The device, to change in place (and so marked changed for the store).
    pub(crate) fn device_mut(&mut self, device: DeviceId) -> Result<&mut Device, ModelError> {
        self.mark(Kind::Device, device.index());
        self.data
            .devices
            .get_mut(device.index())
            .ok_or(ModelError::UnknownDevice(device))
    }

    /// The device's state, if it is one of `allowed`.
    pub(crate) fn expect_state(
        &self,
        device: DeviceId,
        operation: &'static str,
        allowed: &[DeviceState],
    ) -> Result<DeviceState, ModelError> {
        let state = self.device(device)?.state;
        if allowed.contains(&state) {
            Ok(state)
        } else {
            Err(ModelError::IllegalTransition {
                device,
                operation,
                state,
            })
        }
    }

    fn expect_live(&self, device: DeviceId, operation: &'static str) -> Result<(), ModelError> {
        let state = self.device(device)?.state;
        if state.is_terminal() {
            Err(ModelError::IllegalTransition {
                device,
                operation,
                state,
            })
        } else {
            Ok(())
        }
    }

    fn set_state(
        &mut self,
        device: DeviceId,
        to: DeviceState,
        now: OffsetDateTime,
    ) -> Result<(), ModelError> {
        let d = self.device_mut(device)?;
        let from = d.state;
        d.state = to;
        self.log(now, AuditEvent::DeviceStateChanged { device, from, to });
        Ok(())
    }

    /// Sets when the device's next sync is due; `None` once it is not
    /// expected to sync (its connection lost, or it left management).
    pub(crate) fn schedule_sync(
        &mut self,
        device: DeviceId,
        due: Option<OffsetDateTime>,
    ) -> Result<(), ModelError> {
        self.device_mut(device)?.next_sync_due = due;
        Ok(())
    }
}
