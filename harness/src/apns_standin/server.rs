//! The stand-in on the wire: HTTP/2 over TLS on 127.0.0.1, a client
//! certificate required and chained to the simulated Apple CA, each stream
//! answered by [`ApnsBook::decide`](super::ApnsBook::decide).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use bytes::Bytes;
use mdm_apple::ApnsEnvironment;
use mdm_certs::{
    Certificate, CertificateAuthority, CertifiedKey, KeyAlgorithm, SubjectName, Validity,
};
use rand_core::CryptoRng;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::decide::ApnsBook;
use super::stream::{Desk, Peer, Stream};
use crate::HarnessError;

/// The `SETTINGS_MAX_CONCURRENT_STREAMS` the stand-in advertises. Apple
/// does not document it; clients have watched APNs advertise 500 (2016)
/// and 1,000 to 1,500 (2019) per certificate connection. We take 1,000.
pub const APNS_MAX_CONCURRENT_STREAMS: u32 = 1000;

fn fail(step: &'static str) -> impl Fn(String) -> HarnessError {
    move |message| HarnessError::ApnsStandIn { step, message }
}

/// The stand-in's own TLS identity: a simulated "APNs server" CA and a
/// server certificate for the environment's host. Clients (ours, curl)
/// trust `server_ca`.
pub struct StandInTls {
    /// The CA clients trust for the stand-in's server certificate.
    pub server_ca: Certificate,
    /// The server certificate (for `api.push.apple.com` or the sandbox host) and key.
    pub server: CertifiedKey,
}

impl core::fmt::Debug for StandInTls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StandInTls")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl StandInTls {
    /// Makes the CA and the server certificate, valid around `now`.
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] when a certificate step fails.
    pub fn new<R: CryptoRng + ?Sized>(
        environment: ApnsEnvironment,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Self, HarnessError> {
        let cert = crate::pki::cert;
        let subject = SubjectName::common_name("Simulated APNs server CA (not Apple)")
            .map_err(cert("APNs stand-in CA subject"))?;
        let validity = Validity::new(now - Duration::days(30), now + Duration::days(3650))
            .map_err(cert("APNs stand-in CA validity"))?;
        let ca = CertificateAuthority::create(&subject, validity, KeyAlgorithm::EcdsaP256, rng)
            .map_err(cert("APNs stand-in CA"))?;
        let host = mdm_model::ServerHost::parse(environment.host())
            .map_err(crate::error::model("APNs host"))?;
        let server = ca
            .issue_server_certificate(
                &host,
                Validity::new(now - Duration::days(30), now + Duration::days(825))
                    .map_err(cert("APNs stand-in server validity"))?,
                KeyAlgorithm::EcdsaP256,
                rng,
            )
            .map_err(cert("APNs stand-in server certificate"))?;
        Ok(Self {
            server_ca: ca.certificate().clone(),
            server,
        })
    }

    /// A copy (one stand-in per test, the same certificates).
    ///
    /// # Errors
    /// [`HarnessError::Certificates`] when the key cannot be copied.
    pub fn try_clone(&self) -> Result<Self, HarnessError> {
        Ok(Self {
            server_ca: self.server_ca.clone(),
            server: CertifiedKey {
                certificate: self.server.certificate.clone(),
                key: self
                    .server
                    .key
                    .try_clone()
                    .map_err(crate::pki::cert("stand-in key"))?,
            },
        })
    }
}

/// How to run the stand-in.
pub struct StandInConfig {
    /// Where to listen (tests: `127.0.0.1:0`).
    pub listen: SocketAddr,
    /// The simulated Apple CA that issues push certificates
    /// ([`mdm_certs::PushPortalStandIn::authority`]); clients must present a
    /// certificate it issued.
    pub client_ca: Certificate,
    /// The stand-in's server identity.
    pub tls: StandInTls,
    /// The date certificates are checked at and answers are stamped with
    /// (move it with [`ApnsStandIn::set_now`]).
    pub now: OffsetDateTime,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` per connection.
    pub max_concurrent_streams: u32,
    /// The tokens, faults and environment.
    pub book: ApnsBook,
}

/// A running stand-in. Stopped by [`ApnsStandIn::stop`] or on drop.
pub struct ApnsStandIn {
    addr: SocketAddr,
    book: Arc<Mutex<ApnsBook>>,
    now: Arc<Mutex<OffsetDateTime>>,
    connections: Arc<AtomicU64>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl core::fmt::Debug for ApnsStandIn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ApnsStandIn")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// A fixed date for rustls's certificate checks.
#[derive(Debug)]
struct SharedTime(Arc<Mutex<OffsetDateTime>>);

impl rustls::time_provider::TimeProvider for SharedTime {
    fn current_time(&self) -> Option<UnixTime> {
        let now = *self.0.lock().ok()?;
        let secs = u64::try_from(now.unix_timestamp()).ok()?;
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            secs,
        )))
    }
}

struct Shared {
    book: Arc<Mutex<ApnsBook>>,
    now: Arc<Mutex<OffsetDateTime>>,
    goaway_after: Option<u32>,
    max_streams: u32,
}

impl ApnsStandIn {
    /// Binds and starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// [`HarnessError::ApnsStandIn`] when TLS cannot be set up or the
    /// address cannot be bound.
    pub async fn start(config: StandInConfig) -> Result<Self, HarnessError> {
        let now = Arc::new(Mutex::new(config.now));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(config.client_ca.der().to_vec()))
            .map_err(|e| fail("client CA")(e.to_string()))?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        let verifier = if config.book.accepts_provider_tokens() {
            verifier.allow_unauthenticated()
        } else {
            verifier
        };
        let verifier = verifier
            .build()
            .map_err(|e| fail("client verifier")(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            config.tls.server.key.pkcs8_der_secret().to_vec(),
        ));
        let mut tls =
            rustls::ServerConfig::builder_with_details(provider, Arc::new(SharedTime(now.clone())))
                .with_safe_default_protocol_versions()
                .map_err(|e| fail("TLS versions")(e.to_string()))?
                .with_client_cert_verifier(verifier)
                .with_single_cert(
                    vec![CertificateDer::from(
                        config.tls.server.certificate.der().to_vec(),
                    )],
                    key,
                )
                .map_err(|e| fail("server certificate")(e.to_string()))?;
        tls.alpn_protocols = vec![b"h2".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| fail("bind")(format!("{}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| fail("bind")(e.to_string()))?;
        let goaway_after = config.book.faults().goaway_after;
        let book = Arc::new(Mutex::new(config.book));
        let shared = Arc::new(Shared {
            book: book.clone(),
            now: now.clone(),
            goaway_after,
            max_streams: config.max_concurrent_streams.max(1),
        });
        let connections = Arc::new(AtomicU64::new(0));
        let (stop, mut stopped) = watch::channel(false);
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stopped.changed() => break,
                    a = listener.accept() => a,
                };
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                counter.fetch_add(1, Ordering::Relaxed);
                let (acceptor, shared, stop) = (acceptor.clone(), shared.clone(), stopped.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve_connection(tls, shared, stop).await;
                    }
                });
            }
        });
        Ok(Self {
            addr,
            book,
            now,
            connections,
            stop,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The stand-in's book: tokens, faults and the pushes recorded per token.
    pub fn book(&self) -> Arc<Mutex<ApnsBook>> {
        self.book.clone()
    }

    /// Moves the stand-in's date.
    pub fn set_now(&self, now: OffsetDateTime) {
        if let Ok(mut n) = self.now.lock() {
            *n = now;
        }
    }

    /// TLS connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Stops listening and closes every connection.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ApnsStandIn {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn serve_connection(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    // No certificate: a token-based connection (when the book allows them;
    // otherwise TLS refused it). A certificate we cannot read is refused.
    // Read once: TLS checked it for the whole connection.
    let peer = match tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
        Some(der) => match Certificate::from_der(der) {
            Ok(c) => Peer::new(Some(&c)),
            Err(_) => return,
        },
        None => Peer::new(None),
    };
    let Ok(mut conn) = h2::server::Builder::new()
        .max_concurrent_streams(shared.max_streams)
        .initial_window_size(1 << 20)
        .initial_connection_window_size(1 << 24)
        .handshake::<_, Bytes>(tls)
        .await
    else {
        return;
    };
    let desk = Desk {
        book: &shared.book,
        now: &shared.now,
    };
    let peer = Arc::new(peer);
    let mut streams = 0u32;
    loop {
        let next = tokio::select! {
            _ = stop.changed() => {
                conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                // Let the GOAWAY go out.
                let _ = tokio::time::timeout(std::time::Duration::from_millis(100), conn.accept()).await;
                return;
            }
            n = conn.accept() => n,
        };
        let Some(Ok((request, respond))) = next else {
            return;
        };
        streams += 1;
        if shared.goaway_after.is_some_and(|n| streams == n) {
            // Graceful: streams already opened are answered; the client
            // opens later ones on a new connection.
            conn.graceful_shutdown();
        }
        let mut stream = Stream::new(request, respond);
        // The body is usually here already: answer it in this task.
        match std::future::poll_fn(|cx| Poll::Ready(stream.poll_body(cx))).await {
            Poll::Ready(Ok(())) => {
                let _ = stream.answer(&desk, &peer);
            }
            Poll::Ready(Err(_)) => {}
            Poll::Pending => {
                let (shared, peer) = (shared.clone(), peer.clone());
                tokio::spawn(async move {
                    if std::future::poll_fn(|cx| stream.poll_body(cx))
                        .await
                        .is_ok()
                    {
                        let desk = Desk {
                            book: &shared.book,
                            now: &shared.now,
                        };
                        let _ = stream.answer(&desk, &peer);
                    }
                });
            }
        }
    }
}
