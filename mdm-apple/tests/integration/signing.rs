//! CMS signing and verification, cross-checked with `openssl cms`.

use mdm_model::PushTopic;
use std::process::Command;

use mdm_apple::*;
use proptest::prelude::*;

use super::fixtures::{
    Pki, Signer, every_payload_profile, now, openssl_sign_stream, pki, run, scratch,
};

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
        let verified = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()).unwrap();
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
        verify_signed_profile(&tampered, &pki.anchors(), pki.valid_now()),
        Err(AppleError::BadSignature { .. })
    ));
    // Flip the last byte (inside the signature value).
    let mut tampered = signed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(matches!(
        verify_signed_profile(&tampered, &pki.anchors(), pki.valid_now()),
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
        let signed = openssl_sign_stream(pki, s, content, &dir.join(name));
        assert_eq!(
            signed.get(1),
            Some(&0x80),
            "{name}: openssl wrote indefinite-length BER"
        );
        let verified = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()).unwrap();
        assert_eq!(verified.content(), content.as_slice(), "{name}");
        assert_eq!(verified.signer_der(), s.chain[0].as_slice(), "{name}");
    }
}

#[test]
fn non_cms_input_is_a_typed_error() {
    assert!(matches!(
        verify_signed_profile(b"", &[], now()),
        Err(AppleError::MalformedCms { .. })
    ));
    assert!(matches!(
        verify_signed_profile(&[0x30, 0x03, 0x02, 0x01, 0x01], &[], now()),
        Err(AppleError::MalformedCms { .. })
    ));
    let xml = every_payload_profile().to_xml().unwrap();
    assert!(verify_signed_profile(&xml, &[], now()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn verify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = verify_signed_profile(&bytes, &[], now());
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
        let _ = verify_signed_profile(&bytes, &pki.anchors(), pki.valid_now());
    }
}

#[test]
fn detached_mdm_signature_round_trip_and_openssl() {
    let Some(pki) = pki() else { return };
    let body = TokenUpdate::new(
        PushTopic::parse(super::fixtures::TOPIC).unwrap(),
        AppleDeviceId::Udid("U".into()),
        PushToken::new(vec![3; 32]).unwrap(),
        PushMagic::new("m").unwrap(),
    )
    .to_xml()
    .unwrap();
    for (name, s) in [("rsa", &pki.rsa), ("ec", &pki.ec)] {
        let sig = signer_of(s).sign_detached(&body, now()).unwrap();
        let v = verify_detached_signature(&sig, &body, &pki.anchors(), pki.valid_now()).unwrap();
        assert_eq!(v.signer_der(), s.chain[0].as_slice(), "{name}");
        assert_eq!(v.content(), body.as_slice());
        // The wrong body fails; a detached signature is not a signed profile.
        let mut other = body.clone();
        other[50] ^= 1;
        assert!(
            matches!(
                verify_detached_signature(&sig, &other, &pki.anchors(), pki.valid_now()),
                Err(AppleError::BadSignature { .. })
            ),
            "{name}"
        );
        assert!(
            matches!(
                verify_signed_profile(&sig, &pki.anchors(), pki.valid_now()),
                Err(AppleError::MalformedCms { .. })
            ),
            "{name}"
        );
        // An attached signature is not a detached one.
        let attached = signer_of(s).sign(&body, now()).unwrap();
        assert!(matches!(
            verify_detached_signature(&attached, &body, &pki.anchors(), pki.valid_now()),
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
        verify_signed_profile(&cmd.payload, &pki.anchors(), pki.valid_now())
            .unwrap()
            .content(),
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
    let verified = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()).unwrap();
    assert_eq!(verified.signer_der(), pki.rsa.chain[0].as_slice());
}

/// A self-signed CA made with openssl in `dir`: (PEM path, key path, DER).
fn self_made_ca(
    dir: &std::path::Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let key = dir.join(format!("{name}.key"));
    let pem = dir.join(format!("{name}.pem"));
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&key));
    run(Command::new("openssl")
        .args(["req", "-x509", "-new", "-key"])
        .arg(&key)
        .args([
            "-subj",
            &format!("/O=mdm-apple tests/CN={name}"),
            "-days",
            "30",
            "-out",
        ])
        .arg(&pem));
    let der = run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&pem));
    (pem, key, der)
}

const EC: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
const SIGNING: &str = "keyUsage=critical,digitalSignature\n";

#[test]
fn a_signer_from_a_self_made_ca_is_untrusted() {
    use super::fixtures::signer_with;
    let Some(pki) = pki() else { return };
    let dir = scratch("self-made");
    // The attacker's CA even copies the real root's subject.
    let (pem, key, der) = self_made_ca(&dir, "Test Root CA");
    let forged = signer_with(&dir, &pem, &key, "forged", EC, SIGNING);
    let profile = every_payload_profile();
    let signed = profile.sign(&signer_of(&forged), now()).unwrap();
    let body = profile.to_xml().unwrap();
    let detached = signer_of(&forged).sign_detached(&body, now()).unwrap();
    for result in [
        verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()),
        verify_detached_signature(&detached, &body, &pki.anchors(), pki.valid_now()),
        // No anchors at all: nothing is trusted.
        verify_signed_profile(&signed, &[], pki.valid_now()),
    ] {
        assert!(
            matches!(result, Err(AppleError::UntrustedSigner { .. })),
            "{result:?}"
        );
    }
    // The same bytes verify for whoever trusts that CA: only the anchor differs.
    let theirs = [mdm_certs::Certificate::from_der(&der).unwrap()];
    assert!(verify_signed_profile(&signed, &theirs, pki.valid_now()).is_ok());
    assert!(verify_detached_signature(&detached, &body, &theirs, pki.valid_now()).is_ok());
    // A pinned signer certificate is its own anchor.
    let pinned = [mdm_certs::Certificate::from_der(&forged.chain[0]).unwrap()];
    assert!(verify_signed_profile(&signed, &pinned, pki.valid_now()).is_ok());
}

#[test]
fn validity_dates_are_enforced_at_the_callers_now() {
    let Some(pki) = pki() else { return };
    let signed = every_payload_profile()
        .sign(&signer_of(&pki.ec), now())
        .unwrap();
    let valid = pki.valid_now();
    assert!(verify_signed_profile(&signed, &pki.anchors(), valid).is_ok());
    for at in [
        valid - time::Duration::days(2),
        valid + time::Duration::days(31),
    ] {
        let result = verify_signed_profile(&signed, &pki.anchors(), at);
        assert!(
            matches!(result, Err(AppleError::CertificateNotValidAt { now, .. }) if now == at),
            "{result:?}"
        );
    }
}

#[test]
fn key_usage_and_rsa_size_are_enforced() {
    use super::fixtures::signer_with;
    let Some(pki) = pki() else { return };
    let dir = scratch("key-usage");
    let profile = every_payload_profile();
    let verify = |s: &super::fixtures::Signer| {
        let signed = profile.sign(&signer_of(s), now()).unwrap();
        verify_signed_profile(&signed, &pki.anchors(), pki.valid_now())
    };
    // Encryption-only key usage: may not sign.
    let encipher = signer_with(
        &dir,
        &pki.ca_pem,
        &pki.ca_key,
        "encipher",
        EC,
        "keyUsage=critical,keyAgreement\n",
    );
    assert!(matches!(
        verify(&encipher),
        Err(AppleError::KeyUsageForbids {
            usage: "digitalSignature",
            ..
        })
    ));
    // No key usage extension at all: allowed.
    let unrestricted = signer_with(
        &dir,
        &pki.ca_pem,
        &pki.ca_key,
        "unrestricted",
        EC,
        "basicConstraints=CA:FALSE\n",
    );
    assert!(verify(&unrestricted).is_ok());
    // A 1024-bit RSA identity is refused; 2048 (the fixture) is fine.
    let weak = signer_with(
        &dir,
        &pki.ca_pem,
        &pki.ca_key,
        "weak",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        SIGNING,
    );
    assert!(
        matches!(
            verify(&weak),
            Err(AppleError::WeakRsaKey {
                bits: 1024,
                min: 2048,
                ..
            })
        ),
        "{:?}",
        verify(&weak)
    );
    assert!(verify(&pki.rsa).is_ok());
}

#[test]
fn a_chain_through_an_intermediate_ca_is_followed_and_checked() {
    use super::fixtures::signer_with;
    let Some(pki) = pki() else { return };
    let dir = scratch("intermediate");
    let profile = every_payload_profile();
    // root → intermediate CA → leaf; the SignedData carries leaf and intermediate.
    let issue_ca = |name: &str, ext: &str| {
        let ca = signer_with(&dir, &pki.ca_pem, &pki.ca_key, name, EC, ext);
        let key = dir.join(format!("{name}.key"));
        (ca, key)
    };
    for (name, ext, ok) in [
        (
            "Good Intermediate",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n",
            true,
        ),
        (
            "Leaf Not CA",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
            false,
        ),
        (
            "CA Without CertSign",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n",
            false,
        ),
    ] {
        let (ca, ca_key) = issue_ca(name, ext);
        let leaf = signer_with(
            &dir,
            &ca.cert_pem,
            &ca_key,
            &format!("{name} leaf"),
            EC,
            SIGNING,
        );
        let chain = vec![leaf.chain[0].clone(), ca.chain[0].clone()];
        let signer = ProfileSigner::new(&chain, &leaf.key_pkcs8).unwrap();
        let signed = profile.sign(&signer, now()).unwrap();
        let result = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now());
        if ok {
            assert!(result.is_ok(), "{name}: {result:?}");
        } else {
            assert!(
                matches!(result, Err(AppleError::KeyUsageForbids { .. })),
                "{name}: {result:?}"
            );
        }
        // Without the intermediate in the SignedData there is no path.
        let alone = ProfileSigner::new(&chain[..1], &leaf.key_pkcs8).unwrap();
        let signed = profile.sign(&alone, now()).unwrap();
        assert!(matches!(
            verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()),
            Err(AppleError::UntrustedSigner { .. })
        ));
    }
}

#[test]
fn the_content_is_hashed_once() {
    let Some(pki) = pki() else { return };
    let xml = every_payload_profile().to_xml().unwrap();
    let signed = every_payload_profile()
        .sign(&signer_of(&pki.ec), now())
        .unwrap();
    let verified = verify_signed_profile(&signed, &pki.anchors(), pki.valid_now()).unwrap();
    assert_eq!(verified.bytes_hashed(), xml.len());
    // Debug shows neither the content nor its secrets.
    let debug = format!("{verified:?}");
    assert!(
        !debug.contains("Everything") && debug.contains("bytes redacted"),
        "{debug}"
    );
}
