//! SCEP messages read by someone else's CMS code (OpenSSL's command line),
//! and a seeded exchange that must be the same bytes whichever RSA engine
//! the build uses (the `rsa` crate, or OpenSSL with the `openssl` feature).

use std::path::Path;

use mdm_certs::{
    Certificate, ClientIdentity, ContentCipher, OtpPolicy, ScepChallenges, ScepConfig, ScepDigest,
    ScepOutcome, ScepReply, ScepRequest, ScepServer, ScepSigner, SubjectName, csr_with_challenge,
};
use sha2::{Digest as _, Sha256};

use crate::fixture::{NOW, rng};
use crate::openssl::{Dir, have, run, s};
use crate::scep_flow::{rsa, rsa_ca};

struct Exchange {
    server: ScepServer,
    device: ScepSigner,
    request: ScepRequest,
    cert_rep: Vec<u8>,
}

impl Exchange {
    /// The certificate the CertRep carries, read by the device.
    fn issued(&self) -> Certificate {
        let reply = ScepReply::parse(
            &self.cert_rep,
            &self.request,
            self.server.responder_certificate(),
            &self.device,
        )
        .unwrap();
        let ScepReply::Issued(cert) = reply else {
            panic!("not issued: {reply:?}")
        };
        *cert
    }
}

/// One PKCSReq answered, every random draw from a fixed seed.
fn exchange(cipher: ContentCipher, digest: ScepDigest) -> Exchange {
    let server = ScepServer::new(rsa_ca(), ScepConfig::default()).unwrap();
    let store = ScepChallenges::new();
    let id = ClientIdentity::new("carol@example.com", Some("iphone-9")).unwrap();
    let otp = store.issue(id, OtpPolicy::default(), NOW, &mut rng(40));
    let key = rsa(2);
    let csr = csr_with_challenge(
        &SubjectName::common_name("the-device-asks").unwrap(),
        &key,
        otp.expose(),
    )
    .unwrap();
    let device = ScepSigner::self_signed(key, "device", NOW, &mut rng(41)).unwrap();
    let request = ScepRequest::pkcs_req(
        &csr,
        &device,
        server.responder_certificate(),
        cipher,
        digest,
        NOW,
        &mut rng(42),
    )
    .unwrap();
    let (response, outcome) = server
        .pki_operation(request.der(), &store, NOW, &mut rng(43))
        .unwrap();
    assert!(matches!(outcome, ScepOutcome::Issued { .. }), "{outcome:?}");
    Exchange {
        server,
        device,
        request,
        cert_rep: response.body,
    }
}

/// Our PKCSReq verifies and decrypts with `openssl cms` (the CA's key) to a
/// CSR `openssl req -verify` accepts; our CertRep verifies up to the CA and
/// decrypts with the device's key to a certificate `openssl verify` chains
/// to the CA.
#[test]
fn openssl_reads_our_pkcs_req_and_cert_rep() {
    if !have("openssl") {
        return;
    }
    let dir = Dir::new("scep-openssl");
    let e = exchange(ContentCipher::Aes128Cbc, ScepDigest::Sha256);
    let ca = e.server.authority();
    let ca_pem = dir.write("ca.pem", ca.certificate().pem());
    let ca_key = dir.write(
        "ca.key",
        ca.key().to_pkcs8_pem(None, &mut rng(1)).unwrap().as_bytes(),
    );
    let device_key = dir.write(
        "device.key",
        rsa(2).to_pkcs8_pem(None, &mut rng(1)).unwrap().as_bytes(),
    );
    let device_cert = dir.write("device.pem", e.device.certificate().pem());
    let openssl = |args: &[&str]| {
        let (ok, out) = run("openssl", args);
        assert!(ok, "openssl {}: {out}", args.join(" "));
        out
    };
    // `openssl cms -verify|-decrypt` of a DER message, its content out.
    let cms = |action: &str, input: &Path, options: &[&str], output: &Path| {
        let mut args = vec!["cms", action, "-inform", "DER", "-in", s(input)];
        args.extend_from_slice(options);
        args.extend_from_slice(&["-binary", "-out", s(output)]);
        openssl(&args)
    };

    // The device's request: signed (by its self-signed certificate, so
    // no chain), then the envelope for the CA, then the CSR.
    let req = dir.write("req.der", e.request.der());
    let sealed = dir.path("req-sealed.der");
    let csr = dir.path("csr.der");
    cms("-verify", &req, &["-noverify"], &sealed);
    cms("-decrypt", &sealed, &["-inkey", s(&ca_key)], &csr);
    let out = openssl(&["req", "-inform", "DER", "-in", s(&csr), "-verify", "-noout"]);
    assert!(out.contains("verify OK"), "{out}");

    // The server's answer: signed by the CA, verified up to it.
    let rep = dir.write("certrep.der", &e.cert_rep);
    let enveloped = dir.path("certrep-sealed.der");
    let degenerate = dir.path("issued.p7");
    let issued = dir.path("issued.pem");
    cms(
        "-verify",
        &rep,
        &["-CAfile", s(&ca_pem), "-purpose", "any"],
        &enveloped,
    );
    cms(
        "-decrypt",
        &enveloped,
        &["-inkey", s(&device_key), "-recip", s(&device_cert)],
        &degenerate,
    );
    openssl(&[
        "pkcs7",
        "-inform",
        "DER",
        "-in",
        s(&degenerate),
        "-print_certs",
        "-out",
        s(&issued),
    ]);
    let out = openssl(&["verify", "-CAfile", s(&ca_pem), s(&issued)]);
    assert!(out.contains(": OK"), "{out}");
    let out = openssl(&["x509", "-in", s(&issued), "-noout", "-subject"]);
    assert!(out.contains("carol@example.com"), "{out}");

    // And our own reader agrees.
    let theirs = Certificate::from_pem(&std::fs::read_to_string(&issued).unwrap()).unwrap();
    assert_eq!(e.issued().der(), theirs.der());
}

/// RSA PKCS #1 v1.5 signatures are deterministic, decryption is a function
/// of key and ciphertext, and neither engine draws its blinding from the
/// caller's RNG: so a seeded exchange is the same bytes on both engines,
/// in every cipher and digest. The snapshot is shared by `cargo test` and
/// `cargo test --features openssl`.
#[test]
fn a_seeded_exchange_is_the_same_bytes_on_both_rsa_engines() {
    let mut lines = Vec::new();
    for (cipher, digest) in [
        (ContentCipher::Aes128Cbc, ScepDigest::Sha256),
        (ContentCipher::DesEde3Cbc, ScepDigest::Sha1),
        (ContentCipher::Aes256Cbc, ScepDigest::Sha512),
    ] {
        let e = exchange(cipher, digest);
        let cert = e.issued();
        lines.push(format!(
            "{cipher:?} {digest:?}: PKCSReq {} CertRep {} certificate {}",
            hex::encode(Sha256::digest(e.request.der())),
            hex::encode(Sha256::digest(&e.cert_rep)),
            hex::encode(Sha256::digest(cert.der())),
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}
