//! Python's `plistlib` loads every plist we write; the end-to-end path from
//! an APNs certificate's topic to a signed, verified, schema-shaped profile.

use mdm_model::PushTopic;
use std::process::Command;

use mdm_apple::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::fixtures::{
    every_command, every_payload_profile, now, pki, run, scratch, tool, topic_of_push_cert,
};

/// Loads every file with plistlib; returns `{file: PayloadType or CommandUUID or MessageType}`.
fn plistlib_load(files: &[std::path::PathBuf]) -> String {
    let script = "import plistlib,sys\nfor f in sys.argv[1:]:\n    with open(f,'rb') as h: d=plistlib.load(h)\n    print(d.get('PayloadIdentifier') or d.get('CommandUUID') or d.get('MessageType') or d.get('Status'))\n";
    let out = run(Command::new("python3").arg("-c").arg(script).args(files));
    String::from_utf8(out).unwrap()
}

#[test]
fn plistlib_loads_everything_we_write() {
    if !tool("python3") {
        return;
    }
    let dir = scratch("plistlib");
    let mut files = Vec::new();
    let mut write = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        files.push(p);
    };
    write(
        "profile.mobileconfig",
        every_payload_profile().to_xml().unwrap(),
    );
    for req in every_command() {
        write(&format!("{}.plist", req.uuid), req.to_xml().unwrap());
    }
    let topic = PushTopic::parse(super::fixtures::TOPIC).unwrap();
    let device = AppleDeviceId::Udid("U".into());
    write(
        "auth.plist",
        Authenticate::new(topic.clone(), device.clone())
            .to_xml()
            .unwrap(),
    );
    write(
        "token.plist",
        TokenUpdate::new(
            topic.clone(),
            device.clone(),
            PushToken::new(vec![1; 32]).unwrap(),
            PushMagic::new("m").unwrap(),
        )
        .to_xml()
        .unwrap(),
    );
    write(
        "checkout.plist",
        CheckOut {
            topic,
            device: device.clone(),
        }
        .to_xml()
        .unwrap(),
    );
    write("idle.plist", CommandReport::idle(device).to_xml().unwrap());
    let n = files.len();
    let out = plistlib_load(&files);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), n);
    assert_eq!(lines[0], "com.example.everything");
    assert!(lines.contains(&"Authenticate") && lines.contains(&"Idle"));
}

#[test]
fn end_to_end_topic_from_push_cert_to_signed_verified_profile() {
    let Some(pki) = pki() else { return };
    if !tool("python3") {
        return;
    }
    // The topic comes from the APNs certificate's subject UID.
    let topic = PushTopic::parse(&topic_of_push_cert(&pki.push_cert_der)).unwrap();
    let params = EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm/connect").unwrap(),
        check_in_url: None,
        topic: topic.clone(),
        identity: EnrollmentIdentity::Pkcs12(
            Pkcs12Identity::new(pki.identity_p12.clone(), Some("secret".into())).unwrap(),
        ),
        server_root_ca_der: Some(pki.ca_der.clone()),
        identifier_prefix: "com.example.mdm".into(),
        organization: "Example Corp".into(),
    };
    let profile = enrollment_profile(&params, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    let signer = ProfileSigner::new(&pki.rsa.chain, &pki.rsa.key_pkcs8).unwrap();
    let signed = profile.sign(&signer, now()).unwrap();

    let dir = scratch("e2e");
    let signed_path = dir.join("enroll.mobileconfig");
    std::fs::write(&signed_path, &signed).unwrap();
    let content = run(Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
        ])
        .arg(&signed_path)
        .arg("-CAfile")
        .arg(&pki.ca_pem));
    assert_eq!(content, profile.to_xml().unwrap());
    let plain = dir.join("enroll.plist");
    std::fs::write(&plain, &content).unwrap();
    let script = "import plistlib,sys\nd=plistlib.load(open(sys.argv[1],'rb'))\nm=[p for p in d['PayloadContent'] if p['PayloadType']=='com.apple.mdm'][0]\nids=[p['PayloadUUID'] for p in d['PayloadContent'] if p['PayloadType']=='com.apple.security.pkcs12']\nprint(m['Topic']); print(m['IdentityCertificateUUID'] in ids)\n";
    let out = String::from_utf8(run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&plain)))
    .unwrap();
    assert_eq!(out, format!("{topic}\nTrue\n"));
    // Apple's schema accepts every key of the enrollment profile.
    let dict = plist::Value::from_reader_xml(content.as_slice())
        .unwrap()
        .into_dictionary()
        .unwrap();
    let violations = super::schema::profile_violations(&dict);
    assert!(violations.is_empty(), "{violations:?}");
    // Read back here too: same plist, same signer.
    let verified = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()).unwrap();
    assert_eq!(verified.signer_der(), pki.rsa.chain[0].as_slice());
    // A push-certificate topic that is not an MDM topic is refused.
    assert!(PushTopic::parse("com.example.not-mdm").is_err());
}

/// The issue's end-to-end path with `mdm-certs` making every certificate:
/// the workspace CA and server identity, the APNs CSR, the vendor's signed
/// request, the push portal stand-in's certificate and its intake — then the
/// enrollment profile with that topic, signed by the server identity,
/// verified by `openssl cms`, loaded by `plistlib`, checked against Apple's schema.
#[test]
fn end_to_end_with_mdm_certs_from_apns_csr_to_verified_profile() {
    use mdm_certs::{
        ApnsCsrForm, ApnsIntake, ApnsKeyRequest, CertificateAuthority, DEFAULT_REQUEST_MAX_AGE,
        KeyAlgorithm, PrivateKey, PushPortalStandIn, SubjectName, Validity, VendorSigner,
    };
    use mdm_model::ServerHost;
    if !tool("openssl") || !tool("python3") {
        return;
    }
    let now = now();
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    let ca = CertificateAuthority::create(
        &SubjectName::common_name("Example MDM CA").unwrap(),
        Validity::days(now - time::Duration::days(1), 3650).unwrap(),
        KeyAlgorithm::EcdsaP256,
        &mut rng,
    )
    .unwrap();
    let server = ca
        .issue_server_certificate(
            &ServerHost::parse("mdm.example.com").unwrap(),
            Validity::days(now - time::Duration::days(1), 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .unwrap();
    // APNs: CSR → vendor signature → portal stand-in → intake.
    let portal = PushPortalStandIn::new(KeyAlgorithm::EcdsaP256, now, &mut rng).unwrap();
    let vendor_key = PrivateKey::generate(KeyAlgorithm::Rsa2048, &mut rng).unwrap();
    let vendor_cert = portal
        .issue_vendor_certificate(&vendor_key, "Example Vendor", now, &mut rng)
        .unwrap();
    let vendor = VendorSigner::new(
        vendor_cert,
        vendor_key,
        vec![portal.authority().certificate().clone()],
    )
    .unwrap();
    let form = ApnsCsrForm {
        name: "Admin".into(),
        company: "Example Corp".into(),
        department: "IT".into(),
        city: "Tokyo".into(),
        state: "Tokyo".into(),
        country: "JP".into(),
    };
    let request = ApnsKeyRequest::create(&form, &mut rng).unwrap();
    let signed_request = vendor.sign_request(request.csr(), now).unwrap();
    let upload = signed_request
        .for_upload(now, DEFAULT_REQUEST_MAX_AGE)
        .unwrap();
    let push = portal
        .create_push_certificate(upload, now, &mut rng)
        .unwrap();
    let accepted = ApnsIntake::new(
        request.key(),
        std::slice::from_ref(portal.authority().certificate()),
    )
    .accept("push.pem", push.pem().as_bytes(), None, now)
    .unwrap();
    let topic = PushTopic::parse(accepted.details.topic.as_str()).unwrap();
    assert_eq!(topic.as_str(), topic_of_push_cert(push.der()));

    let params = EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm/connect").unwrap(),
        check_in_url: None,
        topic: topic.clone(),
        identity: EnrollmentIdentity::Scep(ScepIdentity::new("https://mdm.example.com/scep")),
        server_root_ca_der: Some(ca.certificate().der().to_vec()),
        identifier_prefix: "com.example.mdm".into(),
        organization: "Example Corp".into(),
    };
    let profile = enrollment_profile(&params, &mut rng).unwrap();
    let chain = [
        server.certificate.der().to_vec(),
        ca.certificate().der().to_vec(),
    ];
    let signer = ProfileSigner::new(&chain, server.key.pkcs8_der_secret()).unwrap();
    let signed = profile.sign(&signer, now).unwrap();

    let dir = scratch("e2e-certs");
    let signed_path = dir.join("enroll.mobileconfig");
    let ca_path = dir.join("ca.pem");
    std::fs::write(&signed_path, &signed).unwrap();
    std::fs::write(&ca_path, ca.certificate().pem()).unwrap();
    let content = run(Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
        ])
        .arg(&signed_path)
        .arg("-CAfile")
        .arg(&ca_path));
    assert_eq!(content, profile.to_xml().unwrap());
    let plain = dir.join("enroll.plist");
    std::fs::write(&plain, &content).unwrap();
    let script = "import plistlib,sys\nd=plistlib.load(open(sys.argv[1],'rb'))\nprint([p for p in d['PayloadContent'] if p['PayloadType']=='com.apple.mdm'][0]['Topic'])\n";
    let out = String::from_utf8(run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&plain)))
    .unwrap();
    assert_eq!(out.trim_end(), topic.as_str());
    let dict = plist::Value::from_reader_xml(content.as_slice())
        .unwrap()
        .into_dictionary()
        .unwrap();
    let violations = super::schema::profile_violations(&dict);
    assert!(violations.is_empty(), "{violations:?}");
    let verified = verify_signed_profile(&signed, &[ca.certificate().clone()], now).unwrap();
    assert_eq!(verified.signer_der(), server.certificate.der());
}
