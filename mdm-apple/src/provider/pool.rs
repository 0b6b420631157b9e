//! The client's connections: a fixed number of slots, each holding an open
//! HTTP/2 connection (opened on first use, replaced after a GOAWAY or a
//! failure). Taking a slot's connection is a short lock, never an await;
//! only opening one waits, and one push opens it while the others wait.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio_rustls::TlsConnector;

use crate::push::ApnsEnvironment;

/// Stream-level flow-control window we grant APNs (its answers are tiny).
const STREAM_WINDOW: u32 = 1 << 20;
/// Connection-level window.
const CONNECTION_WINDOW: u32 = 1 << 24;

#[derive(Default)]
struct Open {
    sender: Option<SendRequest<Bytes>>,
    generation: u64,
}

#[derive(Default)]
struct Slot {
    open: Mutex<Open>,
    /// Held by the push that is opening this slot's connection.
    connecting: tokio::sync::Mutex<()>,
}

impl Slot {
    fn open(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self) -> Option<(SendRequest<Bytes>, u64)> {
        let open = self.open();
        open.sender.clone().map(|s| (s, open.generation))
    }
}

/// Where and how to connect.
pub(crate) struct Dial {
    pub(crate) environment: ApnsEnvironment,
    pub(crate) connect_to: Option<SocketAddr>,
    pub(crate) timeout: Duration,
    pub(crate) tls: TlsConnector,
    pub(crate) server_name: rustls_pki_types::ServerName<'static>,
}

/// The pool.
pub(crate) struct Pool {
    dial: Dial,
    slots: Vec<Slot>,
    next: AtomicUsize,
    connects: AtomicU64,
}

/// A connection's request handle, and which of the slot's connections it is.
pub(crate) struct Lease {
    pub(crate) slot: usize,
    pub(crate) generation: u64,
    pub(crate) sender: SendRequest<Bytes>,
}

impl Pool {
    pub(crate) fn new(dial: Dial, connections: usize) -> Self {
        Self {
            dial,
            slots: (0..connections).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
            connects: AtomicU64::new(0),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Connections opened so far.
    pub(crate) fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// The first slot's server stream limit, once it is open.
    pub(crate) fn server_stream_limit(&self) -> Option<usize> {
        let (sender, _) = self.slots.first()?.current()?;
        Some(sender.current_max_send_streams())
    }

    /// The next slot's connection (round robin), opened if need be.
    pub(crate) async fn lease(&self) -> Result<Lease, String> {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len().max(1);
        let Some(cell) = self.slots.get(slot) else {
            return Err("no such connection".into());
        };
        if let Some((sender, generation)) = cell.current() {
            return Ok(Lease {
                slot,
                generation,
                sender,
            });
        }
        // Boxed: the future of a connection being made is large, and every
        // push's future would otherwise carry room for it.
        Box::pin(self.reopen(slot, cell)).await
    }

    async fn reopen(&self, slot: usize, cell: &Slot) -> Result<Lease, String> {
        let _gate = cell.connecting.lock().await;
        // Another push may have opened it while this one waited.
        if let Some((sender, generation)) = cell.current() {
            return Ok(Lease {
                slot,
                generation,
                sender,
            });
        }
        let sender = tokio::time::timeout(self.dial.timeout, self.connect())
            .await
            .map_err(|_| "connecting timed out".to_owned())??;
        let mut open = cell.open();
        open.generation += 1;
        open.sender = Some(sender.clone());
        Ok(Lease {
            slot,
            generation: open.generation,
            sender,
        })
    }

    /// Forgets a leased connection that failed (unless it was replaced already).
    pub(crate) fn discard(&self, lease: &Lease) {
        if let Some(cell) = self.slots.get(lease.slot) {
            let mut open = cell.open();
            if open.generation == lease.generation {
                open.sender = None;
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<Bytes>, String> {
        let host = self.dial.environment.host();
        let tcp = match self.dial.connect_to {
            Some(addr) => tokio::net::TcpStream::connect(addr).await,
            None => tokio::net::TcpStream::connect((host, 443)).await,
        }
        .map_err(|e| format!("connecting to {host}: {e}"))?;
        // Pushes are small frames: send each write at once.
        let _ = tcp.set_nodelay(true);
        let tls = self
            .dial
            .tls
            .connect(self.dial.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(format!("{host} did not agree to HTTP/2 (ALPN h2)"));
        }
        let (sender, connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
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
}
