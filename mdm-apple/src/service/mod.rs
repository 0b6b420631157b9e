//! The server side of Apple MDM, independent of any transport (issue
//! #17): [`AppleService`] takes a device request — its body, the identity
//! evidence that came with it, `now` — and answers the response body and
//! what changed, recording every rule through `mdm-model`. Its state lives
//! behind [`AppleStore`] ([`MemoryStore`] by default).
//!
//! * [`apple_service`](AppleService): dispatch, identity binding, push targets;
//! * `checkin`: the check-in endpoint's messages;
//! * `command`: reports and the next command;
//! * [`identity`](PresentedIdentity): `Mdm-Signature`, `Client-Cert`, TLS peer;
//! * [`checked`](CheckedRequest): the stateless part of a request (decoding,
//!   the signature check), done before the state is touched;
//! * [`refusal_of`] / [`status_of`]: how a refusal is audited and answered.

mod answer;
mod apple_service;
mod checked;
mod checkin;
mod command;
mod identity;
mod memory;
mod refusal;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_store;
mod store;

pub use answer::{DeviceRequest, Endpoint, Handled, ServiceEvent};
pub use apple_service::AppleService;
pub use checked::CheckedRequest;
pub use identity::{
    CheckedWindow, PresentedIdentity, VerifiedIdentity, decode_client_cert, decode_mdm_signature,
};
pub use memory::MemoryStore;
pub use refusal::{refusal_of, status_of};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql_store::{APPLE_COMPONENT, SqlAppleStore};
pub use store::{AppleStore, EnrollmentRecord, QueueStep, Retention};
