//! The certificates a stand-in run needs, made in one call: the simulated
//! Apple CA (the push portal stand-in), a workspace push certificate and
//! key for a topic, and the stand-in's server identity; and the PEM files
//! `curl` and `h2load` take.

use std::path::{Path, PathBuf};

use mdm_apple::ApnsEnvironment;
use mdm_certs::{
    ApnsCsrForm, ApnsKeyRequest, Certificate, CertifiedKey, KeyAlgorithm, NameAttribute,
    PushPortalStandIn, SubjectName, Validity,
};
use mdm_model::PushTopic;
use rand_core::CryptoRng;
use time::{Duration, OffsetDateTime};

use super::server::StandInTls;
use crate::HarnessError;
use crate::pki::cert;

/// The simulated Apple side and one workspace's push identity.
pub struct SimulatedApple {
    /// The push portal stand-in; its authority is the CA the stand-in
    /// requires client certificates from.
    pub portal: PushPortalStandIn,
    /// The workspace's topic.
    pub topic: PushTopic,
    /// The workspace's push certificate (UID = `topic`, one year) and key.
    pub push: CertifiedKey,
    /// The stand-in's server identity.
    pub tls: StandInTls,
    key_request: ApnsKeyRequest,
}

impl core::fmt::Debug for SimulatedApple {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimulatedApple")
            .field("topic", &self.topic.as_str())
            .finish_non_exhaustive()
    }
}

/// The PEM files for command-line clients.
#[derive(Debug, Clone)]
pub struct PemFiles {
    /// The push certificate (`--cert`).
    pub certificate: PathBuf,
    /// Its key, PKCS#8, unencrypted (`--key`).
    pub key: PathBuf,
    /// The stand-in's server CA (`--cacert`).
    pub server_ca: PathBuf,
}

impl SimulatedApple {
    /// Makes it all at `now` for `environment`, the push key RSA 2048 as
    /// Apple's portal expects, the topic `com.apple.mgmt.External.<uuid>`.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] when a step fails.
    pub fn new<R: CryptoRng + ?Sized>(
        environment: ApnsEnvironment,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self, HarnessError> {
        let portal = PushPortalStandIn::new(KeyAlgorithm::EcdsaP256, now - Duration::days(2), rng)
            .map_err(cert("push portal stand-in"))?;
        let form = ApnsCsrForm {
            name: "MDM administrator".into(),
            company: "Stand-in Workspace".into(),
            department: "IT".into(),
            city: "Tokyo".into(),
            state: "Tokyo".into(),
            country: "JP".into(),
        };
        let key_request = ApnsKeyRequest::create(&form, rng).map_err(cert("APNs CSR"))?;
        let mut uuid = [0u8; 16];
        rng.fill_bytes(&mut uuid);
        let topic = PushTopic::parse(&format!("com.apple.mgmt.External.{}", hex::encode(uuid)))
            .map_err(crate::error::model("push topic"))?;
        let tls = StandInTls::new(environment, now, rng)?;
        let validity = Validity::new(now - Duration::days(1), now + Duration::days(364))
            .map_err(cert("push validity"))?;
        let certificate = issue(&portal, &key_request, topic.as_str(), validity, rng)?;
        Ok(Self {
            portal,
            topic,
            push: CertifiedKey {
                certificate,
                key: key_request.key().try_clone().map_err(cert("APNs key"))?,
            },
            tls,
            key_request,
        })
    }

    /// Another push certificate for the workspace's key, issued by the
    /// simulated Apple CA, with `uid` as its topic and `validity`: a
    /// renewal, a foreign topic, an expired certificate.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`].
    pub fn push_certificate<R: CryptoRng + ?Sized>(
        &self,
        uid: &str,
        validity: Validity,
        rng: &mut R,
    ) -> Result<Certificate, HarnessError> {
        issue(&self.portal, &self.key_request, uid, validity, rng)
    }

    /// The workspace key paired with `certificate`.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`].
    pub fn identity(&self, certificate: Certificate) -> Result<CertifiedKey, HarnessError> {
        Ok(CertifiedKey {
            certificate,
            key: self
                .key_request
                .key()
                .try_clone()
                .map_err(cert("APNs key"))?,
        })
    }

    /// A stand-in configuration for this run: client certificates from the
    /// simulated Apple CA, this run's server identity, APNs's stream limit.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] when the server key cannot be copied.
    pub fn stand_in_config(
        &self,
        listen: std::net::SocketAddr,
        now: OffsetDateTime,
        book: super::ApnsBook,
    ) -> Result<super::StandInConfig, HarnessError> {
        Ok(super::StandInConfig {
            listen,
            client_ca: self.portal.authority().certificate().clone(),
            tls: self.tls.try_clone()?,
            now,
            max_concurrent_streams: super::APNS_MAX_CONCURRENT_STREAMS,
            book,
        })
    }

    /// Writes `push.pem`, `push-key.pem` and `apns-ca.pem` into `dir`.
    ///
    /// # Errors
    /// [`HarnessError::Io`] or a PEM step.
    pub fn write_pem_files<R: CryptoRng + ?Sized>(
        &self,
        dir: &Path,
        rng: &mut R,
    ) -> Result<PemFiles, HarnessError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| HarnessError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let files = PemFiles {
            certificate: dir.join("push.pem"),
            key: dir.join("push-key.pem"),
            server_ca: dir.join("apns-ca.pem"),
        };
        let key = self
            .push
            .key
            .to_pkcs8_pem(None, rng)
            .map_err(cert("push key PEM"))?;
        std::fs::write(&files.certificate, self.push.certificate.pem())
            .map_err(io(&files.certificate))?;
        std::fs::write(&files.key, key.as_bytes()).map_err(io(&files.key))?;
        std::fs::write(&files.server_ca, self.tls.server_ca.pem()).map_err(io(&files.server_ca))?;
        Ok(files)
    }
}

/// A push certificate shaped like Apple's (`UID=<topic>, CN=APSP:<uuid>, C=US`)
/// for the CSR's key.
fn issue<R: CryptoRng + ?Sized>(
    portal: &PushPortalStandIn,
    key_request: &ApnsKeyRequest,
    uid: &str,
    validity: Validity,
    rng: &mut R,
) -> Result<Certificate, HarnessError> {
    let uuid = uid.rsplit('.').next().unwrap_or(uid);
    let subject = SubjectName::default()
        .with(NameAttribute::UserId, uid)
        .and_then(|s| s.with(NameAttribute::CommonName, format!("APSP:{uuid}")))
        .and_then(|s| s.with(NameAttribute::Country, "US"))
        .map_err(cert("push subject"))?;
    portal
        .issue_custom(key_request.csr(), &subject, validity, rng)
        .map_err(cert("push certificate"))
}
