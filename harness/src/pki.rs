//! The administrator's certificates, through `mdm-certs`: the workspace CA,
//! the server certificate and its rotation, the APNs certificate flow (CSR →
//! vendor signing → the portal stand-in → intake), and device certificates.

use mdm_certs::{
    ApnsCsrForm, ApnsIntake, ApnsKeyRequest, CertError, Certificate, CertificateAuthority, Csr,
    DEFAULT_REQUEST_MAX_AGE, KeyAlgorithm, PrivateKey, PushPortalStandIn, ReserveCertificate,
    ServerCertificateRotation, SubjectName, Validity, VendorSigner,
};
use rand_chacha::ChaCha20Rng;
use time::{Duration, OffsetDateTime};

use crate::HarnessError;
use crate::error::model;

/// The workspace's certificate material for a run.
pub struct AdminPki {
    /// The workspace CA: server, client and device identity certificates.
    pub ca: CertificateAuthority,
    /// The server's connection address.
    pub address: mdm_model::ServerHost,
    /// The server certificate and its reserve (R-SV-1).
    pub rotation: ServerCertificateRotation,
    /// Stands in for Apple's push portal (a simulator, not Apple).
    pub portal: PushPortalStandIn,
    /// The vendor's MDM-signing identity.
    pub vendor: VendorSigner,
    /// The APNs certificate in force.
    pub apns: Certificate,
    /// Its topic.
    pub topic: mdm_model::PushTopic,
    /// The key of the workspace's last APNs CSR (intake checks uploads against it).
    pub apns_key: PrivateKey,
}

impl std::fmt::Debug for AdminPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminPki")
            .field("topic", &self.topic.as_str())
            .finish_non_exhaustive()
    }
}

/// An APNs certificate as the administrator uploads it: the file's details
/// accepted by intake (R-AP-2), and the files of the flow that made it.
pub struct UploadedApns {
    /// The accepted certificate and key.
    pub accepted: mdm_certs::AcceptedApnsCertificate,
    /// The files of the CSR → vendor → portal flow.
    pub flow: ApnsFlowFiles,
}

/// The files an administrator sees in the APNs flow (R-AP-1).
pub struct ApnsFlowFiles {
    /// The workspace's CSR, PEM.
    pub csr_pem: String,
    /// The vendor-signed push-certificate request, as an XML plist.
    pub request_plist: Vec<u8>,
    /// The same, base64-encoded, as the portal takes it.
    pub request_upload: String,
    /// The push certificate the portal issued, PEM.
    pub certificate_pem: String,
}

impl AdminPki {
    /// Sets the workspace up at `now`: CA, server certificate for `host`, the
    /// vendor's identity, and a first APNs certificate issued at `apns_issued_at`.
    ///
    /// # Errors
    /// Any certificate error, wrapped.
    pub fn set_up(
        company: &str,
        country: &str,
        host: &str,
        now: OffsetDateTime,
        apns_issued_at: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<(Self, UploadedApns), HarnessError> {
        let subject = SubjectName::common_name(format!("{company} MDM CA"))
            .and_then(|s| s.with(mdm_certs::NameAttribute::Organization, company))
            .map_err(cert("CA subject"))?;
        let ca_validity = Validity::new(now - Duration::days(400), now + Duration::days(3650))
            .map_err(cert("CA validity"))?;
        let ca = CertificateAuthority::create(&subject, ca_validity, KeyAlgorithm::EcdsaP256, rng)
            .map_err(cert("workspace CA"))?;
        let address = mdm_model::ServerHost::parse(host).map_err(model("connection address"))?;
        let server = ca
            .issue_server_certificate(
                &address,
                Validity::days(now - Duration::days(1), 365).map_err(cert("server validity"))?,
                KeyAlgorithm::EcdsaP256,
                rng,
            )
            .map_err(cert("server certificate"))?;
        let portal_time = apns_issued_at.min(now) - Duration::days(1);
        let portal = PushPortalStandIn::new(KeyAlgorithm::EcdsaP256, portal_time, rng)
            .map_err(cert("push portal stand-in"))?;
        let vendor_key =
            PrivateKey::generate(KeyAlgorithm::Rsa2048, rng).map_err(cert("vendor key"))?;
        let vendor_cert = portal
            .issue_vendor_certificate(&vendor_key, "MDM Toolkit Vendor", portal_time, rng)
            .map_err(cert("vendor certificate"))?;
        let vendor = VendorSigner::new(
            vendor_cert,
            vendor_key,
            vec![portal.authority().certificate().clone()],
        )
        .map_err(cert("vendor signer"))?;
        let form = apns_form(company, country);
        let key_request = ApnsKeyRequest::create(&form, rng).map_err(cert("APNs CSR"))?;
        let (file, flow) = request_push_certificate(
            &vendor,
            &portal,
            key_request.csr(),
            None,
            apns_issued_at,
            rng,
        )?;
        let anchors = std::slice::from_ref(portal.authority().certificate());
        let accepted = ApnsIntake::new(key_request.key(), anchors)
            .accept(
                "MDM_Push_Certificate.pem",
                file.pem().as_bytes(),
                None,
                apns_issued_at,
            )
            .map_err(cert("APNs intake"))?;
        let topic = accepted.details.topic.clone();
        let pki = Self {
            ca,
            address,
            rotation: ServerCertificateRotation::new(server),
            portal,
            vendor,
            apns: accepted.identity.certificate.clone(),
            topic,
            apns_key: key_request.into_key(),
        };
        Ok((pki, UploadedApns { accepted, flow }))
    }

    /// Renews the APNs certificate at `now` through the same steps (R-AP-4):
    /// a new CSR, the vendor's signature, the portal; with `keep_topic` the
    /// portal renews the existing topic, otherwise it issues a new one (as when
    /// the administrator signs in with another Apple ID). Intake in renewal
    /// mode refuses a changed topic; the refusal is returned as `Err`, and
    /// `force_new` then uploads it as a new certificate.
    ///
    /// # Errors
    /// The intake refusal (e.g. [`CertError::TopicChanged`]) or any certificate error.
    pub fn renew_apns(
        &mut self,
        company: &str,
        country: &str,
        keep_topic: bool,
        now: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<Result<UploadedApns, (CertError, Certificate, PrivateKey)>, HarnessError> {
        let key_request =
            ApnsKeyRequest::create(&apns_form(company, country), rng).map_err(cert("APNs CSR"))?;
        let topic = keep_topic.then_some(&self.topic);
        let (file, flow) = request_push_certificate(
            &self.vendor,
            &self.portal,
            key_request.csr(),
            topic,
            now,
            rng,
        )?;
        let intake = ApnsIntake::new(key_request.key(), self.push_anchors()).renewing(&self.topic);
        match intake.accept(
            "MDM_Push_Certificate_renewed.pem",
            file.pem().as_bytes(),
            None,
            now,
        ) {
            Ok(accepted) => {
                self.install_apns(&accepted, key_request.into_key());
                Ok(Ok(UploadedApns { accepted, flow }))
            }
            Err(e) => Ok(Err((e, file, key_request.into_key()))),
        }
    }

    /// Uploads a certificate as the workspace's new APNs certificate (not a
    /// renewal), checked against the key it was requested with.
    ///
    /// # Errors
    /// The intake refusal or any certificate error.
    pub fn upload_new_apns(
        &mut self,
        file: &Certificate,
        key: PrivateKey,
        now: OffsetDateTime,
    ) -> Result<mdm_certs::AcceptedApnsCertificate, HarnessError> {
        let accepted = ApnsIntake::new(&key, self.push_anchors())
            .accept(
                "MDM_Push_Certificate_new.pem",
                file.pem().as_bytes(),
                None,
                now,
            )
            .map_err(cert("APNs intake"))?;
        self.install_apns(&accepted, key);
        Ok(accepted)
    }

    /// Tries to upload a push certificate that was made for another
    /// workspace's CSR; intake must refuse it (R-AP-2). Returns the refusal.
    ///
    /// # Errors
    /// Any certificate error other than the refusal itself.
    pub fn try_foreign_apns(
        &self,
        now: OffsetDateTime,
        rng: &mut ChaCha20Rng,
    ) -> Result<Option<CertError>, HarnessError> {
        let foreign = ApnsKeyRequest::create(&apns_form("Another Company", "US"), rng)
            .map_err(cert("foreign CSR"))?;
        let (file, _) =
            request_push_certificate(&self.vendor, &self.portal, foreign.csr(), None, now, rng)?;
        Ok(ApnsIntake::new(&self.apns_key, self.push_anchors())
            .accept(
                "someone_elses_push_cert.pem",
                file.pem().as_bytes(),
                None,
                now,
            )
            .err())
    }

    /// Issues a reserve server certificate at `now` activating after `delay` (R-SV-1).
    ///
    /// # Errors
    /// Any certificate error.
    pub fn issue_reserve(
        &mut self,
        now: OffsetDateTime,
        delay: Duration,
        rng: &mut ChaCha20Rng,
    ) -> Result<(OffsetDateTime, OffsetDateTime), HarnessError> {
        let reserve: ReserveCertificate = self
            .ca
            .issue_reserve_server_certificate(
                &self.address,
                now,
                delay,
                KeyAlgorithm::EcdsaP256,
                rng,
            )
            .map_err(cert("reserve server certificate"))?;
        let times = (reserve.issued_at(), reserve.activates_at());
        self.rotation
            .schedule(reserve)
            .map_err(cert("rotation schedule"))?;
        Ok(times)
    }

    /// Intake's trust anchor: the portal stand-in's "Apple" push CA (in
    /// production, Apple's push CA).
    fn push_anchors(&self) -> &[Certificate] {
        std::slice::from_ref(self.portal.authority().certificate())
    }

    fn install_apns(&mut self, accepted: &mdm_certs::AcceptedApnsCertificate, key: PrivateKey) {
        self.apns = accepted.identity.certificate.clone();
        self.topic = accepted.details.topic.clone();
        self.apns_key = key;
    }
}

fn apns_form(company: &str, country: &str) -> ApnsCsrForm {
    ApnsCsrForm {
        name: "MDM administrator".into(),
        company: company.into(),
        department: "IT".into(),
        city: "Tokyo".into(),
        state: "Tokyo".into(),
        country: country.into(),
    }
}

/// CSR → vendor signature → portal: the push certificate file the admin downloads.
fn request_push_certificate(
    vendor: &VendorSigner,
    portal: &PushPortalStandIn,
    csr: &Csr,
    renew: Option<&mdm_model::PushTopic>,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<(Certificate, ApnsFlowFiles), HarnessError> {
    let request = vendor
        .sign_request(csr, now)
        .map_err(cert("vendor signing"))?;
    let upload = request
        .for_upload(now, DEFAULT_REQUEST_MAX_AGE)
        .map_err(cert("push request"))?;
    let certificate = match renew {
        Some(topic) => portal.renew_push_certificate(upload, topic, now, rng),
        None => portal.create_push_certificate(upload, now, rng),
    }
    .map_err(cert("push portal"))?;
    let flow = ApnsFlowFiles {
        csr_pem: csr.pem(),
        request_plist: request.plist_xml().to_vec(),
        request_upload: upload.to_owned(),
        certificate_pem: certificate.pem(),
    };
    Ok((certificate, flow))
}

/// Wraps a certificate error with what the harness was doing.
pub(crate) fn cert(step: &'static str) -> impl Fn(CertError) -> HarnessError {
    move |source| HarnessError::Certificates { step, source }
}
