//! The router, its state trait and its two handlers.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mdm_model::{AgentRequestRefusal, DeviceId, Workspace};
use rand_core::CryptoRng;
use time::OffsetDateTime;

use crate::{AgentAuthorization, AgentRegistration, AndroidEndpoint, AndroidError, SyncRequest};

/// Where the agent registers.
pub const REGISTER_PATH: &str = "/android/register";
/// Where the agent syncs.
pub const SYNC_PATH: &str = "/android/sync";

/// Bodies larger than this get 413 (64 KiB: a sync request carries at most
/// 64 command results and is a few KiB at most).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Where the route's state lives: the workspace and the Android endpoint
/// (its settings and command queue), one request at a time.
pub trait AndroidState: Send + Sync + 'static {
    /// Runs `f` with the workspace and the endpoint and keeps what it
    /// changed: a server over a database commits the workspace's changes
    /// (the sync, the audit facts) before returning, so that nothing
    /// answered is lost.
    ///
    /// # Errors
    /// [`AndroidError::StateUnavailable`] when the state cannot be reached
    /// or what changed cannot be kept.
    fn with_endpoint<T>(
        &self,
        f: impl FnOnce(&mut Workspace, &mut AndroidEndpoint) -> T,
    ) -> Result<T, AndroidError>;
}

/// The in-memory state: a workspace and its Android endpoint.
#[derive(Debug)]
pub struct AndroidServer {
    /// The workspace whose rules the syncs are recorded through.
    pub workspace: Workspace,
    /// The endpoint: Android settings, command queue, rendered configurations.
    pub endpoint: AndroidEndpoint,
}

impl AndroidState for Mutex<AndroidServer> {
    fn with_endpoint<T>(
        &self,
        f: impl FnOnce(&mut Workspace, &mut AndroidEndpoint) -> T,
    ) -> Result<T, AndroidError> {
        let mut guard = self.lock().map_err(|_| AndroidError::StateUnavailable {
            reason: "the state's lock was poisoned by a panic".into(),
        })?;
        let AndroidServer {
            workspace,
            endpoint,
        } = &mut *guard;
        Ok(f(workspace, endpoint))
    }
}

/// What the router needs from its caller: the state, the clock and the
/// randomness (no clock or RNG inside the library), and the body limit.
pub struct SyncRoute<S> {
    /// The workspace and endpoint.
    pub state: Arc<S>,
    /// The time of a request.
    pub now: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
    /// A CSPRNG for one request (the agent's credential).
    pub rng: Arc<dyn Fn() -> Box<dyn CryptoRng + Send> + Send + Sync>,
    /// Largest body accepted, in bytes; larger ones get 413.
    pub body_limit: usize,
}

impl<S> SyncRoute<S> {
    /// A route over `state` with [`DEFAULT_BODY_LIMIT`].
    pub fn new(
        state: Arc<S>,
        now: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
        rng: Arc<dyn Fn() -> Box<dyn CryptoRng + Send> + Send + Sync>,
    ) -> Self {
        Self {
            state,
            now,
            rng,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl<S> Clone for SyncRoute<S> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            now: Arc::clone(&self.now),
            rng: Arc::clone(&self.rng),
            body_limit: self.body_limit,
        }
    }
}

/// The router: `POST /android/register` and `POST /android/sync`.
pub fn sync_router<S: AndroidState>(route: SyncRoute<S>) -> Router {
    let limit = route.body_limit;
    Router::new()
        .route(REGISTER_PATH, post(register::<S>))
        .route(SYNC_PATH, post(sync::<S>))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(route)
}

/// The HTTP status of a refusal (or failure) of the sync service.
#[must_use]
pub fn status_of(error: &AndroidError) -> u16 {
    match error {
        AndroidError::MalformedAuthorization { .. }
        | AndroidError::AgentNotAuthenticated { .. } => 401,
        AndroidError::CertificateMismatch { .. } | AndroidError::UnmanageableInstall { .. } => 403,
        AndroidError::UnknownInvitation | AndroidError::UnknownDevice { .. } => 404,
        AndroidError::Model { .. } => 409,
        AndroidError::DeviceLeftManagement { .. } => 410,
        AndroidError::StateUnavailable { .. } => 503,
        AndroidError::Render { .. } => 500,
        _ => 400,
    }
}

/// What the audit log records about a refusal; `None` for a refused proof
/// (the model records that itself) and for the server's own failures.
fn audited(error: &AndroidError) -> Option<AgentRequestRefusal> {
    Some(match error {
        AndroidError::MalformedSyncRequest { .. } => AgentRequestRefusal::MalformedRequest,
        AndroidError::MalformedAuthorization { .. } => AgentRequestRefusal::MalformedAuthorization,
        AndroidError::UnknownInvitation => AgentRequestRefusal::UnknownInvitation,
        AndroidError::NotAndroid { .. } => AgentRequestRefusal::NotAndroid,
        AndroidError::CertificateMismatch { .. } => AgentRequestRefusal::CertificateMismatch,
        AndroidError::UnmanageableInstall { .. } => AgentRequestRefusal::UnmanageableInstall,
        AndroidError::DeviceLeftManagement { .. } => AgentRequestRefusal::LeftManagement,
        _ => return None,
    })
}

/// A refusal the wire binding itself found, before any parsing.
struct Refused {
    status: StatusCode,
    reason: AgentRequestRefusal,
    text: String,
}

/// The body as read, or the refusal of a body over the limit.
fn body_or_refusal(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Refused> {
    body.map_err(|rejection| {
        let status = rejection.status();
        Refused {
            status,
            reason: if status == StatusCode::PAYLOAD_TOO_LARGE {
                AgentRequestRefusal::BodyTooLarge
            } else {
                AgentRequestRefusal::MalformedRequest
            },
            text: format!("the body could not be read: {}", rejection.body_text()),
        }
    })
}

fn json_content_type(headers: &HeaderMap) -> Result<(), Refused> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match essence {
        Some(t) if t.eq_ignore_ascii_case("application/json") => Ok(()),
        other => Err(Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            reason: AgentRequestRefusal::WrongContentType,
            text: format!(
                "the content type is {}, not application/json",
                other.map_or_else(|| "missing".to_owned(), |t| format!("{t:?}"))
            ),
        }),
    }
}

fn authorization(headers: &HeaderMap) -> Result<AgentAuthorization, AndroidError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AndroidError::MalformedAuthorization {
            reason: "no Authorization header",
        })?
        .to_str()
        .map_err(|_| AndroidError::MalformedAuthorization {
            reason: "the Authorization header is not ASCII",
        })?;
    AgentAuthorization::parse(value)
}

/// The outcome of one request, answered after the state is released.
enum Outcome {
    Answered(Vec<u8>),
    Refused {
        status: StatusCode,
        device: Option<DeviceId>,
        text: String,
    },
}

/// Runs `work` on the blocking pool with the state, the time and an RNG.
async fn in_state<S: AndroidState>(
    route: SyncRoute<S>,
    route_name: &'static str,
    work: impl FnOnce(
        &mut Workspace,
        &mut AndroidEndpoint,
        OffsetDateTime,
        &mut dyn CryptoRng,
    ) -> Outcome
    + Send
    + 'static,
) -> Response {
    let done = tokio::task::spawn_blocking(move || {
        let now = (route.now)();
        let mut rng = (route.rng)();
        route
            .state
            .with_endpoint(|workspace, endpoint| work(workspace, endpoint, now, &mut *rng))
    })
    .await;
    let outcome = match done {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(error)) => Outcome::Refused {
            status: status(&error),
            device: None,
            text: error.to_string(),
        },
        Err(_) => Outcome::Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            device: None,
            text: "the request was abandoned".into(),
        },
    };
    match outcome {
        Outcome::Answered(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Outcome::Refused {
            status,
            device,
            text,
        } => {
            tracing::warn!(
                route = route_name,
                status = status.as_u16(),
                device = device.map(|d| d.to_string()),
                reason = %text,
                "Android agent request refused"
            );
            let mut response = (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{text}\n"),
            )
                .into_response();
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer, Invitation"),
                );
            }
            response
        }
    }
}

fn status(error: &AndroidError) -> StatusCode {
    StatusCode::from_u16(status_of(error)).unwrap_or(StatusCode::BAD_REQUEST)
}

/// A refusal recorded in the audit log (when it is the binding's to record).
fn refuse(
    workspace: &mut Workspace,
    device: Option<DeviceId>,
    error: &AndroidError,
    now: OffsetDateTime,
) -> Outcome {
    if let Some(reason) = audited(error) {
        workspace.record_agent_request_refusal(device, reason, now);
    }
    Outcome::Refused {
        status: status(error),
        device,
        text: error.to_string(),
    }
}

fn refuse_early(workspace: &mut Workspace, refused: Refused, now: OffsetDateTime) -> Outcome {
    workspace.record_agent_request_refusal(None, refused.reason, now);
    Outcome::Refused {
        status: refused.status,
        device: None,
        text: refused.text,
    }
}

async fn register<S: AndroidState>(
    State(route): State<SyncRoute<S>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let checked = body_or_refusal(body).map(|_| authorization(&headers));
    in_state(route, REGISTER_PATH, move |workspace, _, now, _| {
        let token = match checked {
            Err(refused) => return refuse_early(workspace, refused, now),
            Ok(Err(error)) => return refuse(workspace, None, &error, now),
            Ok(Ok(AgentAuthorization::Invitation(token))) => token,
            Ok(Ok(AgentAuthorization::Bearer(_))) => {
                let error = AndroidError::MalformedAuthorization {
                    reason: "registration takes `Invitation <token>`",
                };
                return refuse(workspace, None, &error, now);
            }
        };
        match AgentRegistration::find(workspace, &token).and_then(|r| Ok((r, r.to_json()?))) {
            Ok((_, body)) => Outcome::Answered(body),
            Err(error) => {
                let device = AgentRegistration::enrolled_by(workspace, &token);
                refuse(workspace, device, &error, now)
            }
        }
    })
    .await
}

async fn sync<S: AndroidState>(
    State(route): State<SyncRoute<S>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Everything that needs no state is checked before taking it.
    let checked = body_or_refusal(body)
        .and_then(|body| json_content_type(&headers).map(|()| body))
        .map(|body| {
            let authorization = authorization(&headers);
            let request = SyncRequest::parse(&body);
            (authorization, request)
        });
    in_state(route, SYNC_PATH, move |workspace, endpoint, now, rng| {
        let (authorization, request) = match checked {
            Err(refused) => return refuse_early(workspace, refused, now),
            Ok(parsed) => parsed,
        };
        let request = match request {
            Ok(request) => request,
            Err(error) => return refuse(workspace, None, &error, now),
        };
        let device = Some(request.device_id);
        let authorization = match authorization {
            Ok(authorization) => authorization,
            Err(error) => return refuse(workspace, device, &error, now),
        };
        match endpoint
            .handle_sync(workspace, &authorization, &request, now, rng)
            .and_then(|response| response.to_json())
        {
            Ok(body) => Outcome::Answered(body),
            Err(error) => refuse(workspace, device, &error, now),
        }
    })
    .await
}
