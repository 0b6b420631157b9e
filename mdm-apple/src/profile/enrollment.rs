//! The one call that makes a workspace's MDM enrollment profile.

use rand_core::CryptoRng;

use super::{
    CertificateFormat, CertificatePayload, MdmPayload, Payload, PayloadContent, Pkcs12Identity,
    Profile, ProfileParams, ScepIdentity,
};
use crate::error::Result;
use mdm_model::PushTopic;

use crate::ids::{HttpsUrl, PayloadUuid};

/// The device identity an enrollment profile carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollmentIdentity {
    /// A ready-made identity (certificate and key) as PKCS#12.
    Pkcs12(Pkcs12Identity),
    /// An identity the device enrolls for over SCEP.
    Scep(ScepIdentity),
}

/// What a workspace knows that goes into its enrollment profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentParams {
    /// The MDM server's `ServerURL` (command endpoint).
    pub server_url: HttpsUrl,
    /// `CheckInURL`, when check-ins go elsewhere than `server_url`.
    pub check_in_url: Option<HttpsUrl>,
    /// The topic of the workspace's APNs certificate (its subject UID).
    pub topic: PushTopic,
    /// The device identity.
    pub identity: EnrollmentIdentity,
    /// The server's root CA (DER) when it is not publicly trusted: added as a
    /// `com.apple.security.root` payload so the device trusts the server.
    pub server_root_ca_der: Option<Vec<u8>>,
    /// Reverse-DNS prefix for every `PayloadIdentifier` (e.g. `com.example.mdm`).
    pub identifier_prefix: String,
    /// `PayloadOrganization` and the base of `PayloadDisplayName`.
    pub organization: String,
}

/// Builds the MDM enrollment profile of a workspace (R-IO-1): an identity
/// payload (PKCS#12 or SCEP), the server's root CA when given, and the MDM
/// payload pointing at the identity, with all access rights, signed
/// messages and check-out on removal. UUIDs are drawn from `rng`, so a
/// seeded generator gives a reproducible profile.
///
/// # Errors
/// Any rule of [`ProfileParams::build`], or an unparsable root CA.
pub fn enrollment_profile<R: CryptoRng + ?Sized>(
    params: &EnrollmentParams,
    rng: &mut R,
) -> Result<Profile> {
    let prefix = params.identifier_prefix.trim_end_matches('.');
    let mut profile = ProfileParams::new(
        format!("{prefix}.enrollment"),
        PayloadUuid::random(rng),
        format!("{} MDM enrollment", params.organization),
    );
    profile.organization = Some(params.organization.clone());
    profile.description = Some(format!(
        "Enrolls this device in {}'s mobile device management.",
        params.organization
    ));

    let identity_uuid = PayloadUuid::random(rng);
    let (identity_id, identity_content, identity_name) = match &params.identity {
        EnrollmentIdentity::Pkcs12(p) => (
            format!("{prefix}.enrollment.identity"),
            PayloadContent::Pkcs12(p.clone()),
            "Device identity",
        ),
        EnrollmentIdentity::Scep(s) => (
            format!("{prefix}.enrollment.scep"),
            PayloadContent::Scep(s.clone()),
            "Device identity (SCEP)",
        ),
    };
    let mut identity = Payload::new(identity_id, identity_uuid.clone(), identity_content);
    identity.display_name = Some(identity_name.into());
    profile.payloads.push(identity);

    if let Some(ca) = &params.server_root_ca_der {
        let mut root = CertificatePayload::from_der(ca.clone(), CertificateFormat::Root)?;
        root.file_name = Some("server-root-ca.cer".into());
        let mut p = Payload::new(
            format!("{prefix}.enrollment.root-ca"),
            PayloadUuid::random(rng),
            PayloadContent::Certificate(root),
        );
        p.display_name = Some("Server root certificate".into());
        profile.payloads.push(p);
    }

    let mut mdm = MdmPayload::new(
        params.server_url.clone(),
        params.topic.clone(),
        identity_uuid,
    );
    mdm.check_in_url = params.check_in_url.clone();
    let mut p = Payload::new(
        format!("{prefix}.enrollment.mdm"),
        PayloadUuid::random(rng),
        PayloadContent::Mdm(mdm),
    );
    p.display_name = Some("Mobile device management".into());
    p.organization = Some(params.organization.clone());
    profile.payloads.push(p);

    profile.build()
}
