//! One tenant: its CA, the server certificate that CA issued for the
//! connection address, its SCEP responder, its workspace (loaded from its
//! store, or new), its Apple service and its administrator token — made on
//! first start and read back from the state folder afterwards.
//!
//! State folder of a tenant (`<state-dir>/<tenant>/`): `ca.pem`,
//! `ca-key.pem` (the workspace CA), `server.pem`, `server-key.pem` (for the
//! connection address; reissued when the address changes or it expires),
//! `ra.pem`, `ra-key.pem` (a SCEP responder, only for a P-256 CA: the CA
//! made here is RSA 2048, since SCEP's key transport needs RSA), `push.pem`, `push-key.pem` (the APNs
//! certificate, once uploaded) and `token.sha256` (the hash of the
//! administrator token; the token itself is printed once and never stored).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mdm_apple::{HttpsUrl, ProfileSigner};
use mdm_certs::{
    Certificate, CertificateAuthority, CertifiedKey, KeyAlgorithm, NameAttribute, PrivateKey,
    ScepChallenges, ScepConfig, ScepServer, SubjectName, Validity,
};
use mdm_model::{ServerHost, Sha256Digest};
use rand_chacha::ChaCha20Rng;
use time::{Duration, OffsetDateTime};

use super::android::TenantAndroid;
use super::commit::{Committer, TenantApple, new_apple};
use super::config::{StoreSpec, TenantName, serve_error};
use super::facts::Facts;
use super::otp::{ScepHandles, ScepLabels};
use super::push::Pusher;
use super::store::{OpenedStore, TenantStore};
use super::token;
use crate::HarnessError;

/// A tenant being served.
pub struct Tenant {
    /// Its name (the `/t/<name>/` prefix).
    pub name: TenantName,
    /// `https://<host>:<port>/t/<name>`: where its routes are.
    pub base_url: HttpsUrl,
    /// The workspace and the Apple service (its state in the same store).
    pub apple: TenantApple,
    /// The Android endpoint beside the workspace. Declared (so dropped)
    /// before the committer, like `apple`: the committer's thread then
    /// drops the last handle, so a PostgreSQL store's client is never
    /// dropped on a runtime worker (its own runtime may not run there).
    pub android: Arc<TenantAndroid>,
    /// Commits the workspace and the Apple state to the store.
    pub committer: Committer,
    /// The workspace CA.
    pub ca: CertificateAuthority,
    /// The server certificate for the connection address.
    pub server: CertifiedKey,
    /// The SCEP responder.
    pub scep: Arc<ScepServer>,
    /// One-time SCEP challenge passwords (R-CL-1), durable in the store
    /// ([`super::otp`]).
    pub challenges: Arc<ScepChallenges>,
    /// The label each enrollment profile's SCEP certificate carries as its
    /// CN, to the model device the profile was downloaded for (durable
    /// beside the passwords).
    pub labels: Arc<ScepLabels>,
    /// Signs enrollment profiles (the server certificate and its CA).
    pub signer: ProfileSigner,
    /// The hash of the tenant's administrator token.
    pub token_hash: Sha256Digest,
    /// The tenant's folder in the state folder.
    pub dir: PathBuf,
    /// The APNs client, once a push certificate is uploaded.
    pub pusher: Pusher,
    /// Refusals the model has no audit event for.
    pub facts: Arc<Facts>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// What setting a tenant up needs.
pub struct TenantSetup<'a> {
    /// The state folder (the tenant's folder is made inside).
    pub state_dir: &'a Path,
    /// Where workspaces are kept.
    pub store: &'a StoreSpec,
    /// The connection address.
    pub host: &'a ServerHost,
    /// The listener's port.
    pub port: u16,
    /// Now.
    pub now: OffsetDateTime,
    /// The facts of the process.
    pub facts: Arc<Facts>,
    /// The APNs host URL.
    pub apns_url: &'a str,
    /// Extra trust for the APNs host (the stand-in's CA).
    pub apns_ca: Option<&'a Certificate>,
}

/// The tenant and, on its first start, its administrator token.
pub struct OpenedTenant {
    /// The tenant.
    pub tenant: Arc<Tenant>,
    /// The new token, printed once.
    pub new_token: Option<String>,
}

impl Tenant {
    /// Opens (or makes, on first start) tenant `name`.
    ///
    /// # Errors
    /// [`HarnessError::Serve`] or [`HarnessError::Io`] when a file, a
    /// certificate or the store fails.
    pub fn open(
        name: &TenantName,
        setup: &TenantSetup<'_>,
        rng: &mut ChaCha20Rng,
    ) -> Result<OpenedTenant, HarnessError> {
        let dir = setup.state_dir.join(name.as_str());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let ca = ca(&dir, name, setup.now, rng)?;
        let server = server_certificate(&dir, &ca, setup.host, setup.now, rng)?;
        let scep_ca = CertificateAuthority::from_parts(
            ca.certificate().clone(),
            ca.key().try_clone().map_err(serve_error("CA key"))?,
        )
        .map_err(serve_error("CA"))?;
        // An RSA CA answers SCEP itself (what mdmb's and micromdm's clients
        // need: they encrypt to every certificate GetCACert returns); a
        // P-256 CA (a state folder made elsewhere) gets an RSA responder.
        let scep = if ca.key().algorithm() == KeyAlgorithm::EcdsaP256 {
            let ra = responder(&dir, &ca, name, setup.now, rng)?;
            ScepServer::with_ra(scep_ca, &ra, ScepConfig::default())
        } else {
            ScepServer::new(scep_ca, ScepConfig::default())
        };
        let scep = Arc::new(scep.map_err(serve_error("SCEP responder"))?);
        let (token_hash, new_token) = token::tenant_token(&dir, rng)?;
        let OpenedStore {
            store,
            workspace,
            apple,
            android,
            scep: ScepHandles { challenges, labels },
        } = TenantStore::open(setup.store, name, setup.now)?;
        let apple = new_apple(workspace, apple, vec![ca.certificate().clone()]);
        let android = Arc::new(TenantAndroid::new(Arc::clone(&apple), android));
        let committer = Committer::start(
            name.as_str(),
            Arc::clone(&apple),
            Arc::clone(&android),
            store,
        )
        .map_err(serve_error("committer thread"))?;
        let signer = ProfileSigner::new(
            &[server.certificate.der(), ca.certificate().der()],
            server.key.pkcs8_der_secret(),
        )
        .map_err(serve_error("profile signer"))?;
        let base_url = HttpsUrl::new(
            "base URL",
            format!("https://{}:{}/t/{}", url_host(setup.host), setup.port, name),
        )
        .map_err(serve_error("base URL"))?;
        let pusher = Pusher::new(setup.apns_url, setup.apns_ca.cloned());
        let tenant = Arc::new(Self {
            name: name.clone(),
            base_url,
            apple: Arc::clone(&apple),
            committer,
            ca,
            server,
            scep,
            challenges,
            labels,
            signer,
            token_hash,
            dir,
            pusher,
            android,
            facts: Arc::clone(&setup.facts),
        });
        tenant.pusher.load(&tenant.dir, setup.now);
        Ok(OpenedTenant { tenant, new_token })
    }
}

/// `host` as it goes into a URL (IPv6 in brackets).
pub fn url_host(host: &ServerHost) -> String {
    match host.ip() {
        Some(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        Some(ip) => ip.to_string(),
        None => host.to_string(),
    }
}

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> HarnessError + '_ {
    move |source| HarnessError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes a secret file readable by its owner only.
pub(crate) fn write_secret(path: &Path, text: &str) -> Result<(), HarnessError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    file.write_all(text.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

fn write_public(path: &Path, text: &str) -> Result<(), HarnessError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

fn read(path: &Path) -> Result<Option<String>, HarnessError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn ca(
    dir: &Path,
    name: &TenantName,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<CertificateAuthority, HarnessError> {
    let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    if let (Some(cert), Some(key)) = (read(&cert_path)?, read(&key_path)?) {
        return CertificateAuthority::from_pem(&cert, &key, None).map_err(serve_error("CA files"));
    }
    let subject = SubjectName::common_name(format!("{name} MDM CA"))
        .and_then(|s| s.with(NameAttribute::Organization, name.as_str()))
        .map_err(serve_error("CA subject"))?;
    let validity = Validity::new(now - Duration::days(1), now + Duration::days(3650))
        .map_err(serve_error("CA validity"))?;
    let ca = CertificateAuthority::create(&subject, validity, KeyAlgorithm::Rsa2048, rng)
        .map_err(serve_error("CA"))?;
    let pem = ca.to_pem(None, rng).map_err(serve_error("CA PEM"))?;
    write_secret(&key_path, &pem.key_pem)?;
    write_public(&cert_path, &pem.certificate_pem)?;
    Ok(ca)
}

fn server_certificate(
    dir: &Path,
    ca: &CertificateAuthority,
    host: &ServerHost,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<CertifiedKey, HarnessError> {
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server-key.pem"));
    if let (Some(cert), Some(key)) = (read(&cert_path)?, read(&key_path)?) {
        let certificate = Certificate::from_pem(&cert).map_err(serve_error("server.pem"))?;
        let key = PrivateKey::from_pem(&key, None).map_err(serve_error("server-key.pem"))?;
        let fits = certificate.names_host(host)
            && certificate.info().is_valid_at(now + Duration::days(1))
            && certificate.is_signed_by(ca.certificate());
        if fits {
            return Ok(CertifiedKey { certificate, key });
        }
        tracing::info!(%host, "the server certificate does not fit the address: reissued");
    }
    let validity = Validity::new(now - Duration::days(1), now + Duration::days(397))
        .map_err(serve_error("server validity"))?;
    let server = ca
        .issue_server_certificate(host, validity, KeyAlgorithm::EcdsaP256, rng)
        .map_err(serve_error("server certificate"))?;
    let key = server
        .key
        .to_pkcs8_pem(None, rng)
        .map_err(serve_error("server key PEM"))?;
    write_secret(&key_path, &key)?;
    write_public(&cert_path, &server.certificate.pem())?;
    Ok(server)
}

fn responder(
    dir: &Path,
    ca: &CertificateAuthority,
    name: &TenantName,
    now: OffsetDateTime,
    rng: &mut ChaCha20Rng,
) -> Result<CertifiedKey, HarnessError> {
    let (cert_path, key_path) = (dir.join("ra.pem"), dir.join("ra-key.pem"));
    if let (Some(cert), Some(key)) = (read(&cert_path)?, read(&key_path)?) {
        let certificate = Certificate::from_pem(&cert).map_err(serve_error("ra.pem"))?;
        let key = PrivateKey::from_pem(&key, None).map_err(serve_error("ra-key.pem"))?;
        if certificate.info().is_valid_at(now + Duration::days(1))
            && certificate.is_signed_by(ca.certificate())
        {
            return Ok(CertifiedKey { certificate, key });
        }
    }
    let validity = Validity::new(now - Duration::days(1), now + Duration::days(730))
        .map_err(serve_error("RA validity"))?;
    let ra = ScepServer::issue_ra(ca, &format!("{name} SCEP RA"), validity, rng)
        .map_err(serve_error("SCEP RA"))?;
    let key = ra
        .key
        .to_pkcs8_pem(None, rng)
        .map_err(serve_error("RA key PEM"))?;
    write_secret(&key_path, &key)?;
    write_public(&cert_path, &ra.certificate.pem())?;
    Ok(ra)
}
