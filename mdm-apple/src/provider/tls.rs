//! The client's TLS set-up: rustls on ring, the push certificate as the
//! client identity, APNs's server roots, ALPN `h2`.

use std::sync::Arc;

use rustls::client::ClientConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use time::OffsetDateTime;

use super::config::{ProviderConfig, TlsClock};
use super::identity::ProviderIdentity;
use crate::error::{AppleError, Result};

/// A clock that always says one date (rustls asks it at each handshake).
#[derive(Debug)]
pub(crate) struct FixedTime(pub(crate) OffsetDateTime);

impl rustls::time_provider::TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        let secs = u64::try_from(self.0.unix_timestamp()).ok()?;
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            secs,
        )))
    }
}

fn setup(what: &str) -> impl Fn(rustls::Error) -> AppleError + '_ {
    move |e| AppleError::ProviderSetup {
        reason: format!("{what}: {e}"),
    }
}

/// The rustls client configuration for `identity` under `config`.
pub(crate) fn client_config(
    identity: &ProviderIdentity,
    config: &ProviderConfig,
) -> Result<Arc<ClientConfig>> {
    if config.server_roots.is_empty() {
        return Err(AppleError::ProviderSetup {
            reason: "no trust anchors for APNs's server certificate".into(),
        });
    }
    let mut roots = rustls::RootCertStore::empty();
    for der in &config.server_roots {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(setup("a server root"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = match config.tls_clock {
        TlsClock::System => ClientConfig::builder_with_provider(provider),
        TlsClock::Fixed(now) => {
            ClientConfig::builder_with_details(provider, Arc::new(FixedTime(now)))
        }
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        identity.key.pkcs8_der_secret().to_vec(),
    ));
    let mut tls = builder
        .with_safe_default_protocol_versions()
        .map_err(setup("TLS versions"))?
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from(identity.certificate_der.clone())],
            key,
        )
        .map_err(setup("the push certificate and key"))?;
    tls.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(tls))
}
