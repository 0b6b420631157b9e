//! `read_profile`: `.mobileconfig` files — ours, Apple Configurator's, signed
//! or not — read back into typed payloads.

use std::process::Command as Proc;

use base64::Engine;
use mdm_apple::*;
use mdm_model::PushTopic;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::command_parse::{Expected, arb_plist, to_binary};
use super::fixtures::{
    TOPIC, every_payload_profile, openssl_sign_stream, pki, run, scratch, some_cert_der, tool, uuid,
};

fn pem(der: &[u8]) -> String {
    mdm_certs::Certificate::from_der(der).unwrap().pem()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn every_payload_we_build_reads_back_equal() {
    let profile = every_payload_profile();
    let xml = profile.to_xml().unwrap();
    for bytes in [xml.clone(), to_binary(&xml)] {
        let read = read_profile(&bytes).unwrap();
        assert_eq!(read.params(), profile.params());
        assert!(read.is_complete(), "{read:?}");
        assert!(!read.was_signed());
    }
    // Every payload kind of the crate is in it.
    let kinds: Vec<&str> = profile
        .payloads()
        .iter()
        .map(|p| p.content.payload_type())
        .collect();
    assert_eq!(kinds.len(), 10);
}

#[test]
fn an_enrollment_profile_reads_back_equal_for_both_identities() {
    let mut scep = ScepIdentity::new("https://mdm.example.com/scep");
    scep.challenge = Some("challenge".into());
    scep.key_usage = ScepKeyUsage::Signing;
    scep.key_size = ScepKeySize::Rsa4096;
    let pkcs12 = Pkcs12Identity::new(vec![0x30, 0x00], Some("secret".into())).unwrap();
    for identity in [
        EnrollmentIdentity::Scep(scep),
        EnrollmentIdentity::Pkcs12(pkcs12),
    ] {
        let params = EnrollmentParams {
            server_url: HttpsUrl::new("ServerURL", "https://mdm.example.com/mdm").unwrap(),
            check_in_url: None,
            topic: PushTopic::parse(TOPIC).unwrap(),
            identity,
            server_root_ca_der: Some(some_cert_der()),
            identifier_prefix: "com.example.mdm".into(),
            organization: "Example".into(),
        };
        let profile = enrollment_profile(&params, &mut ChaCha20Rng::seed_from_u64(3)).unwrap();
        let read = read_profile(&profile.to_xml().unwrap()).unwrap();
        assert_eq!(read.params(), profile.params());
        // And the parameters build the same profile again.
        assert_eq!(read.into_params().build().unwrap(), profile);
    }
}

#[test]
fn a_signed_profile_is_read_by_the_same_call_and_verify_is_what_trusts_it() {
    let Some(pki) = pki() else { return };
    let profile = every_payload_profile();
    let signer = ProfileSigner::new(&pki.ec.chain, &pki.ec.key_pkcs8).unwrap();
    let signed = profile.sign(&signer, pki.valid_now()).unwrap();
    let read = read_profile(&signed).unwrap();
    assert!(read.was_signed());
    assert_eq!(read.params(), profile.params());
    let verified = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()).unwrap();
    let trusted = read_profile(verified.content()).unwrap();
    assert_eq!(trusted.params(), read.params());
    assert!(!trusted.was_signed());

    // OpenSSL's streaming BER, as `openssl cms -sign -stream` writes it.
    let xml = profile.to_xml().unwrap();
    let ber = openssl_sign_stream(pki, &pki.rsa, &xml, &scratch("read-stream").join("profile"));
    assert_eq!(ber.get(1), Some(&0x80), "indefinite-length BER");
    let read = read_profile(&ber).unwrap();
    assert!(read.was_signed());
    assert_eq!(read.params(), profile.params());
    // A detached signature holds no profile.
    let detached = signer.sign_detached(b"<plist/>", pki.valid_now()).unwrap();
    assert!(matches!(
        read_profile(&detached),
        Err(AppleError::MalformedCms { .. })
    ));
}

fn certificate_payload(payload_type: &str, content: &[u8]) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>PayloadType</key><string>Configuration</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadIdentifier</key><string>com.example.cert</string>
<key>PayloadUUID</key><string>11111111-2222-4333-8444-555555555555</string>
<key>PayloadDisplayName</key><string>Certificate</string>
<key>PayloadContent</key><array><dict>
<key>PayloadType</key><string>{payload_type}</string>
<key>PayloadVersion</key><integer>1</integer>
<key>PayloadIdentifier</key><string>com.example.cert.1</string>
<key>PayloadUUID</key><string>11111111-2222-4333-8444-555555555556</string>
<key>PayloadCertificateFileName</key><string>ca.cer</string>
<key>PayloadContent</key><data>{}</data>
</dict></array>
</dict></plist>"#,
        b64(content)
    )
    .into_bytes()
}

#[test]
fn certificate_payloads_hold_der_or_pem_whatever_their_type() {
    let der = some_cert_der();
    let pem = pem(&der);
    for (payload_type, format) in [
        ("com.apple.security.root", CertificateFormat::Root),
        ("com.apple.security.pkcs1", CertificateFormat::Pkcs1),
        ("com.apple.security.pem", CertificateFormat::Pem),
    ] {
        for content in [der.as_slice(), pem.as_bytes()] {
            let read = read_profile(&certificate_payload(payload_type, content)).unwrap();
            let PayloadContent::Certificate(c) = &read.params().payloads[0].content else {
                panic!("{payload_type}: not a certificate")
            };
            assert_eq!(c.der(), der.as_slice(), "{payload_type}");
            assert_eq!(c.format(), format);
            assert_eq!(c.subject(), "CN=Fixture Root CA,O=mdm-apple tests");
            assert_eq!(c.file_name.as_deref(), Some("ca.cer"));
            assert!(read.is_complete());
        }
    }
    let err = read_profile(&certificate_payload(
        "com.apple.security.pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ))
    .unwrap_err();
    assert!(
        matches!(err, AppleError::InvalidCertificate { .. }),
        "{err:?}"
    );
    let err = read_profile(&certificate_payload(
        "com.apple.security.root",
        b"not a certificate",
    ))
    .unwrap_err();
    assert!(
        matches!(err, AppleError::InvalidCertificate { .. }),
        "{err:?}"
    );
}

/// A profile as Apple Configurator writes one (keys as Apple's payload
/// reference names them; checked against the schema below): Wi-Fi,
/// passcode, restrictions, web clip, certificates in DER and PEM, SCEP,
/// MDM, and a VPN payload this crate does not model.
fn configurator_profile() -> Vec<u8> {
    let der = some_cert_der();
    let icon = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>ConsentText</key>
	<dict>
		<key>default</key>
		<string>This profile configures your device for Example Corp.</string>
	</dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>AutoJoin</key>
			<true/>
			<key>CaptiveBypass</key>
			<false/>
			<key>DisableAssociationMACRandomization</key>
			<false/>
			<key>EncryptionType</key>
			<string>WPA2</string>
			<key>HIDDEN_NETWORK</key>
			<false/>
			<key>IsHotspot</key>
			<false/>
			<key>Password</key>
			<string>correct horse battery</string>
			<key>PayloadDescription</key>
			<string>Configures Wi-Fi settings</string>
			<key>PayloadDisplayName</key>
			<string>Wi-Fi</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.wifi.managed.9A7C0E4B-5D21-4E0F-9C1B-3E2A7F4D6B11</string>
			<key>PayloadType</key>
			<string>com.apple.wifi.managed</string>
			<key>PayloadUUID</key>
			<string>9A7C0E4B-5D21-4E0F-9C1B-3E2A7F4D6B11</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>ProxyType</key>
			<string>None</string>
			<key>SSID_STR</key>
			<string>Example Office</string>
		</dict>
		<dict>
			<key>allowSimple</key>
			<false/>
			<key>forcePIN</key>
			<true/>
			<key>maxFailedAttempts</key>
			<integer>10</integer>
			<key>maxInactivity</key>
			<integer>5</integer>
			<key>minLength</key>
			<integer>6</integer>
			<key>PayloadDescription</key>
			<string>Configures passcode settings</string>
			<key>PayloadDisplayName</key>
			<string>Passcode</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.mobiledevice.passwordpolicy.2B3C4D5E-6F70-4182-93A4-B5C6D7E8F901</string>
			<key>PayloadType</key>
			<string>com.apple.mobiledevice.passwordpolicy</string>
			<key>PayloadUUID</key>
			<string>2B3C4D5E-6F70-4182-93A4-B5C6D7E8F901</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>requireAlphanumeric</key>
			<false/>
		</dict>
		<dict>
			<key>allowAirDrop</key>
			<false/>
			<key>allowCamera</key>
			<true/>
			<key>allowGameCenter</key>
			<false/>
			<key>allowScreenShot</key>
			<false/>
			<key>forceEncryptedBackup</key>
			<true/>
			<key>PayloadDescription</key>
			<string>Configures restrictions</string>
			<key>PayloadDisplayName</key>
			<string>Restrictions</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.applicationaccess.3C4D5E6F-7081-4293-A4B5-C6D7E8F90A12</string>
			<key>PayloadType</key>
			<string>com.apple.applicationaccess</string>
			<key>PayloadUUID</key>
			<string>3C4D5E6F-7081-4293-A4B5-C6D7E8F90A12</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>safariAllowPopups</key>
			<true/>
		</dict>
		<dict>
			<key>FullScreen</key>
			<false/>
			<key>Icon</key>
			<data>{icon}</data>
			<key>IgnoreManifestScope</key>
			<false/>
			<key>IsRemovable</key>
			<true/>
			<key>Label</key>
			<string>Intranet</string>
			<key>PayloadDescription</key>
			<string>Configures settings for a web clip</string>
			<key>PayloadDisplayName</key>
			<string>Web Clip (Intranet)</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.webClip.managed.4D5E6F70-8192-43A4-B5C6-D7E8F90A1B23</string>
			<key>PayloadType</key>
			<string>com.apple.webClip.managed</string>
			<key>PayloadUUID</key>
			<string>4D5E6F70-8192-43A4-B5C6-D7E8F90A1B23</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>Precomposed</key>
			<false/>
			<key>URL</key>
			<string>https://intranet.example.com/</string>
		</dict>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>Fixture Root CA.cer</string>
			<key>PayloadContent</key>
			<data>{der}</data>
			<key>PayloadDescription</key>
			<string>Adds a PKCS#1-formatted certificate</string>
			<key>PayloadDisplayName</key>
			<string>Fixture Root CA</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.security.pkcs1.5E6F7081-92A3-44B5-C6D7-E8F90A1B2C34</string>
			<key>PayloadType</key>
			<string>com.apple.security.pkcs1</string>
			<key>PayloadUUID</key>
			<string>5E6F7081-92A3-44B5-C6D7-E8F90A1B2C34</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>root.pem</string>
			<key>PayloadContent</key>
			<data>{pem}</data>
			<key>PayloadDescription</key>
			<string>Adds a CA root certificate</string>
			<key>PayloadDisplayName</key>
			<string>root.pem</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.security.root.6F708192-A3B4-45C6-D7E8-F90A1B2C3D45</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>6F708192-A3B4-45C6-D7E8-F90A1B2C3D45</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
		<dict>
			<key>PayloadContent</key>
			<dict>
				<key>Challenge</key>
				<string>one-time-challenge</string>
				<key>Key Type</key>
				<string>RSA</string>
				<key>Key Usage</key>
				<integer>5</integer>
				<key>KeyIsExtractable</key>
				<false/>
				<key>Keysize</key>
				<integer>2048</integer>
				<key>Name</key>
				<string>Example CA</string>
				<key>Retries</key>
				<integer>3</integer>
				<key>RetryDelay</key>
				<integer>10</integer>
				<key>Subject</key>
				<array>
					<array>
						<array>
							<string>O</string>
							<string>Example Corp</string>
						</array>
					</array>
					<array>
						<array>
							<string>CN</string>
							<string>%SerialNumber%</string>
						</array>
					</array>
				</array>
				<key>SubjectAltName</key>
				<dict>
					<key>dNSName</key>
					<string>device.example.com</string>
				</dict>
				<key>URL</key>
				<string>https://scep.example.com/scep</string>
			</dict>
			<key>PayloadDescription</key>
			<string>Configures SCEP settings</string>
			<key>PayloadDisplayName</key>
			<string>SCEP (Example CA)</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.security.scep.708192A3-B4C5-46D7-E8F9-0A1B2C3D4E56</string>
			<key>PayloadType</key>
			<string>com.apple.security.scep</string>
			<key>PayloadUUID</key>
			<string>708192A3-B4C5-46D7-E8F9-0A1B2C3D4E56</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
		<dict>
			<key>IKEv2</key>
			<dict>
				<key>AuthenticationMethod</key>
				<string>Certificate</string>
				<key>LocalIdentifier</key>
				<string>device.example.com</string>
				<key>RemoteAddress</key>
				<string>vpn.example.com</string>
				<key>RemoteIdentifier</key>
				<string>vpn.example.com</string>
			</dict>
			<key>PayloadDescription</key>
			<string>Configures VPN settings</string>
			<key>PayloadDisplayName</key>
			<string>VPN</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.vpn.managed.8192A3B4-C5D6-47E8-F90A-1B2C3D4E5F67</string>
			<key>PayloadType</key>
			<string>com.apple.vpn.managed</string>
			<key>PayloadUUID</key>
			<string>8192A3B4-C5D6-47E8-F90A-1B2C3D4E5F67</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>UserDefinedName</key>
			<string>Office VPN</string>
			<key>VPNType</key>
			<string>IKEv2</string>
		</dict>
		<dict>
			<key>AccessRights</key>
			<integer>8191</integer>
			<key>CheckInURL</key>
			<string>https://mdm.example.com/mdm/checkin</string>
			<key>CheckOutWhenRemoved</key>
			<true/>
			<key>IdentityCertificateUUID</key>
			<string>708192A3-B4C5-46D7-E8F9-0A1B2C3D4E56</string>
			<key>PayloadDescription</key>
			<string>Configures Mobile Device Management</string>
			<key>PayloadDisplayName</key>
			<string>Mobile Device Management</string>
			<key>PayloadIdentifier</key>
			<string>com.apple.mdm.92A3B4C5-D6E7-48F9-0A1B-2C3D4E5F6078</string>
			<key>PayloadType</key>
			<string>com.apple.mdm</string>
			<key>PayloadUUID</key>
			<string>92A3B4C5-D6E7-48F9-0A1B-2C3D4E5F6078</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>ServerCapabilities</key>
			<array>
				<string>com.apple.mdm.per-user-connections</string>
			</array>
			<key>ServerURL</key>
			<string>https://mdm.example.com/mdm/connect</string>
			<key>SignMessage</key>
			<true/>
			<key>Topic</key>
			<string>{TOPIC}</string>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>Wi-Fi, passcode, restrictions and MDM for Example Corp devices.</string>
	<key>PayloadDisplayName</key>
	<string>Example Corp Device Settings</string>
	<key>PayloadIdentifier</key>
	<string>Admins-MacBook-Pro.A3B4C5D6-E7F8-4901-A2B3-C4D5E6F70819</string>
	<key>PayloadOrganization</key>
	<string>Example Corp</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>A3B4C5D6-E7F8-4901-A2B3-C4D5E6F70819</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
	<key>TargetDeviceType</key>
	<integer>1</integer>
</dict>
</plist>
"#,
        icon = b64(icon),
        der = b64(&der),
        pem = b64(pem(&der).as_bytes()),
    )
    .into_bytes()
}

#[test]
fn the_configurator_profile_uses_apples_published_keys() {
    let value = plist::Value::from_reader_xml(configurator_profile().as_slice()).unwrap();
    let violations = super::schema::profile_violations(value.as_dictionary().unwrap());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn an_apple_configurator_profile_reads_into_typed_payloads() {
    let read = read_profile(&configurator_profile()).unwrap();
    let p = read.params();
    assert_eq!(
        p.identifier,
        "Admins-MacBook-Pro.A3B4C5D6-E7F8-4901-A2B3-C4D5E6F70819"
    );
    assert_eq!(p.display_name, "Example Corp Device Settings");
    assert_eq!(p.organization.as_deref(), Some("Example Corp"));
    assert_eq!(p.removal.removal_disallowed, Some(false));
    assert_eq!(
        p.consent_text.get("default").map(String::as_str),
        Some("This profile configures your device for Example Corp.")
    );
    let types: Vec<&str> = p
        .payloads
        .iter()
        .map(|p| p.content.payload_type())
        .collect();
    assert_eq!(
        types,
        [
            "com.apple.wifi.managed",
            "com.apple.mobiledevice.passwordpolicy",
            "com.apple.applicationaccess",
            "com.apple.webClip.managed",
            "com.apple.security.pkcs1",
            "com.apple.security.root",
            "com.apple.security.scep",
            "com.apple.vpn.managed",
            "com.apple.mdm",
        ]
    );
    let content = |i: usize| &p.payloads[i].content;
    let PayloadContent::Wifi(wifi) = content(0) else {
        panic!()
    };
    assert_eq!(wifi.ssid, "Example Office");
    assert_eq!(wifi.encryption, WifiEncryption::Wpa2);
    assert_eq!(wifi.password.as_deref(), Some("correct horse battery"));
    assert!(wifi.auto_join && !wifi.hidden_network);
    let PayloadContent::Passcode(pass) = content(1) else {
        panic!()
    };
    assert_eq!(
        *pass,
        PasscodePolicy {
            force_pin: Some(true),
            allow_simple: Some(false),
            require_alphanumeric: Some(false),
            min_length: Some(6),
            max_failed_attempts: Some(10),
            max_inactivity: Some(5),
            ..Default::default()
        }
    );
    let PayloadContent::Restrictions(r) = content(2) else {
        panic!()
    };
    assert_eq!(r.allow_camera, Some(true));
    assert_eq!(r.allow_screen_shot, Some(false));
    assert_eq!(r.allow_air_drop, Some(false));
    assert_eq!(r.force_encrypted_backup, Some(true));
    let PayloadContent::WebClip(clip) = content(3) else {
        panic!()
    };
    assert_eq!(clip.url.as_str(), "https://intranet.example.com/");
    assert_eq!(clip.label, "Intranet");
    assert!(clip.icon.as_deref().unwrap().starts_with(b"\x89PNG"));
    for i in [4, 5] {
        let PayloadContent::Certificate(c) = content(i) else {
            panic!()
        };
        assert_eq!(c.der(), some_cert_der().as_slice());
    }
    let PayloadContent::Scep(scep) = content(6) else {
        panic!()
    };
    assert_eq!(scep.url, "https://scep.example.com/scep");
    assert_eq!(scep.key_size, ScepKeySize::Rsa2048);
    assert_eq!(scep.key_usage, ScepKeyUsage::SigningAndEncryption);
    assert_eq!(
        scep.subject,
        [
            ("O".to_owned(), "Example Corp".to_owned()),
            ("CN".into(), "%SerialNumber%".into())
        ]
    );
    assert_eq!(
        scep.subject_alt_name.dns_name.as_deref(),
        Some("device.example.com")
    );
    assert_eq!((scep.retries, scep.retry_delay), (Some(3), Some(10)));
    let PayloadContent::Other(vpn) = content(7) else {
        panic!()
    };
    assert_eq!(vpn.payload_type(), "com.apple.vpn.managed");
    assert_eq!(
        vpn.keys().keys().collect::<Vec<_>>(),
        ["IKEv2", "UserDefinedName", "VPNType"]
    );
    let PayloadContent::Mdm(mdm) = content(8) else {
        panic!()
    };
    assert_eq!(mdm.topic.as_str(), TOPIC);
    assert_eq!(mdm.identity_certificate_uuid, p.payloads[6].uuid);
    assert_eq!(mdm.access_rights, AccessRights::ALL);
    assert!(mdm.sign_message && mdm.check_out_when_removed && !mdm.use_development_apns);
    assert_eq!(
        mdm.server_capabilities,
        [ServerCapability::PerUserConnections]
    );

    // What the typed forms do not hold is kept, not lost.
    let unread = |i: usize| {
        read.unread_in_payload(i)
            .unwrap()
            .keys()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        unread(0),
        [
            "CaptiveBypass",
            "DisableAssociationMACRandomization",
            "IsHotspot",
            "ProxyType"
        ]
    );
    assert_eq!(unread(2), ["allowGameCenter", "safariAllowPopups"]);
    assert_eq!(unread(3), ["IgnoreManifestScope"]);
    assert_eq!(unread(6), ["PayloadContent"]);
    assert!(unread(7).is_empty() && unread(8).is_empty());
    assert_eq!(
        read.unread().keys().collect::<Vec<_>>(),
        ["TargetDeviceType"]
    );
    assert!(!read.is_complete());
    // Debug names secrets' keys, never their values.
    let debug = format!("{read:?}");
    assert!(!debug.contains("correct horse") && !debug.contains("one-time-challenge"));
}

#[test]
fn a_vendor_profile_builds_again_with_its_other_payloads_written_back() {
    let read = read_profile(&configurator_profile()).unwrap();
    let params = read.params().clone();
    let profile = read.into_params().build().unwrap();
    let xml = profile.to_xml().unwrap();
    let again = read_profile(&xml).unwrap();
    assert_eq!(again.params(), &params);
    assert!(again.is_complete());
    if tool("python3") {
        let script = "import plistlib,sys\nd=plistlib.load(open(sys.argv[1],'rb'))\nv=[p for p in d['PayloadContent'] if p['PayloadType']=='com.apple.vpn.managed'][0]\nprint(v['IKEv2']['RemoteAddress'], v['VPNType'], v['PayloadVersion'])\n";
        let file = scratch("read").join("rebuilt.mobileconfig");
        std::fs::write(&file, &xml).unwrap();
        let out = run(Proc::new("python3").arg("-c").arg(script).arg(&file));
        assert_eq!(
            String::from_utf8(out).unwrap().trim(),
            "vpn.example.com IKEv2 1"
        );
    }
    insta::assert_snapshot!(
        "configurator_profile_rebuilt",
        String::from_utf8(xml).unwrap()
    );
}

#[test]
fn other_payloads_are_kept_as_read_and_can_be_built() {
    let mut keys = PlistDictionary::new();
    keys.insert("Font", PlistValue::data(b"OTTO".to_vec()));
    keys.insert("Name", "Example Sans");
    keys.insert("PayloadVersion", 2u64);
    let mut params = ProfileParams::new("com.example.font", uuid(900), "Font");
    params.payloads.push(Payload::new(
        "com.example.font.1",
        uuid(901),
        PayloadContent::Other(OtherPayload::new("com.apple.font", keys.clone()).unwrap()),
    ));
    let xml = params.clone().build().unwrap().to_xml().unwrap();
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(
        text.contains("<key>PayloadVersion</key>\n\t\t\t<integer>2</integer>"),
        "{text}"
    );
    let read = read_profile(&xml).unwrap();
    assert_eq!(read.params(), &params);
    let PayloadContent::Other(font) = &read.params().payloads[0].content else {
        panic!()
    };
    assert_eq!(font.keys(), &keys);
}

#[test]
fn bytes_that_are_no_profile_say_so() {
    let enveloped = [
        0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03, 0xa0, 0x80,
    ];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zip", b"PK\x03\x04\x14\x00\x00\x00".to_vec()),
        ("json", br#"{"PayloadType":"Configuration"}"#.to_vec()),
        ("empty", Vec::new()),
        ("a certificate", some_cert_der()),
        ("encrypted", enveloped.to_vec()),
        ("html", b"<!doctype html><html></html>".to_vec()),
        ("array", br#"<plist version="1.0"><array/></plist>"#.to_vec()),
        ("command", br#"<plist version="1.0"><dict><key>CommandUUID</key><string>u</string></dict></plist>"#.to_vec()),
    ];
    for (what, bytes) in cases {
        let err = read_profile(&bytes).unwrap_err();
        assert!(
            matches!(err, AppleError::NotAProfile { .. }),
            "{what}: {err:?}"
        );
        assert!(!err.to_string().contains("BER at byte"), "{what}: {err}");
    }
    // CMS SignedData that is broken is still CMS: its own error.
    let mut truncated = vec![
        0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    truncated.extend_from_slice(&[0xa0, 0x80, 0x30]);
    assert!(matches!(
        read_profile(&truncated),
        Err(AppleError::MalformedCms { .. })
    ));
}

#[test]
fn broken_payloads_are_typed_errors() {
    let profile = |payload: &str| {
        format!(
            r#"<plist version="1.0"><dict><key>PayloadType</key><string>Configuration</string><key>PayloadIdentifier</key><string>p</string><key>PayloadUUID</key><string>11111111-2222-4333-8444-555555555555</string><key>PayloadContent</key><array><dict><key>PayloadIdentifier</key><string>p.1</string><key>PayloadUUID</key><string>11111111-2222-4333-8444-555555555556</string>{payload}</dict></array></dict></plist>"#
        )
        .into_bytes()
    };
    let cases: Vec<(&str, Expected)> = vec![
        ("", |e| {
            matches!(
                e,
                AppleError::MissingField {
                    key: "PayloadType",
                    ..
                }
            )
        }),
        (
            "<key>PayloadType</key><string>com.apple.wifi.managed</string>",
            |e| {
                matches!(
                    e,
                    AppleError::MissingField {
                        key: "SSID_STR",
                        ..
                    }
                )
            },
        ),
        (
            "<key>PayloadType</key><string>com.apple.wifi.managed</string><key>SSID_STR</key><integer>1</integer>",
            |e| matches!(e, AppleError::WrongType { key, .. } if key == "SSID_STR"),
        ),
        (
            "<key>PayloadType</key><string>com.apple.wifi.managed</string><key>SSID_STR</key><string>x</string><key>EncryptionType</key><string>WPA9</string>",
            |e| {
                matches!(
                    e,
                    AppleError::InvalidValue {
                        key: "EncryptionType",
                        ..
                    }
                )
            },
        ),
        (
            "<key>PayloadType</key><string>com.apple.webClip.managed</string><key>URL</key><string>http://x/</string><key>Label</key><string>x</string>",
            |e| matches!(e, AppleError::NotHttps { field: "URL", .. }),
        ),
        (
            "<key>PayloadType</key><string>com.apple.mobiledevice.passwordpolicy</string><key>minLength</key><integer>-1</integer>",
            |e| {
                matches!(
                    e,
                    AppleError::InvalidValue {
                        key: "minLength",
                        ..
                    }
                )
            },
        ),
        (
            "<key>PayloadType</key><string>com.apple.security.scep</string><key>PayloadContent</key><dict><key>URL</key><string>https://x/</string></dict>",
            |e| {
                matches!(
                    e,
                    AppleError::InvalidValue {
                        key: "Key Usage",
                        ..
                    }
                )
            },
        ),
        (
            "<key>PayloadType</key><string>com.apple.security.pkcs12</string><key>PayloadContent</key><data>AAAA</data>",
            |e| matches!(e, AppleError::InvalidPkcs12 { .. }),
        ),
        (
            "<key>PayloadType</key><string>com.apple.mdm</string><key>ServerURL</key><string>https://x/</string><key>Topic</key><string>com.example</string><key>IdentityCertificateUUID</key><string>11111111-2222-4333-8444-555555555555</string><key>AccessRights</key><integer>1</integer>",
            |e| matches!(e, AppleError::InvalidTopic { .. }),
        ),
    ];
    for (payload, expected) in cases {
        let err = read_profile(&profile(payload)).unwrap_err();
        assert!(expected(&err), "{payload}: {err:?}");
    }
    let bad_uuid = br#"<plist version="1.0"><dict><key>PayloadType</key><string>Configuration</string><key>PayloadIdentifier</key><string>p</string><key>PayloadUUID</key><string>nope</string></dict></plist>"#;
    assert!(matches!(
        read_profile(bad_uuid),
        Err(AppleError::InvalidUuid { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_plists_never_panic(payloads in proptest::collection::vec(arb_plist(), 0..4), top in arb_plist()) {
        let _ = read_profile(&top.to_xml().unwrap());
        let mut d = top.into_dictionary().unwrap_or_default();
        d.insert("PayloadType", "Configuration");
        d.insert("PayloadIdentifier", "p");
        d.insert("PayloadUUID", "11111111-2222-4333-8444-555555555555");
        d.insert("PayloadContent", payloads);
        let bytes = d.to_xml().unwrap();
        if let Ok(read) = read_profile(&bytes) {
            // What reads and builds writes back to the same parameters.
            if let Ok(profile) = read.params().clone().build() {
                let again = read_profile(&profile.to_xml().unwrap()).unwrap();
                prop_assert_eq!(again.params(), read.params());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_profile(&bytes);
        // Behind a SignedData header too, to reach the CMS reader.
        let mut cms = vec![0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
        cms.extend_from_slice(&bytes);
        let _ = read_profile(&cms);
    }
}
