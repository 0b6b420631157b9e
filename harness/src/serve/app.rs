//! The router: the crates' own routes mounted per tenant under
//! `/t/<tenant>/` — `PUT /mdm`, `PUT /checkin` (`mdm-apple`), `GET/POST
//! /scep` (`mdm-certs`), the invitation link `/enroll/<token>` (through
//! `mdm-packages`' link routing), `POST /android/register` and `POST
//! /android/sync` (`mdm-android`) — each request's workspace changes
//! committed before its answer leaves; the administrator API under
//! `/t/<tenant>/api/v1/`; `/healthz`; and a 404 with a reason for anything
//! else.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::handler::Handler as _;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mdm_apple::http::{DEFAULT_BODY_LIMIT, HttpOptions};

use super::blocking::off_runtime;
use super::facts::Fact;
use super::tenant::Tenant;
use super::{App, admin, android, enroll};

/// The whole router of `app`.
pub fn router(app: &Arc<App>) -> Router {
    let mut router = Router::new().route("/healthz", get(healthz).with_state(Arc::clone(app)));
    for tenant in app.tenants.values() {
        let options = HttpOptions::new(app.options.clock);
        let devices = mdm_apple::http::router(Arc::clone(&tenant.apple), options)
            .merge(mdm_certs::scep_router(enroll::scep_route(app, tenant)))
            .merge(mdm_android::http::sync_router(android::route(
                app,
                Arc::clone(&tenant.android),
            )))
            .merge(
                Router::new()
                    .route("/enroll/{token}", get(enroll::open_link))
                    .with_state((Arc::clone(app), Arc::clone(tenant))),
            )
            .layer(middleware::from_fn_with_state(
                (Arc::clone(app), Arc::clone(tenant)),
                commit_after,
            ));
        let tenant_router =
            devices
                .merge(admin::router(app, tenant))
                .layer(middleware::from_fn_with_state(
                    (Arc::clone(app), Arc::clone(tenant)),
                    consistent,
                ));
        router = router.nest(&format!("/t/{}", tenant.name), tenant_router);
    }
    router.fallback_service(unknown.with_state(Arc::clone(app)))
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let body = serde_json::json!({
        "status": "ok",
        "tenants": app.tenants.keys().collect::<Vec<_>>(),
    });
    json(StatusCode::OK, &body)
}

async fn unknown(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let tenant = path
        .strip_prefix("/t/")
        .and_then(|rest| rest.split('/').next())
        .map(str::to_owned);
    let known = tenant.as_ref().is_some_and(|t| app.tenants.contains_key(t));
    let reason = match &tenant {
        Some(t) if !known => format!("unknown tenant `{t}`"),
        _ => format!("no route {} {path}", request.method()),
    };
    app.facts.record(Fact {
        at: (app.options.clock)(),
        tenant: tenant.filter(|_| known),
        route: "unknown".into(),
        status: 404,
        reason: reason.clone(),
    });
    text(StatusCode::NOT_FOUND, &reason)
}

/// A JSON answer.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// A plain-text answer (a reason), newline-terminated.
pub fn text(status: StatusCode, reason: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{reason}\n"),
    )
        .into_response()
}

/// Serves every request of a tenant (device routes and API) from state
/// that is current and stays so: on a shared store it first catches up
/// with other processes' commits; when a conflict reloaded the state while
/// it ran, what it changed may have been dropped, so it is refused with a
/// retryable 503 instead of answered. Requests of a PostgreSQL tenant run
/// off the runtime ([`super::blocking`]).
async fn consistent(
    State((app, tenant)): State<(Arc<App>, Arc<Tenant>)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if let Err(reason) = tenant.committer.refresh().await {
        let reason = format!("state not current: {reason}");
        return refuse(
            &app,
            &tenant,
            &path,
            StatusCode::SERVICE_UNAVAILABLE,
            &reason,
        );
    }
    let reloads = tenant.committer.reloads();
    let response = match run_rest(tenant.committer.is_shared(), next, request).await {
        Ok(response) => response,
        Err(reason) => {
            return refuse(
                &app,
                &tenant,
                &path,
                StatusCode::SERVICE_UNAVAILABLE,
                &reason,
            );
        }
    };
    if tenant.committer.reloads() != reloads && response.status() != StatusCode::SERVICE_UNAVAILABLE
    {
        let reason = "not stored: another server committed first; retry";
        return refuse(
            &app,
            &tenant,
            &path,
            StatusCode::SERVICE_UNAVAILABLE,
            reason,
        );
    }
    response
}

/// Runs a device request, then waits for its changes to be committed
/// before answering (a store failure is a 503: the device retries).
async fn commit_after(
    State((app, tenant)): State<(Arc<App>, Arc<Tenant>)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let apple = path.ends_with("/mdm") || path.ends_with("/checkin");
    let request = if apple {
        // The body is read here, up to four times the limit, so that an
        // oversized one is answered 413 after the client finished sending
        // (answering mid-upload makes HTTP clients report a broken stream).
        let (parts, body) = request.into_parts();
        match axum::body::to_bytes(body, 4 * DEFAULT_BODY_LIMIT).await {
            Ok(bytes) if bytes.len() <= DEFAULT_BODY_LIMIT => {
                Request::from_parts(parts, Body::from(bytes))
            }
            Ok(bytes) => {
                let reason = format!(
                    "body of {} bytes refused: the limit is {DEFAULT_BODY_LIMIT} bytes",
                    bytes.len()
                );
                return refuse(&app, &tenant, &path, StatusCode::PAYLOAD_TOO_LARGE, &reason);
            }
            Err(e) => {
                let reason = format!("body refused: {e} (limit {DEFAULT_BODY_LIMIT} bytes)");
                return refuse(&app, &tenant, &path, StatusCode::PAYLOAD_TOO_LARGE, &reason);
            }
        }
    } else {
        request
    };
    // An Apple request holds the tenant's lock while it is verified and
    // applied (a blocking lock, in the crate's route): on a blocking thread,
    // so that the runtime's workers go on with TLS and other connections
    // while it waits for the lock or the committer holds it. (A shared
    // store's requests are off the runtime already.)
    let response = match run_rest(apple && !tenant.committer.is_shared(), next, request).await {
        Ok(response) => response,
        Err(reason) => {
            return refuse(
                &app,
                &tenant,
                &path,
                StatusCode::SERVICE_UNAVAILABLE,
                &reason,
            );
        }
    };
    let status = response.status();
    if let Err(reason) = tenant.committer.commit().await {
        let reason = format!("not stored: {reason}");
        return refuse(
            &app,
            &tenant,
            &path,
            StatusCode::SERVICE_UNAVAILABLE,
            &reason,
        );
    }
    // The Apple routes audit their refusals in the workspace; the others
    // (SCEP's malformed messages, oversized bodies) get a fact here.
    let audited =
        path.ends_with("/mdm") || path.ends_with("/checkin") || path.contains("/android/");
    if status.is_client_error() && (!audited || status == StatusCode::PAYLOAD_TOO_LARGE) {
        app.facts.record(Fact {
            at: (app.options.clock)(),
            tenant: Some(tenant.name.to_string()),
            route: path,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("refused").to_owned(),
        });
    }
    response
}

/// Runs the rest of the route: on a blocking thread when `off_the_runtime`
/// (see the callers for why), else on this task. A blocking thread that
/// fails gives the reason for a 503.
async fn run_rest(off_the_runtime: bool, next: Next, request: Request) -> Result<Response, String> {
    if off_the_runtime {
        off_runtime(next.run(request))
            .await
            .map_err(|reason| format!("the request failed: {reason}"))
    } else {
        Ok(next.run(request).await)
    }
}

fn refuse(app: &App, tenant: &Tenant, path: &str, status: StatusCode, reason: &str) -> Response {
    app.facts.record(Fact {
        at: (app.options.clock)(),
        tenant: Some(tenant.name.to_string()),
        route: path.to_owned(),
        status: status.as_u16(),
        reason: reason.to_owned(),
    });
    let mut response = text(status, reason);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
