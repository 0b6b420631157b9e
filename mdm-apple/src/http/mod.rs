//! The Apple service on the wire (cargo feature `http`, off by default):
//! an `axum` [`Router`] with nanomdm's paths — `PUT /mdm` (command
//! reports, and check-ins when the content type is
//! `application/x-apple-aspen-mdm-checkin`) and `PUT /checkin` — over an
//! [`AppleServer`] shared behind a mutex, generic over its
//! [`AppleStore`](crate::AppleStore).
//!
//! The identity comes from the `Mdm-Signature` header, else the TLS peer
//! certificate (a [`TlsPeerCertificate`] request extension that the TLS
//! acceptor adds), else, only when [`HttpOptions::trust_client_cert_header`]
//! is set, an RFC 9440 `Client-Cert` header from a TLS-terminating proxy.
//! Bodies over [`HttpOptions::body_limit`] get 413; every refusal is a
//! 400-class answer (never 401: an Apple device unenrolls on 401) and is
//! logged through `tracing` with its reason, never with key material.

mod router;

pub use router::{
    AppleServer, CHECKIN_CONTENT_TYPE, DEFAULT_BODY_LIMIT, HttpOptions, TlsPeerCertificate, router,
};
