//! Typed command responses read from device reports.

use mdm_apple::*;
use proptest::prelude::*;

fn report(body: &str) -> CommandReport {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>UDID</key><string>U</string><key>CommandUUID</key><string>c-1</string><key>Status</key><string>Acknowledged</string>{body}</dict></plist>"#
    );
    match decode(xml.as_bytes()).unwrap() {
        DeviceMessage::Report(r) => r.message,
        other => panic!("not a report: {other:?}"),
    }
}

const PROFILE_LIST: &str = r#"<key>ProfileList</key><array><dict>
  <key>PayloadIdentifier</key><string>com.example.enrollment</string>
  <key>PayloadUUID</key><string>7848B5D7-11BC-4883-9963-17A3F9C90269</string>
  <key>PayloadDisplayName</key><string>Example MDM</string>
  <key>PayloadVersion</key><integer>1</integer>
  <key>IsManaged</key><true/><key>IsEncrypted</key><false/>
  <key>SignerCertificates</key><array><data>MAA=</data></array>
  <key>PayloadContent</key><array><dict>
    <key>PayloadType</key><string>com.apple.mdm</string>
    <key>PayloadIdentifier</key><string>com.example.enrollment.mdm</string>
    <key>PayloadUUID</key><string>C5210A2D-E4A8-44D3-B420-7BEB0D419072</string>
  </dict></array>
</dict></array>"#;

const SECURITY_INFO: &str = r#"<key>SecurityInfo</key><dict>
  <key>HardwareEncryptionCaps</key><integer>3</integer>
  <key>PasscodePresent</key><true/>
  <key>PasscodeCompliant</key><true/>
  <key>PasscodeCompliantWithProfiles</key><false/>
  <key>ManagementStatus</key><dict><key>IsUserEnrollment</key><false/></dict>
</dict>"#;

const APPS: &str = r#"<key>InstalledApplicationList</key><array>
  <dict><key>Identifier</key><string>com.example.app</string><key>Name</key><string>Example</string>
  <key>Version</key><string>42</string><key>ShortVersion</key><string>1.2</string>
  <key>BundleSize</key><integer>1048576</integer><key>DynamicSize</key><real>2048.5</real>
  <key>IsValidated</key><true/><key>Installing</key><false/></dict>
</array>"#;

const CERTS: &str = r#"<key>CertificateList</key><array>
  <dict><key>CommonName</key><string>Device Identity</string><key>IsIdentity</key><true/><key>Data</key><data>MAA=</data></dict>
</array>"#;

const SETTINGS: &str = r#"<key>Settings</key><array>
  <dict><key>Item</key><string>DeviceName</string><key>Status</key><string>Acknowledged</string></dict>
  <dict><key>Item</key><string>Bluetooth</string><key>Status</key><string>Error</string>
    <key>ErrorChain</key><array><dict><key>ErrorCode</key><integer>12000</integer><key>ErrorDomain</key><string>MCMDMErrorDomain</string></dict></array></dict>
</array>"#;

#[test]
fn profile_list() {
    let r = ProfileListResponse::from_report(&report(PROFILE_LIST)).unwrap();
    let p = &r.profiles[0];
    assert_eq!(p.identifier, "com.example.enrollment");
    assert_eq!(
        (p.is_managed, p.is_encrypted, p.version),
        (Some(true), Some(false), Some(1))
    );
    assert_eq!(p.signer_certificates, vec![vec![0x30, 0x00]]);
    assert_eq!(p.payloads[0].payload_type, "com.apple.mdm");
}

#[test]
fn security_info() {
    let r = SecurityInfoResponse::from_report(&report(SECURITY_INFO)).unwrap();
    assert_eq!(r.hardware_encryption_caps, Some(3));
    assert_eq!(r.passcode_present, Some(true));
    assert_eq!(r.passcode_compliant_with_profiles, Some(false));
    assert!(r.all.contains_key("ManagementStatus"));
}

#[test]
fn installed_applications() {
    let r = InstalledApplicationListResponse::from_report(&report(APPS)).unwrap();
    let a = &r.applications[0];
    assert_eq!(a.identifier, "com.example.app");
    assert_eq!(a.short_version.as_deref(), Some("1.2"));
    assert_eq!(a.bundle_size, Some(1_048_576.0));
    assert_eq!(a.dynamic_size, Some(2048.5));
}

#[test]
fn certificates_settings_lock_install() {
    let c = CertificateListResponse::from_report(&report(CERTS)).unwrap();
    assert_eq!(
        c.certificates[0].common_name.as_deref(),
        Some("Device Identity")
    );
    assert_eq!(c.certificates[0].is_identity, Some(true));
    let s = SettingsResponse::from_report(&report(SETTINGS)).unwrap();
    assert_eq!(s.results.len(), 2);
    assert_eq!(s.results[1].error_chain[0].error_code, 12000);
    let l = DeviceLockResponse::from_report(&report(
        "<key>MessageResult</key><string>Success</string>",
    ))
    .unwrap();
    assert_eq!(l.message_result.as_deref(), Some("Success"));
    let i = InstallApplicationResponse::from_report(&report(
        "<key>Identifier</key><string>com.example.app</string><key>State</key><string>Managed</string>",
    ))
    .unwrap();
    assert_eq!(i.state, Some(AppInstallState::Managed));
    let i = InstallApplicationResponse::from_report(&report(
        "<key>State</key><string>Teleporting</string>",
    ))
    .unwrap();
    assert_eq!(i.state, Some(AppInstallState::Other("Teleporting".into())));
}

#[test]
fn commands_without_response_keys() {
    for rt in [
        RequestType::InstallProfile,
        RequestType::EraseDevice,
        RequestType::Other("Future".into()),
    ] {
        assert_eq!(
            CommandResult::parse(&rt, &report("")).unwrap(),
            CommandResult::Done(rt.clone())
        );
    }
}

#[test]
fn wrong_shapes_are_typed_errors() {
    assert!(matches!(
        DeviceInformationResponse::from_report(&report("")),
        Err(AppleError::MissingField {
            key: "QueryResponses",
            ..
        })
    ));
    assert!(matches!(
        ProfileListResponse::from_report(&report("<key>ProfileList</key><string>x</string>")),
        Err(AppleError::WrongType { .. })
    ));
    assert!(matches!(
        CertificateListResponse::from_report(&report(
            "<key>CertificateList</key><array><string>x</string></array>"
        )),
        Err(AppleError::WrongType { .. })
    ));
    let echoed = report("<key>RequestType</key><string>SecurityInfo</string>");
    assert!(matches!(
        CommandResult::parse(&RequestType::ProfileList, &echoed),
        Err(AppleError::ResponseTypeMismatch { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn response_parsing_never_panics(
        which in 0usize..5,
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..6),
        rt in 0usize..8,
    ) {
        let bodies = [PROFILE_LIST, SECURITY_INFO, APPS, CERTS, SETTINGS];
        let mut xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>UDID</key><string>U</string><key>CommandUUID</key><string>c</string><key>Status</key><string>Acknowledged</string>{}</dict></plist>"#,
            bodies[which]
        ).into_bytes();
        for (at, b) in edits {
            let i = at.index(xml.len());
            xml[i] = b;
        }
        let types = [
            RequestType::ProfileList, RequestType::SecurityInfo, RequestType::InstalledApplicationList,
            RequestType::CertificateList, RequestType::Settings, RequestType::DeviceInformation,
            RequestType::DeviceLock, RequestType::InstallApplication,
        ];
        if let Ok(DeviceMessage::Report(r)) = decode(&xml) {
            let _ = CommandResult::parse(&types[rt], &r);
        }
    }
}
