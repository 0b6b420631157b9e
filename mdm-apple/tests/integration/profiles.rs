//! Profile rules checked at build time, and the enrollment profile.

use mdm_apple::*;
use mdm_model::PushTopic;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::fixtures::{TOPIC, every_payload, every_payload_profile, some_cert_der, uuid};

fn with_payloads(payloads: Vec<Payload>) -> Result<Profile, AppleError> {
    let mut p = ProfileParams::new("com.example.p", uuid(900), "P");
    p.payloads = payloads;
    p.build()
}

fn mdm_payload(identity: PayloadUuid) -> Payload {
    Payload::new(
        "com.example.mdm",
        uuid(50),
        PayloadContent::Mdm(MdmPayload::new(
            HttpsUrl::new("ServerURL", "https://mdm.example.com").unwrap(),
            PushTopic::parse(TOPIC).unwrap(),
            identity,
        )),
    )
}

fn scep_payload(id: &str, u: PayloadUuid) -> Payload {
    Payload::new(
        id,
        u,
        PayloadContent::Scep(ScepIdentity::new("https://scep.example.com")),
    )
}

#[test]
fn every_payload_kind_builds() {
    let profile = every_payload_profile();
    assert_eq!(profile.payloads().len(), 10);
    let xml = String::from_utf8(profile.to_xml().unwrap()).unwrap();
    for t in [
        "com.apple.mdm",
        "com.apple.security.scep",
        "com.apple.security.pkcs12",
        "com.apple.security.root",
        "com.apple.security.pkcs1",
        "com.apple.security.pem",
        "com.apple.mobiledevice.passwordpolicy",
        "com.apple.applicationaccess",
        "com.apple.wifi.managed",
        "com.apple.webClip.managed",
    ] {
        assert!(
            xml.contains(&format!("<string>{t}</string>")),
            "{t} missing"
        );
    }
    assert!(xml.contains("<key>Key Usage</key>") && xml.contains("<key>Key Type</key>"));
    let pem = profile
        .payloads()
        .iter()
        .find(|p| p.content.payload_type() == "com.apple.security.pem")
        .unwrap();
    let content = pem
        .to_dictionary()
        .get("PayloadContent")
        .and_then(|v| v.as_data())
        .unwrap()
        .to_vec();
    assert!(
        String::from_utf8(content)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n"),
        "PEM payload content is PEM text"
    );
}

#[test]
fn identity_uuid_must_name_an_identity_payload() {
    assert!(
        with_payloads(vec![
            scep_payload("com.example.scep", uuid(1)),
            mdm_payload(uuid(1))
        ])
        .is_ok()
    );
    // Points at nothing.
    let err = with_payloads(vec![
        scep_payload("com.example.scep", uuid(1)),
        mdm_payload(uuid(2)),
    ])
    .unwrap_err();
    assert!(
        matches!(err, AppleError::IdentityNotInProfile { .. }),
        "{err:?}"
    );
    // Points at a payload that is not an identity.
    let cert = Payload::new(
        "com.example.root",
        uuid(3),
        PayloadContent::Certificate(
            CertificatePayload::from_der(some_cert_der(), CertificateFormat::Root).unwrap(),
        ),
    );
    let err = with_payloads(vec![cert, mdm_payload(uuid(3))]).unwrap_err();
    assert!(
        matches!(err, AppleError::IdentityNotInProfile { .. }),
        "{err:?}"
    );
}

#[test]
fn identifiers_and_uuids_are_unique() {
    let err = with_payloads(vec![
        scep_payload("same", uuid(1)),
        scep_payload("same", uuid(2)),
    ])
    .unwrap_err();
    assert!(
        matches!(
            err,
            AppleError::DuplicatePayload {
                key: "PayloadIdentifier",
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        with_payloads(vec![scep_payload("a", uuid(1)), scep_payload("b", uuid(1))]).unwrap_err();
    assert!(
        matches!(
            err,
            AppleError::DuplicatePayload {
                key: "PayloadUUID",
                ..
            }
        ),
        "{err:?}"
    );
    // The profile's own UUID counts too.
    let err = with_payloads(vec![scep_payload("a", uuid(900))]).unwrap_err();
    assert!(
        matches!(
            err,
            AppleError::DuplicatePayload {
                key: "PayloadUUID",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn one_mdm_payload_at_most() {
    let mut second = mdm_payload(uuid(1));
    second.identifier = "com.example.mdm2".into();
    second.uuid = uuid(51);
    let err = with_payloads(vec![
        scep_payload("s", uuid(1)),
        mdm_payload(uuid(1)),
        second,
    ])
    .unwrap_err();
    assert!(
        matches!(err, AppleError::SeveralMdmPayloads { count: 2 }),
        "{err:?}"
    );
}

#[test]
fn access_rights_rules_apply_at_build() {
    let mut m = mdm_payload(uuid(1));
    if let PayloadContent::Mdm(ref mut mdm) = m.content {
        mdm.access_rights = AccessRights::INSTALL_REMOVE_PROFILES;
    }
    let err = with_payloads(vec![scep_payload("s", uuid(1)), m]).unwrap_err();
    assert!(
        matches!(err, AppleError::InvalidAccessRights { bits: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn required_keys_and_values() {
    assert!(matches!(
        with_payloads(vec![]),
        Err(AppleError::MissingKey {
            key: "PayloadContent",
            ..
        })
    ));
    let mut p = ProfileParams::new(" ", uuid(900), "P");
    p.payloads = every_payload();
    assert!(matches!(
        p.build(),
        Err(AppleError::MissingKey {
            key: "PayloadIdentifier",
            ..
        })
    ));
    let mut blank = scep_payload("", uuid(1));
    blank.identifier = String::new();
    assert!(matches!(
        with_payloads(vec![blank]),
        Err(AppleError::MissingKey {
            key: "PayloadIdentifier",
            ..
        })
    ));
    let clip = WebClip::new(HttpsUrl::new("URL", "https://x.example").unwrap(), "");
    assert!(
        with_payloads(vec![Payload::new(
            "c",
            uuid(1),
            PayloadContent::WebClip(clip)
        )])
        .is_err()
    );
    let pass = PasscodePolicy {
        max_failed_attempts: Some(50),
        ..Default::default()
    };
    assert!(matches!(
        with_payloads(vec![Payload::new(
            "p",
            uuid(1),
            PayloadContent::Passcode(pass)
        )]),
        Err(AppleError::InvalidValue {
            key: "maxFailedAttempts",
            ..
        })
    ));
    // The types refuse what the rules forbid before a profile exists.
    assert!(PushTopic::parse("com.example.topic").is_err());
    assert!(HttpsUrl::new("ServerURL", "http://mdm.example.com").is_err());
    assert!(CertificatePayload::from_der(vec![1, 2, 3], CertificateFormat::Root).is_err());
}

#[test]
fn enrollment_profile_with_pkcs12_and_root_ca() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let params = EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm").unwrap(),
        check_in_url: Some(HttpsUrl::new("CheckInURL", "https://mdm.example.com/checkin").unwrap()),
        topic: PushTopic::parse(TOPIC).unwrap(),
        identity: EnrollmentIdentity::Pkcs12(
            Pkcs12Identity::new(vec![0x30, 0x00], Some("pw".into())).unwrap(),
        ),
        server_root_ca_der: Some(some_cert_der()),
        identifier_prefix: "com.example.mdm.".into(),
        organization: "Example".into(),
    };
    let profile = enrollment_profile(&params, &mut rng).unwrap();
    let types: Vec<&str> = profile
        .payloads()
        .iter()
        .map(|p| p.content.payload_type())
        .collect();
    assert_eq!(
        types,
        [
            "com.apple.security.pkcs12",
            "com.apple.security.root",
            "com.apple.mdm"
        ]
    );
    let identity_uuid = profile.payloads()[0].uuid.clone();
    let PayloadContent::Mdm(mdm) = &profile.payloads()[2].content else {
        panic!()
    };
    assert_eq!(mdm.identity_certificate_uuid, identity_uuid);
    assert_eq!(mdm.access_rights, AccessRights::ALL);
    assert!(
        profile
            .identifier()
            .starts_with("com.example.mdm.enrollment")
    );
    // Same seed, same profile.
    let again = enrollment_profile(&params, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    assert_eq!(again.to_xml().unwrap(), profile.to_xml().unwrap());
    // Without a private CA there is no root payload.
    let public = EnrollmentParams {
        server_root_ca_der: None,
        ..params
    };
    assert_eq!(
        enrollment_profile(&public, &mut rng)
            .unwrap()
            .payloads()
            .len(),
        2
    );
}

mod rules {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    struct Spec {
        kind: u8,
        id: u8,
        uuid: u8,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (0u8..3, 0u8..6, 0u8..8).prop_map(|(kind, id, uuid)| Spec { kind, id, uuid })
    }

    fn content(kind: u8) -> PayloadContent {
        match kind {
            0 => PayloadContent::Scep(ScepIdentity::new("https://scep.example.com")),
            1 => PayloadContent::WebClip(WebClip::new(
                HttpsUrl::new("URL", "https://x.example").unwrap(),
                "X",
            )),
            _ => PayloadContent::Passcode(PasscodePolicy::default()),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// `build` accepts exactly the profiles whose rules hold (an oracle
        /// restating the rules), and refuses the rest with a typed error.
        #[test]
        fn build_accepts_exactly_the_valid_profiles(
            specs in proptest::collection::vec(spec(), 1..6),
            mdm in proptest::option::of((0u8..8, 0u32..9000)),
        ) {
            let mut payloads: Vec<Payload> = specs
                .iter()
                .map(|s| Payload::new(format!("p{}", s.id), uuid(u32::from(s.uuid)), content(s.kind)))
                .collect();
            if let Some((target, bits)) = mdm {
                let mut m = mdm_payload(uuid(u32::from(target)));
                if let PayloadContent::Mdm(ref mut x) = m.content {
                    x.access_rights = AccessRights::from_bits(bits);
                }
                m.uuid = uuid(50);
                payloads.push(m);
            }
            let ids: Vec<&str> = payloads.iter().map(|p| p.identifier.as_str()).collect();
            let uuids: Vec<&PayloadUuid> = payloads.iter().map(|p| &p.uuid).collect();
            let unique = |v: &[&str]| v.iter().enumerate().all(|(i, a)| !v[..i].contains(a));
            let ids_ok = unique(&ids);
            let uuid_strs: Vec<&str> = uuids.iter().map(|u| u.as_str()).collect();
            let uuids_ok = unique(&uuid_strs) && !uuid_strs.contains(&uuid(900).as_str());
            let mdm_ok = match mdm {
                None => true,
                Some((target, bits)) => {
                    let rights = bits != 0 && bits <= 8191 && (bits & 2 == 0 || bits & 1 != 0) && (bits & 128 == 0 || bits & 64 != 0);
                    let linked = specs.iter().any(|s| s.kind == 0 && s.uuid == target);
                    rights && linked
                }
            };
            let expected_ok = ids_ok && uuids_ok && mdm_ok;
            match with_payloads(payloads) {
                Ok(p) => {
                    prop_assert!(expected_ok, "accepted an invalid profile");
                    // And what it writes reads back as a plist with every payload.
                    let xml = p.to_xml().unwrap();
                    let back = plist::Value::from_reader_xml(xml.as_slice()).unwrap();
                    let n = back.as_dictionary().and_then(|d| d.get("PayloadContent")).and_then(|v| v.as_array()).map(Vec::len);
                    prop_assert_eq!(n, Some(p.payloads().len()));
                }
                Err(e) => {
                    prop_assert!(!expected_ok, "refused a valid profile: {e:?}");
                    prop_assert!(matches!(
                        e,
                        AppleError::DuplicatePayload { .. } | AppleError::InvalidAccessRights { .. } | AppleError::IdentityNotInProfile { .. }
                    ), "{e:?}");
                }
            }
        }
    }
}
