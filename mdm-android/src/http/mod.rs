//! The agent's sync protocol on the wire (cargo feature `http`, off by
//! default): an `axum` [`Router`](axum::Router) with two routes, both JSON
//! over `POST`, the proof in the `Authorization` header
//! ([`AgentAuthorization`](crate::AgentAuthorization)):
//!
//! | route | `Authorization` | body | answer |
//! |---|---|---|---|
//! | `POST /android/register` | `Invitation <token>` | none | [`AgentRegistration`](crate::AgentRegistration): the device id |
//! | `POST /android/sync` | `Invitation <token>` (first sync), then `Bearer <credential>` | [`SyncRequest`](crate::SyncRequest) | [`SyncResponse`](crate::SyncResponse) |
//!
//! The state lives where the server keeps it, behind [`AndroidState`]:
//! `Mutex<AndroidServer>` in memory, or a server's own type that commits
//! the workspace's changes to its store before answering. Each request runs
//! on tokio's blocking pool (a store may block), parsing outside the state.
//!
//! Every refusal is a 4xx with the reason in a `text/plain` body, logged
//! through `tracing` (never with a secret) and recorded in the workspace's
//! audit log ([`mdm_model::AuditEvent::AgentRequestRefused`], or the
//! model's own [`mdm_model::AuditEvent::AgentAuthenticationFailed`] for a
//! refused proof): 400 malformed JSON, 401 a missing, malformed or refused
//! proof (with `WWW-Authenticate`), 403 a foreign certificate or an
//! unmanageable install, 404 an unknown invitation, 410 a device that left
//! management, 413 a body over [`SyncRoute::body_limit`], 415 a content
//! type other than JSON. Only the server's own failures give a 5xx (503 a
//! failing state, 500 a configuration it cannot render); nothing a request
//! carries does.

mod router;

pub use router::{
    AndroidServer, AndroidState, DEFAULT_BODY_LIMIT, REGISTER_PATH, SYNC_PATH, SyncRoute,
    status_of, sync_router,
};
