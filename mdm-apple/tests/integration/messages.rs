//! Device messages: the nanomdm captures, round trips, and never-panic
//! property tests over arbitrary and mutated input.

use mdm_apple::*;
use mdm_model::PushTopic;
use proptest::prelude::*;

use super::fixtures::{TOPIC, shared};

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(shared().join("vectors/nanomdm/mdm/testdata").join(name)).unwrap()
}

#[test]
fn authenticate_captures() {
    // (file, UDID, serial, OS, build, product, model, device name)
    let rows = [
        (
            "Authenticate.1.plist",
            "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69",
            "F5JM992LF193",
            "9.3.5",
            "13G36",
            "iPad2,5",
            None,
            None,
        ),
        (
            "Authenticate.2.plist",
            "66ADE930-5FDF-5EC4-8429-15640684C489",
            "C02MT66KFLHH",
            "10.12.6",
            "16G2136",
            "iMac14,2",
            Some("iMac14,2"),
            Some("Fruit"),
        ),
    ];
    for (file, udid, serial, os, build, product, model, name) in rows {
        let raw = vector(file);
        let DeviceMessage::Authenticate(m) = decode(&raw).unwrap() else {
            panic!("{file}: not Authenticate")
        };
        assert_eq!(m.raw, raw, "{file}");
        assert_eq!(m.topic.as_str(), TOPIC, "{file}");
        assert_eq!(m.device, AppleDeviceId::Udid(udid.into()), "{file}");
        assert_eq!(m.serial_number.as_deref(), Some(serial), "{file}");
        assert_eq!(m.os_version.as_deref(), Some(os), "{file}");
        assert_eq!(m.build_version.as_deref(), Some(build), "{file}");
        assert_eq!(m.product_name.as_deref(), Some(product), "{file}");
        assert_eq!(m.model.as_deref(), model, "{file}");
        assert_eq!(m.device_name.as_deref(), name, "{file}");
    }
}

#[test]
fn token_update_captures() {
    // (file, UDID, token hex, push magic, unlock token length)
    let rows = [
        (
            "TokenUpdate.1.plist",
            "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69",
            "47e8eec062c2f729ec1703c1b3e18f1971d85f00be76445d34080baa701b5f51",
            "CEFDF0BD-E342-4A27-8742-E930EA116B0A",
            Some(1288),
        ),
        (
            "TokenUpdate.2.plist",
            "66ADE930-5FDF-5EC4-8429-15640684C489",
            "1ba7c90066c50f77689a24f3a425caf68a300f729e88e460a9416022d5d642cc",
            "888CEB39-BFFA-40F6-89FA-B60752EB63C2",
            None,
        ),
    ];
    for (file, udid, token, magic, unlock_len) in rows {
        let raw = vector(file);
        let DeviceMessage::TokenUpdate(m) = decode(&raw).unwrap() else {
            panic!("{file}: not TokenUpdate")
        };
        assert_eq!(m.device, AppleDeviceId::Udid(udid.into()), "{file}");
        assert_eq!(m.topic.as_str(), TOPIC);
        assert_eq!(m.token.to_hex(), token, "{file}");
        assert_eq!(m.push_magic, PushMagic::new(magic).unwrap(), "{file}");
        assert_eq!(
            m.unlock_token.as_ref().map(|u| u.as_bytes().len()),
            unlock_len,
            "{file}"
        );
        assert_eq!(m.awaiting_configuration, Some(false));
        assert!(m.user.is_none());
        // The push for this device.
        let push = push_request(&m.topic, &m.token, &m.push_magic, &PushOptions::default());
        assert_eq!(push.path, format!("/3/device/{token}"));
        assert_eq!(push.body, format!("{{\"mdm\":\"{magic}\"}}").into_bytes());
    }
}

#[test]
fn device_information_capture() {
    let raw = vector("DeviceInformation.1.plist");
    let DeviceMessage::Report(r) = decode(&raw).unwrap() else {
        panic!("not a report")
    };
    assert_eq!(r.status, CommandStatus::Acknowledged);
    assert_eq!(
        r.command_uuid.as_ref().map(CommandUuid::as_str),
        Some("76eda240-5488-4989-8339-f2ae160113c4")
    );
    assert_eq!(r.request_type, Some(RequestType::DeviceInformation));
    assert_eq!(
        r.device,
        AppleDeviceId::Udid("66ADE930-5FDF-5EC4-8429-15640684C489".into())
    );
    let CommandResult::DeviceInformation(info) =
        CommandResult::parse(&RequestType::DeviceInformation, &r).unwrap()
    else {
        panic!("wrong result")
    };
    assert_eq!(info.string("HostName"), Some("fruit.example.com"));
    assert_eq!(
        info.string("UDID"),
        Some("66ADE930-5FDF-5EC4-8429-15640684C489")
    );
    // Asking for another type's response is a typed error.
    assert!(matches!(
        CommandResult::parse(&RequestType::ProfileList, &r),
        Err(AppleError::ResponseTypeMismatch { .. })
    ));
}

fn device() -> AppleDeviceId {
    AppleDeviceId::Udid("00008030-001A2D8E0C38802E".into())
}

fn topic() -> PushTopic {
    PushTopic::parse(TOPIC).unwrap()
}

fn sample_token_update() -> TokenUpdate {
    let mut t = TokenUpdate::new(
        topic(),
        device(),
        PushToken::new(vec![0xab; 32]).unwrap(),
        PushMagic::new("5A8F-magic").unwrap(),
    );
    t.unlock_token = Some(UnlockToken::new(vec![9; 64]));
    t.awaiting_configuration = Some(true);
    t
}

#[test]
fn built_messages_round_trip() {
    let mut auth = Authenticate::new(topic(), device());
    auth.serial_number = Some("C02XYZ".into());
    auth.os_version = Some("18.1".into());
    auth.product_name = Some("iPhone16,1".into());
    let DeviceMessage::Authenticate(a) = decode(&auth.to_xml().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(a.message, auth);

    let tu = sample_token_update();
    let DeviceMessage::TokenUpdate(t) = decode(&tu.to_xml().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(t.message, tu);

    let mut user = tu.clone();
    user.user = Some(UserChannel {
        user_id: Some("A1B2".into()),
        user_short_name: Some("jane".into()),
        ..Default::default()
    });
    let DeviceMessage::TokenUpdate(t) = decode(&user.to_xml().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(t.message, user);

    let co = CheckOut {
        topic: topic(),
        device: AppleDeviceId::EnrollmentId("ENR-1".into()),
    };
    let DeviceMessage::CheckOut(c) = decode(&co.to_xml().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(c.message, co);

    let idle = CommandReport::idle(device());
    let DeviceMessage::Report(r) = decode(&idle.to_xml().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(r.message, idle);

    let mut err = CommandReport::result(
        device(),
        CommandUuid::new("u-1").unwrap(),
        CommandStatus::Error,
        Default::default(),
    );
    err.error_chain = vec![ErrorChainItem {
        error_code: 12021,
        error_domain: "MCMDMErrorDomain".into(),
        localized_description: Some("Unknown command".into()),
        us_english_description: Some("Unknown command".into()),
    }];
    let DeviceMessage::Report(r) = decode(&err.to_xml().unwrap()).unwrap() else {
        panic!()
    };
    assert_eq!(r.message, err);
    assert_eq!(r.error_chain.first().map(|e| e.error_code), Some(12021));
}

#[test]
fn every_report_status_parses() {
    for (s, expected) in [
        ("Acknowledged", CommandStatus::Acknowledged),
        ("Error", CommandStatus::Error),
        ("CommandFormatError", CommandStatus::CommandFormatError),
        ("NotNow", CommandStatus::NotNow),
        ("Sleeping", CommandStatus::Other("Sleeping".into())),
    ] {
        let xml = format!(
            r#"<?xml version="1.0"?><plist version="1.0"><dict><key>UDID</key><string>X</string><key>Status</key><string>{s}</string><key>CommandUUID</key><string>c-1</string></dict></plist>"#
        );
        let DeviceMessage::Report(r) = decode(xml.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(r.status, expected);
    }
}

#[test]
fn typed_errors_for_bad_messages() {
    type Check = fn(&AppleError) -> bool;
    let cases: [(&str, Check); 7] = [
        ("not a plist", |e| {
            matches!(e, AppleError::MalformedPlist { .. })
        }),
        (r#"<plist version="1.0"><array/></plist>"#, |e| {
            matches!(e, AppleError::NotADictionary { .. })
        }),
        (
            r#"<plist version="1.0"><dict><key>A</key><string>b</string></dict></plist>"#,
            |e| matches!(e, AppleError::UnknownMessage),
        ),
        (
            r#"<plist version="1.0"><dict><key>MessageType</key><string>TokenUpdate</string><key>Topic</key><string>com.apple.mgmt.X</string><key>UDID</key><string>u</string><key>PushMagic</key><string>m</string><key>Token</key><string>not data</string></dict></plist>"#,
            |e| matches!(e, AppleError::WrongType { key, .. } if key == "Token"),
        ),
        (
            r#"<plist version="1.0"><dict><key>MessageType</key><string>Authenticate</string><key>Topic</key><string>com.example.other</string><key>UDID</key><string>u</string></dict></plist>"#,
            |e| matches!(e, AppleError::InvalidTopic { .. }),
        ),
        (
            r#"<plist version="1.0"><dict><key>MessageType</key><string>CheckOut</string><key>Topic</key><string>com.apple.mgmt.X</string></dict></plist>"#,
            |e| matches!(e, AppleError::MissingField { key: "UDID", .. }),
        ),
        (
            r#"<plist version="1.0"><dict><key>UDID</key><string>u</string><key>Status</key><string>Acknowledged</string></dict></plist>"#,
            |e| {
                matches!(
                    e,
                    AppleError::MissingField {
                        key: "CommandUUID",
                        ..
                    }
                )
            },
        ),
    ];
    for (input, check) in cases {
        let err = decode(input.as_bytes()).unwrap_err();
        assert!(check(&err), "{input}: {err:?}");
    }
    // A check-in type this crate does not model is data; the service refuses it.
    let other = r#"<plist version="1.0"><dict><key>MessageType</key><string>Frobnicate</string></dict></plist>"#;
    assert!(
        matches!(decode(other.as_bytes()).unwrap(), DeviceMessage::OtherCheckin { message_type, .. } if message_type == "Frobnicate")
    );
    // GetBootstrapToken is modelled (#17): without a device id it is refused.
    let bootstrap = r#"<plist version="1.0"><dict><key>MessageType</key><string>GetBootstrapToken</string></dict></plist>"#;
    assert!(matches!(
        decode(bootstrap.as_bytes()),
        Err(AppleError::MissingField {
            message: "GetBootstrapToken",
            key: "UDID"
        })
    ));
}

fn valid_messages() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "Authenticate.1.plist",
        "Authenticate.2.plist",
        "TokenUpdate.1.plist",
        "TokenUpdate.2.plist",
        "DeviceInformation.1.plist",
    ]
    .iter()
    .map(|f| vector(f))
    .collect();
    v.push(sample_token_update().to_xml().unwrap());
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_never_panics_on_mutated_messages(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<proptest::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let messages = valid_messages();
        let mut bytes = messages[which % messages.len()].clone();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let _ = decode(&bytes);
    }

    #[test]
    fn wrong_typed_values_are_typed_errors(which in 0usize..6, key_pick in any::<proptest::sample::Index>(), kind in 0u8..4) {
        let messages = valid_messages();
        let raw = &messages[which % messages.len()];
        let mut dict = plist::Value::from_reader(std::io::Cursor::new(raw)).unwrap().into_dictionary().unwrap();
        let keys: Vec<String> = dict.keys().cloned().collect();
        let key = keys[key_pick.index(keys.len())].clone();
        let replacement = match kind {
            0 => plist::Value::Integer(7.into()),
            1 => plist::Value::Boolean(true),
            2 => plist::Value::Array(vec![]),
            _ => plist::Value::Data(vec![1, 2]),
        };
        dict.insert(key, replacement);
        let mut out = Vec::new();
        plist::Value::Dictionary(dict).to_writer_xml(&mut out).unwrap();
        // Either still valid (the key tolerated that type) or a typed error.
        match decode(&out) {
            Ok(_) | Err(AppleError::WrongType { .. } | AppleError::MissingField { .. } | AppleError::InvalidTopic { .. }
                | AppleError::InvalidPushToken { .. } | AppleError::UnknownMessage | AppleError::InvalidUuid { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
        }
    }
}

#[test]
fn webhook_raw_payloads_decode_to_the_same_messages() {
    use base64::Engine;
    for (json, file) in [
        ("Authenticate.2.json", "Authenticate.2.plist"),
        ("DeviceInformation.1.json", "DeviceInformation.1.plist"),
    ] {
        let text = std::fs::read_to_string(
            shared()
                .join("vectors/nanomdm/service/webhook/testdata")
                .join(json),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let event = v.as_object().unwrap().values().next().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(event["raw_payload"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            decode(&raw).unwrap(),
            decode(&vector(file)).unwrap(),
            "{json}"
        );
    }
}

#[test]
fn deeply_nested_plists_do_not_overflow_the_stack() {
    for depth in [1_000usize, 100_000] {
        let mut xml = String::from(
            r#"<?xml version="1.0"?><plist version="1.0"><dict><key>Status</key><string>Idle</string><key>UDID</key><string>U</string><key>X</key>"#,
        );
        xml.push_str(&"<array>".repeat(depth));
        xml.push_str(&"</array>".repeat(depth));
        xml.push_str("</dict></plist>");
        assert!(
            matches!(
                decode(xml.as_bytes()),
                Err(AppleError::MalformedPlist { .. })
            ),
            "{depth}"
        );
    }
    // Binary plists too.
    let mut v = plist::Value::Array(vec![]);
    for _ in 0..200 {
        v = plist::Value::Array(vec![v]);
    }
    let mut d = plist::Dictionary::new();
    d.insert("Status".into(), "Idle".into());
    d.insert("UDID".into(), "U".into());
    d.insert("X".into(), v);
    let mut bin = Vec::new();
    plist::Value::Dictionary(d)
        .to_writer_binary(&mut bin)
        .unwrap();
    assert!(matches!(
        decode(&bin),
        Err(AppleError::MalformedPlist { .. })
    ));
    // Modest nesting is fine.
    let ok = r#"<?xml version="1.0"?><plist version="1.0"><dict><key>Status</key><string>Idle</string><key>UDID</key><string>U</string><key>X</key><array><array><dict><key>a</key><array/></dict></array></array></dict></plist>"#;
    assert!(decode(ok.as_bytes()).is_ok());
}
