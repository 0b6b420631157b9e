//! Provisioning payloads through the public API: short NFC aliases, other
//! vendors' QR payloads (AOSP, Intune, Headwind), refusals that name the
//! key, and parsers that never panic.

use mdm_android::{
    PackageChecksum, ProvisioningPayload, WifiSecurity, provisioning_extras as extras,
    provisioning_keys as keys,
};
use mdm_model::Sha256Digest;
use proptest::prelude::*;
use serde_json::Value;

use super::fixtures::vector;

#[test]
fn nfc_accepts_short_aliases() {
    let text =
        "a.a.e.PDACN=io.mdmtoolkit.agent/.AdminReceiver\na.a.e.PLASAE=TRUE\na.a.e.PDAMVC=7\n";
    let parsed = ProvisioningPayload::parse_nfc_properties(text);
    // A minimum version code without a download location is refused, naming the key.
    let error = parsed.unwrap_err().to_string();
    assert!(error.contains(keys::MINIMUM_VERSION_CODE), "{error}");
    let parsed = ProvisioningPayload::parse_nfc_properties(
        "a.a.e.PDACN=io.mdmtoolkit.agent/.AdminReceiver\na.a.e.PLASAE=TRUE\n",
    )
    .unwrap();
    assert_eq!(parsed.leave_all_system_apps_enabled, Some(true));
}

#[test]
fn aosp_readme_example_parses_and_round_trips() {
    let Some(text) = vector("aosp_managedprovisioning_readme_qr.json") else {
        return;
    };
    let payload = ProvisioningPayload::parse_qr_json(&text).unwrap();
    assert_eq!(payload.admin_component.package(), "com.afwsamples.testdpc");
    assert_eq!(
        payload.admin_component.class(),
        "com.afwsamples.testdpc.DeviceAdminReceiver"
    );
    let download = payload.download.as_ref().unwrap();
    assert_eq!(
        download.location(),
        "https://testdpc-latest-apk.appspot.com/preview"
    );
    let PackageChecksum::Signature(signature) = download.checksum else {
        panic!("expected a signature checksum");
    };
    assert_eq!(
        signature.to_base64url(),
        "gJD2YwtOiWJHkSMkkIfLRlj-quNqG1fb6v100QmzM9w"
    );
    // Our output has the same keys and JSON types as the AOSP example; only
    // the checksum's padding differs.
    let ours: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
    let theirs: Value = serde_json::from_str(&text).unwrap();
    let ours = ours.as_object().unwrap();
    let theirs = theirs.as_object().unwrap();
    assert_eq!(ours.keys().collect::<Vec<_>>(), {
        let mut k: Vec<_> = theirs.keys().collect();
        k.sort();
        k
    });
    for (key, value) in theirs {
        let mine = &ours[key];
        assert_eq!(
            std::mem::discriminant(mine),
            std::mem::discriminant(value),
            "{key}"
        );
        if key != keys::SIGNATURE_CHECKSUM {
            assert_eq!(mine, value, "{key}");
        }
    }
    assert_eq!(
        ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap(),
        payload
    );
}

#[test]
fn other_vendors_payloads_parse() {
    for name in [
        "intune_amapi_clouddpc_dpc_extras.json",
        "headwind_qr_payload.synthesized.json",
    ] {
        let Some(text) = vector(name) else {
            return;
        };
        let payload = ProvisioningPayload::parse_qr_json(&text).unwrap();
        assert!(payload.admin_extras.connection.is_none(), "{name}");
        assert!(!payload.admin_extras.other.is_empty(), "{name}");
        let again = ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap();
        assert_eq!(again, payload, "{name}");
    }
    let headwind = ProvisioningPayload::parse_qr_json(
        &vector("headwind_qr_payload.synthesized.json").unwrap_or_default(),
    );
    if let Ok(headwind) = headwind {
        let wifi = headwind.wifi.unwrap();
        assert_eq!(wifi.security, WifiSecurity::Wpa);
        assert_eq!(headwind.skip_encryption, Some(true));
        assert_eq!(
            headwind.download.unwrap().checksum,
            PackageChecksum::Package(Sha256Digest::of(b"example apk bytes"))
        );
    }
}

#[test]
fn refusals_name_the_key() {
    let base = r#""android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"io.mdmtoolkit.agent/.AdminReceiver""#;
    let rows: &[(String, &str)] = &[
        ("[]".into(), "not a JSON object"),
        ("{".into(), "not JSON"),
        ("{}".into(), keys::ADMIN_COMPONENT_NAME),
        (
            r#"{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"nopackage"}"#.into(),
            "package/class",
        ),
        (
            r#"{"android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":"x/.Y"}"#.into(),
            "package name",
        ),
        (
            format!(
                r#"{{{base},"{}":"https://a.example/x.apk"}}"#,
                keys::DOWNLOAD_LOCATION
            ),
            "CHECKSUM",
        ),
        (
            format!(
                r#"{{{base},"{}":"http://a.example/x.apk","{}":"{}"}}"#,
                keys::DOWNLOAD_LOCATION,
                keys::PACKAGE_CHECKSUM,
                Sha256Digest::of(b"").to_base64url()
            ),
            "https://",
        ),
        (
            format!(
                r#"{{{base},"{}":"https://a.example/x.apk","{}":"{}"}}"#,
                keys::DOWNLOAD_LOCATION,
                keys::PACKAGE_CHECKSUM,
                Sha256Digest::of(b"").to_hex()
            ),
            "hex digest",
        ),
        (
            format!(r#"{{{base},"{}":"true"}}"#, keys::SKIP_ENCRYPTION),
            keys::SKIP_ENCRYPTION,
        ),
        (
            format!(r#"{{{base},"{}":true}}"#, keys::ADMIN_EXTRAS_BUNDLE),
            keys::ADMIN_EXTRAS_BUNDLE,
        ),
        (
            format!(r#"{{{base},"{}":"Japan"}}"#, keys::LOCALE),
            keys::LOCALE,
        ),
        (
            format!(r#"{{{base},"{}":"Asia Tokyo"}}"#, keys::TIME_ZONE),
            keys::TIME_ZONE,
        ),
        (
            format!(
                r#"{{{base},"{}":"x","{}":"WPA3"}}"#,
                keys::WIFI_SSID,
                keys::WIFI_SECURITY_TYPE
            ),
            "WPA3",
        ),
        (
            format!(r#"{{{base},"{}":"secret"}}"#, keys::WIFI_PASSWORD),
            "without an SSID",
        ),
        (
            format!(
                r#"{{{base},"{}":{{"{}":"mdm.example.com"}}}}"#,
                keys::ADMIN_EXTRAS_BUNDLE,
                extras::SERVER_HOST
            ),
            extras::SERVER_PORT,
        ),
    ];
    for (input, needle) in rows {
        let error = ProvisioningPayload::parse_qr_json(input)
            .unwrap_err()
            .to_string();
        assert!(error.contains(needle), "{input}: {error}");
    }
}

proptest! {
    #[test]
    fn qr_parser_never_panics(text in "\\PC{0,300}") {
        let _ = ProvisioningPayload::parse_qr_json(&text);
    }

    #[test]
    fn qr_parser_never_panics_on_json_objects(
        entries in proptest::collection::btree_map(
            prop_oneof![
                Just(keys::ADMIN_COMPONENT_NAME.to_owned()),
                Just(keys::DOWNLOAD_LOCATION.to_owned()),
                Just(keys::PACKAGE_CHECKSUM.to_owned()),
                Just(keys::ADMIN_EXTRAS_BUNDLE.to_owned()),
                Just(keys::WIFI_SSID.to_owned()),
                Just(keys::MINIMUM_VERSION_CODE.to_owned()),
                "\\PC{0,10}",
            ],
            prop_oneof![
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                "\\PC{0,40}".prop_map(Value::from),
                Just(serde_json::json!({"io.mdmtoolkit.agent.SERVER_HOST": "h", "io.mdmtoolkit.agent.SERVER_PORT": 1})),
            ],
            0..6,
        )
    ) {
        let text = serde_json::to_string(&entries).unwrap();
        if let Ok(payload) = ProvisioningPayload::parse_qr_json(&text) {
            let again = ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap();
            prop_assert_eq!(again, payload);
        }
    }

    #[test]
    fn nfc_parser_never_panics(text in "\\PC{0,300}") {
        let _ = ProvisioningPayload::parse_nfc_properties(&text);
    }
}
