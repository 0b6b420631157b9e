//! An enrollment from the opened link to the first contact: the answer the
//! server gave the link, the device's own work on it (on the other cores),
//! and what the server records once the device has done it.

use mdm_apple::{Endpoint, ServiceEvent};
use mdm_model::{DeviceId, InstallSource, Platform, Sha256Digest, Workspace};

use super::{Event, World};
use crate::devices::android::ClientCertificate;
use crate::devices::{self, DeviceView, Stage};
use crate::error::model;
use crate::mdm_server::{self, invitations};
use crate::tally::{Inv, Tally};
use crate::{HarnessError, SimTime};

/// A device between routing and recording: its own work still to do.
pub(crate) enum Enrolling {
    Android(devices::android::Routed),
    Apple(devices::apple::Routed),
}

/// A device's own work, done.
pub(crate) enum Enrolled {
    Android(devices::android::Prepared),
    Apple(devices::apple::Prepared),
}

impl Enrolling {
    pub(crate) fn prepare(self, view: &DeviceView) -> Result<Enrolled, HarnessError> {
        match self {
            Self::Android(r) => devices::android::prepare(view, r).map(Enrolled::Android),
            Self::Apple(r) => devices::apple::prepare(view, r).map(Enrolled::Apple),
        }
    }
}

impl World {
    /// What device `i` got for its link (and, for a standalone Android
    /// package, the one-time password its user was e-mailed): something to
    /// enroll with, or an answer that enrolls nothing (handled here).
    pub(super) fn link_answered(
        &mut self,
        i: u32,
        now: SimTime,
        answer: mdm_packages::LinkAnswer,
        emailed_otp: Option<mdm_certs::OneTimePassword>,
    ) -> Option<Enrolling> {
        let d = self.device(i)?;
        let routed = if d.plan.platform == Platform::Android {
            devices::android::Routed::from_answer(i, now, d, answer, emailed_otp)
                .map(Enrolling::Android)
        } else {
            devices::apple::Routed::from_answer(i, now, d, answer).map(|(routed, misdetected)| {
                if misdetected {
                    Tally::count(&mut self.tally.refusals, "platform misdetected");
                }
                Enrolling::Apple(routed)
            })
        };
        match routed {
            Ok(enrolling) => Some(enrolling),
            Err(other) => {
                self.link_not_enrolled(i, now, &other);
                None
            }
        }
    }

    /// An answer to an opened link that enrolls nothing: a refusal (the user
    /// asks for a new invitation, or — for a missing APNs certificate — waits
    /// for the administrator), or an answer the harness did not expect.
    fn link_not_enrolled(&mut self, i: u32, now: SimTime, answer: &mdm_packages::LinkAnswer) {
        use mdm_model::Refusal as R;
        match answer {
            mdm_packages::LinkAnswer::Refused(reason) => {
                Tally::count(&mut self.tally.refusals, &reason.to_string());
                if matches!(
                    reason,
                    R::NoApnsCertificate
                        | R::ApnsCertificateExpired
                        | R::ApnsCertificateNotYetValid
                ) {
                    // The administrator must fix the workspace; the user tries again a day later.
                    self.queue.push(now.after(86_400), i, Event::OpenLink);
                } else {
                    if let Some(d) = self.device_mut(i) {
                        d.stage = Stage::Lost;
                    }
                    self.queue.push(now.after(3600), i, Event::Reinstall);
                }
            }
            other => {
                Tally::count(
                    &mut self.tally.refusals,
                    &format!("unexpected answer (HTTP {})", other.http_status()),
                );
                if let Some(d) = self.device_mut(i) {
                    d.stage = Stage::Done;
                }
            }
        }
    }

    /// After an enrollment: the device's invitation is consumed by exactly
    /// this device record (R-IN-1).
    fn check_consumed(&mut self, i: u32, device: DeviceId) {
        let token = self.device(i).and_then(|d| d.token.as_ref());
        let (ok, state) = invitations::consumed_by(&self.server, token, device);
        self.tally.check(
            Inv::InvitationOnce,
            (!ok).then(|| format!("{device}: its invitation is {state:?}")),
        );
    }

    /// The certificate `device` presents is the one SCEP issued for its
    /// own enrollment's one-time password.
    fn check_own_certificate(&mut self, certificate: &mdm_certs::Certificate, device: DeviceId) {
        let own = mdm_server::scep::issued_for(&mut self.server, certificate, device);
        self.tally.check(
            Inv::OwnCertificate,
            (!own).then(|| {
                format!(
                    "{device} presents `{}`, not issued for its enrollment",
                    certificate.info().subject
                )
            }),
        );
    }

    /// The SCEP endpoint refused a device's request (perhaps its resend
    /// after a lost CertRep): audited and counted.
    fn scep_refused(
        &mut self,
        reason: mdm_model::ClientCertificateRefusal,
        after_lost_reply: bool,
        at: time::OffsetDateTime,
    ) {
        mdm_server::scep::record_refusal(&mut self.server, reason, at);
        Tally::count(&mut self.tally.refusals, &format!("SCEP refused: {reason}"));
        if after_lost_reply {
            Tally::count(&mut self.tally.message_faults, "SCEP answer lost");
        }
    }

    /// The device landed in Unassigned devices (R-GR-1).
    fn check_unassigned(&mut self, device: DeviceId) -> Result<(), HarnessError> {
        let group = self
            .server
            .ws
            .device(device)
            .map_err(model("device"))?
            .group();
        self.tally.check(
            Inv::ThroughGroup,
            (group != Some(Workspace::UNASSIGNED))
                .then(|| format!("{device} did not land in Unassigned devices")),
        );
        Ok(())
    }

    /// What the device's own work leads to on the server.
    pub(super) fn record_enrolment(&mut self, enrolled: Enrolled) -> Result<(), HarnessError> {
        match enrolled {
            Enrolled::Android(p) => self.android_installed(p),
            Enrolled::Apple(p) => self.apple_profile_installed(p),
        }
    }

    /// Records the install in the model and schedules the first sync, which
    /// completes the enrollment (in `mdm-android`'s endpoint).
    fn android_installed(&mut self, p: devices::android::Prepared) -> Result<(), HarnessError> {
        let devices::android::Prepared {
            i,
            now,
            device,
            client_cert,
        } = p;
        let at = self.now(now);
        let Some(plan) = self.device(i).map(|d| d.plan) else {
            return Ok(());
        };
        self.check_consumed(i, device);
        let client_cert = match client_cert {
            ClientCertificate::None => None,
            ClientCertificate::Issued(certificate) => {
                self.check_own_certificate(&certificate, device);
                Some(Sha256Digest::of(certificate.der()))
            }
            ClientCertificate::Refused {
                reason,
                after_lost_reply,
            } => {
                // The agent runs without a client certificate; the
                // administrator sees the refusal in the audit log.
                self.scep_refused(reason, after_lost_reply, at);
                None
            }
        };
        self.check_unassigned(device)?;
        let source_name = match plan.install {
            InstallSource::PlainApk => "plain APK",
            InstallSource::KnoxMobileEnrollment => "KNOX Mobile Enrollment",
            InstallSource::ThirdPartyEmm => "third-party EMM",
            _ => "standalone package",
        };
        Tally::count(&mut self.tally.installs, source_name);
        if let Some(digest) = client_cert {
            mdm_server::android::record_client_certificate(&mut self.server, device, digest, at)?;
            self.tally.client_certificates_applied += 1;
        }
        if let Some(d) = self.device_mut(i) {
            d.model = Some(device);
            d.last_sync = None;
            d.client_cert = client_cert;
            d.agent_credential = None;
            d.stage = Stage::Installing;
        }
        self.queue.push(now.after(300), i, Event::Contact);
        Ok(())
    }

    /// The identity is declared to the service (the SCEP endpoint issued it
    /// for this enrollment); the device checks in with the messages it
    /// wrote; the service connects it in the model. Checks the invariants.
    fn apple_profile_installed(&mut self, p: devices::apple::Prepared) -> Result<(), HarnessError> {
        let devices::apple::Prepared {
            i,
            now,
            device,
            platform,
            topic,
            identity,
            malformed,
            checkins,
        } = p;
        let at = self.now(now);
        self.check_consumed(i, device);
        let apns_ok = mdm_server::apple::apns_covers(&self.server, &topic, at);
        self.tally.check(
            Inv::AppleNeedsApns,
            (!apns_ok).then(|| {
                format!("{device} got a profile without a valid APNs certificate for its topic")
            }),
        );
        let identity = match identity {
            devices::apple::Identity::Issued(certificate) => certificate,
            devices::apple::Identity::Refused {
                reason,
                after_lost_reply,
            } => {
                self.scep_refused(reason, after_lost_reply, at);
                return self.mark_lost(i, now, "SCEP refused");
            }
        };
        self.check_own_certificate(&identity, device);
        let identity = identity.der().to_vec();
        mdm_server::apple::expect_identity(&mut self.server, &identity, device)?;
        if let Some(d) = self.device_mut(i) {
            d.apple_identity = Some(identity.into_boxed_slice());
        }
        if let Some(body) = malformed {
            match self.send_apple(i, Endpoint::CheckIn, &body, now) {
                Err(_) => {
                    Tally::count(&mut self.tally.message_faults, "malformed check-in refused");
                }
                Ok(_) => self.tally.check(
                    Inv::NoPanic,
                    Some(format!("device {i}: a truncated check-in was accepted")),
                ),
            }
        }
        let mut connected = false;
        for body in &checkins {
            let Some(handled) = self.accepted(i, now, "check-in", body)? else {
                return Ok(());
            };
            connected = handled.events.contains(&ServiceEvent::Connected);
        }
        if !connected {
            Tally::count(
                &mut self.tally.refusals,
                "check-in refused: TokenUpdate did not connect the device",
            );
            return self.mark_lost(i, now, "check-in refused");
        }
        // The service now holds the device's token: APNs has it too (the
        // device registered it with APNs before its TokenUpdate).
        let (token, _) = devices::apple::push_identity(self.opts.seed, i)?;
        mdm_server::apple::register_token(&mut self.server, token.as_bytes(), &topic);
        self.check_unassigned(device)?;
        if let Some(d) = self.device_mut(i) {
            d.model = Some(device);
        }
        self.enrolled(i, now, platform);
        let jitter = self.device(i).map_or(0, |d| d.plan.jitter_secs);
        self.queue.push(now.after(600 + jitter), i, Event::Contact);
        Ok(())
    }
}
