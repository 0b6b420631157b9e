//! The SCEP server on HTTP (feature `http`): `GET/POST /scep` with the
//! `operation=` query of RFC 8894 §4.1, a thin binding of [`ScepServer`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use rand_core::CryptoRng;
use time::OffsetDateTime;

use super::challenge::ScepChallengeStore;
use super::message::MAX_PKI_MESSAGE_LEN;
use super::server::{ScepOperation, ScepOutcome, ScepResponse, ScepServer};
use crate::error::CertError;

/// The largest PKIOperation body (or decoded `message=`) read.
pub const MAX_SCEP_BODY_LEN: usize = MAX_PKI_MESSAGE_LEN;

/// What the route needs from its caller: the server, the challenge store,
/// the clock and the randomness (no clock or RNG inside the library), and
/// where the outcome of each PKIOperation goes (the audit log).
pub struct ScepRoute<S> {
    /// The SCEP server.
    pub server: Arc<ScepServer>,
    /// Where challenge passwords are checked.
    pub store: Arc<S>,
    /// The time of a request.
    pub now: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
    /// A CSPRNG for one request (nonces, content keys, serials).
    pub rng: Arc<dyn Fn() -> Box<dyn CryptoRng + Send> + Send + Sync>,
    /// Told the outcome of every PKIOperation answered in SCEP.
    pub audit: Arc<dyn Fn(&ScepOutcome) + Send + Sync>,
}

impl<S> Clone for ScepRoute<S> {
    fn clone(&self) -> Self {
        Self {
            server: Arc::clone(&self.server),
            store: Arc::clone(&self.store),
            now: Arc::clone(&self.now),
            rng: Arc::clone(&self.rng),
            audit: Arc::clone(&self.audit),
        }
    }
}

/// An axum router serving SCEP at `/scep` (GET and POST).
///
/// `GetCACaps` and `GetCACert` by GET; `PKIOperation` by POST (the body)
/// or GET (the base64 `message=`). A message that is not a pkiMessage is
/// answered 400 with the reason; any other refusal is a CertRep FAILURE
/// (HTTP 200), as RFC 8894 asks. The private-key work runs on tokio's
/// blocking pool.
pub fn scep_router<S: ScepChallengeStore + 'static>(route: ScepRoute<S>) -> Router {
    Router::new()
        .route("/scep", get(handle::<S>).post(handle::<S>))
        .layer(DefaultBodyLimit::max(MAX_SCEP_BODY_LEN))
        .with_state(route)
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn answer(response: ScepResponse) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, response.content_type)],
        response.body,
    )
        .into_response()
}

async fn handle<S: ScepChallengeStore + 'static>(
    State(route): State<ScepRoute<S>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(operation) = query.get("operation") else {
        return text(
            StatusCode::BAD_REQUEST,
            "missing operation= (RFC 8894 §4.1)\n".into(),
        );
    };
    match ScepOperation::parse(operation) {
        ScepOperation::GetCaCaps => answer(route.server.ca_caps()),
        ScepOperation::GetCaCert => match route.server.ca_cert() {
            Ok(r) => answer(r),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        },
        ScepOperation::PkiOperation => {
            let message = if body.is_empty() {
                match query.get("message") {
                    // A form decoder turns `+` into a space; base64 has no spaces.
                    Some(m) => match base64::engine::general_purpose::STANDARD
                        .decode(m.replace(' ', "+").trim())
                    {
                        Ok(bytes) if bytes.len() <= MAX_SCEP_BODY_LEN => bytes,
                        Ok(_) => {
                            return text(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "message= too large\n".into(),
                            );
                        }
                        Err(e) => {
                            return text(
                                StatusCode::BAD_REQUEST,
                                format!("message= is not base64: {e}\n"),
                            );
                        }
                    },
                    None => {
                        return text(
                            StatusCode::BAD_REQUEST,
                            "PKIOperation without a message\n".into(),
                        );
                    }
                }
            } else {
                body.to_vec()
            };
            let work = tokio::task::spawn_blocking(move || {
                let now = (route.now)();
                let mut rng = (route.rng)();
                let result =
                    route
                        .server
                        .pki_operation(&message, route.store.as_ref(), now, &mut *rng);
                if let Ok((_, outcome)) = &result {
                    (route.audit)(outcome);
                }
                result.map(|(response, _)| response)
            })
            .await;
            match work {
                Ok(Ok(response)) => answer(response),
                Ok(Err(e @ CertError::ScepMalformed { .. })) => {
                    text(StatusCode::BAD_REQUEST, format!("{e}\n"))
                }
                Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
                Err(_) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the request was abandoned\n".into(),
                ),
            }
        }
        ScepOperation::Other(op) => text(
            StatusCode::BAD_REQUEST,
            format!("operation `{op}` is not served: GetCACaps, GetCACert, PKIOperation\n"),
        ),
    }
}
