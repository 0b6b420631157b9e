//! Snapshots of generated artifacts. Keys, serials and signatures all come
//! from seeded RNGs and deterministic signatures, so these are stable.

use mdm_model::ServerHost;

use mdm_certs::{ApnsKeyRequest, KeyAlgorithm, Validity};

use crate::fixture::{NOW, form, portal_and_vendor, rng, workspace_ca, workspace_key};

#[test]
fn push_certificate_request_plist() {
    let (_, vendor) = portal_and_vendor();
    let apns = ApnsKeyRequest::with_key(&form().subject().unwrap(), workspace_key()).unwrap();
    let signed = vendor.sign_request(apns.csr(), NOW).unwrap();
    insta::assert_snapshot!(String::from_utf8(signed.plist_xml().to_vec()).unwrap());
}

#[test]
fn server_certificate_facts() {
    let ca = workspace_ca();
    let addr = ServerHost::parse("mdm.example.com").unwrap();
    let issued = ca
        .issue_server_certificate(
            &addr,
            Validity::days(NOW, 365).unwrap(),
            KeyAlgorithm::EcdsaP256,
            &mut rng(50),
        )
        .unwrap();
    let info = issued.certificate.info();
    let facts = format!(
        "subject: {}\nissuer: {}\nserial: {}\nnot_before: {}\nnot_after: {}\nsans: {:?}\nis_ca: {}\nfingerprint: {}\n",
        info.subject,
        info.issuer,
        info.serial_hex,
        info.not_before,
        info.not_after,
        info.subject_alt_names,
        info.is_ca,
        info.fingerprint.to_colon_hex(),
    );
    insta::assert_snapshot!(facts);
}
