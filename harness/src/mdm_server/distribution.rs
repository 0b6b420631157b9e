//! What the workspace hands out: the agent's product and standalone-package
//! settings, the enrollment profile's parameters and its signer, and the
//! routes an opened invitation link takes to them.

use mdm_apple::{EnrollmentIdentity, EnrollmentParams, HttpsUrl, ProfileSigner, ScepIdentity};
use mdm_model::Platform;
use mdm_packages::{
    CaCertificate, ConnectionSettings, LinkBase, LinkRoutes, ProductDescription, ProductFile,
};

use super::{COMPANY, SERVER_HOST};
use crate::HarnessError;
use crate::error::{apple, model, packages};
use crate::pki::AdminPki;

/// Where the store listing of the agent is.
pub(crate) const STORE_URL: &str =
    "https://play.google.com/store/apps/details?id=com.example.mdm.agent";

/// What the workspace hands out: the agent's product and package settings,
/// and the enrollment profile's parameters and signer.
pub(crate) struct Distribution {
    pub(crate) product: ProductDescription,
    pub(crate) agent_apk: Vec<u8>,
    pub(crate) connection: ConnectionSettings,
    pub(crate) apple_params: EnrollmentParams,
    pub(crate) profile_signer: ProfileSigner,
}

impl Distribution {
    /// What the workspace of `pki` distributes, and the base of its
    /// invitation links.
    pub(crate) fn set_up(pki: &AdminPki) -> Result<(Self, LinkBase), HarnessError> {
        let (product, agent_apk, connection, link_base) = android_distribution(pki)?;
        let (apple_params, profile_signer) = enrollment_setup(pki)?;
        let dist = Self {
            product,
            agent_apk,
            connection,
            apple_params,
            profile_signer,
        };
        Ok((dist, link_base))
    }
}

/// The product, its agent APK bytes, the connection settings a standalone
/// package embeds, and the base of invitation links.
fn android_distribution(
    pki: &AdminPki,
) -> Result<(ProductDescription, Vec<u8>, ConnectionSettings, LinkBase), HarnessError> {
    // A stand-in APK: the harness does not ship an agent, only bytes with a
    // ZIP signature so that the package carries something APK-shaped.
    let mut apk = b"PK\x03\x04 fleet-simulation agent stand-in ".to_vec();
    apk.extend(
        (0u32..2048).map(|i| u8::try_from(i.wrapping_mul(2_654_435_761) >> 24).unwrap_or(0)),
    );
    let file = ProductFile {
        path: mdm_packages::ProductPath::new("agent.apk").map_err(|message| {
            HarnessError::Packages {
                step: "product file",
                message,
            }
        })?,
        sha256: mdm_model::Sha256Digest::of(&apk),
        size: Some(apk.len() as u64),
    };
    let product = ProductDescription::new("Fleet Agent", "11.2.0", Platform::Android, vec![file])
        .map_err(packages("product"))?;
    let connection = ConnectionSettings {
        server: mdm_model::ServerAddress::parse(SERVER_HOST)
            .map_err(model("server address"))?
            .with_default_port(mdm_model::ServerAddress::HTTPS_PORT),
        server_ca: CaCertificate::from_der(pki.ca.certificate().der())
            .map_err(packages("server CA"))?,
        workspace_id: "fleet".into(),
        user: None,
        enrollment_token: None,
    };
    let base = LinkBase::parse(&format!("https://{SERVER_HOST}")).map_err(packages("link base"))?;
    Ok((product, apk, connection, base))
}

/// The workspace's enrollment-profile parameters (SCEP identity, the
/// server's root CA) and the profile signer (the server's certificate).
fn enrollment_setup(pki: &AdminPki) -> Result<(EnrollmentParams, ProfileSigner), HarnessError> {
    let host = SERVER_HOST;
    let params = EnrollmentParams {
        server_url: HttpsUrl::new("ServerURL", format!("https://{host}/mdm/server"))
            .map_err(apple("server URL"))?,
        check_in_url: Some(
            HttpsUrl::new("CheckInURL", format!("https://{host}/mdm/checkin"))
                .map_err(apple("check-in URL"))?,
        ),
        topic: pki.topic.clone(),
        identity: EnrollmentIdentity::Scep(ScepIdentity {
            name: Some("fleet-ca".into()),
            subject: vec![
                ("O".into(), COMPANY.into()),
                ("CN".into(), "%SerialNumber%".into()),
            ],
            // Each opening's profile gets its own one-time challenge and
            // CN (the SCEP endpoint's label): `invitations::build_artifact`.
            challenge: None,
            ..ScepIdentity::new(format!("https://{host}/scep"))
        }),
        server_root_ca_der: Some(pki.ca.certificate().der().to_vec()),
        identifier_prefix: "example.fleet.mdm".into(),
        organization: COMPANY.into(),
    };
    let current = pki.rotation.current();
    let chain = vec![
        current.certificate.der().to_vec(),
        pki.ca.certificate().der().to_vec(),
    ];
    let signer = ProfileSigner::new(&chain, current.key.pkcs8_der_secret())
        .map_err(apple("profile signer"))?;
    Ok((params, signer))
}

/// The link routes of the workspace: the standalone package, or the store
/// listing for users who install a plain APK; the signed enrollment profile.
pub(crate) fn routes<'a>(
    dist: &'a Distribution,
    files: &'a [(&'a str, &'a [u8])],
    store: bool,
) -> LinkRoutes<'a> {
    let android = if store {
        mdm_packages::AndroidRoute::StoreListing { url: STORE_URL }
    } else {
        mdm_packages::AndroidRoute::StandalonePackage {
            product: &dist.product,
            files,
            connection: &dist.connection,
        }
    };
    LinkRoutes {
        android,
        apple: mdm_packages::AppleRoute {
            params: &dist.apple_params,
            signer: Some(&dist.profile_signer),
        },
    }
}
