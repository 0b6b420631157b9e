//! How the agent got onto the device, recognised from what it reports
//! (R-IN-4, R-AN-1), mapped onto the model's [`InstallSource`].
//!
//! An agent installed through Samsung KNOX Mobile Enrollment or another
//! EMM cannot be managed: the device is refused with the model's remedy
//! (reinstall the agent from the invitation link). A plain-APK install must be
//! given the server address by the user (FQDN or IP, optional port) and has
//! no client certificate until one is redeemed with its one-time password; a
//! standalone package carries the address itself.

use mdm_model::{InstallSource, Refusal};
use serde::{Deserialize, Serialize};

use crate::{AndroidError, ServerAddress};

/// What the agent observes about its own installation and sends on every sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstallReport {
    /// `PackageManager.getInstallSourceInfo(...).getInstallingPackageName()`;
    /// `None` for `adb install` or when Android does not say.
    pub installer_package: Option<String>,
    /// The package that is device owner or profile owner, if any
    /// (`DevicePolicyManager.getDeviceOwner…`); our agent when provisioned by QR.
    pub managing_package: Option<String>,
    /// The agent found connection settings embedded by a standalone
    /// installation package (R-AN-1 a).
    pub embedded_settings: bool,
}

/// Installer packages of Samsung KNOX Mobile Enrollment. Any package under
/// these prefixes counts as KNOX.
const KNOX_PREFIXES: &[&str] = &["com.sec.enterprise.knox.", "com.samsung.android.knox."];

/// Packages of other EMM/MDM agents (device-policy controllers) that install
/// apps or own devices: Android Device Policy (AMAPI), Intune, Workspace ONE,
/// Ivanti/MobileIron, SOTI, Headwind MDM, Flyve MDM, TestDPC.
const OTHER_EMM_PACKAGES: &[&str] = &[
    "com.google.android.apps.work.clouddpc",
    "com.microsoft.windowsintune.companyportal",
    "com.microsoft.intune",
    "com.airwatch.androidagent",
    "com.mobileiron",
    "com.mobileiron.anyware.android",
    "com.ivanti.mobileiron",
    "net.soti.mobicontrol.androidwork",
    "net.soti.mobicontrol.enterprise",
    "com.hmdm.launcher",
    "org.flyve.mdm.agent",
    "com.afwsamples.testdpc",
];

fn is_knox(package: &str) -> bool {
    KNOX_PREFIXES
        .iter()
        .any(|prefix| package.starts_with(prefix))
}

fn is_other_emm(package: &str) -> bool {
    OTHER_EMM_PACKAGES.iter().any(|emm| {
        package == *emm
            || package
                .strip_prefix(emm)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

impl InstallReport {
    /// Recognises the install source, given our agent's package name:
    ///
    /// 1. installed by a KNOX package → [`InstallSource::KnoxMobileEnrollment`];
    /// 2. installed by a known EMM agent, or the device/profile owner is
    ///    another package → [`InstallSource::ThirdPartyEmm`];
    /// 3. settings embedded by a standalone package → [`InstallSource::StandalonePackage`];
    /// 4. anything else (a store, the package installer, a browser, `adb`) →
    ///    [`InstallSource::PlainApk`].
    pub fn recognise(&self, agent_package: &str) -> InstallSource {
        if let Some(installer) = self.installer_package.as_deref() {
            if is_knox(installer) {
                return InstallSource::KnoxMobileEnrollment;
            }
            if is_other_emm(installer) {
                return InstallSource::ThirdPartyEmm;
            }
        }
        if let Some(owner) = self.managing_package.as_deref()
            && owner != agent_package
        {
            return if is_knox(owner) {
                InstallSource::KnoxMobileEnrollment
            } else {
                InstallSource::ThirdPartyEmm
            };
        }
        if self.embedded_settings {
            InstallSource::StandalonePackage
        } else {
            InstallSource::PlainApk
        }
    }

    /// [`Self::recognise`], refusing the sources that cannot be managed with
    /// the model's own [`Refusal`] (and so its remedy).
    pub fn manageable_source(
        &self,
        agent_package: &str,
        device_id: &str,
    ) -> Result<InstallSource, AndroidError> {
        let source = self.recognise(agent_package);
        manageable(device_id, source)
    }
}

/// `source` if the model can manage a device installed that way; otherwise
/// the model's [`InstallSource::refusal`] with its remedy (R-IN-4).
pub(crate) fn manageable(
    device_id: &str,
    source: InstallSource,
) -> Result<InstallSource, AndroidError> {
    let Some(refusal) = source.refusal() else {
        return Ok(source);
    };
    let installer = match refusal {
        Refusal::InstalledThroughKnox => "KNOX Mobile Enrollment",
        _ => "another EMM",
    };
    Err(AndroidError::UnmanageableInstall {
        device_id: device_id.to_owned(),
        installer: installer.to_owned(),
        remedy: refusal.remedy(),
    })
}

/// Where the agent connects on first start, by install source (R-AN-1,
/// R-IN-4): a standalone package uses the address it carries; a plain APK
/// uses what the user typed (or the invitation link pasted into the
/// *Server* field), validated; KNOX and third-party-EMM installs are refused
/// with the remedy.
pub fn first_connection_address(
    source: InstallSource,
    embedded: Option<&ServerAddress>,
    typed: Option<&str>,
) -> Result<ServerAddress, AndroidError> {
    match manageable("", source)? {
        InstallSource::StandalonePackage => {
            embedded
                .cloned()
                .ok_or_else(|| AndroidError::InvalidServerAddress {
                    input: String::new(),
                    reason: "the standalone package carries no server address; rebuild the package",
                })
        }
        InstallSource::PlainApk => {
            let typed = typed.ok_or_else(|| AndroidError::InvalidServerAddress {
                input: String::new(),
                reason: "a plain-APK install needs the server's FQDN or IP address",
            })?;
            ServerAddress::parse_typed(typed).map_err(AndroidError::from_address)
        }
        // KNOX and other-EMM installs were refused by `manageable` above.
        InstallSource::KnoxMobileEnrollment
        | InstallSource::ThirdPartyEmm
        | InstallSource::EnrollmentProfile => Err(AndroidError::InvalidServerAddress {
            input: String::new(),
            reason: "an Apple enrollment profile is not an Android agent install",
        }),
    }
}
