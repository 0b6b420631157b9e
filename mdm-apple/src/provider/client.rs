//! The provider client: a small pool of HTTP/2 connections to APNs, each
//! multiplexing up to the server's `SETTINGS_MAX_CONCURRENT_STREAMS`,
//! bounded in-flight work, retries with capped backoff and jitter. A
//! batch's pushes are futures driven by the batch's own task (no task per
//! push); each connection's frames are read and written by its own task.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use rand_core::CryptoRng;
use tokio::sync::{Semaphore, SemaphorePermit, TryAcquireError};
use tokio_rustls::TlsConnector;
use tracing::Instrument as _;

use super::config::{ProviderConfig, RetryPolicy};
use super::identity::ProviderIdentity;
use super::outcome::{ApnsAnswer, Failure, OutcomeCounts, PushOutcome};
use super::pool::{Dial, Pool};
use super::request::{Prepared, Preparer, RequestTemplate};
use super::tls::client_config;
use crate::enrollment_state::PushTarget;
use crate::error::{AppleError, Result};

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
            .field("connections", &self.inner.pool.len())
            .finish_non_exhaustive()
    }
}

struct Inner {
    identity: ProviderIdentity,
    options: crate::push::PushOptions,
    retry: RetryPolicy,
    template: RequestTemplate,
    pool: Pool,
    in_flight: Semaphore,
    totals: std::sync::Mutex<OutcomeCounts>,
}

/// How one try ended short of an answer.
enum TryError {
    /// The request never reached APNs's processing (the connection was
    /// closing, or GOAWAY named a lower last stream): send it again.
    NotProcessed(String),
    /// No answer, and APNs may or may not have acted on it.
    Broken(String),
}

/// A push's end: its result, and the retries and resends it took.
struct Finished {
    result: PushResult,
    retries: u64,
    resends: u64,
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
        let dial = Dial {
            environment: config.push.environment,
            connect_to: config.connect_to,
            timeout: config.connect_timeout,
            tls,
            server_name,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                template: RequestTemplate::new(identity.topic(), &config.push)?,
                identity,
                options: config.push,
                retry: config.retry,
                pool: Pool::new(dial, config.connections),
                in_flight: Semaphore::new(config.max_in_flight),
                totals: std::sync::Mutex::new(OutcomeCounts::default()),
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
        let results = self.run_batch(targets, rng).instrument(span.clone()).await;
        let (results, retries, resends) = results;
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

    /// Every push of a batch to its outcome: each is admitted when the
    /// in-flight bound has room, and while a push waits for room the
    /// admitted ones are driven.
    async fn run_batch<R: CryptoRng + ?Sized>(
        &self,
        targets: &[PushTarget],
        rng: &mut R,
    ) -> (Vec<PushResult>, u64, u64) {
        let inner = &*self.inner;
        let mut results: Vec<Option<PushResult>> = vec![None; targets.len()];
        let (mut retries, mut resends) = (0u64, 0u64);
        let mut finish = |done: Finished| {
            retries += done.retries;
            resends += done.resends;
            let i = done.result.index;
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(done.result);
            }
        };
        let mut running = FuturesUnordered::new();
        let mut preparer = Preparer::default();
        for (index, target) in targets.iter().enumerate() {
            let push = match preparer.prepare(index, target, rng) {
                Ok(push) => push,
                Err(why) => {
                    finish(Finished {
                        result: PushResult {
                            index,
                            apns_id: String::new(),
                            attempts: 0,
                            outcome: PushOutcome::GaveUp {
                                last: Failure::Transport(why),
                            },
                        },
                        retries: 0,
                        resends: 0,
                    });
                    continue;
                }
            };
            let permit = match inner.in_flight.try_acquire() {
                Ok(permit) => permit,
                Err(TryAcquireError::Closed) => break,
                Err(TryAcquireError::NoPermits) => {
                    let room = inner.in_flight.acquire();
                    tokio::pin!(room);
                    let room = loop {
                        tokio::select! {
                            biased;
                            Some(done) = running.next(), if !running.is_empty() => finish(done),
                            room = &mut room => break room,
                        }
                    };
                    let Ok(permit) = room else { break };
                    permit
                }
            };
            running.push(inner.push(push, permit));
        }
        while let Some(done) = running.next().await {
            finish(done);
        }
        // A push that was never admitted still ends in one outcome.
        let results = results
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                r.unwrap_or_else(|| PushResult {
                    index,
                    apns_id: String::new(),
                    attempts: 0,
                    outcome: PushOutcome::GaveUp {
                        last: Failure::Transport("the push was not sent".into()),
                    },
                })
            })
            .collect();
        (results, retries, resends)
    }

    /// Outcome counts over the client's life.
    pub fn totals(&self) -> OutcomeCounts {
        self.inner.totals.lock().map(|t| *t).unwrap_or_default()
    }

    /// Connections opened so far (a reconnect after GOAWAY adds one).
    pub fn connections_opened(&self) -> u64 {
        self.inner.pool.connects()
    }

    /// The `SETTINGS_MAX_CONCURRENT_STREAMS` the server advertised on the
    /// first pool connection, once it is open.
    pub async fn server_stream_limit(&self) -> Option<usize> {
        self.inner.pool.server_stream_limit()
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
    /// One push to its final outcome; the permit is its room in flight.
    async fn push(&self, push: Prepared, permit: SemaphorePermit<'_>) -> Finished {
        let mut attempts = 0u32;
        let mut resends = 0u32;
        let outcome = loop {
            attempts += 1;
            let failure = match self.try_once(&push).await {
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
            let wait = self.retry.delay(attempts, jitter(push.seed, attempts));
            // Boxed: a timer is large and rarely needed.
            Box::pin(tokio::time::sleep(wait)).await;
        };
        drop(permit);
        Finished {
            result: PushResult {
                index: push.index,
                apns_id: push.apns_id().to_owned(),
                attempts,
                outcome,
            },
            retries: u64::from(attempts - 1),
            resends: u64::from(resends),
        }
    }

    async fn try_once(&self, push: &Prepared) -> std::result::Result<ApnsAnswer, TryError> {
        let lease = self.pool.lease().await.map_err(TryError::Broken)?;
        let http = self.template.request(push).map_err(TryError::Broken)?;
        let mut sender = match lease.sender.clone().ready().await {
            Ok(s) => s,
            Err(e) => {
                self.pool.discard(&lease);
                return Err(TryError::NotProcessed(e.to_string()));
            }
        };
        let (response, mut stream) = match sender.send_request(http, false) {
            Ok(pair) => pair,
            Err(e) => {
                self.pool.discard(&lease);
                return Err(TryError::NotProcessed(e.to_string()));
            }
        };
        // A failure here shows again on the response.
        let _ = stream.send_data(push.body(), true);
        let response = match response.await {
            Ok(r) => r,
            Err(e) => {
                let unprocessed = (e.is_go_away() && e.is_remote())
                    || e.reason() == Some(h2::Reason::REFUSED_STREAM);
                if e.is_go_away() || e.is_io() {
                    self.pool.discard(&lease);
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
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk: Bytes = chunk.map_err(|e| TryError::Broken(e.to_string()))?;
            let _ = body.flow_control().release_capacity(chunk.len());
            let room = MAX_ANSWER_BYTES.saturating_sub(bytes.len());
            bytes.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        }
        Ok(ApnsAnswer::read(status, &bytes))
    }
}
