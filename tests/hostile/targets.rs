//! The fuzz targets: every public parser that takes device, file or network
//! input, each as a function of raw bytes that must never panic, abort or
//! run away. One list, used twice: by `fuzz/` (libFuzzer, `cargo fuzz`,
//! nightly) and by `fuzz_stable.rs` in this test binary (a bounded run on
//! stable, in CI).
//!
//! A target returns nothing: any result, `Ok` or a typed error, is a pass.
//! Text parsers get the input as UTF-8 (lossily converted), as a server
//! that read a header or a form field would.

use std::borrow::Cow;

/// One fuzz target.
pub struct Target {
    /// Its name (the `fuzz/fuzz_targets/<name>.rs` file).
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
}

fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Splits an input in two at its first NUL (e.g. a password and a file).
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&[], data),
    }
}

/// A fixed instant for parsers that check validity dates.
fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-12-01 09:00 UTC)
}

/// A fixed trust anchor (the fuzzer's own CA), made once.
fn anchor() -> &'static [mdm_certs::Certificate] {
    use std::sync::OnceLock;
    static ANCHOR: OnceLock<Vec<mdm_certs::Certificate>> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let validity = mdm_certs::Validity::days(now() - time::Duration::days(1), 365)
            .expect("a valid period");
        let ca = mdm_certs::CertificateAuthority::create(
            &mdm_certs::SubjectName::common_name("Fuzz CA").expect("a name"),
            validity,
            mdm_certs::KeyAlgorithm::EcdsaP256,
            &mut rng,
        )
        .expect("a CA");
        vec![ca.certificate().clone()]
    })
}

/// Every target, in a fixed order.
pub const TARGETS: &[Target] = &[
    // mdm-apple: what a device sends, what a vendor uploads.
    Target {
        name: "apple_decode",
        run: |d| {
            if let Ok(message) = mdm_apple::decode(d) {
                let _ = format!("{message:?}");
                if let mdm_apple::DeviceMessage::Report(report) = &message {
                    let mut queue = mdm_apple::CommandQueue::new(report.message.device.clone());
                    let _ = queue.record(&report.message);
                }
            }
        },
    },
    Target {
        name: "apple_signed_profile",
        run: |d| {
            if let Ok(profile) = mdm_apple::verify_signed_profile(d, anchor(), now()) {
                let _ = profile.plist();
            }
        },
    },
    Target {
        name: "apple_detached_signature",
        run: |d| {
            let (content, signature) = split(d);
            let _ = mdm_apple::verify_detached_signature(signature, content, anchor(), now());
        },
    },
    Target {
        name: "apple_command_parse",
        run: |d| {
            if let Ok(request) = mdm_apple::parse_command(d) {
                let _ = format!("{request:?}");
                // What reads is what the queue would hand out.
                let _ = request.to_xml();
            }
        },
    },
    Target {
        name: "apple_profile_read",
        run: |d| {
            if let Ok(read) = mdm_apple::read_profile(d) {
                let _ = format!("{read:?}");
                if let Ok(profile) = read.into_params().build() {
                    let _ = profile.to_xml();
                }
            }
        },
    },
    // mdm-certs: files an administrator uploads.
    Target {
        name: "certs_certificate_der",
        run: |d| {
            let _ = mdm_certs::Certificate::from_der(d);
        },
    },
    Target {
        name: "certs_certificate_pem",
        run: |d| {
            let _ = mdm_certs::Certificate::from_pem(&text(d));
        },
    },
    Target {
        name: "certs_csr",
        run: |d| {
            let _ = mdm_certs::Csr::from_der(d);
            let _ = mdm_certs::Csr::from_pem(&text(d));
        },
    },
    Target {
        name: "certs_pkcs12",
        run: |d| {
            let (password, file) = split(d);
            let _ = mdm_certs::Pkcs12::read(file, &text(password), "fuzz.p12");
        },
    },
    Target {
        name: "certs_private_key",
        run: |d| {
            let (password, file) = split(d);
            let _ = mdm_certs::PrivateKey::from_pkcs8_der(file);
            let password = text(password);
            let _ = mdm_certs::PrivateKey::from_pkcs8_pem(
                &text(file),
                (!password.is_empty()).then_some(&*password),
            );
        },
    },
    Target {
        name: "certs_authority_pem",
        run: |d| {
            let (key, certificate) = split(d);
            let _ = mdm_certs::CertificateAuthority::from_pem(&text(certificate), &text(key), None);
        },
    },
    Target {
        name: "certs_certificate_file",
        run: |d| {
            let (password, file) = split(d);
            let password = text(password);
            let _ = mdm_certs::read_certificate_file(
                "upload",
                file,
                (!password.is_empty()).then_some(&*password),
            );
        },
    },
    Target {
        name: "certs_apns_intake",
        run: |d| {
            let (password, file) = split(d);
            let password = text(password);
            let intake = mdm_certs::ApnsIntake::without_kept_key(anchor());
            let _ = intake.accept(
                "push.pem",
                file,
                (!password.is_empty()).then_some(&*password),
                now(),
            );
        },
    },
    Target {
        name: "certs_push_request",
        run: |d| {
            let _ = mdm_certs::DecodedPushRequest::decode(&text(d));
        },
    },
    Target {
        name: "certs_scep_message",
        run: |d| {
            // A SCEP pkiMessage as a device POSTs it (RFC 8894), and a
            // GetCACert answer as a client reads it.
            if let Ok(message) = mdm_certs::PkiMessage::parse(d) {
                let _ = message.verify();
                let _ = format!("{message:?}");
            }
            let _ = mdm_certs::ca_certificates("application/x-x509-ca-ra-cert", d);
        },
    },
    Target {
        name: "model_push_topic",
        run: |d| {
            let _ = mdm_model::PushTopic::parse(&text(d));
        },
    },
    // mdm-android: what an agent sends, what a vendor's packaging holds.
    Target {
        name: "android_sync_request",
        run: |d| {
            let _ = mdm_android::SyncRequest::parse(d);
        },
    },
    Target {
        name: "android_sync_response",
        run: |d| {
            let _ = mdm_android::SyncResponse::parse(d);
        },
    },
    Target {
        name: "android_authorization",
        run: |d| {
            let _ = mdm_android::AgentAuthorization::parse(&text(d));
        },
    },
    Target {
        name: "android_qr_payload",
        run: |d| {
            let _ = mdm_android::ProvisioningPayload::parse_qr_json(&text(d));
        },
    },
    Target {
        name: "android_nfc_payload",
        run: |d| {
            let _ = mdm_android::ProvisioningPayload::parse_nfc_properties(&text(d));
        },
    },
    Target {
        name: "android_configuration",
        run: |d| {
            let _ = mdm_android::AgentConfiguration::parse(d);
        },
    },
    Target {
        name: "android_restrictions",
        run: |d| {
            let (values, schema) = split(d);
            if let Ok(schema) = mdm_android::RestrictionSchema::parse_xml(&text(schema)) {
                let resources = mdm_android::Resources::default();
                let _ = schema.check_resources(&resources);
                if let Ok(values) = serde_json::from_slice::<serde_json::Value>(values) {
                    let _ = schema.validate_values(&values, &resources);
                }
            }
        },
    },
    Target {
        name: "android_resources",
        run: |d| {
            let _ = mdm_android::Resources::parse_xml(&text(d));
        },
    },
    Target {
        name: "android_manifest",
        run: |d| {
            let _ = mdm_android::AndroidManifest::parse_xml(&text(d));
        },
    },
    Target {
        name: "model_server_address",
        run: |d| {
            let _ = mdm_model::ServerAddress::parse_typed(&text(d));
        },
    },
    // mdm-packages: packages, product descriptions, links, browsers.
    Target {
        name: "packages_standalone",
        run: |d| {
            let _ = mdm_packages::StandalonePackage::open(d.to_vec());
        },
    },
    Target {
        name: "packages_product",
        run: |d| {
            let _ = mdm_packages::ProductDescription::from_toml(&text(d));
        },
    },
    Target {
        name: "packages_ca",
        run: |d| {
            let _ = mdm_packages::CaCertificate::from_pem_or_der(d);
        },
    },
    Target {
        name: "packages_link",
        run: |d| {
            let _ = mdm_packages::InvitationLink::parse(&text(d));
            if let Ok(base) = mdm_packages::LinkBase::parse(&text(d)) {
                let _ = base.token_in_path(&text(d));
            }
        },
    },
    Target {
        name: "packages_user_agent",
        run: |d| {
            let (hints, agent) = split(d);
            let hints = mdm_packages::ClientHints::from_query(&text(hints));
            let _ = mdm_packages::detect_device(&text(agent), &hints);
            let _ = mdm_packages::Language::negotiate(&text(agent));
        },
    },
    Target {
        name: "model_server_host",
        run: |d| {
            let _ = mdm_model::ServerHost::parse(&text(d));
        },
    },
    // mdm-model: saved workspaces and the secrets in links and headers.
    Target {
        name: "model_workspace_json",
        run: |d| {
            let _ = mdm_model::Workspace::from_json(&text(d));
        },
    },
    Target {
        name: "model_tokens",
        run: |d| {
            let text = text(d);
            let _ = mdm_model::InvitationToken::parse(&text);
            let _ = mdm_model::AgentCredential::parse(&text);
            let _ = mdm_model::EmailAddress::parse(&text);
            let _ = mdm_model::ActivationCode::parse(&text);
            let _ = mdm_model::OsVersion::parse(&text);
        },
    },
];

/// Runs the target called `name` on one input (the libFuzzer entry point).
///
/// # Panics
/// When no target has that name (a typo in `fuzz/fuzz_targets/`).
pub fn run(name: &str, data: &[u8]) {
    match TARGETS.iter().find(|t| t.name == name) {
        Some(target) => (target.run)(data),
        None => panic!("no fuzz target named {name}"),
    }
}
