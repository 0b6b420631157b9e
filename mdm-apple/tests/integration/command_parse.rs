//! `parse_command`: what an API client (or nanomdm's `/v1/enqueue`) sends
//! becomes a typed command, or a raw one delivered byte for byte.

use mdm_apple::*;
use proptest::prelude::*;

use super::fixtures::every_command;

/// The same dictionary as a binary plist (what `plutil -convert binary1` writes).
pub fn to_binary(xml: &[u8]) -> Vec<u8> {
    let value = plist::Value::from_reader_xml(xml).unwrap();
    let mut out = Vec::new();
    value.to_writer_binary(&mut out).unwrap();
    out
}

/// What an error must match, in a table of bad inputs.
pub type Expected = fn(&AppleError) -> bool;

fn command_plist(uuid: &str, command: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>Command</key>\n\t<dict>\n{command}\t</dict>\n\t<key>CommandUUID</key>\n\t<string>{uuid}</string>\n</dict>\n</plist>\n"
    )
    .into_bytes()
}

/// Commands beyond the fixture's: every `InstallApplication` form, every
/// `Settings` item, the optional keys left out.
fn more_commands() -> Vec<CommandRequest> {
    let cmds = vec![
        Command::InstallApplication(InstallApplication::BundleId {
            identifier: "com.example.notes".into(),
            volume_purchase: false,
            management_flags: None,
        }),
        Command::InstallApplication(InstallApplication::Manifest {
            manifest_url: HttpsUrl::new("ManifestURL", "https://apps.example.com/app.plist")
                .unwrap(),
            management_flags: Some(4),
        }),
        Command::Settings(Settings {
            settings: vec![
                Setting::HostName("kiosk-1".into()),
                Setting::VoiceRoaming(true),
                Setting::PersonalHotspot(false),
                Setting::Wallpaper {
                    image: b"\x89PNG\r\n\x1a\nimage".to_vec(),
                    place: 3,
                },
            ],
        }),
        Command::DeviceLock(DeviceLock {
            pin: Some("123456".into()),
            ..DeviceLock::default()
        }),
        Command::EraseDevice(EraseDevice::default()),
        Command::ProfileList(ProfileList::default()),
        Command::RestartDevice(RestartDevice::default()),
        Command::InstalledApplicationList(InstalledApplicationList::default()),
        Command::DeviceInformation(DeviceInformation { queries: vec![] }),
    ];
    cmds.into_iter()
        .enumerate()
        .map(|(i, c)| CommandRequest::new(CommandUuid::new(format!("more-{i}")).unwrap(), c))
        .collect()
}

#[test]
fn every_command_we_build_reads_back_equal_from_xml_and_binary() {
    let all: Vec<CommandRequest> = every_command().into_iter().chain(more_commands()).collect();
    let mut types = std::collections::BTreeSet::new();
    for req in &all {
        let xml = req.to_xml().unwrap();
        assert_eq!(
            &parse_command(&xml).unwrap(),
            req,
            "{}",
            req.command.request_type()
        );
        assert_eq!(&parse_command(&to_binary(&xml)).unwrap(), req);
        types.insert(req.command.request_type().to_string());
    }
    // Every RequestType the crate models is among them.
    assert_eq!(types.len(), 15, "{types:?}");
}

#[test]
fn a_nanomdm_enqueue_body_is_read_typed() {
    // What nanomdm's tools/cmdr.py writes for `DeviceInformation`.
    let body = command_plist(
        "0e4c0e5c-4e4b-4b8e-9b5e-2b6f7c1d2e3f",
        "\t\t<key>Queries</key>\n\t\t<array>\n\t\t\t<string>DeviceName</string>\n\t\t\t<string>OSVersion</string>\n\t\t</array>\n\t\t<key>RequestType</key>\n\t\t<string>DeviceInformation</string>\n",
    );
    let req = parse_command(&body).unwrap();
    assert_eq!(req.uuid.as_str(), "0e4c0e5c-4e4b-4b8e-9b5e-2b6f7c1d2e3f");
    assert_eq!(
        req.command,
        Command::DeviceInformation(DeviceInformation {
            queries: vec!["DeviceName".into(), "OSVersion".into()]
        })
    );
    // Typed commands are written in our key order: the same bytes here.
    assert_eq!(req.to_xml().unwrap(), body);
}

fn lost_mode() -> Vec<u8> {
    command_plist(
        "lost-1",
        "\t\t<key>RequestType</key>\n\t\t<string>EnableLostMode</string>\n\t\t<key>Message</key>\n\t\t<string>Call IT</string>\n\t\t<key>PhoneNumber</key>\n\t\t<string>+1 555 0100</string>\n\t\t<key>Footnote</key>\n\t\t<integer>7</integer>\n",
    )
}

#[test]
fn an_unknown_command_is_kept_byte_for_byte_and_handed_out_as_is() {
    let body = lost_mode();
    let req = parse_command(&body).unwrap();
    let Command::Other(raw) = &req.command else {
        panic!("typed: {req:?}")
    };
    assert_eq!(raw.request_type(), "EnableLostMode");
    assert_eq!(raw.bytes(), body.as_slice());
    let keys: Vec<&str> = raw.command().unwrap().keys().collect();
    assert_eq!(keys, ["RequestType", "Message", "PhoneNumber", "Footnote"]);
    assert_eq!(req.to_xml().unwrap(), body);

    // The queue hands it out unchanged.
    let device = AppleDeviceId::Udid("663b07bb783e9ade1dae4fbb92ea12afc0ce5b69".into());
    let mut queue = CommandQueue::new(device.clone());
    queue.enqueue(req.clone()).unwrap();
    let (_, next) = queue.respond(&CommandReport::idle(device)).unwrap();
    assert_eq!(next.unwrap().to_xml().unwrap(), body);

    // A binary plist stays binary.
    let binary = to_binary(&body);
    assert_eq!(parse_command(&binary).unwrap().to_xml().unwrap(), binary);
}

#[test]
fn an_unknown_command_under_a_new_uuid_is_written_afresh() {
    let mut req = parse_command(&lost_mode()).unwrap();
    req.uuid = CommandUuid::new("lost-2").unwrap();
    let xml = req.to_xml().unwrap();
    let again = parse_command(&xml).unwrap();
    assert_eq!(again.uuid.as_str(), "lost-2");
    let (Command::Other(a), Command::Other(b)) = (&again.command, &req.command) else {
        panic!("not raw")
    };
    assert_eq!(a.command(), b.command());
    insta::assert_snapshot!("raw_command_new_uuid", String::from_utf8(xml).unwrap());
}

#[test]
fn bad_commands_are_typed_errors() {
    let cases: Vec<(Vec<u8>, Expected)> = vec![
        (
            command_plist("u", "\t\t<key>Queries</key><array/>\n"),
            |e| matches!(e, AppleError::MissingField { key: "RequestType", .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><string></string>"),
            |e| matches!(e, AppleError::MissingField { key: "RequestType", .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><integer>3</integer>"),
            |e| matches!(e, AppleError::WrongType { key, .. } if key == "RequestType"),
        ),
        (
            command_plist("", "<key>RequestType</key><string>SecurityInfo</string>"),
            |e| matches!(e, AppleError::MissingField { key: "CommandUUID", .. }),
        ),
        (
            command_plist("a\tb", "<key>RequestType</key><string>SecurityInfo</string>"),
            |e| matches!(e, AppleError::InvalidUuid { field: "CommandUUID", .. }),
        ),
        (
            br#"<plist version="1.0"><dict><key>CommandUUID</key><integer>1</integer></dict></plist>"#.to_vec(),
            |e| matches!(e, AppleError::WrongType { key, .. } if key == "CommandUUID"),
        ),
        (
            br#"<plist version="1.0"><dict><key>CommandUUID</key><string>u</string></dict></plist>"#.to_vec(),
            |e| matches!(e, AppleError::MissingField { key: "Command", .. }),
        ),
        (
            br#"<plist version="1.0"><array/></plist>"#.to_vec(),
            |e| matches!(e, AppleError::NotADictionary { .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>DeviceLock</string><key>Message</key><true/>"),
            |e| matches!(e, AppleError::WrongType { message: "DeviceLock", key, .. } if key == "Message"),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>DeviceInformation</string><key>Queries</key><array><integer>1</integer></array>"),
            |e| matches!(e, AppleError::WrongType { key, .. } if key == "Queries"),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>InstallProfile</string>"),
            |e| matches!(e, AppleError::MissingField { key: "Payload", .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>EraseDevice</string><key>ObliterationBehavior</key><string>Always</string>"),
            |e| matches!(e, AppleError::UnsupportedCommandKey { key, .. } if key == "ObliterationBehavior"),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>Settings</string><key>Settings</key><array><dict><key>Item</key><string>TimeZone</string></dict></array>"),
            |e| matches!(e, AppleError::UnsupportedCommandKey { key, .. } if key == "Item TimeZone"),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>Settings</string><key>Settings</key><array><dict><key>Item</key><string>Wallpaper</string><key>Image</key><data>AA==</data><key>Where</key><integer>9</integer></dict></array>"),
            |e| matches!(e, AppleError::InvalidValue { key: "Where", .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>InstallApplication</string><key>iTunesStoreID</key><integer>1</integer><key>Identifier</key><string>a</string>"),
            |e| matches!(e, AppleError::InvalidValue { key: "iTunesStoreID", .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>InstallApplication</string><key>ManifestURL</key><string>http://x/</string>"),
            |e| matches!(e, AppleError::NotHttps { field: "ManifestURL", .. }),
        ),
        (
            command_plist("u", "<key>RequestType</key><string>InstallApplication</string><key>Identifier</key><string>a</string><key>ManagementFlags</key><integer>-1</integer>"),
            |e| matches!(e, AppleError::InvalidValue { key: "ManagementFlags", .. }),
        ),
    ];
    for (body, expected) in cases {
        let err = parse_command(&body).unwrap_err();
        assert!(
            expected(&err),
            "{err:?} for {}",
            String::from_utf8_lossy(&body)
        );
    }
    // A top-level key a typed command would drop is refused too; a raw
    // command keeps it.
    let mut extra = mdm_apple::PlistDictionary::new();
    let mut inner = mdm_apple::PlistDictionary::new();
    inner.insert("RequestType", "SecurityInfo");
    extra.insert("CommandUUID", "u");
    extra.insert("Command", inner.clone());
    extra.insert("Annotation", "x");
    assert!(matches!(
        parse_command(&extra.to_xml().unwrap()),
        Err(AppleError::UnsupportedCommandKey { key, .. }) if key == "Annotation"
    ));
    inner.insert("RequestType", "ActivationLockBypassCode");
    extra.insert("Command", inner);
    let raw = parse_command(&extra.to_xml().unwrap()).unwrap();
    assert!(raw.to_dictionary().contains_key("Annotation"));
}

#[test]
fn the_plist_bounds_apply() {
    let big = vec![b' '; MAX_PLIST_BYTES + 1];
    assert!(matches!(
        parse_command(&big),
        Err(AppleError::PlistTooLarge { .. })
    ));
}

/// Keys and strings a command (or a profile) holds, so that arbitrary
/// plists reach past the first check.
const WORDS: &[&str] = &[
    "CommandUUID",
    "Command",
    "RequestType",
    "DeviceInformation",
    "InstallApplication",
    "Settings",
    "Item",
    "Wallpaper",
    "Where",
    "Image",
    "Queries",
    "Identifier",
    "ManifestURL",
    "iTunesStoreID",
    "Options",
    "PurchaseMethod",
    "ManagementFlags",
    "DeviceLock",
    "PIN",
    "EraseDevice",
    "EnableLostMode",
    "PayloadType",
    "Configuration",
    "PayloadContent",
    "PayloadIdentifier",
    "PayloadUUID",
    "PayloadVersion",
    "com.apple.mdm",
    "com.apple.security.scep",
    "com.apple.security.pem",
    "com.apple.wifi.managed",
    "com.apple.webClip.managed",
    "com.apple.applicationaccess",
    "URL",
    "Subject",
    "Key Usage",
    "SSID_STR",
    "EncryptionType",
    "ServerURL",
    "Topic",
    "AccessRights",
    "00000000-0000-4000-8000-000000000001",
    "https://mdm.example.com/",
    "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9",
    "",
];

/// Arbitrary plist values built from [`WORDS`] and random scalars.
pub fn arb_plist() -> impl Strategy<Value = PlistValue> {
    let word = proptest::sample::select(WORDS).prop_map(PlistValue::from);
    let leaf = prop_oneof![
        4 => word,
        1 => any::<String>().prop_map(PlistValue::from),
        2 => any::<i64>().prop_map(PlistValue::from),
        1 => any::<bool>().prop_map(PlistValue::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(PlistValue::from),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(PlistValue::data),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(PlistValue::from),
            proptest::collection::vec((proptest::sample::select(WORDS), inner), 0..6).prop_map(
                |entries| {
                    let mut d = PlistDictionary::new();
                    for (k, v) in entries {
                        d.insert(k, v);
                    }
                    PlistValue::from(d)
                }
            ),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_plists_never_panic(value in arb_plist(), request_type in proptest::sample::select(WORDS)) {
        // As they are, and wrapped as a command of a chosen type.
        let _ = parse_command(&value.to_xml().unwrap());
        let mut inner = value.clone().into_dictionary().unwrap_or_default();
        inner.insert("RequestType", request_type);
        let mut outer = PlistDictionary::new();
        outer.insert("CommandUUID", "u");
        outer.insert("Command", inner);
        if let Ok(req) = parse_command(&outer.to_xml().unwrap()) {
            // What reads back writes back to the same command.
            let again = parse_command(&req.to_xml().unwrap()).unwrap();
            prop_assert_eq!(again, req);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_command(&bytes);
    }
}
