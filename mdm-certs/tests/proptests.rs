//! Parsers never panic on arbitrary input, and intake returns an error.

use mdm_model::ServerHost;

use mdm_certs::{ApnsIntake, Certificate, Csr, DecodedPushRequest, Pkcs12, PrivateKey};
use proptest::prelude::*;

use crate::fixture::{NOW, push_anchors, rng, workspace_ca, workspace_key};

fn sample_cert() -> Certificate {
    let ca = workspace_ca();
    let (_, csr) = Csr::for_device("d", &mut rng(40)).unwrap();
    ca.issue_client_certificate(
        &csr,
        &mdm_certs::ClientIdentity::new("u", None).unwrap(),
        mdm_certs::Validity::days(NOW, 30).unwrap(),
        &mut rng(41),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn intake_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        password in proptest::option::of("[a-z]{0,8}"),
    ) {
        let key = workspace_key();
        let result = ApnsIntake::new(&key, &push_anchors()).accept("upload", &bytes, password.as_deref(), NOW);
        prop_assert!(result.is_err());
    }

    #[test]
    fn intake_never_panics_on_pem_like_text(body in "[A-Za-z0-9+/=\n-]{0,600}") {
        let text = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
        let key = workspace_key();
        prop_assert!(ApnsIntake::new(&key, &push_anchors()).accept("x.pem", text.as_bytes(), None, NOW).is_err());
    }

    #[test]
    fn intake_never_panics_on_pfx_shaped_bytes(
        body in proptest::collection::vec(any::<u8>(), 0..1024),
        password in proptest::option::of("[a-z]{0,8}"),
    ) {
        // A PFX header (SEQUENCE, INTEGER 3) so the PKCS#12 reader is reached.
        let len = body.len() + 3;
        let mut bytes = vec![0x30, 0x82, (len >> 8) as u8, (len & 0xff) as u8, 0x02, 0x01, 0x03];
        bytes.extend_from_slice(&body);
        prop_assert!(Pkcs12::looks_like(&bytes));
        let key = workspace_key();
        prop_assert!(ApnsIntake::new(&key, &push_anchors()).accept("x.p12", &bytes, password.as_deref(), NOW).is_err());
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024), text in ".{0,300}") {
        let _ = Certificate::from_der(&bytes);
        let _ = Certificate::from_pem(&text);
        let _ = Csr::from_der(&bytes);
        let _ = Csr::from_pem(&text);
        let _ = DecodedPushRequest::decode(&text);
        let _ = ServerHost::parse(&text);
        let _ = PrivateKey::from_pkcs8_der(&bytes);
        let _ = PrivateKey::from_pkcs8_pem(&text, Some("pw"));
        let _ = Pkcs12::looks_like(&bytes);
    }

    #[test]
    fn mutated_certificates_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let cert = sample_cert();
        let mut der = cert.der().to_vec();
        for (i, x) in flips {
            let i = i.index(der.len());
            der[i] ^= x;
        }
        let key = workspace_key();
        let _ = ApnsIntake::new(&key, &push_anchors()).accept("mutated.cer", &der, None, NOW);
        let _ = Certificate::from_der(&der);
    }
}

proptest! {
    // Each case runs the PKCS#12 key derivation: keep the count small.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutated_pkcs12_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        static P12: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let p12 = P12.get_or_init(|| {
            let ca = workspace_ca();
            let issued = ca
                .issue_client_certificate_with_key(
                    &mdm_certs::ClientIdentity::new("u", None).unwrap(),
                    mdm_certs::Validity::days(NOW, 30).unwrap(),
                    mdm_certs::KeyAlgorithm::EcdsaP256,
                    &mut rng(42),
                )
                .unwrap();
            Pkcs12::write_with_iterations(&issued, &[], "u", "pw pw pw pw", 2048).unwrap()
        });
        let mut bytes = p12.clone();
        for (i, x) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        let _ = Pkcs12::read(&bytes, "pw pw pw pw", "m.p12");
        let key = workspace_key();
        let _ = ApnsIntake::new(&key, &push_anchors()).accept("m.p12", &bytes, Some("pw pw pw pw"), NOW);
    }
}
