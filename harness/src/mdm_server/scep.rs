//! The workspace's SCEP endpoint (RFC 8894), in-process: `mdm-certs`'
//! [`ScepServer`] over the workspace CA (with an RSA responder, since the
//! CA is P-256) and the one-time challenge passwords the server issues when
//! a link is opened (R-CL-1). Devices hand it the bytes the HTTP route
//! (`mdm_certs::scep_router`, which `serve` mounts at `/scep`) would carry,
//! and read the bytes it answers; the same `pki_operation` runs behind both.
//!
//! A certificate is issued for the identity the password was issued for,
//! as `serve` does: `CN=<label>`, `OU=<user>`, where the label is fresh per
//! link opening and names the enrollment — the server binds it to the
//! device the opening created, and checks the binding when the device
//! presents its identity.

use std::collections::HashMap;

use mdm_certs::{
    CertError, Certificate, CertificateAuthority, CertifiedKey, ClientIdentity, Csr,
    OneTimePassword, OtpPolicy, ScepChallenges, ScepConfig, ScepOutcome, ScepResponse, ScepServer,
    SubjectName, Validity,
};
use mdm_model::{ClientCertificateRefusal, DeviceId};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng as _;
use time::OffsetDateTime;

use super::MdmServer;
use crate::HarnessError;
use crate::pki::cert;

/// The SCEP endpoint of a run's workspace; shared (read-only but for its
/// password store, which locks) with the devices' own work on other cores.
pub(crate) struct ScepEndpoint {
    server: ScepServer,
    challenges: ScepChallenges,
}

impl core::fmt::Debug for ScepEndpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScepEndpoint")
            .field("challenges", &self.challenges)
            .finish_non_exhaustive()
    }
}

/// What one `PKIOperation` did: the answer's bytes, and the outcome the
/// server records.
pub(crate) struct ScepAnswer {
    pub(crate) response: ScepResponse,
    pub(crate) outcome: ScepOutcome,
}

impl ScepEndpoint {
    /// The SCEP endpoint of `ca` (the workspace CA), its responder
    /// certified by the CA at `now` for a year, with the RSA key
    /// `responder` (the server's).
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] when the responder cannot be set up.
    pub(crate) fn set_up(
        ca: &CertificateAuthority,
        responder: &mdm_certs::PrivateKey,
        now: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<Self, HarnessError> {
        let ca = CertificateAuthority::from_parts(
            ca.certificate().clone(),
            ca.key().try_clone().map_err(cert("SCEP CA key"))?,
        )
        .map_err(cert("SCEP CA"))?;
        let name = SubjectName::common_name("fleet SCEP responder").map_err(cert("RA name"))?;
        let csr = Csr::for_key(&name, responder).map_err(cert("RA request"))?;
        let identity =
            ClientIdentity::new("fleet SCEP responder", None).map_err(cert("RA identity"))?;
        let validity =
            Validity::days(now - time::Duration::minutes(5), 366).map_err(cert("RA validity"))?;
        let certificate = ca
            .issue_client_certificate(&csr, &identity, validity, rng)
            .map_err(cert("RA certificate"))?;
        let ra = CertifiedKey {
            certificate,
            key: responder.try_clone().map_err(cert("RA key"))?,
        };
        let server =
            ScepServer::with_ra(ca, &ra, ScepConfig::default()).map_err(cert("SCEP server"))?;
        Ok(Self {
            server,
            challenges: ScepChallenges::new(),
        })
    }

    /// A one-time password for `user`'s enrollment `label` (R-CL-1): the
    /// challenge of the profile's SCEP payload. Drawn from the server's
    /// stream; the store keeps its hash only.
    pub(crate) fn issue_challenge(
        &self,
        user: &str,
        label: &str,
        now: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<OneTimePassword, HarnessError> {
        let identity = ClientIdentity::new(label, Some(user)).map_err(cert("SCEP identity"))?;
        Ok(self
            .challenges
            .issue(identity, OtpPolicy::default(), now, rng))
    }

    /// `GetCACert`: the CA and the responder, as a degenerate PKCS#7.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] when it cannot be encoded.
    pub(crate) fn ca_cert(&self) -> Result<ScepResponse, HarnessError> {
        self.server.ca_cert().map_err(cert("GetCACert"))
    }

    /// `PKIOperation` with `message` at `now`: a CertRep (SUCCESS, or FAILURE
    /// with its failInfo) and the outcome.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] for a message that is not a
    /// pkiMessage at all (the route's HTTP 400).
    pub(crate) fn pki_operation(
        &self,
        message: &[u8],
        now: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<ScepAnswer, HarnessError> {
        let (response, outcome) = self
            .server
            .pki_operation(message, &self.challenges, now, rng)
            .map_err(cert("PKIOperation"))?;
        Ok(ScepAnswer { response, outcome })
    }

    /// Drops passwords used or expired before `now`.
    pub(crate) fn purge(&self, now: OffsetDateTime) -> usize {
        self.challenges.purge(now)
    }
}

/// The SCEP responder's RSA key: made once per process (the same for
/// every run, so no report depends on it).
///
/// # Errors
/// [`HarnessError::Certificates`] when it cannot be made.
pub(crate) fn responder_key() -> Result<&'static mdm_certs::PrivateKey, HarnessError> {
    static KEY: std::sync::OnceLock<Result<mdm_certs::PrivateKey, String>> =
        std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        crate::devices::scep::rsa_keys(mdm_certs::KeyAlgorithm::Rsa2048, 1, 0x5CE9_0000_0000_00AA)
            .map_err(|e| e.to_string())
            .and_then(|mut keys| keys.pop().ok_or_else(|| "no key made".to_owned()))
    })
    .as_ref()
    .map_err(|message| HarnessError::Apple {
        step: "SCEP responder key",
        message: message.clone(),
    })
}

/// A fresh enrollment label (16 hex digits) from the server's stream.
pub(crate) fn new_label(rng: &mut ChaCha20Rng) -> String {
    format!("{:016x}", rng.next_u64())
}

/// The enrollment label a certificate issued here carries (its CN).
pub(crate) fn label_of(certificate: &Certificate) -> Option<&str> {
    certificate.info().subject_common_name.as_deref()
}

/// The enrollments whose SCEP identity is still to come: label → device,
/// each kept until its one-time password expires (a refused enrollment
/// never presents one).
#[derive(Debug, Default)]
pub(crate) struct PendingIdentities {
    by_label: HashMap<String, (DeviceId, OffsetDateTime)>,
}

impl PendingIdentities {
    /// The opening at `at` that issued `label` created `device`.
    pub(crate) fn bind(&mut self, label: String, device: DeviceId, at: OffsetDateTime) {
        let expires_at = at.saturating_add(OtpPolicy::default().lifetime());
        self.by_label.insert(label, (device, expires_at));
    }

    /// The device whose enrollment `certificate` was issued for (its label
    /// is then used up).
    pub(crate) fn take(&mut self, certificate: &Certificate) -> Option<DeviceId> {
        self.by_label
            .remove(label_of(certificate)?)
            .map(|(device, _)| device)
    }

    /// Forgets the labels whose password expired before `now`.
    pub(crate) fn purge(&mut self, now: OffsetDateTime) {
        self.by_label
            .retain(|_, (_, expires_at)| *expires_at >= now);
    }
}

/// Whether `certificate`, which a device presents, is the one the SCEP
/// endpoint issued for the enrollment that created `device` (its label
/// was bound to `device` when the link was opened). Used up either way.
pub(crate) fn issued_for(w: &mut MdmServer, certificate: &Certificate, device: DeviceId) -> bool {
    w.pending_identities.take(certificate) == Some(device)
}

/// A `PKIOperation` the endpoint refused: audited in the workspace.
pub(crate) fn record_refusal(
    w: &mut MdmServer,
    reason: ClientCertificateRefusal,
    at: OffsetDateTime,
) {
    w.ws.record_client_certificate_refusal(None, reason, at);
}

/// The model's reason for a refused `PKIOperation`.
pub(crate) fn refusal_of(error: &CertError) -> ClientCertificateRefusal {
    use ClientCertificateRefusal as R;
    match error {
        CertError::ScepChallengeUnknown | CertError::OtpWrong { .. } => R::PasswordUnknown,
        CertError::OtpAlreadyUsed { .. } => R::PasswordUsed,
        CertError::OtpExpired { .. } => R::PasswordExpired,
        CertError::OtpLocked => R::PasswordLocked,
        CertError::ScepBadMessageCheck { .. } => R::BadMessage,
        CertError::ScepBadTime { .. } => R::BadTime,
        CertError::ScepUnsupportedAlgorithm { .. } => R::BadAlgorithm,
        CertError::ScepUnknownCertificate { .. } => R::UnknownCertificate,
        _ => R::BadRequest,
    }
}

#[cfg(test)]
mod tests {
    use mdm_certs::{KeyAlgorithm, SubjectName};
    use mdm_model::ClientCertificateRefusal as R;
    use rand_core::SeedableRng as _;
    use time::macros::datetime;

    use super::*;
    use crate::devices::scep::{EnrollmentFault, ScepEnrollment, device_key};

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);

    fn endpoint(rng: &mut ChaCha20Rng) -> (ScepEndpoint, Certificate) {
        let validity = Validity::days(NOW - time::Duration::days(1), 3650).unwrap();
        let name = SubjectName::common_name("test MDM CA").unwrap();
        let ca =
            CertificateAuthority::create(&name, validity, KeyAlgorithm::EcdsaP256, rng).unwrap();
        let endpoint = ScepEndpoint::set_up(&ca, responder_key().unwrap(), NOW, rng).unwrap();
        (endpoint, ca.certificate().clone())
    }

    /// One PKCSReq with `challenge`: what the device read, and the outcome.
    fn exchange(
        endpoint: &ScepEndpoint,
        challenge: &str,
        rng: &mut ChaCha20Rng,
    ) -> (Result<Certificate, EnrollmentFault>, ScepOutcome) {
        let ca = endpoint.ca_cert().unwrap();
        let subject = SubjectName::common_name("asked-for").unwrap();
        let key = device_key(mdm_apple::ScepKeySize::Rsa2048, 3).unwrap();
        let enrollment = ScepEnrollment::request(
            ca.content_type,
            &ca.body,
            challenge,
            &subject,
            key,
            NOW,
            rng,
        )
        .unwrap();
        let answer = endpoint
            .pki_operation(enrollment.message(), NOW, rng)
            .unwrap();
        (enrollment.finish(&answer.response.body), answer.outcome)
    }

    #[test]
    fn a_challenge_issues_its_own_identity_once_and_a_reuse_is_a_failure() {
        let mut rng = ChaCha20Rng::seed_from_u64(15);
        let (endpoint, ca) = endpoint(&mut rng);
        let label = new_label(&mut rng);
        let otp = endpoint
            .issue_challenge("user7", &label, NOW, &mut rng)
            .unwrap();

        let (read, outcome) = exchange(&endpoint, otp.expose(), &mut rng);
        let certificate = read.unwrap();
        assert!(matches!(outcome, ScepOutcome::Issued { .. }));
        assert!(certificate.is_signed_by(&ca));
        // The server's subject, not the one the CSR asked for.
        assert_eq!(label_of(&certificate), Some(label.as_str()));
        assert!(certificate.info().subject.contains("user7"));

        let (read, outcome) = exchange(&endpoint, otp.expose(), &mut rng);
        assert_eq!(read.unwrap_err().kind, "refused");
        let ScepOutcome::Refused { error, .. } = outcome else {
            panic!("a reused challenge was not refused: {outcome:?}");
        };
        assert_eq!(refusal_of(&error), R::PasswordUsed);

        let (read, outcome) = exchange(&endpoint, "NOT-ISSUED-HERE", &mut rng);
        assert_eq!(read.unwrap_err().kind, "refused");
        let ScepOutcome::Refused { error, .. } = outcome else {
            panic!("an unknown challenge was not refused: {outcome:?}");
        };
        assert_eq!(refusal_of(&error), R::PasswordUnknown);
    }

    #[test]
    fn a_label_names_one_device_once() {
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let (endpoint, _) = endpoint(&mut rng);
        let otp = endpoint
            .issue_challenge("user1", "00aa", NOW, &mut rng)
            .unwrap();
        let (read, _) = exchange(&endpoint, otp.expose(), &mut rng);
        let certificate = read.unwrap();
        let device = |n: &str| serde_json::from_str::<DeviceId>(n).unwrap();
        let mut pending = PendingIdentities::default();
        pending.bind("00ab".into(), device("2"), NOW);
        assert_eq!(
            pending.take(&certificate),
            None,
            "another enrollment's label"
        );
        pending.bind("00aa".into(), device("1"), NOW);
        assert_eq!(pending.take(&certificate), Some(device("1")));
        assert_eq!(pending.take(&certificate), None, "used up");
        pending.bind("00aa".into(), device("1"), NOW);
        pending.purge(NOW + time::Duration::days(30));
        assert_eq!(
            pending.take(&certificate),
            None,
            "expired with its password"
        );
    }
}
