//! Hostile input for the android side.
//!
//! NFC provisioning records (Properties text), QR payloads (JSON), managed
//! configurations checked against a restrictions schema, and the XML the
//! agent's packaging reads (restrictions, resources, manifests). Each test
//! runs a crafted input at size N and 2N: what the parser allocates must
//! grow about linearly (a quadratic loop would also make its work grow four
//! times, but allocation is what the meter counts; the quadratic loops found
//! here rebuilt strings, so both show).

use mdm_android::{
    AndroidError, AndroidManifest, ProvisioningPayload, Resources, RestrictionSchema,
};
use serde_json::{Map, Value, json};

use crate::{Cost, MIB, measure};

/// Runs `run` on `make(n)` and `make(2n)`; asserts the larger costs at most
/// `2 × 1.5` times the smaller (linear, with slack for hash tables and
/// vectors doubling) and less than `per_byte` allocated bytes per input byte.
///
/// The meter counts the whole process, so another test building its input
/// on the other thread adds to a measurement: each size is measured three
/// times and the least kept (noise only ever adds).
fn assert_linear<I, T>(
    what: &str,
    n: usize,
    per_byte: usize,
    make: impl Fn(usize) -> (I, usize),
    run: impl Fn(&I) -> T,
    check: impl Fn(&T),
) {
    let mut costs: Vec<(usize, Cost)> = Vec::new();
    for size in [n, 2 * n] {
        let (input, len) = make(size);
        let mut cost = Cost {
            allocated: usize::MAX,
        };
        for _ in 0..3 {
            let (out, once) = measure(512 * MIB, || run(&input));
            check(&out);
            cost.allocated = cost.allocated.min(once.allocated);
        }
        println!(
            "{what}: n = {size}, {len} input bytes, {} bytes allocated",
            cost.allocated
        );
        assert!(
            cost.allocated < per_byte * len.max(1) + MIB,
            "{what}: {} bytes allocated for {len} bytes of input",
            cost.allocated
        );
        costs.push((size, cost));
    }
    let (small, large) = (costs[0].1.allocated, costs[1].1.allocated);
    assert!(
        large <= small * 3 + 64 * 1024,
        "{what}: allocation grew from {small} to {large} when the input doubled"
    );
}

fn nfc_text(keys: usize) -> (String, usize) {
    let mut text = String::from(
        "android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME=io.mdmtoolkit.agent/.AdminReceiver\n",
    );
    for i in 0..keys {
        text.push_str(&format!("android.app.extra.PROVISIONING_X_{i}=value {i}\n"));
    }
    // Every key again: duplicates replace earlier values (found by index).
    for i in 0..keys {
        text.push_str(&format!("android.app.extra.PROVISIONING_X_{i}=again {i}\n"));
    }
    let len = text.len();
    (text, len)
}

#[test]
fn forty_thousand_nfc_properties_cost_linear() {
    let _alone = crate::alone();
    assert_linear(
        "NFC properties",
        40_000,
        40,
        nfc_text,
        |text| ProvisioningPayload::parse_nfc_properties(text),
        |out| match out {
            Ok(payload) => assert!(payload.other.len() >= 40_000),
            Err(e) => panic!("{e}"),
        },
    );
}

#[test]
fn nfc_admin_extras_with_forty_thousand_keys_cost_linear() {
    let _alone = crate::alone();
    assert_linear(
        "NFC admin extras",
        40_000,
        40,
        |keys| {
            let inner: String = (0..keys).map(|i| format!("k{i}=v{i}\\n")).collect();
            let text = format!(
                "a.a.e.PDACN=io.mdmtoolkit.agent/.AdminReceiver\na.a.e.PAEB={inner}{inner}\n"
            );
            let len = text.len();
            (text, len)
        },
        |text| ProvisioningPayload::parse_nfc_properties(text),
        |out| match out {
            Ok(payload) => assert!(payload.admin_extras.other.len() >= 40_000),
            Err(e) => panic!("{e}"),
        },
    );
}

#[test]
fn deep_qr_admin_extras_with_long_keys_cost_linear() {
    let _alone = crate::alone();
    // 100 nested objects under 5,000-byte keys, then n entries at the
    // bottom: every entry used to format its full 500 kB path.
    assert_linear(
        "QR nested admin extras",
        5_000,
        40,
        |entries| {
            let key = "k".repeat(5_000);
            let mut inner = Map::new();
            for i in 0..entries {
                inner.insert(format!("e{i}"), Value::from(i));
            }
            let mut value = Value::Object(inner);
            for _ in 0..100 {
                let mut level = Map::new();
                level.insert(key.clone(), value);
                value = Value::Object(level);
            }
            let payload = json!({
                "android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME":
                    "io.mdmtoolkit.agent/.AdminReceiver",
                "android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE": { "deep": value },
            });
            let text = payload.to_string();
            let len = text.len();
            (text, len)
        },
        |text| ProvisioningPayload::parse_qr_json(text),
        |out| assert!(out.is_ok(), "{out:?}"),
    );
}

fn restrictions_xml(keys: usize, entry_values: usize) -> String {
    let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
    let mut xml = format!("<restrictions {ns}>");
    for i in 0..keys {
        xml.push_str(&format!(
            r#"<restriction android:key="k{i}" android:restrictionType="string"/>"#
        ));
    }
    if entry_values > 0 {
        xml.push_str(
            r#"<restriction android:key="pick" android:restrictionType="multi-select" android:entries="@array/labels" android:entryValues="@array/values"/>"#,
        );
    }
    xml.push_str("</restrictions>");
    xml
}

fn resources_xml(entry_values: usize) -> String {
    let items: String = (0..entry_values)
        .map(|i| format!("<item>v{i}</item>"))
        .collect();
    format!(
        "<resources><string-array name=\"labels\">{items}</string-array>\
         <string-array name=\"values\">{items}</string-array></resources>"
    )
}

#[test]
fn forty_thousand_values_against_forty_thousand_keys_cost_linear() {
    let _alone = crate::alone();
    assert_linear(
        "restriction values by key",
        40_000,
        60,
        |n| {
            let schema = RestrictionSchema::parse_xml(&restrictions_xml(n, 0))
                .unwrap_or_else(|e| panic!("{e}"));
            let values: Map<String, Value> = (0..n)
                .rev()
                .map(|i| (format!("k{i}"), Value::from(format!("value {i}"))))
                .collect();
            let len = Value::Object(values.clone()).to_string().len();
            ((schema, Value::Object(values)), len)
        },
        |(schema, values)| schema.validate_values(values, &Resources::new()),
        |out| assert!(out.is_ok(), "{out:?}"),
    );
}

#[test]
fn forty_thousand_choices_against_forty_thousand_entry_values_cost_linear() {
    let _alone = crate::alone();
    assert_linear(
        "multi-select values",
        40_000,
        60,
        |n| {
            let schema = RestrictionSchema::parse_xml(&restrictions_xml(0, n))
                .unwrap_or_else(|e| panic!("{e}"));
            let resources =
                Resources::parse_xml(&resources_xml(n)).unwrap_or_else(|e| panic!("{e}"));
            // Each value at the end of the list, and a stray last.
            let mut picks: Vec<Value> =
                (0..n).rev().map(|i| Value::from(format!("v{i}"))).collect();
            picks.push(Value::from("not an entry value"));
            let values = json!({ "pick": picks });
            let len = values.to_string().len();
            ((schema, resources, values), len)
        },
        |(schema, resources, values)| schema.validate_values(values, resources),
        |out| match out {
            Err(AndroidError::InvalidRestrictionValue { key, reason }) => {
                assert_eq!(key, "pick");
                assert!(
                    reason.contains("not an entry value") && reason.len() < 1000,
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        },
    );
}

#[test]
fn a_bundle_array_of_forty_thousand_items_indexes_its_schema_once() {
    let _alone = crate::alone();
    assert_linear(
        "bundle_array items",
        20_000,
        60,
        |n| {
            let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
            let fields: String = (0..200)
                .map(|i| format!(r#"<restriction android:key="f{i}" android:restrictionType="choice" android:entries="@array/labels" android:entryValues="@array/values"/>"#))
                .collect();
            let xml = format!(
                r#"<restrictions {ns}><restriction android:key="items" android:restrictionType="bundle_array"><restriction android:key="item" android:restrictionType="bundle">{fields}</restriction></restriction></restrictions>"#
            );
            let schema = RestrictionSchema::parse_xml(&xml).unwrap_or_else(|e| panic!("{e}"));
            let resources =
                Resources::parse_xml(&resources_xml(2_000)).unwrap_or_else(|e| panic!("{e}"));
            let items: Vec<Value> = (0..n)
                .map(|i| json!({ format!("f{}", i % 200): format!("v{}", i % 2_000) }))
                .collect();
            let values = json!({ "items": items });
            let len = values.to_string().len();
            ((schema, resources, values), len)
        },
        |(schema, resources, values)| schema.validate_values(values, resources),
        |out| assert!(out.is_ok(), "{out:?}"),
    );
}

#[test]
fn a_multi_select_default_of_forty_thousand_values_is_checked_linearly() {
    let _alone = crate::alone();
    assert_linear(
        "multi-select defaults",
        40_000,
        60,
        |n| {
            let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
            let xml = format!(
                r#"<restrictions {ns}><restriction android:key="pick" android:restrictionType="multi-select" android:entries="@array/labels" android:entryValues="@array/values" android:defaultValue="@array/defaults"/></restrictions>"#
            );
            let schema = RestrictionSchema::parse_xml(&xml).unwrap_or_else(|e| panic!("{e}"));
            let items: String = (0..n).map(|i| format!("<item>v{i}</item>")).collect();
            let reversed: String = (0..n).rev().map(|i| format!("<item>v{i}</item>")).collect();
            let text = format!(
                "<resources><string-array name=\"labels\">{items}</string-array>\
                 <string-array name=\"values\">{items}</string-array>\
                 <string-array name=\"defaults\">{reversed}</string-array></resources>"
            );
            let resources = Resources::parse_xml(&text).unwrap_or_else(|e| panic!("{e}"));
            ((schema, resources), text.len())
        },
        |(schema, resources)| schema.check_resources(resources),
        |out| assert!(out.is_ok(), "{out:?}"),
    );
}

#[test]
fn deep_restrictions_with_long_keys_are_refused_cheaply() {
    let _alone = crate::alone();
    // Nesting past the reader's depth limit, under 20 kB keys: refused
    // without building a path per level.
    let ns = r#"xmlns:android="http://schemas.android.com/apk/res/android""#;
    let key = "b".repeat(20_000);
    let open = format!(r#"<restriction android:key="{key}" android:restrictionType="bundle">"#)
        .repeat(100);
    let close = "</restriction>".repeat(100);
    let xml = format!("<restrictions {ns}>{open}{close}</restrictions>");
    let (result, cost) = measure(256 * MIB, || RestrictionSchema::parse_xml(&xml));
    let error = result.map(|_| ()).map_err(|e| e.to_string());
    assert!(
        error.as_ref().is_err_and(|e| e.contains("deeper")),
        "{error:?}"
    );
    println!(
        "deep restrictions, {} bytes: {} bytes allocated",
        xml.len(),
        cost.allocated
    );
    assert_allocated_below(cost, 8 * xml.len());

    // Just within the limit, every level valid: the check builds no path.
    let open =
        format!(r#"<restriction android:key="{key}" android:restrictionType="bundle">"#).repeat(60);
    let close = "</restriction>".repeat(60);
    let xml = format!("<restrictions {ns}>{open}{close}</restrictions>");
    let (result, cost) = measure(256 * MIB, || RestrictionSchema::parse_xml(&xml));
    assert!(result.is_ok(), "{result:?}");
    println!(
        "60 levels, {} bytes: {} bytes allocated",
        xml.len(),
        cost.allocated
    );
    assert_allocated_below(cost, 8 * xml.len());
}

#[test]
fn thousands_of_namespace_declarations_are_refused() {
    let _alone = crate::alone();
    // quick-xml resolves a prefix by scanning the bindings in scope, and
    // refuses more than 128 of them: the scan stays short.
    let declarations: String = (0..20_000)
        .map(|i| format!(r#" xmlns:p{i}="urn:{i}""#))
        .collect();
    let attributes: String = (0..20_000).map(|i| format!(r#" p0:a{i}="""#)).collect();
    let xml = format!("<restrictions{declarations}{attributes}/>");
    let (result, cost) = measure(256 * MIB, || RestrictionSchema::parse_xml(&xml));
    match result {
        Err(AndroidError::MalformedXml { reason, .. }) => {
            assert!(reason.contains("namespace bindings"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_allocated_below(cost, 8 * xml.len());
}

#[test]
fn a_large_manifest_costs_linear() {
    let _alone = crate::alone();
    assert_linear(
        "manifest elements",
        20_000,
        200,
        |n| {
            let permissions: String = (0..n)
                .map(|i| format!(r#"<uses-permission android:name="p.{i}"/>"#))
                .collect();
            let xml = format!(
                r#"<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="io.x.y" android:versionCode="1" android:versionName="1">{permissions}<application/></manifest>"#
            );
            let len = xml.len();
            (xml, len)
        },
        |xml| AndroidManifest::parse_xml(xml),
        |out| assert!(out.is_ok(), "{out:?}"),
    );
}

/// Formats `value` with `{:?}` and `{:#?}` and asserts no secret shows.
fn assert_hidden(what: &str, value: &impl std::fmt::Debug, secrets: &[&str]) {
    for text in [format!("{value:?}"), format!("{value:#?}")] {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
        }
    }
}

#[test]
fn secrets_do_not_show_in_debug() {
    let _alone = crate::alone();
    use mdm_android::{
        AgentConfiguration, AgentConnection, ComponentName, PackageChecksum, PackageDownload,
        WifiNetwork, WifiSecurity,
    };
    use mdm_model::{ServerAddress, Sha256Digest};
    const TOKEN: &str = "SECRETtokSECRETtokSECRETtokSECRETtokSECRETw";
    const PASSWORD: &str = "wifi-SECRET-p4ss";
    const COOKIE: &str = "session=SECRET-c00kie";
    const EAP_PASSWORD: &str = "eap-SECRET-0912";
    const OTHER_TOKEN: &str = "dpc-SECRET-t0ken";
    const ACTIVATION: &str = "AB12C-DE34F-GH56J-KL78M";
    const HIDDEN_VALUE: &str = "api-SECRET-k3y";

    let component = ComponentName::parse("io.mdmtoolkit.agent/.AdminReceiver")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut download = PackageDownload::new(
        "https://mdm.example.com/agent.apk",
        PackageChecksum::Package(Sha256Digest::of(b"apk")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    download.cookie_header = Some(COOKIE.into());
    let connection = AgentConnection {
        server: ServerAddress::parse("mdm.example.com:13292").unwrap_or_else(|e| panic!("{e}")),
        enrollment_token: mdm_model::InvitationToken::parse(TOKEN)
            .unwrap_or_else(|e| panic!("{e}")),
        ca_fingerprint: Sha256Digest::of(b"ca"),
    };
    let mut payload = ProvisioningPayload::for_agent(component, download, connection);
    payload.wifi = Some(WifiNetwork {
        ssid: "Corp".into(),
        hidden: false,
        security: WifiSecurity::Eap,
        password: Some(PASSWORD.into()),
    });
    payload.other.insert(
        "android.app.extra.PROVISIONING_WIFI_EAP_PASSWORD".into(),
        mdm_android::BundleValue::String(EAP_PASSWORD.into()),
    );
    payload.admin_extras.other.insert(
        "com.example.dpc.ENROLLMENT_TOKEN".into(),
        mdm_android::BundleValue::String(OTHER_TOKEN.into()),
    );
    let secrets = [TOKEN, PASSWORD, COOKIE, EAP_PASSWORD, OTHER_TOKEN];
    assert_hidden("ProvisioningPayload", &payload, &secrets);
    assert_hidden("AdminExtras", &payload.admin_extras, &secrets);
    assert_hidden("PackageDownload", &payload.download, &secrets);
    assert_hidden("WifiNetwork", &payload.wifi, &secrets);
    assert_hidden(
        "AgentConnection",
        &payload.admin_extras.connection,
        &secrets,
    );
    // Read back from the wire forms: the same.
    for parsed in [
        payload
            .to_qr_json()
            .map(|t| ProvisioningPayload::parse_qr_json(&t)),
        payload
            .to_nfc_properties()
            .map(|t| ProvisioningPayload::parse_nfc_properties(&t)),
    ] {
        let parsed = parsed.and_then(|p| p).unwrap_or_else(|e| panic!("{e}"));
        assert_hidden("parsed ProvisioningPayload", &parsed, &secrets);
    }

    let configuration = AgentConfiguration::parse(
        json!({
            "schemaVersion": 1,
            "syncIntervalSeconds": 3600,
            "license": { "activationCode": ACTIVATION, "expiresAt": "2027-01-01T00:00:00Z" },
            "applications": [{
                "packageName": "com.example.app",
                "installType": "FORCE_INSTALLED",
                "managedConfiguration": { "api_key": HIDDEN_VALUE },
            }],
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_hidden(
        "AgentConfiguration",
        &configuration,
        &[ACTIVATION, HIDDEN_VALUE],
    );
    assert!(format!("{configuration:?}").contains("api_key"));
}

/// Asserts a measured call allocated less than `bound` bytes.
fn assert_allocated_below(cost: Cost, bound: usize) {
    assert!(
        cost.allocated < bound,
        "{} bytes allocated, bound {bound}",
        cost.allocated
    );
}

// ------------------------------------------------------- forged syncs

/// A sync that names another device — with no proof, a guessed credential,
/// or garbage in its `Authorization` — is refused before it can touch that
/// device, cheaply and without echoing the secret it carried.
#[test]
fn forged_syncs_are_refused_cheaply() {
    let _alone = crate::alone();
    use mdm_android::AndroidEndpoint;
    use mdm_model::{
        AgentCredential, EmailAddress, EnrollmentRequest, InstallSource, OsVersion, Platform,
        Workspace,
    };
    use rand_core::SeedableRng;
    let now = time::macros::datetime!(2026-12-01 09:00 UTC);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let mut ws = Workspace::new("acme", "ACME", None, now).unwrap();
    let alice = ws
        .add_user(
            "alice",
            Some(EmailAddress::parse("alice@acme.example").unwrap()),
            now,
        )
        .unwrap();
    let invitation = ws.issue_invitation(alice, now, &mut rng).unwrap();
    let request = EnrollmentRequest {
        platform: Platform::Android,
        os_version: OsVersion::new(14, 0, 0),
        model: "Pixel".into(),
        identification_number: None,
        install_source: InstallSource::StandalonePackage,
    };
    let device = ws.enroll(&invitation.token, request, now).unwrap();
    let body = format!(
        r#"{{"deviceId": {}, "agent": {{"version": "1.0"}}}}"#,
        serde_json::to_string(&device).unwrap()
    );
    let guessed = AgentCredential::generate(&mut rng).expose();
    let mut endpoint = AndroidEndpoint::default();
    let huge = "A".repeat(4 * MIB);
    for header in [
        String::new(),
        format!("Bearer {guessed}"),
        format!("Basic {guessed}"),
        format!("Bearer {huge}"),
    ] {
        let (result, cost) = measure(16 * MIB, || {
            endpoint.handle_sync_json(&mut ws, &header, body.as_bytes(), now, &mut rng)
        });
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                AndroidError::AgentNotAuthenticated { .. }
                    | AndroidError::MalformedAuthorization { .. }
            ),
            "{error}"
        );
        assert!(!format!("{error} {error:?}").contains(&guessed));
        assert!(cost.allocated < 64 * 1024, "{header:.20}: {cost:?}");
    }
    assert_eq!(
        ws.device(device).unwrap().state(),
        mdm_model::DeviceState::Enrolling
    );
}
