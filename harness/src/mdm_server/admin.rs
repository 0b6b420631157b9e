//! The administrator's own work on the server: the server certificate's
//! rotation (R-SV-1), the APNs certificate's renewal and intake (R-AP-2),
//! and the hourly moving rule (Unassigned → Managed devices).

use mdm_certs::{ApnsCertificateDetails, CertError};
use mdm_model::{DeviceId, DeviceState, Platform, Workspace};
use time::{Duration, OffsetDateTime};

use super::{COMPANY, COUNTRY, MdmServer, pki_mut, record_apns};
use crate::HarnessError;
use crate::error::model;

/// A reserve server certificate, issued.
pub(crate) struct ReserveIssued {
    pub(crate) issued: OffsetDateTime,
    pub(crate) activates: OffsetDateTime,
    /// The prediction an administrator can make at issuance: Android
    /// devices that have gone quiet (no sync for two intervals).
    pub(crate) predicted_lost: u64,
}

/// Issues the reserve server certificate, active `activation` later.
pub(crate) fn issue_reserve(
    w: &mut MdmServer,
    at: OffsetDateTime,
    activation: Duration,
) -> Result<ReserveIssued, HarnessError> {
    let (issued, activates) =
        pki_mut(&mut w.pki)?.issue_reserve(at, activation, &mut w.admin_rng)?;
    let predicted_lost =
        w.ws.overdue_devices(at, Workspace::DEFAULT_SYNC_INTERVAL)
            .filter(|&d| {
                w.ws.device(d)
                    .is_ok_and(|d| d.platform() == Platform::Android)
            })
            .count() as u64;
    Ok(ReserveIssued {
        issued,
        activates,
        predicted_lost,
    })
}

/// Whether a device whose record is `id` can still connect at `at`, and
/// whether it had synced since `issued` (computed independently of
/// `mdm-certs`). `None` for an unknown record.
pub(crate) fn rotation_outcome(
    w: &MdmServer,
    id: DeviceId,
    at: OffsetDateTime,
    issued: OffsetDateTime,
) -> Option<(bool, bool)> {
    let record = w.ws.device(id).ok()?;
    let can_connect = w.pki.rotation.device_can_connect(record.last_sync(), at);
    let synced_since = record.last_sync().is_some_and(|s| s >= issued);
    Some((can_connect, synced_since))
}

/// The reserve certificate has taken over.
pub(crate) fn complete_rotation(w: &mut MdmServer, at: OffsetDateTime) -> Result<(), HarnessError> {
    pki_mut(&mut w.pki)?.rotation.complete(at);
    Ok(())
}

/// What became of an APNs renewal.
pub(crate) enum ApnsRenewal {
    /// Intake accepted it as a renewal.
    Renewed(ApnsCertificateDetails),
    /// Intake refused it as a renewal (a new topic); the administrator
    /// uploaded it as a new certificate.
    Replaced {
        refusal: CertError,
        details: ApnsCertificateDetails,
    },
}

/// The administrator renews the push certificate, keeping its topic or not.
pub(crate) fn renew_apns(
    w: &mut MdmServer,
    keep_topic: bool,
    at: OffsetDateTime,
) -> Result<ApnsRenewal, HarnessError> {
    match pki_mut(&mut w.pki)?.renew_apns(COMPANY, COUNTRY, keep_topic, at, &mut w.admin_rng)? {
        Ok(uploaded) => {
            record_apns(&mut w.ws, &uploaded.accepted, at)?;
            Ok(ApnsRenewal::Renewed(uploaded.accepted.details))
        }
        Err((refusal, file, key)) => {
            let accepted = pki_mut(&mut w.pki)?.upload_new_apns(&file, key, at)?;
            record_apns(&mut w.ws, &accepted, at)?;
            Ok(ApnsRenewal::Replaced {
                refusal,
                details: accepted.details,
            })
        }
    }
}

/// The administrator uploads a push certificate made for another
/// workspace; intake's refusal, or `None` if it was accepted.
pub(crate) fn try_foreign_apns(
    w: &mut MdmServer,
    at: OffsetDateTime,
) -> Result<Option<CertError>, HarnessError> {
    pki_mut(&mut w.pki)?.try_foreign_apns(at, &mut w.admin_rng)
}

/// The administrator's moving rule: connected devices in Unassigned
/// devices move to Managed devices.
pub(crate) fn moving_rule(w: &mut MdmServer, at: OffsetDateTime) -> Result<(), HarnessError> {
    let waiting: Vec<DeviceId> =
        w.ws.group(Workspace::UNASSIGNED)
            .map_err(model("group"))?
            .members()
            .filter(|&d| {
                w.ws.device(d)
                    .is_ok_and(|d| d.state() == DeviceState::Connected)
            })
            .collect();
    for d in waiting {
        w.ws.move_device(d, Workspace::MANAGED, at)
            .map_err(model("moving rule"))?;
    }
    Ok(())
}

/// The administrator retires a device record (`step` names why, for errors).
pub(crate) fn retire(
    w: &mut MdmServer,
    id: DeviceId,
    at: OffsetDateTime,
    step: &'static str,
) -> Result<(), HarnessError> {
    w.ws.retire_device(id, at).map_err(model(step))
}

/// The old record of a device whose user reinstalls is retired, unless it
/// has ended already (wiped or retired).
pub(crate) fn retire_old_record(
    w: &mut MdmServer,
    id: DeviceId,
    at: OffsetDateTime,
) -> Result<(), HarnessError> {
    let state = w.ws.device(id).map_err(model("device"))?.state();
    if !state.is_terminal() {
        retire(w, id, at, "retire")?;
    }
    Ok(())
}

/// The server notes that a connected device lost its connection.
pub(crate) fn connection_lost(
    w: &mut MdmServer,
    id: DeviceId,
    at: OffsetDateTime,
) -> Result<(), HarnessError> {
    let state = w.ws.device(id).map_err(model("device"))?.state();
    if state.is_connected() {
        w.ws.mark_connection_lost(id, at)
            .map_err(model("lose connection"))?;
    }
    Ok(())
}
