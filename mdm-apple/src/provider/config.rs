//! How the provider client connects and retries.

use std::net::SocketAddr;
use std::time::Duration;

use time::OffsetDateTime;

use crate::push::PushOptions;

/// The date the client checks APNs's server certificate at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsClock {
    /// The system clock, read by rustls at each handshake: what a
    /// production binary passes (the caller chooses it; the library never
    /// falls back to it).
    System,
    /// A fixed date: tests and the harness's virtual time.
    Fixed(OffsetDateTime),
}

/// Capped exponential backoff with jitter for 429, 5xx and broken
/// connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The first retry waits about this long; each next one doubles it.
    pub base_delay: Duration,
    /// No wait is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `attempt + 1` after try `attempt` failed
    /// (`attempt` from 1): `d = min(max_delay, base_delay · 2^(attempt-1))`,
    /// then "equal jitter", a uniform draw in `[d/2, d]` taken from `jitter`
    /// (a caller-supplied random word; no hidden randomness).
    pub fn delay(&self, attempt: u32, jitter: u64) -> Duration {
        let shift = attempt.saturating_sub(1).min(30);
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let d = nanos(self.base_delay)
            .saturating_mul(1u64 << shift)
            .min(nanos(self.max_delay));
        let half = d / 2;
        let extra = if half == 0 { 0 } else { jitter % (half + 1) };
        Duration::from_nanos(half + extra)
    }
}

/// The client's settings. `Default` is production APNs, two connections,
/// up to 2,000 pushes in flight, [`RetryPolicy::default`].
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Environment (the host for TLS and `:authority`), priority, expiration.
    pub push: PushOptions,
    /// Where to connect instead of resolving the environment's host on port
    /// 443 (tests: the stand-in on 127.0.0.1). The TLS name stays the host.
    pub connect_to: Option<SocketAddr>,
    /// HTTP/2 connections in the pool (at least 1). Each carries as many
    /// streams at once as the server's `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub connections: usize,
    /// Pushes in flight at most, over all connections: a batch waits for
    /// room rather than queueing without bound.
    pub max_in_flight: usize,
    /// Retries.
    pub retry: RetryPolicy,
    /// Certificates trusted for APNs's server certificate (DER). Production
    /// passes the root Apple's APNs servers chain to, as Apple publishes it.
    pub server_roots: Vec<Vec<u8>>,
    /// The date the server certificate is checked at.
    pub tls_clock: TlsClock,
    /// Time-out for making a connection (TCP and TLS).
    pub connect_timeout: Duration,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            push: PushOptions::default(),
            connect_to: None,
            connections: 2,
            max_in_flight: 2_000,
            retry: RetryPolicy::default(),
            server_roots: Vec::new(),
            tls_clock: TlsClock::System,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitters_within_half() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(p.delay(1, 0), Duration::from_millis(50));
        assert!(p.delay(1, u64::from(u32::MAX)) <= Duration::from_millis(100));
        assert_eq!(p.delay(2, 0), Duration::from_millis(100));
        assert_eq!(p.delay(3, 0), Duration::from_millis(200));
        assert_eq!(p.delay(9, 0), Duration::from_millis(500));
        assert_eq!(p.delay(40, 0), Duration::from_millis(500));
        for j in [1u64, 7, 1 << 40, u64::MAX] {
            let d = p.delay(5, j);
            assert!(
                d >= Duration::from_millis(500) && d <= Duration::from_secs(1),
                "{d:?}"
            );
        }
        assert_ne!(p.delay(3, 12345), p.delay(3, 54321));
    }
}
