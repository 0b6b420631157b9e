//! The APNs stand-in of a load run against our `serve`, in the load
//! process: `serve --apns` points at it, so the pushes serve sends for the
//! commands it queues are recorded per device token in its book, and each
//! simulated device connects when its own token was pushed.
//!
//! serve reads the stand-in's CA and the push issuer when it starts, and the
//! load run starts after it, so the certificates are made once
//! ([`prepare`], `load --prepare-apns DIR`) and read back by the run
//! ([`StandInFiles::read`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mdm_apple::ApnsEnvironment;
use mdm_certs::{Certificate, CertifiedKey, PrivateKey};
use mdm_model::PushTopic;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use time::OffsetDateTime;

use crate::HarnessError;
use crate::apns_standin::{
    APNS_MAX_CONCURRENT_STREAMS, ApnsBook, ApnsStandIn, FaultPlan, SimulatedApple, StandInConfig,
    StandInTls,
};

/// The simulated Apple CA that issues push certificates: serve's `--apns-issuer`.
pub const ISSUER_FILE: &str = "apns-issuer.pem";
/// The CA of the stand-in's server certificate: serve's `--apns-ca`.
pub const SERVER_CA_FILE: &str = "apns-ca.pem";
/// The stand-in's server certificate and key.
pub const SERVER_FILE: &str = "apns-server.pem";
/// The workspace push certificate and its key (what the run uploads).
pub const PUSH_FILE: &str = "push.pem";

/// How often a waiting device looks at the book for its push.
pub const PUSH_POLL: Duration = Duration::from_millis(20);

fn io(path: &Path) -> impl Fn(std::io::Error) -> HarnessError {
    let path = path.display().to_string();
    move |source| HarnessError::Io {
        path: path.clone(),
        source,
    }
}

fn cert(step: &'static str) -> impl Fn(mdm_certs::CertError) -> HarnessError {
    move |source| HarnessError::Certificates { step, source }
}

/// Makes the simulated Apple side at `now` (seeded by `seed`) and writes its
/// PEM files into `dir`. Returns the files.
///
/// # Errors
/// Certificate or file errors.
pub fn prepare(dir: &Path, now: OffsetDateTime, seed: u64) -> Result<StandInFiles, HarnessError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let apple = SimulatedApple::new(ApnsEnvironment::Production, now, &mut rng)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key_pem = |key: &PrivateKey, rng: &mut ChaCha20Rng| {
        key.to_pkcs8_pem(None, rng)
            .map(|k| k.as_str().to_owned())
            .map_err(cert("stand-in key PEM"))
    };
    let files = [
        (ISSUER_FILE, apple.portal.authority().certificate().pem()),
        (SERVER_CA_FILE, apple.tls.server_ca.pem()),
        (
            SERVER_FILE,
            format!(
                "{}{}",
                apple.tls.server.certificate.pem(),
                key_pem(&apple.tls.server.key, &mut rng)?
            ),
        ),
        (
            PUSH_FILE,
            format!(
                "{}{}",
                apple.push.certificate.pem(),
                key_pem(&apple.push.key, &mut rng)?
            ),
        ),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    StandInFiles::read(dir)
}

/// The stand-in's certificates, read back from a [`prepare`]d folder.
pub struct StandInFiles {
    /// The folder.
    pub dir: PathBuf,
    issuer: Certificate,
    tls: StandInTls,
    /// The push certificate and key, as one PEM file (the upload's body).
    pub push_pem: String,
    /// The push certificate's topic.
    pub topic: PushTopic,
}

impl std::fmt::Debug for StandInFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandInFiles")
            .field("dir", &self.dir)
            .field("topic", &self.topic.as_str())
            .finish_non_exhaustive()
    }
}

impl StandInFiles {
    /// Reads the files [`prepare`] wrote into `dir`.
    ///
    /// # Errors
    /// [`HarnessError::Io`] for a missing file, a certificate error for a
    /// bad one.
    pub fn read(dir: &Path) -> Result<Self, HarnessError> {
        let text = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(io(&path))
        };
        let issuer = Certificate::from_pem(&text(ISSUER_FILE)?).map_err(cert("apns issuer"))?;
        let server_ca =
            Certificate::from_pem(&text(SERVER_CA_FILE)?).map_err(cert("apns server CA"))?;
        let server_pem = text(SERVER_FILE)?;
        let server = CertifiedKey {
            certificate: Certificate::from_pem(&server_pem).map_err(cert("apns server"))?,
            key: PrivateKey::from_pem(&server_pem, None).map_err(cert("apns server key"))?,
        };
        let push_pem = text(PUSH_FILE)?;
        let push = Certificate::from_pem(&push_pem).map_err(cert("push certificate"))?;
        let topic = push
            .info()
            .uid
            .as_deref()
            .and_then(|uid| PushTopic::parse(uid).ok())
            .ok_or(HarnessError::InvalidOption {
                option: "apns-dir",
                reason: format!("{PUSH_FILE}: a push certificate without a topic (UID)"),
            })?;
        Ok(Self {
            dir: dir.to_owned(),
            issuer,
            tls: StandInTls { server_ca, server },
            push_pem,
            topic,
        })
    }

    /// Starts the stand-in on `listen` (on the current tokio runtime),
    /// checking client certificates at `now`.
    ///
    /// # Errors
    /// [`HarnessError::ApnsStandIn`] when it cannot bind or set up TLS.
    pub async fn start(
        &self,
        listen: SocketAddr,
        now: OffsetDateTime,
    ) -> Result<(ApnsStandIn, PushWatch), HarnessError> {
        let server = ApnsStandIn::start(StandInConfig {
            listen,
            client_ca: self.issuer.clone(),
            tls: self.tls.try_clone()?,
            now,
            max_concurrent_streams: APNS_MAX_CONCURRENT_STREAMS,
            book: ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none()),
        })
        .await?;
        let watch = PushWatch {
            book: server.book(),
        };
        Ok((server, watch))
    }
}

/// The devices' view of the stand-in's book: a device registers its token
/// (as iOS does with APNs before its TokenUpdate) and waits for a push to it.
#[derive(Clone)]
pub struct PushWatch {
    book: Arc<Mutex<ApnsBook>>,
}

impl std::fmt::Debug for PushWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushWatch").finish_non_exhaustive()
    }
}

impl PushWatch {
    /// The device registered `token` for `topic` with APNs.
    pub fn register(&self, token: &[u8], topic: &PushTopic) {
        if let Ok(mut book) = self.book.lock() {
            book.register(token, topic);
        }
    }

    /// Pushes delivered (answered 200) to `token` so far.
    pub fn delivered(&self, token: &[u8]) -> usize {
        self.book.lock().map_or(0, |b| {
            b.pushes_for(token)
                .iter()
                .filter(|r| r.answer.status == 200)
                .count()
        })
    }

    /// Waits until `token` has more than `seen` delivered pushes, or until
    /// `deadline`. Returns whether the push came.
    pub async fn wait(&self, token: &[u8], seen: usize, deadline: Instant) -> bool {
        loop {
            if self.delivered(token) > seen {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(PUSH_POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_files_read_back_with_their_topic() {
        let dir = std::env::temp_dir().join(format!("load-standin-{}", std::process::id()));
        let now = OffsetDateTime::now_utc();
        let made = prepare(&dir, now, 19).unwrap();
        let read = StandInFiles::read(&dir).unwrap();
        assert_eq!(made.topic, read.topic);
        assert!(read.topic.as_str().starts_with("com.apple.mgmt.External."));
        assert!(read.push_pem.contains("PRIVATE KEY"));
        assert!(StandInFiles::read(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
