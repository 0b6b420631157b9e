//! Snapshots of generated plists (fixed UUIDs and dates): the enrollment
//! profile, each configuration payload, each command.

use mdm_apple::*;
use mdm_model::PushTopic;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::fixtures::{TOPIC, every_command, every_payload_profile, some_cert_der};

fn xml(dict: &PlistDictionary) -> String {
    let out = dict.to_xml().unwrap();
    String::from_utf8(out)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

#[test]
fn enrollment_profile_snapshot() {
    let mut scep = ScepIdentity::new("https://mdm.example.com/scep");
    scep.challenge = Some("challenge-abc".into());
    scep.subject = vec![
        ("O".into(), "Example Corp".into()),
        ("CN".into(), "MDM Identity (%ComputerName%)".into()),
    ];
    let params = EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm/connect").unwrap(),
        check_in_url: Some(
            HttpsUrl::new("CheckInURL", "https://mdm.example.com/mdm/checkin").unwrap(),
        ),
        topic: PushTopic::parse(TOPIC).unwrap(),
        identity: EnrollmentIdentity::Scep(scep),
        server_root_ca_der: Some(some_cert_der()),
        identifier_prefix: "com.example.mdm".into(),
        organization: "Example Corp".into(),
    };
    let profile = enrollment_profile(&params, &mut ChaCha20Rng::seed_from_u64(42)).unwrap();
    insta::assert_snapshot!(
        "enrollment_profile",
        String::from_utf8(profile.to_xml().unwrap()).unwrap()
    );
}

#[test]
fn top_level_profile_snapshot() {
    let mut top = every_payload_profile().to_dictionary();
    top.insert("PayloadContent", Vec::<PlistValue>::new());
    insta::assert_snapshot!("top_level_keys", xml(&top));
}

#[test]
fn payload_snapshots() {
    for payload in every_payload_profile().payloads() {
        let name = format!(
            "payload_{}",
            payload.identifier.trim_start_matches("com.example.")
        );
        insta::assert_snapshot!(name, xml(&payload.to_dictionary()));
    }
}

#[test]
fn command_snapshots() {
    for req in every_command() {
        let name = format!("command_{}", req.command.request_type());
        insta::assert_snapshot!(name, String::from_utf8(req.to_xml().unwrap()).unwrap());
    }
}
