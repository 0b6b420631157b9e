//! Simulated Android devices: they open the invitation link, install the
//! agent from the standalone package (reading the settings it embeds) or
//! from a plain APK (typing the address), fetch a client certificate
//! through SCEP with the one-time password their user was e-mailed
//! (R-CL-1; real `PKCSReq`/`CertRep` bytes, `super::scep`), and sync through `mdm-android`'s real JSON protocol.
//! The device writes its request's bytes and reads the server's answer from
//! bytes; what it knows between syncs is its own [`SimDevice`].

use mdm_android::InstallReport;
use mdm_certs::{OneTimePassword, SubjectName};
use mdm_model::{ClientCertificateRefusal, DeviceId, InstallSource};
use mdm_packages::{LinkAnswer, StandalonePackage};

use super::scep::{ScepResult, device_key};
use super::{DeviceView, SimDevice};
use crate::draw::Purpose;
use crate::error::{android, packages};
use crate::{HarnessError, SimTime};

pub(super) const AGENT_VERSION: &str = "11.2.0.45";

/// Real User-Agent strings: an Android tablet and an Android phone.
pub(crate) fn user_agent(i: u32) -> &'static str {
    if i.is_multiple_of(4) {
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Safari/537.36"
    } else {
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
    }
}

/// What the agent reports about how it was installed.
pub(super) fn install_report(source: InstallSource) -> InstallReport {
    match source {
        InstallSource::KnoxMobileEnrollment => InstallReport {
            installer_package: Some("com.sec.enterprise.knox.cloudmdm.smdms".into()),
            managing_package: None,
            embedded_settings: false,
        },
        InstallSource::ThirdPartyEmm => InstallReport {
            installer_package: Some("com.google.android.apps.work.clouddpc".into()),
            managing_package: Some("com.google.android.apps.work.clouddpc".into()),
            embedded_settings: false,
        },
        InstallSource::StandalonePackage => InstallReport {
            installer_package: Some("com.google.android.packageinstaller".into()),
            managing_package: None,
            embedded_settings: true,
        },
        _ => InstallReport {
            installer_package: Some("com.android.vending".into()),
            managing_package: None,
            embedded_settings: false,
        },
    }
}

/// What routing gave an Android device: its new record and, for a
/// standalone install, the package it downloaded.
pub(crate) struct Routed {
    i: u32,
    now: SimTime,
    device: DeviceId,
    package: Option<Box<StandalonePackage>>,
    /// The one-time password the user was e-mailed for the client certificate.
    otp: Option<OneTimePassword>,
    /// The device's plan and how many links it has opened (its key stream).
    plan: crate::fleet::DevicePlan,
    attempts: u8,
}

impl Routed {
    /// What device `i` got for its link: the package or the store listing,
    /// and the one-time password `otp` its user was e-mailed; any other
    /// answer (a refusal, also when the same link was consumed by another
    /// opening in the meantime) is given back.
    pub(crate) fn from_answer(
        i: u32,
        now: SimTime,
        d: &SimDevice,
        answer: LinkAnswer,
        otp: Option<OneTimePassword>,
    ) -> Result<Self, LinkAnswer> {
        let (device, package) = match answer {
            LinkAnswer::AndroidPackage { device, package } => (device, Some(package)),
            LinkAnswer::AndroidStore { device, .. } => (device, None),
            other => return Err(other),
        };
        Ok(Self {
            i,
            now,
            device,
            package,
            otp,
            plan: d.plan,
            attempts: d.attempts,
        })
    }
}

/// What the device did with it, off the workspace: the package opened, the
/// server address found, the client certificate fetched through SCEP.
pub(crate) struct Prepared {
    pub(crate) i: u32,
    pub(crate) now: SimTime,
    pub(crate) device: DeviceId,
    pub(crate) client_cert: ClientCertificate,
}

/// The agent's client certificate (R-CL-1).
pub(crate) enum ClientCertificate {
    /// None asked for (a plain APK gets none automatically, R-AN-1 b).
    None,
    /// Issued: the certificate, for the server to bind and record applied.
    Issued(Box<mdm_certs::Certificate>),
    /// A CertRep FAILURE; the server's reason, and whether it answered a
    /// resend after a lost CertRep.
    Refused {
        reason: ClientCertificateRefusal,
        after_lost_reply: bool,
    },
}

/// The agent finds the server — embedded in the package, or typed by the
/// user — and a standalone install fetches its client certificate through
/// SCEP with the one-time password its user was e-mailed (R-CL-1); a plain
/// APK gets none automatically (R-AN-1 b). Sees the server only through a
/// `DeviceView`, so it runs on the other cores while the minute's contacts
/// are handled.
pub(crate) fn prepare(w: &DeviceView, r: Routed) -> Result<Prepared, HarnessError> {
    let Routed {
        i,
        now,
        device,
        package,
        otp,
        plan,
        attempts,
    } = r;
    let (source, embedded) = match package {
        Some(package) => {
            let opened =
                StandalonePackage::open(package.into_bytes()).map_err(packages("open package"))?;
            let embedded = opened.connection().server.clone();
            (InstallSource::StandalonePackage, Some(embedded))
        }
        None => (InstallSource::PlainApk, None),
    };
    let typed = embedded.is_none().then_some(w.server_host);
    mdm_android::first_connection_address(source, embedded.as_ref(), typed)
        .map_err(android("first connection address"))?;
    let client_cert = match otp.filter(|_| plan.install == InstallSource::StandalonePackage) {
        Some(otp) => {
            let mut rng = w.stream(i, attempts, Purpose::Device);
            let subject = SubjectName::common_name(format!("android-{i}"))
                .map_err(crate::pki::cert("agent subject"))?;
            let key = device_key(mdm_apple::ScepKeySize::Rsa2048, i)?;
            match w.scep(i, attempts, now, otp.expose(), &subject, key, &mut rng)? {
                ScepResult::Issued(certificate) => ClientCertificate::Issued(certificate),
                ScepResult::Refused {
                    reason,
                    after_lost_reply,
                } => ClientCertificate::Refused {
                    reason,
                    after_lost_reply,
                },
            }
        }
        None => ClientCertificate::None,
    };
    Ok(Prepared {
        i,
        now,
        device,
        client_cert,
    })
}
