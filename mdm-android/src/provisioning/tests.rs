//! Unit tests of the payload through both wire forms: the fixture payload,
//! the checks that read our output with the crate's Properties reader or
//! with Python. (Public-API tests are in `tests/integration/provisioning.rs`.)

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::{ServerAddress, Sha256Digest, properties};

pub(crate) fn sample_payload() -> ProvisioningPayload {
    let mut payload = ProvisioningPayload::new(
        ComponentName::parse("io.mdmtoolkit.agent/.AdminReceiver").unwrap(),
    );
    let mut download = PackageDownload::new(
        "https://mdm.example.com/agent/mdm-agent-1.4.0.apk",
        PackageChecksum::Package(Sha256Digest::of(b"example apk bytes")),
    )
    .unwrap();
    download.minimum_version_code = Some(10400);
    payload.download = Some(download);
    payload.admin_extras.connection = Some(AgentConnection {
        server: ServerAddress::parse("mdm.example.com:13292").unwrap(),
        enrollment_token: mdm_model::InvitationToken::parse(
            "owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo",
        )
        .unwrap(),
        ca_fingerprint: Sha256Digest::of(b"example CA certificate"),
    });
    payload.wifi = Some(WifiNetwork {
        ssid: "Corp WiFi".into(),
        hidden: false,
        security: WifiSecurity::Wpa,
        password: Some("p=ss:word#1".into()),
    });
    payload.locale = Some("ja_JP".into());
    payload.time_zone = Some("Asia/Tokyo".into());
    payload.leave_all_system_apps_enabled = Some(true);
    payload
}

#[test]
fn qr_json_has_the_exact_keys_and_types() {
    let payload = sample_payload();
    let json: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
    assert_eq!(
        json[keys::ADMIN_COMPONENT_NAME],
        "io.mdmtoolkit.agent/io.mdmtoolkit.agent.AdminReceiver"
    );
    let checksum = json[keys::PACKAGE_CHECKSUM].as_str().unwrap();
    assert_eq!(checksum.len(), 43, "unpadded");
    assert!(!checksum.contains('='));
    assert_eq!(json[keys::MINIMUM_VERSION_CODE], 10400);
    assert_eq!(json[keys::LEAVE_ALL_SYSTEM_APPS_ENABLED], true);
    assert_eq!(json[keys::WIFI_HIDDEN], false);
    let extras = &json[keys::ADMIN_EXTRAS_BUNDLE];
    assert_eq!(extras[extras::SERVER_HOST], "mdm.example.com");
    assert_eq!(extras[extras::SERVER_PORT], 13292);
    assert_eq!(
        extras[extras::ENROLLMENT_TOKEN],
        "owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo"
    );
    assert_eq!(extras[extras::CA_FINGERPRINT].as_str().unwrap().len(), 64);
    assert_eq!(
        ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap(),
        payload
    );
    insta::assert_snapshot!("qr_payload", payload.to_qr_json_pretty().unwrap());
}

/// Python's `json` reads our QR text and finds the JSON types
/// ManagedProvisioning expects for each key.
#[test]
fn python_json_agrees_on_the_types() {
    let script = r#"
import json, sys
d = json.loads(sys.stdin.buffer.read().decode('utf-8'))
P = 'android.app.extra.PROVISIONING_'
types = {
    'DEVICE_ADMIN_COMPONENT_NAME': str, 'DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION': str,
    'DEVICE_ADMIN_PACKAGE_CHECKSUM': str, 'DEVICE_ADMIN_MINIMUM_VERSION_CODE': int,
    'ADMIN_EXTRAS_BUNDLE': dict, 'WIFI_SSID': str, 'WIFI_HIDDEN': bool,
    'WIFI_SECURITY_TYPE': str, 'WIFI_PASSWORD': str, 'LOCALE': str, 'TIME_ZONE': str,
    'LEAVE_ALL_SYSTEM_APPS_ENABLED': bool,
}
for k, v in d.items():
    assert k.startswith(P), k
    t = types[k[len(P):]]
    assert type(v) is t, (k, type(v))
import base64
c = d[P + 'DEVICE_ADMIN_PACKAGE_CHECKSUM']
assert len(base64.urlsafe_b64decode(c + '=' * (-len(c) % 4))) == 32
assert type(d[P + 'ADMIN_EXTRAS_BUNDLE']['io.mdmtoolkit.agent.SERVER_PORT']) is int
print(len(d))
"#;
    let qr = sample_payload().to_qr_json().unwrap();
    if let Some(out) = crate::android_xml::python3(script, &qr) {
        assert_eq!(out.trim(), "12");
    }
}

#[test]
fn nfc_form_has_the_same_keys_as_strings() {
    let payload = sample_payload();
    let text = payload.to_nfc_properties().unwrap();
    let pairs = properties::load(&text).unwrap();
    let json: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
    let qr_keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    let nfc_keys: Vec<&String> = pairs.iter().map(|(k, _)| k).collect();
    assert_eq!(qr_keys, nfc_keys);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get(keys::MINIMUM_VERSION_CODE), "10400");
    assert_eq!(get(keys::LEAVE_ALL_SYSTEM_APPS_ENABLED), "true");
    let extras = properties::load(&get(keys::ADMIN_EXTRAS_BUNDLE)).unwrap();
    assert!(extras.contains(&(extras::SERVER_PORT.to_owned(), "13292".to_owned())));
    assert_eq!(
        ProvisioningPayload::parse_nfc_properties(&text).unwrap(),
        payload
    );
    insta::assert_snapshot!("nfc_payload", text);
}

#[test]
fn for_agent_carries_the_connection() {
    let sample = sample_payload();
    let payload = ProvisioningPayload::for_agent(
        sample.admin_component.clone(),
        sample.download.clone().unwrap(),
        sample.admin_extras.connection.clone().unwrap(),
    );
    let json: Value = serde_json::from_str(&payload.to_qr_json().unwrap()).unwrap();
    assert_eq!(json[keys::LEAVE_ALL_SYSTEM_APPS_ENABLED], true);
    assert_eq!(
        json[keys::ADMIN_EXTRAS_BUNDLE][extras::SERVER_HOST],
        "mdm.example.com"
    );
    let back = ProvisioningPayload::parse_qr_json(&payload.to_qr_json().unwrap()).unwrap();
    assert_eq!(back.admin_extras.connection, sample.admin_extras.connection);
}

#[test]
fn nfc_refuses_nested_bundles() {
    let mut payload = sample_payload();
    payload
        .admin_extras
        .other
        .insert("nested".into(), BundleValue::Bundle(BTreeMap::new()));
    let error = payload.to_nfc_properties().unwrap_err().to_string();
    assert!(error.contains("nested"), "{error}");
    assert!(payload.to_qr_json().is_ok());
}

#[test]
fn token_and_password_are_redacted_in_debug() {
    let debug = format!("{:?}", sample_payload());
    assert!(!debug.contains("owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo"));
    assert!(!debug.contains("p=ss"));
}
