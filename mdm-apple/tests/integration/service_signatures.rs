//! `Mdm-Signature`s made by `openssl cms -sign` — SHA-1 and SHA-256, P-256
//! and RSA-2048 identities, with and without signed attributes — verify
//! and drive the service; a signature made for another body does not.

use std::process::Command as Proc;

use mdm_apple::{
    AppleDeviceId, AppleError, Authenticate, DeviceRequest, Endpoint, PresentedIdentity,
    verify_detached_signature,
};

use super::fixtures::{run, scratch, tool};
use super::service_fixtures::{IPAD, Identity, NOW, Setup, pki, topic, vector};

/// `openssl cms -sign` over `body` with `identity`'s key: the DER of the
/// detached SignedData, as a device's `Mdm-Signature` carries it.
fn openssl_sign(identity: &Identity, name: &str, body: &[u8], md: &str, noattr: bool) -> Vec<u8> {
    let dir = scratch(&format!("openssl-mdm-signature-{name}-{md}-{noattr}"));
    let (cert, key, input, out) = (
        dir.join("cert.pem"),
        dir.join("key.der"),
        dir.join("body"),
        dir.join("sig.der"),
    );
    std::fs::write(&cert, identity.key.certificate.pem()).unwrap();
    std::fs::write(&key, identity.key.key.pkcs8_der_secret().as_slice()).unwrap();
    std::fs::write(&input, body).unwrap();
    let mut cmd = Proc::new("openssl");
    cmd.args(["cms", "-sign", "-binary", "-outform", "DER", "-md", md])
        .arg("-signer")
        .arg(&cert)
        .args(["-keyform", "DER", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&input)
        .arg("-out")
        .arg(&out);
    if noattr {
        cmd.arg("-noattr");
    }
    run(&mut cmd);
    std::fs::read(&out).unwrap()
}

#[test]
fn openssl_made_signatures_verify_for_sha1_and_sha256() {
    if !tool("openssl") {
        return;
    }
    let body = vector("Authenticate.1.plist");
    let anchors = [pki().ca.certificate().clone()];
    for (name, identity) in [("p256", &pki().x), ("rsa", &pki().rsa)] {
        for md in ["sha1", "sha256"] {
            for noattr in [false, true] {
                let signature = openssl_sign(identity, name, &body, md, noattr);
                let verified = verify_detached_signature(&signature, &body, &anchors, NOW)
                    .unwrap_or_else(|e| panic!("{name} {md} noattr={noattr}: {e}"));
                assert_eq!(verified.signer_der(), identity.der());
                // Over another body, it fails.
                let e = verify_detached_signature(&signature, b"other", &anchors, NOW).unwrap_err();
                assert!(matches!(e, AppleError::BadSignature { .. }), "{e}");
            }
        }
    }
}

#[test]
fn an_openssl_sha1_signature_authenticates_a_device() {
    if !tool("openssl") {
        return;
    }
    let mut s = Setup::new();
    let x = &pki().x;
    s.enrolling(x);
    let body = Authenticate::new(topic(), AppleDeviceId::Udid(IPAD.into()))
        .to_xml()
        .unwrap();
    let signature = openssl_sign(x, "auth", &body, "sha1", false);
    let handled = s
        .service
        .handle(
            &mut s.ws,
            &DeviceRequest {
                endpoint: Endpoint::CheckIn,
                body: &body,
                identity: PresentedIdentity::MdmSignature(&signature),
            },
            NOW,
        )
        .unwrap();
    assert_eq!(handled.status, 200);
}

#[test]
fn sha1_is_refused_for_a_signed_profile() {
    if !tool("openssl") {
        return;
    }
    let x = &pki().x;
    let dir = scratch("openssl-sha1-profile");
    let (cert, key, input, out) = (
        dir.join("cert.pem"),
        dir.join("key.der"),
        dir.join("body"),
        dir.join("signed.der"),
    );
    std::fs::write(&cert, x.key.certificate.pem()).unwrap();
    std::fs::write(&key, x.key.key.pkcs8_der_secret().as_slice()).unwrap();
    std::fs::write(&input, vector("Authenticate.1.plist")).unwrap();
    run(Proc::new("openssl")
        .args([
            "cms",
            "-sign",
            "-nodetach",
            "-binary",
            "-outform",
            "DER",
            "-md",
            "sha1",
        ])
        .arg("-signer")
        .arg(&cert)
        .args(["-keyform", "DER", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&input)
        .arg("-out")
        .arg(&out));
    let signed = std::fs::read(&out).unwrap();
    let e = mdm_apple::verify_signed_profile(&signed, &[pki().ca.certificate().clone()], NOW)
        .unwrap_err();
    assert!(matches!(e, AppleError::UnsupportedAlgorithm { .. }), "{e}");
}
