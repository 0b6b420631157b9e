//! The provider client: a small pool of HTTP/2 connections to APNs, each
//! multiplexing up to the server's `SETTINGS_MAX_CONCURRENT_STREAMS`,
//! bounded in-flight work, retries with capped backoff and jitter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use h2::client::SendRequest;
use rand_core::CryptoRng;
use tokio::sync::{Mutex, Semaphore};
use tokio_rustls::TlsConnector;
use tracing::Instrument as _;

use super::config::{ProviderConfig, RetryPolicy};
use super::identity::ProviderIdentity;
use super::outcome::{ApnsAnswer, Failure, OutcomeCounts, PushOutcome};
use super::tls::client_config;
use crate::enrollment_state::PushTarget;
use crate::error::{AppleError, Result};
use crate::ids::CommandUuid;
use crate::push::{PushOptions, PushRequest, push_request};

/// A body longer than this is not an APNs answer; it is cut (the status still decides).
const MAX_ANSWER_BYTES: usize = 4096;
/// Sends of one push refused unprocessed (GOAWAY) before it is given up.
const MAX_RESENDS: u32 = 16;

/// The result of one push of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    /// Its place in the batch.
    pub index: usize,
    /// The `apns-id` sent (the same on every try).
    pub apns_id: String,
    /// Tries made (1 when the first answer was final).
    pub attempts: u32,
    /// What became of it.
    pub outcome: PushOutcome,
}

/// A batch's results, one per push in the order given, and their counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// One result per push, `results[i].index == i`.
    pub results: Vec<PushResult>,
    /// The outcomes counted.
    pub counts: OutcomeCounts,
}

/// The APNs provider client (feature `apns`; needs a tokio runtime).
///
/// Made from a [`ProviderIdentity`] that passed its checks, so a push
/// certificate for another topic, or an expired one, never reaches a
/// connection. Connections are opened on first use, replaced after a
/// GOAWAY or a failure. Cheap to clone (shared state).
#[derive(Clone)]
pub struct ApnsClient {
    inner: Arc<Inner>,
}

impl core::fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ApnsClient")
            .field("topic", &self.inner.identity.topic().as_str())
            .field("host", &self.inner.options.environment.host())
            .field("connections", &self.inner.slots.len())
            .finish_non_exhaustive()
    }
}

struct Slot {
    sender: Option<SendRequest<Bytes>>,
    generation: u64,
}

struct Inner {
    identity: ProviderIdentity,
    options: PushOptions,
    connect_to: Option<std::net::SocketAddr>,
    connect_timeout: std::time::Duration,
    retry: RetryPolicy,
    tls: TlsConnector,
    server_name: rustls_pki_types::ServerName<'static>,
    slots: Vec<Mutex<Slot>>,
    next_slot: AtomicUsize,
    in_flight: Arc<Semaphore>,
    totals: std::sync::Mutex<OutcomeCounts>,
    connects: AtomicU64,
}

/// How one try ended short of an answer.
enum TryError {
    /// The request never reached APNs's processing (the connection was
    /// closing, or GOAWAY named a lower last stream): send it again.
    NotProcessed(String),
    /// No answer, and APNs may or may not have acted on it.
    Broken(String),
}

impl ApnsClient {
    /// A client for `identity` under `config`. Makes no connection.
    ///
    /// # Errors
    /// [`AppleError::ProviderSetup`] when `config` cannot work (no
    /// connections, no in-flight room, no server roots, a key rustls
    /// refuses).
    pub fn new(identity: ProviderIdentity, config: &ProviderConfig) -> Result<Self> {
        if config.connections == 0 || config.max_in_flight == 0 || config.retry.max_attempts == 0 {
            return Err(AppleError::ProviderSetup {
                reason: "connections, max_in_flight and retry.max_attempts must be at least 1"
                    .into(),
            });
        }
        let tls = TlsConnector::from(client_config(&identity, config)?);
        let host = config.push.environment.host();
        let server_name = rustls_pki_types::ServerName::try_from(host).map_err(|e| {
            AppleError::ProviderSetup {
                reason: format!("server name {host}: {e}"),
            }
        })?;
        let slots = (0..config.connections)
            .map(|_| {
                Mutex::new(Slot {
                    sender: None,
                    generation: 0,
                })
            })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                identity,
                options: config.push,
                connect_to: config.connect_to,
                connect_timeout: config.connect_timeout,
                retry: config.retry,
                tls,
                server_name,
                slots,
                next_slot: AtomicUsize::new(0),
                in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
                totals: std::sync::Mutex::new(OutcomeCounts::default()),
                connects: AtomicU64::new(0),
            }),
        })
    }

    /// Sends one push per target and waits for every outcome. At most
    /// `max_in_flight` pushes are on the wire at once; the rest wait.
    /// Each push gets an `apns-id` and a jitter seed drawn from `rng`.
    pub async fn send_batch<R: CryptoRng + ?Sized>(
        &self,
        targets: &[PushTarget],
        rng: &mut R,
    ) -> BatchReport {
        let span = tracing::info_span!(
            "apns_batch",
            pushes = targets.len(),
            topic = self.inner.identity.topic().as_str()
        );
        let mut results: Vec<Option<PushResult>> = vec![None; targets.len()];
        let mut tasks = tokio::task::JoinSet::new();
        let (mut retries, mut resends) = (0u64, 0u64);
        let mut finish = |(r, tries, sends): (PushResult, u64, u64)| {
            retries += tries;
            resends += sends;
            let i = r.index;
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        };
        for (index, target) in targets.iter().enumerate() {
            let apns_id = CommandUuid::random(rng).as_str().to_ascii_lowercase();
            let seed = rng.next_u64();
            let request = push_request(
                self.inner.identity.topic(),
                &target.token,
                &target.push_magic,
                &self.inner.options,
            );
            let Ok(permit) = self.inner.in_flight.clone().acquire_owned().await else {
                break;
            };
            let inner = self.inner.clone();
            tasks.spawn(
                async move {
                    let r = inner.push(index, request, apns_id, seed).await;
                    drop(permit);
                    r
                }
                .instrument(span.clone()),
            );
            while let Some(Ok(done)) = tasks.try_join_next() {
                finish(done);
            }
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(done) => finish(done),
                Err(e) => tracing::error!(parent: &span, "push task failed: {e}"),
            }
        }
        // A push whose task did not finish still ends in one outcome.
        let results: Vec<PushResult> = results
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                r.unwrap_or_else(|| PushResult {
                    index,
                    apns_id: String::new(),
                    attempts: 0,
                    outcome: PushOutcome::GaveUp {
                        last: Failure::Transport("the push task did not finish".into()),
                    },
                })
            })
            .collect();
        let mut counts = OutcomeCounts {
            retries,
            resent_after_goaway: resends,
            ..OutcomeCounts::default()
        };
        for r in &results {
            counts.record(&r.outcome);
        }
        if let Ok(mut totals) = self.inner.totals.lock() {
            totals.add(&counts);
        }
        tracing::info!(
            parent: &span,
            delivered = counts.delivered,
            unregistered = counts.unregistered,
            rejected = counts.pushes - counts.delivered - counts.unregistered - counts.gave_up,
            gave_up = counts.gave_up,
            retries = counts.retries,
            "APNs batch done"
        );
        BatchReport { results, counts }
    }

    /// Outcome counts over the client's life.
    pub fn totals(&self) -> OutcomeCounts {
        self.inner.totals.lock().map(|t| *t).unwrap_or_default()
    }

    /// Connections opened so far (a reconnect after GOAWAY adds one).
    pub fn connections_opened(&self) -> u64 {
        self.inner.connects.load(Ordering::Relaxed)
    }

    /// The `SETTINGS_MAX_CONCURRENT_STREAMS` the server advertised on the
    /// first pool connection, once it is open.
    pub async fn server_stream_limit(&self) -> Option<usize> {
        let slot = self.inner.slots.first()?.lock().await;
        slot.sender
            .as_ref()
            .map(SendRequest::current_max_send_streams)
    }
}

/// splitmix64: one well-mixed word per retry from the push's seed.
fn jitter(seed: u64, attempt: u32) -> u64 {
    let mut z = seed.wrapping_add(u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Inner {
    /// One push to its final outcome; also the retries and resends it took.
    async fn push(
        &self,
        index: usize,
        request: PushRequest,
        apns_id: String,
        seed: u64,
    ) -> (PushResult, u64, u64) {
        let mut attempts = 0u32;
        let mut resends = 0u32;
        let outcome = loop {
            attempts += 1;
            let slot = self.next_slot.fetch_add(1, Ordering::Relaxed) % self.slots.len();
            let failure = match self.try_once(slot, &request, &apns_id).await {
                Ok(answer) if !answer.is_retryable() || attempts >= self.retry.max_attempts => {
                    break answer.outcome();
                }
                Ok(answer) => answer.outcome(),
                Err(TryError::NotProcessed(why)) => {
                    attempts -= 1;
                    resends += 1;
                    if resends > MAX_RESENDS {
                        break PushOutcome::GaveUp {
                            last: Failure::Transport(why),
                        };
                    }
                    continue;
                }
                Err(TryError::Broken(why)) => {
                    let gave_up = PushOutcome::GaveUp {
                        last: Failure::Transport(why),
                    };
                    if attempts >= self.retry.max_attempts {
                        break gave_up;
                    }
                    gave_up
                }
            };
            tracing::debug!(attempt = attempts, ?failure, "APNs push will be retried");
            tokio::time::sleep(self.retry.delay(attempts, jitter(seed, attempts))).await;
        };
        let result = PushResult {
            index,
            apns_id,
            attempts,
            outcome,
        };
        (result, u64::from(attempts - 1), u64::from(resends))
    }

    /// A connection's request handle: the open one, or a new connection.
    async fn sender(&self, slot: usize) -> std::result::Result<(SendRequest<Bytes>, u64), String> {
        let Some(cell) = self.slots.get(slot) else {
            return Err("no such connection".into());
        };
        let mut cell = cell.lock().await;
        if let Some(s) = &cell.sender {
            return Ok((s.clone(), cell.generation));
        }
        let sender = tokio::time::timeout(self.connect_timeout, self.connect())
            .await
            .map_err(|_| "connecting timed out".to_owned())??;
        cell.generation += 1;
        cell.sender = Some(sender.clone());
        Ok((sender, cell.generation))
    }

    /// Forgets a connection that failed (unless it was replaced already).
    async fn discard(&self, slot: usize, generation: u64) {
        if let Some(cell) = self.slots.get(slot) {
            let mut cell = cell.lock().await;
            if cell.generation == generation {
                cell.sender = None;
            }
        }
    }

    async fn connect(&self) -> std::result::Result<SendRequest<Bytes>, String> {
        let host = self.options.environment.host();
        let tcp = match self.connect_to {
            Some(addr) => tokio::net::TcpStream::connect(addr).await,
            None => tokio::net::TcpStream::connect((host, 443)).await,
        }
        .map_err(|e| format!("connecting to {host}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let tls = self
            .tls
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(format!("{host} did not agree to HTTP/2 (ALPN h2)"));
        }
        let (sender, connection) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(1 << 24)
            .handshake::<_, Bytes>(tls)
            .await
            .map_err(|e| format!("HTTP/2 with {host}: {e}"))?;
        self.connects.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("APNs connection ended: {e}");
            }
        });
        Ok(sender)
    }

    async fn try_once(
        &self,
        slot: usize,
        request: &PushRequest,
        apns_id: &str,
    ) -> std::result::Result<ApnsAnswer, TryError> {
        let (sender, generation) = self.sender(slot).await.map_err(TryError::Broken)?;
        let mut sender = match sender.ready().await {
            Ok(s) => s,
            Err(e) => {
                self.discard(slot, generation).await;
                return Err(TryError::NotProcessed(e.to_string()));
            }
        };
        let http = to_http(request, apns_id).map_err(TryError::Broken)?;
        let (response, mut stream) = match sender.send_request(http, false) {
            Ok(pair) => pair,
            Err(e) => {
                self.discard(slot, generation).await;
                return Err(TryError::NotProcessed(e.to_string()));
            }
        };
        // A failure here shows again on the response.
        let _ = stream.send_data(Bytes::from(request.body.clone()), true);
        let response = match response.await {
            Ok(r) => r,
            Err(e) => {
                let unprocessed = (e.is_go_away() && e.is_remote())
                    || e.reason() == Some(h2::Reason::REFUSED_STREAM);
                if e.is_go_away() || e.is_io() {
                    self.discard(slot, generation).await;
                }
                return Err(if unprocessed {
                    TryError::NotProcessed(e.to_string())
                } else {
                    TryError::Broken(e.to_string())
                });
            }
        };
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| TryError::Broken(e.to_string()))?;
            let _ = body.flow_control().release_capacity(chunk.len());
            let room = MAX_ANSWER_BYTES.saturating_sub(bytes.len());
            bytes.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        }
        Ok(ApnsAnswer::read(status, &bytes))
    }
}

fn to_http(request: &PushRequest, apns_id: &str) -> std::result::Result<http::Request<()>, String> {
    let mut builder = http::Request::builder()
        .method(http::Method::POST)
        .uri(request.url())
        .header("apns-id", apns_id);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(()).map_err(|e| format!("push request: {e}"))
}
