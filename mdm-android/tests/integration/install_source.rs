//! Install sources (R-IN-4): what the agent reports mapped onto the model's
//! sources, refusals with the model's remedy, and the first connection's
//! address by source.

use mdm_android::{InstallReport, first_connection_address};
use mdm_model::{InstallSource, Refusal, ServerAddress};

const AGENT: &str = "io.mdmtoolkit.agent";

fn report(installer: Option<&str>, owner: Option<&str>, embedded: bool) -> InstallReport {
    InstallReport {
        installer_package: installer.map(str::to_owned),
        managing_package: owner.map(str::to_owned),
        embedded_settings: embedded,
    }
}

#[test]
fn recognition_table() {
    let rows = [
        (
            report(Some("com.sec.enterprise.knox.cloudmdm.smdms"), None, false),
            InstallSource::KnoxMobileEnrollment,
        ),
        (
            report(Some("com.samsung.android.knox.kpu"), None, true),
            InstallSource::KnoxMobileEnrollment,
        ),
        (
            report(Some("com.airwatch.androidagent"), None, false),
            InstallSource::ThirdPartyEmm,
        ),
        (
            report(
                Some("com.google.android.apps.work.clouddpc"),
                Some("com.google.android.apps.work.clouddpc"),
                false,
            ),
            InstallSource::ThirdPartyEmm,
        ),
        (
            report(
                Some("com.android.vending"),
                Some("com.hmdm.launcher"),
                false,
            ),
            InstallSource::ThirdPartyEmm,
        ),
        (
            report(
                Some("com.android.vending"),
                Some("com.sec.enterprise.knox.cloudmdm.smdms"),
                false,
            ),
            InstallSource::KnoxMobileEnrollment,
        ),
        (
            report(Some("com.android.vending"), None, false),
            InstallSource::PlainApk,
        ),
        (
            report(Some("com.google.android.packageinstaller"), None, true),
            InstallSource::StandalonePackage,
        ),
        (
            report(None, Some(AGENT), true),
            InstallSource::StandalonePackage,
        ),
        (report(None, None, false), InstallSource::PlainApk),
        // A lookalike prefix is not the EMM.
        (
            report(Some("com.airwatch.androidagentfake"), None, false),
            InstallSource::PlainApk,
        ),
    ];
    for (report, expected) in rows {
        assert_eq!(report.recognise(AGENT), expected, "{report:?}");
    }
}

#[test]
fn refusal_carries_the_models_remedy() {
    let error = report(Some("com.sec.enterprise.knox.cloudmdm.smdms"), None, false)
        .manageable_source(AGENT, "device-7")
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("KNOX Mobile Enrollment"), "{text}");
    assert!(
        text.contains(Refusal::InstalledThroughKnox.remedy()),
        "{text}"
    );
    assert!(text.contains("device-7"), "{text}");
    let error = report(None, Some("com.mobileiron"), false)
        .manageable_source(AGENT, "d")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains(Refusal::InstalledThroughThirdPartyEmm.remedy())
    );
}

#[test]
fn first_connection_by_source() {
    let embedded = ServerAddress::parse("mdm.example.com:13292").unwrap();
    assert_eq!(
        first_connection_address(
            InstallSource::StandalonePackage,
            Some(&embedded),
            Some("ignored")
        )
        .unwrap(),
        embedded
    );
    assert!(first_connection_address(InstallSource::StandalonePackage, None, None).is_err());
    assert_eq!(
        first_connection_address(
            InstallSource::PlainApk,
            None,
            Some("https://mdm.example.com:8443/i/abc")
        )
        .unwrap()
        .to_string(),
        "mdm.example.com:8443"
    );
    let missing = first_connection_address(InstallSource::PlainApk, None, None).unwrap_err();
    assert!(missing.to_string().contains("FQDN or IP"));
    assert!(first_connection_address(InstallSource::PlainApk, None, Some("999.1.1.1")).is_err());
    let knox = first_connection_address(InstallSource::KnoxMobileEnrollment, Some(&embedded), None)
        .unwrap_err();
    assert!(knox.to_string().contains("reinstall"), "{knox}");
    assert!(
        first_connection_address(InstallSource::ThirdPartyEmm, None, Some("a.example")).is_err()
    );
}
