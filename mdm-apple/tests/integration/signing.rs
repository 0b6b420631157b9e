//! CMS signing and verification, cross-checked with `openssl cms`.

use std::process::Command;

use mdm_apple::*;
use proptest::prelude::*;

use super::fixtures::{Pki, Signer, every_payload_profile, now, pki, run, scratch};

fn signer_of(s: &Signer) -> ProfileSigner {
    ProfileSigner::new(&s.chain, &s.key_pkcs8).unwrap()
}

fn openssl_verify(pki: &Pki, signed: &[u8], name: &str) -> Vec<u8> {
    let dir = scratch("verify");
    let input = dir.join(format!("{name}.mobileconfig"));
    std::fs::write(&input, signed).unwrap();
    run(Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
        ])
        .arg(&input)
        .arg("-CAfile")
        .arg(&pki.ca_pem))
}

#[test]
fn rsa_and_ecdsa_signatures_verify_here_and_in_openssl() {
    let Some(pki) = pki() else { return };
    let profile = every_payload_profile();
    let xml = profile.to_xml().unwrap();
    for (name, s) in [("rsa", &pki.rsa), ("ec", &pki.ec)] {
        let signed = profile.sign(&signer_of(s), now()).unwrap();
        let verified = verify_signed_profile(&signed).unwrap();
        assert_eq!(verified.content(), xml.as_slice(), "{name}");
        assert_eq!(verified.signer_der(), s.chain[0].as_slice(), "{name}");
        assert!(
            verified
                .signer_subject()
                .contains(&format!("{name} profile signer")),
            "{name}"
        );
        assert_eq!(verified.certificates().len(), 2, "{name}: chain included");
        let plist = verified.plist().unwrap();
        assert_eq!(
            plist
                .as_dictionary()
                .and_then(|d| d.get("PayloadIdentifier"))
                .and_then(|v| v.as_string()),
            Some("com.example.everything")
        );
        assert_eq!(
            openssl_verify(pki, &signed, name),
            xml,
            "{name}: openssl cms -verify"
        );
        // Deterministic: same input, same bytes.
        assert_eq!(
            profile.sign(&signer_of(s), now()).unwrap(),
            signed,
            "{name}"
        );
    }
}

#[test]
fn tampering_is_detected() {
    let Some(pki) = pki() else { return };
    let profile = every_payload_profile();
    let signed = profile.sign(&signer_of(&pki.rsa), now()).unwrap();
    // Flip one byte of the embedded content.
    let needle = b"Everything";
    let at = signed
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut tampered = signed.clone();
    tampered[at] ^= 0x20;
    assert!(matches!(
        verify_signed_profile(&tampered),
        Err(AppleError::BadSignature { .. })
    ));
    // Flip the last byte (inside the signature value).
    let mut tampered = signed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(matches!(
        verify_signed_profile(&tampered),
        Err(AppleError::BadSignature { .. })
    ));
}

#[test]
fn signer_key_must_match_the_certificate() {
    let Some(pki) = pki() else { return };
    let err = ProfileSigner::new(&pki.rsa.chain, &pki.ec.key_pkcs8).unwrap_err();
    assert!(
        matches!(err, AppleError::KeyCertificateMismatch { .. }),
        "{err:?}"
    );
    assert!(matches!(
        ProfileSigner::new::<Vec<u8>>(&[], &pki.ec.key_pkcs8),
        Err(AppleError::InvalidCertificate { .. })
    ));
    assert!(matches!(
        ProfileSigner::new(&pki.ec.chain, b"junk"),
        Err(AppleError::InvalidPrivateKey { .. })
    ));
    let debug = format!("{:?}", signer_of(&pki.ec));
    assert!(debug.contains("ECDSA P-256") && !debug.contains("PRIVATE"));
}

#[test]
fn reads_openssl_streamed_ber_profiles() {
    let Some(pki) = pki() else { return };
    let dir = scratch("stream");
    let xml = every_payload_profile().to_xml().unwrap();
    // Larger than one 4 KiB chunk so the OCTET STRING is chunked.
    let mut big = xml.clone();
    while big.len() < 10_000 {
        big.extend_from_slice(b"<!-- padding to force several chunks -->\n");
    }
    for (name, content, s) in [("rsa", &xml, &pki.rsa), ("ec", &big, &pki.ec)] {
        let input = dir.join(format!("{name}.plist"));
        let out = dir.join(format!("{name}.der"));
        std::fs::write(&input, content).unwrap();
        run(Command::new("openssl")
            .args([
                "cms",
                "-sign",
                "-binary",
                "-nodetach",
                "-stream",
                "-outform",
                "DER",
                "-md",
                "sha256",
                "-in",
            ])
            .arg(&input)
            .arg("-signer")
            .arg(&s.cert_pem)
            .arg("-inkey")
            .arg(&s.key_pem)
            .arg("-certfile")
            .arg(&pki.ca_pem)
            .arg("-out")
            .arg(&out));
        let signed = std::fs::read(&out).unwrap();
        assert_eq!(
            signed.get(1),
            Some(&0x80),
            "{name}: openssl wrote indefinite-length BER"
        );
        let verified = verify_signed_profile(&signed).unwrap();
        assert_eq!(verified.content(), content.as_slice(), "{name}");
        assert_eq!(verified.signer_der(), s.chain[0].as_slice(), "{name}");
    }
}

#[test]
fn non_cms_input_is_a_typed_error() {
    assert!(matches!(
        verify_signed_profile(b""),
        Err(AppleError::MalformedCms { .. })
    ));
    assert!(matches!(
        verify_signed_profile(&[0x30, 0x03, 0x02, 0x01, 0x01]),
        Err(AppleError::MalformedCms { .. })
    ));
    let xml = every_payload_profile().to_xml().unwrap();
    assert!(verify_signed_profile(&xml).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn verify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = verify_signed_profile(&bytes);
    }

    #[test]
    fn verify_never_panics_on_mutated_signatures(edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6)) {
        let Some(pki) = pki() else { return Ok(()) };
        static SIGNED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let signed = SIGNED.get_or_init(|| every_payload_profile().sign(&signer_of(&pki.ec), now()).unwrap());
        let mut bytes = signed.clone();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        // Never panics; a changed byte almost always fails, but a change in
        // an unsigned field (e.g. inside an extra certificate) may pass.
        let _ = verify_signed_profile(&bytes);
    }
}

#[test]
fn detached_mdm_signature_round_trip_and_openssl() {
    let Some(pki) = pki() else { return };
    let body = TokenUpdate::new(
        ApnsTopic::new(super::fixtures::TOPIC).unwrap(),
        DeviceId::Udid("U".into()),
        PushToken::new(vec![3; 32]).unwrap(),
        PushMagic::new("m").unwrap(),
    )
    .to_xml()
    .unwrap();
    for (name, s) in [("rsa", &pki.rsa), ("ec", &pki.ec)] {
        let sig = signer_of(s).sign_detached(&body, now()).unwrap();
        let v = verify_detached_signature(&sig, &body).unwrap();
        assert_eq!(v.signer_der(), s.chain[0].as_slice(), "{name}");
        assert_eq!(v.content(), body.as_slice());
        // The wrong body fails; a detached signature is not a signed profile.
        let mut other = body.clone();
        other[50] ^= 1;
        assert!(
            matches!(
                verify_detached_signature(&sig, &other),
                Err(AppleError::BadSignature { .. })
            ),
            "{name}"
        );
        assert!(
            matches!(
                verify_signed_profile(&sig),
                Err(AppleError::MalformedCms { .. })
            ),
            "{name}"
        );
        // An attached signature is not a detached one.
        let attached = signer_of(s).sign(&body, now()).unwrap();
        assert!(matches!(
            verify_detached_signature(&attached, &body),
            Err(AppleError::MalformedCms { .. })
        ));
        // openssl agrees.
        let dir = scratch("detached");
        let (sig_path, body_path) = (
            dir.join(format!("{name}.p7s")),
            dir.join(format!("{name}.body")),
        );
        std::fs::write(&sig_path, &sig).unwrap();
        std::fs::write(&body_path, &body).unwrap();
        run(Command::new("openssl")
            .args([
                "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
            ])
            .arg(&sig_path)
            .arg("-content")
            .arg(&body_path)
            .arg("-CAfile")
            .arg(&pki.ca_pem)
            .args(["-out", "/dev/null"]));
    }
}

#[test]
fn install_profile_command_carries_a_verifiable_signed_profile() {
    let Some(pki) = pki() else { return };
    let profile = every_payload_profile();
    let cmd = InstallProfile::signed(&profile, &signer_of(&pki.ec), now()).unwrap();
    assert_eq!(
        verify_signed_profile(&cmd.payload).unwrap().content(),
        profile.to_xml().unwrap().as_slice()
    );
    assert_eq!(
        InstallProfile::unsigned(&profile).unwrap().payload,
        profile.to_xml().unwrap()
    );
    let token = UnlockToken::new(vec![1, 2, 3]);
    assert_eq!(ClearPasscode::new(&token).unlock_token, vec![1, 2, 3]);
}

#[test]
fn signed_attributes_are_verified_as_the_signer_encoded_them() {
    // A signer that writes its signed attributes out of DER order (some
    // do) must still verify: the signature covers the bytes as sent, not a
    // re-sorted copy.
    use der::{Decode, Encode};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer as _};
    let Some(pki) = pki() else { return };
    let mut signed = every_payload_profile()
        .sign(&signer_of(&pki.rsa), now())
        .unwrap();
    let ci = cms::content_info::ContentInfo::from_der(&signed).unwrap();
    let sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let si = sd.signer_infos.0.iter().next().unwrap();
    let attrs: Vec<Vec<u8>> = si
        .signed_attrs
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.to_der().unwrap())
        .collect();
    assert_eq!(attrs.len(), 3, "contentType, signingTime, messageDigest");
    let sorted: Vec<u8> = attrs.concat();
    let reversed: Vec<u8> = attrs.iter().rev().flatten().copied().collect();
    assert_ne!(sorted, reversed);
    let at = signed
        .windows(sorted.len())
        .position(|w| w == sorted.as_slice())
        .unwrap();
    signed[at..at + sorted.len()].copy_from_slice(&reversed);
    // Re-sign the SET as now encoded: 0x31, the same length bytes, the reversed content.
    let header_len = if sorted.len() < 128 { 2 } else { 3 };
    let mut set = signed[at - header_len..at + sorted.len()].to_vec();
    set[0] = 0x31;
    let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(
        rsa::PrivateKey::from_pkcs8_der(&pki.rsa.key_pkcs8).unwrap(),
    );
    let signature = key.sign(&set).to_vec();
    let n = signed.len();
    signed[n - signature.len()..].copy_from_slice(&signature);
    let verified = verify_signed_profile(&signed).unwrap();
    assert_eq!(verified.signer_der(), pki.rsa.chain[0].as_slice());
}
