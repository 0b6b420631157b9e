//! The router and its one handler.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use mdm_model::Workspace;
use time::OffsetDateTime;

use crate::error::{AppleError, Result};
use crate::service::{
    AppleService, AppleStore, CheckedRequest, DeviceRequest, Endpoint, Handled, PresentedIdentity,
    decode_client_cert, decode_mdm_signature, refusal_of, status_of,
};

/// The content type of a check-in sent to the command URL.
pub const CHECKIN_CONTENT_TYPE: &str = "application/x-apple-aspen-mdm-checkin";

/// Bodies larger than this get 413 (4 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// What the router serves: the workspace and the Apple service beside it.
#[derive(Debug)]
pub struct AppleServer<S> {
    /// The workspace whose rules the service records through.
    pub workspace: Workspace,
    /// The service.
    pub service: AppleService<S>,
}

/// How the router reads requests.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    /// Accept an RFC 9440 `Client-Cert` header: only behind a
    /// TLS-terminating proxy that sets it and strips it from clients.
    pub trust_client_cert_header: bool,
    /// Largest body accepted, in bytes; larger ones get 413.
    pub body_limit: usize,
    /// The clock (a binary passes `OffsetDateTime::now_utc`; the library
    /// never reads one itself).
    pub clock: fn() -> OffsetDateTime,
}

impl HttpOptions {
    /// No `Client-Cert` trust, a 4 MiB limit, and `clock`.
    pub fn new(clock: fn() -> OffsetDateTime) -> Self {
        Self {
            trust_client_cert_header: false,
            body_limit: DEFAULT_BODY_LIMIT,
            clock,
        }
    }
}

/// The DER of the TLS peer certificate, as a request extension that the
/// TLS acceptor inserts.
#[derive(Debug, Clone)]
pub struct TlsPeerCertificate(pub Arc<Vec<u8>>);

struct Shared<S> {
    server: Arc<Mutex<AppleServer<S>>>,
    /// The service's device CAs when the router was made: signatures are
    /// checked against them before the lock is taken (the service checks
    /// again if its CAs are not these any more).
    device_cas: Arc<[mdm_certs::Certificate]>,
    options: HttpOptions,
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self {
            server: Arc::clone(&self.server),
            device_cas: Arc::clone(&self.device_cas),
            options: self.options,
        }
    }
}

/// The router: `PUT /mdm` and `PUT /checkin`.
pub fn router<S>(server: Arc<Mutex<AppleServer<S>>>, options: HttpOptions) -> Router
where
    S: AppleStore + Send + 'static,
{
    let device_cas = server.lock().map_or_else(
        |_| Arc::from(Vec::new()),
        |guard| Arc::from(guard.service.device_cas().to_vec()),
    );
    let shared = Shared {
        server,
        device_cas,
        options,
    };
    Router::new()
        .route("/mdm", put(mdm::<S>))
        .route("/checkin", put(checkin::<S>))
        .layer(DefaultBodyLimit::max(options.body_limit))
        .with_state(shared)
}

async fn mdm<S: AppleStore + Send + 'static>(
    State(shared): State<Shared<S>>,
    peer: Option<Extension<TlsPeerCertificate>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_checkin = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(CHECKIN_CONTENT_TYPE));
    let endpoint = if is_checkin {
        Endpoint::CheckIn
    } else {
        Endpoint::Command
    };
    serve(
        &shared,
        endpoint,
        peer.map(|Extension(p)| p),
        &headers,
        &body,
    )
}

async fn checkin<S: AppleStore + Send + 'static>(
    State(shared): State<Shared<S>>,
    peer: Option<Extension<TlsPeerCertificate>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(
        &shared,
        Endpoint::CheckIn,
        peer.map(|Extension(p)| p),
        &headers,
        &body,
    )
}

/// The identity evidence's owned bytes, in nanomdm's order of preference.
enum Evidence {
    Signature(Vec<u8>),
    Certificate(Vec<u8>),
    Peer(Arc<Vec<u8>>),
    None,
}

fn evidence(
    headers: &HeaderMap,
    peer: Option<TlsPeerCertificate>,
    options: &HttpOptions,
) -> Result<Evidence> {
    let text = |value: &HeaderValue, header: &'static str| {
        value
            .to_str()
            .map_err(|_| AppleError::MalformedIdentityHeader {
                header,
                reason: "not ASCII".into(),
            })
            .map(str::to_owned)
    };
    if let Some(value) = headers.get("mdm-signature") {
        return Ok(Evidence::Signature(decode_mdm_signature(&text(
            value,
            "Mdm-Signature",
        )?)?));
    }
    if let Some(peer) = peer {
        return Ok(Evidence::Peer(peer.0));
    }
    if options.trust_client_cert_header
        && let Some(value) = headers.get("client-cert")
    {
        return Ok(Evidence::Certificate(decode_client_cert(&text(
            value,
            "Client-Cert",
        )?)?));
    }
    Ok(Evidence::None)
}

fn serve<S: AppleStore>(
    shared: &Shared<S>,
    endpoint: Endpoint,
    peer: Option<TlsPeerCertificate>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let now = (shared.options.clock)();
    // The stateless part first, without the lock: the identity header
    // decoded, the body decoded and a signature checked.
    let evidence = evidence(headers, peer, &shared.options);
    let checked = evidence.as_ref().map(|evidence| {
        let identity = match evidence {
            Evidence::Signature(s) => PresentedIdentity::MdmSignature(s),
            Evidence::Certificate(c) => PresentedIdentity::Certificate(c),
            Evidence::Peer(c) => PresentedIdentity::Certificate(c),
            Evidence::None => PresentedIdentity::None,
        };
        let request = DeviceRequest {
            endpoint,
            body,
            identity,
        };
        CheckedRequest::check(request, &shared.device_cas, now)
    });
    let result = shared
        .server
        .lock()
        .map_err(|_| AppleError::Store {
            reason: "the service's lock was poisoned by a panic".into(),
        })
        .and_then(|mut guard| {
            let AppleServer { workspace, service } = &mut *guard;
            match checked {
                Ok(checked) => service.handle_checked(workspace, checked, now),
                Err(e) => {
                    // An undecodable identity header is audited like any refusal.
                    if let Some(reason) = refusal_of(e) {
                        workspace.record_apple_refusal(None, reason, now);
                    }
                    Err(e.clone())
                }
            }
        });
    match result {
        Ok(handled) => answer(handled),
        Err(e) => refuse(&e, endpoint),
    }
}

fn answer(handled: Handled) -> Response {
    let status = StatusCode::from_u16(handled.status).unwrap_or(StatusCode::OK);
    if handled.body.is_empty() {
        return status.into_response();
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        handled.body,
    )
        .into_response()
}

fn refuse(error: &AppleError, endpoint: Endpoint) -> Response {
    let status = StatusCode::from_u16(status_of(error)).unwrap_or(StatusCode::BAD_REQUEST);
    tracing::warn!(endpoint = endpoint.name(), status = status.as_u16(), reason = %error, "Apple device request refused");
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        error.to_string(),
    )
        .into_response()
}
