//! Sending pushes to APNs (requirement R-AP-3): Apple's answers as types
//! ([`ApnsReason`], [`ApnsAnswer`], [`PushOutcome`], [`OutcomeCounts`]),
//! always built, and with the cargo feature `apns` the HTTP/2 provider
//! client ([`ApnsClient`]), authenticated with the workspace's push
//! certificate ([`ProviderIdentity`]), configured by [`ProviderConfig`].

mod outcome;
mod reason;

#[cfg(feature = "apns")]
mod client;
#[cfg(feature = "apns")]
mod config;
#[cfg(feature = "apns")]
mod identity;
#[cfg(feature = "apns")]
mod pool;
#[cfg(feature = "apns")]
mod request;
#[cfg(feature = "apns")]
mod tls;

pub use outcome::{ApnsAnswer, Failure, OutcomeCounts, PushOutcome, unix_ms};
pub use reason::ApnsReason;

#[cfg(feature = "apns")]
pub use client::{ApnsClient, BatchReport, PushResult};
#[cfg(feature = "apns")]
pub use config::{ProviderConfig, RetryPolicy, TlsClock};
#[cfg(feature = "apns")]
pub use identity::ProviderIdentity;
