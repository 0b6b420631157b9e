//! Pushes: a tenant's APNs provider client (mdm-apple's `ApnsClient`),
//! made from the push certificate the administrator uploaded, pointed at
//! `--apns URL` (Apple's production host by default, the stand-in in tests).
//! Enqueuing a command wakes the device through it.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::Path;
use std::sync::{Arc, Mutex};

use mdm_apple::{ApnsClient, BatchReport, ProviderConfig, ProviderIdentity, PushTarget};
use mdm_certs::{Certificate, CertifiedKey, PrivateKey};
use time::OffsetDateTime;

/// A tenant's push sender (none until a push certificate is installed).
pub struct Pusher {
    connect_to: Result<Option<SocketAddr>, String>,
    roots: Vec<Vec<u8>>,
    client: Mutex<Option<Arc<ApnsClient>>>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("connect_to", &self.connect_to)
            .finish_non_exhaustive()
    }
}

/// Where `url` (`https://host[:port]`) connects: `None` for Apple's own
/// hosts (the client resolves them), the socket address otherwise.
fn connect_to(url: &str) -> Result<Option<SocketAddr>, String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("--apns {url}: not an https:// URL"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host.ends_with(".push.apple.com") {
        return Ok(None);
    }
    let with_port = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:443")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| format!("--apns {url}: {e}"))?
        .next()
        .map(Some)
        .ok_or_else(|| format!("--apns {url}: no address"))
}

impl Pusher {
    /// A sender for `apns_url`, trusting `apns_ca` besides nothing else
    /// (pass Apple's root in production).
    pub fn new(apns_url: &str, apns_ca: Option<Certificate>) -> Self {
        Self {
            connect_to: connect_to(apns_url),
            roots: apns_ca.map(|c| c.der().to_vec()).into_iter().collect(),
            client: Mutex::new(None),
        }
    }

    /// Installs `identity` (an accepted push certificate and its key).
    ///
    /// # Errors
    /// Why the client cannot be made, in words.
    pub fn install(&self, identity: &CertifiedKey, now: OffsetDateTime) -> Result<(), String> {
        let connect_to = self.connect_to.clone()?;
        let topic = identity
            .certificate
            .info()
            .uid
            .as_deref()
            .ok_or("the push certificate has no UID")
            .and_then(|uid| mdm_model::PushTopic::parse(uid).map_err(|_| "bad UID"))?;
        let identity = ProviderIdentity::check(identity, &topic, now).map_err(|e| e.to_string())?;
        let client = ApnsClient::new(
            identity,
            &ProviderConfig {
                connect_to,
                connections: 1,
                server_roots: self.roots.clone(),
                ..ProviderConfig::default()
            },
        )
        .map_err(|e| e.to_string())?;
        if let Ok(mut slot) = self.client.lock() {
            *slot = Some(Arc::new(client));
        }
        Ok(())
    }

    /// Installs the push certificate kept in `dir` (`push.pem`,
    /// `push-key.pem`), if there is one; a broken one is logged.
    pub fn load(&self, dir: &Path, now: OffsetDateTime) {
        let (Ok(cert), Ok(key)) = (
            std::fs::read_to_string(dir.join("push.pem")),
            std::fs::read_to_string(dir.join("push-key.pem")),
        ) else {
            return;
        };
        let identity = Certificate::from_pem(&cert)
            .map_err(|e| e.to_string())
            .and_then(|certificate| {
                PrivateKey::from_pem(&key, None)
                    .map(|key| CertifiedKey { certificate, key })
                    .map_err(|e| e.to_string())
            });
        if let Err(reason) = identity.and_then(|identity| self.install(&identity, now)) {
            tracing::error!(dir = %dir.display(), %reason, "the kept push certificate is not usable");
        }
    }

    /// Whether pushes can be sent.
    pub fn ready(&self) -> bool {
        self.client.lock().map(|c| c.is_some()).unwrap_or(false)
    }

    /// Sends one push per target; `None` when no push certificate is installed.
    pub async fn push(
        &self,
        targets: &[PushTarget],
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> Option<BatchReport> {
        let client = self.client.lock().ok()?.clone()?;
        Some(client.send_batch(targets, rng).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apns_urls_name_where_to_connect() {
        assert_eq!(connect_to("https://api.push.apple.com"), Ok(None));
        assert_eq!(
            connect_to("https://127.0.0.1:9443"),
            Ok(Some("127.0.0.1:9443".parse().unwrap()))
        );
        assert!(connect_to("http://127.0.0.1:1").is_err());
    }
}
