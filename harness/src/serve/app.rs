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
use mdm_apple::http::{CHECKIN_CONTENT_TYPE, DEFAULT_BODY_LIMIT, HttpOptions};
use mdm_apple::{AppleStore as _, DeviceMessage};

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
        let tenant_router = devices.merge(admin::router(app, tenant));
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

/// Whether this device request carries a check-in message (`/checkin`, or
/// `/mdm` with the check-in content type).
fn is_checkin(request: &Request) -> bool {
    let path = request.uri().path();
    path.ends_with("/checkin")
        || (path.ends_with("/mdm")
            && request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(CHECKIN_CONTENT_TYPE)))
}

/// Runs a device request, then waits for its changes to be committed
/// before answering (a store failure is a 503: the device retries). The
/// Apple device id of each accepted `Authenticate` is kept for the API.
async fn commit_after(
    State((app, tenant)): State<(Arc<App>, Arc<Tenant>)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let checkin = is_checkin(&request);
    let apple = path.ends_with("/mdm") || path.ends_with("/checkin");
    let (request, body) = if apple {
        // The body is read here, up to four times the limit, so that an
        // oversized one is answered 413 after the client finished sending
        // (answering mid-upload makes HTTP clients report a broken stream).
        let (parts, body) = request.into_parts();
        match axum::body::to_bytes(body, 4 * DEFAULT_BODY_LIMIT).await {
            Ok(bytes) if bytes.len() <= DEFAULT_BODY_LIMIT => (
                Request::from_parts(parts, Body::from(bytes.clone())),
                Some(bytes).filter(|_| checkin),
            ),
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
        (request, None)
    };
    let response = next.run(request).await;
    let status = response.status();
    if let Some(body) = body.filter(|_| status.is_success()) {
        remember_udid(&tenant, &body);
    }
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

fn remember_udid(tenant: &Tenant, body: &[u8]) {
    let Ok(DeviceMessage::Authenticate(auth)) = mdm_apple::decode(body) else {
        return;
    };
    let device = tenant.apple.lock().ok().and_then(|guard| {
        guard
            .service
            .store()
            .enrollment(&auth.device)
            .ok()
            .flatten()
            .map(|r| r.device)
    });
    if let (Some(device), Ok(mut udids)) = (device, tenant.udids.lock()) {
        udids.insert(device, auth.device.clone());
    }
}
