//! Hostile input: arbitrary bytes and arbitrary plists, with a valid
//! signature or without, never panic the service; each is answered or
//! refused with a 400-class status.

use mdm_apple::{
    DeviceRequest, Endpoint, PlistDictionary, PlistValue, PresentedIdentity, status_of,
};
use proptest::prelude::*;

use super::service_fixtures::{IPAD, NOW, Setup, pki};

fn plist_value() -> impl Strategy<Value = PlistValue> {
    let leaf = prop_oneof![
        any::<String>().prop_map(PlistValue::from),
        any::<i64>().prop_map(PlistValue::from),
        any::<bool>().prop_map(PlistValue::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(PlistValue::data),
        Just(PlistValue::from(IPAD)),
        Just(PlistValue::from(super::service_fixtures::TOPIC)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(PlistValue::from),
            proptest::collection::vec(("[A-Za-z]{1,12}", inner), 0..4).prop_map(|kv| {
                let mut d = PlistDictionary::new();
                for (k, v) in kv {
                    d.insert(k, v);
                }
                PlistValue::from(d)
            }),
        ]
    })
}

const KEYS: [&str; 12] = [
    "MessageType",
    "UDID",
    "Topic",
    "Token",
    "PushMagic",
    "Status",
    "CommandUUID",
    "EnrollmentID",
    "BootstrapToken",
    "Endpoint",
    "TokenServiceType",
    "UserID",
];
const TYPES: [&str; 10] = [
    "Authenticate",
    "TokenUpdate",
    "CheckOut",
    "UserAuthenticate",
    "SetBootstrapToken",
    "GetBootstrapToken",
    "GetToken",
    "DeclarativeManagement",
    "Idle",
    "Acknowledged",
];

fn message() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        (
            prop::sample::select(&KEYS[..]),
            prop_oneof![
                plist_value(),
                prop::sample::select(&TYPES[..]).prop_map(PlistValue::from)
            ],
        ),
        0..8,
    )
    .prop_map(|kv| {
        let mut d = PlistDictionary::new();
        for (k, v) in kv {
            d.insert(k, v);
        }
        d.to_xml().unwrap_or_default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..600), command in any::<bool>()) {
        let mut s = Setup::new();
        s.enroll(IPAD, &pki().x);
        let endpoint = if command { Endpoint::Command } else { Endpoint::CheckIn };
        for identity in [PresentedIdentity::MdmSignature(&body), PresentedIdentity::Certificate(&body), PresentedIdentity::None] {
            let request = DeviceRequest { endpoint, body: &body, identity };
            if let Err(e) = s.service.handle(&mut s.ws, &request, NOW) {
                prop_assert!((400..500).contains(&status_of(&e)));
            }
        }
    }

    #[test]
    fn arbitrary_signed_plists_never_panic(bodies in proptest::collection::vec(message(), 1..6)) {
        let mut s = Setup::new();
        s.enroll(IPAD, &pki().x);
        for body in &bodies {
            for endpoint in [Endpoint::CheckIn, Endpoint::Command] {
                match s.send(endpoint, body, &pki().x) {
                    Ok(h) => prop_assert!(h.status == 200 || h.status == 410),
                    Err(e) => prop_assert!((400..500).contains(&status_of(&e)), "{e}"),
                }
            }
        }
    }
}
