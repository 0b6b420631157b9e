//! The administrator API of one tenant, JSON over HTTPS under
//! `/t/<tenant>/api/v1/`, described by `harness/openapi/serve.json`.
//!
//! Every call carries `Authorization: Bearer <token>`: the tenant's token or
//! the operator's (see [`super::token`]). Changes are committed to the
//! tenant's store before the answer. Bad input is a 4xx with the reason (a
//! JSON `{"error": …}`) and a fact ([`super::facts`]); the model's own
//! refusals are in its audit log too.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use base64::Engine as _;
use mdm_apple::{AppleDeviceId, AppleStore as _, Command, CommandRequest, CommandUuid, PushTarget};
use mdm_certs::{ApnsIntake, Certificate, KeyAlgorithm, Validity};
use mdm_model::{ApnsCertificateRecord, DeviceId, EmailAddress};
use mdm_packages::{AndroidDelivery, InstructionSettings, Language, LinkBase};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Duration;

use super::App;
use super::app::json as answer;
use super::facts::Fact;
use super::tenant::{Tenant, write_secret};
use super::token;

/// Largest API body (an APNs certificate file in base64 fits easily).
pub const API_BODY_LIMIT: usize = 1024 * 1024;

type Shared = (Arc<App>, Arc<Tenant>);

/// Every API operation served, as (method, path under `/t/<tenant>`):
/// the router is built from this table, and a test holds it equal to the
/// OpenAPI description (`harness/openapi/serve.json`).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/devices"),
    ("GET", "/api/v1/devices/{device}/commands"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/invitations"),
    ("PUT", "/api/v1/enqueue/{devices}"),
    ("POST", "/api/v1/commands"),
    ("POST", "/api/v1/devices/{device}/wipe"),
    ("PUT", "/api/v1/apns-certificate"),
    ("POST", "/api/v1/server-certificate/reserve"),
    ("GET", "/api/v1/audit"),
];

fn operation(method: &str, path: &str) -> Option<axum::routing::MethodRouter<Shared>> {
    Some(match (method, path) {
        ("GET", "/api/v1/devices") => get(devices),
        ("GET", "/api/v1/devices/{device}/commands") => get(commands),
        ("POST", "/api/v1/users") => post(add_user),
        ("POST", "/api/v1/invitations") => post(invite),
        ("PUT", "/api/v1/enqueue/{devices}") => put(enqueue_raw),
        ("POST", "/api/v1/commands") => post(enqueue_typed),
        ("POST", "/api/v1/devices/{device}/wipe") => post(wipe),
        ("PUT", "/api/v1/apns-certificate") => put(upload_apns),
        ("POST", "/api/v1/server-certificate/reserve") => post(reserve),
        ("GET", "/api/v1/audit") => get(audit),
        _ => return None,
    })
}

/// The API routes of `tenant`.
pub fn router(app: &Arc<App>, tenant: &Arc<Tenant>) -> Router {
    let state: Shared = (Arc::clone(app), Arc::clone(tenant));
    let mut router = Router::new();
    for &(method, path) in ROUTES {
        if let Some(op) = operation(method, path) {
            router = router.route(path, op);
        }
    }
    router
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .with_state(state)
}

/// A refusal: 4xx, `{"error": reason}`, and a fact.
fn refuse(app: &App, tenant: &Tenant, status: StatusCode, reason: String) -> Response {
    app.facts.record(Fact {
        at: (app.options.clock)(),
        tenant: Some(tenant.name.to_string()),
        route: "admin".into(),
        status: status.as_u16(),
        reason: reason.clone(),
    });
    let mut response = answer(status, &json!({ "error": reason }));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // Not stored: the client sends it again.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

async fn authorize(State((app, tenant)): State<Shared>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let reason = match presented {
        Some(t) if token::matches(t, &tenant.token_hash) || token::matches(t, &app.operator) => {
            return next.run(request).await;
        }
        Some(_) => "wrong bearer token",
        None => "missing Authorization: Bearer <token>",
    };
    // Read what the client sends before answering, so that an HTTP/2
    // client is not cut off mid-body.
    let _ = axum::body::to_bytes(request.into_body(), API_BODY_LIMIT).await;
    refuse(&app, &tenant, StatusCode::UNAUTHORIZED, reason.into())
}

/// Reads a JSON body (content type `application/json`).
fn body<T: for<'de> Deserialize<'de>>(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<T, (StatusCode, String)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json".into(),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))
}

macro_rules! try_or_refuse {
    ($app:expr, $tenant:expr, $result:expr) => {
        match $result {
            Ok(v) => v,
            Err((status, reason)) => return refuse(&$app, &$tenant, status, reason),
        }
    };
}

async fn committed(app: &App, tenant: &Tenant, status: StatusCode, value: &Value) -> Response {
    match tenant.committer.commit().await {
        Ok(()) => answer(status, value),
        Err(reason) => refuse(
            app,
            tenant,
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not stored: {reason}"),
        ),
    }
}

fn unprocessable<E: std::fmt::Display>(e: E) -> (StatusCode, String) {
    (StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
}

fn locked() -> (StatusCode, String) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the workspace is unavailable".into(),
    )
}

async fn devices(State((app, tenant)): State<Shared>) -> Response {
    let list = try_or_refuse!(
        app,
        tenant,
        tenant.apple.lock().map_err(|_| locked()).and_then(|guard| {
            let store = guard.service.store();
            let udids: HashMap<DeviceId, AppleDeviceId> = store
                .enrolled_devices()
                .map_err(unavailable)?
                .into_iter()
                .map(|(udid, device)| (device, udid))
                .collect();
            Ok(guard
                .workspace
                .devices()
                .iter()
                .map(|d| {
                    let udid = udids.get(&d.id());
                    let pending = udid.and_then(|u| store.pending_commands(u).ok());
                    json!({
                        "id": d.id(),
                        "udid": udid.map(AppleDeviceId::as_str),
                        "platform": d.platform(),
                        "os_version": d.os_version(),
                        "model": d.model(),
                        "owner": d.owner(),
                        "state": d.state(),
                        "group": d.group(),
                        "enrolled_at": d.enrolled_at().unix_timestamp(),
                        "last_sync": d.last_sync().map(time::OffsetDateTime::unix_timestamp),
                        "syncs": d.sync_count(),
                        "pending_commands": pending,
                    })
                })
                .collect::<Vec<_>>())
        })
    );
    answer(StatusCode::OK, &json!({ "devices": list }))
}

/// `GET /api/v1/devices/<udid>/commands`: how many commands wait for the
/// device and the finished ones the retention rule keeps, with their status.
async fn commands(State((app, tenant)): State<Shared>, Path(device): Path<String>) -> Response {
    let udid = AppleDeviceId::Udid(device);
    let listed = try_or_refuse!(
        app,
        tenant,
        tenant.apple.lock().map_err(|_| locked()).and_then(|guard| {
            let store = guard.service.store();
            let known = store.enrollment(&udid).map_err(unavailable)?.is_some();
            if !known {
                return Err((
                    StatusCode::NOT_FOUND,
                    format!("no Apple device `{}`", udid.as_str()),
                ));
            }
            let pending = store.pending_commands(&udid).map_err(unavailable)?;
            let finished = store.finished_commands(&udid).map_err(unavailable)?;
            Ok(json!({
                "device": udid.as_str(),
                "pending": pending,
                "finished": finished
                    .iter()
                    .map(|f| json!({
                        "command_uuid": f.uuid.as_str(),
                        "request_type": f.request_type.as_str(),
                        "status": f.report.status.as_str(),
                    }))
                    .collect::<Vec<_>>(),
            }))
        })
    );
    answer(StatusCode::OK, &listed)
}

fn unavailable<E: std::fmt::Display>(e: E) -> (StatusCode, String) {
    (StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    account: String,
    email: Option<String>,
}

async fn add_user(
    State((app, tenant)): State<Shared>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let new: NewUser = try_or_refuse!(app, tenant, body(&headers, &bytes));
    let now = (app.options.clock)();
    let email = match new.email.as_deref().map(EmailAddress::parse).transpose() {
        Ok(e) => e,
        Err(e) => {
            return refuse(
                &app,
                &tenant,
                StatusCode::UNPROCESSABLE_ENTITY,
                e.to_string(),
            );
        }
    };
    let id = try_or_refuse!(
        app,
        tenant,
        tenant.apple.lock().map_err(|_| locked()).and_then(|mut g| {
            g.workspace
                .add_user(&new.account, email, now)
                .map_err(unprocessable)
        })
    );
    committed(
        &app,
        &tenant,
        StatusCode::CREATED,
        &json!({ "id": id, "account": new.account }),
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvitations {
    accounts: Vec<String>,
    #[serde(default)]
    language: Option<String>,
}

fn language(code: Option<&str>) -> Result<Language, (StatusCode, String)> {
    match code.unwrap_or("en") {
        "en" => Ok(Language::English),
        "ja" => Ok(Language::Japanese),
        "ru" => Ok(Language::Russian),
        other => Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("language `{other}`: en, ja or ru"),
        )),
    }
}

async fn invite(State((app, tenant)): State<Shared>, headers: HeaderMap, bytes: Bytes) -> Response {
    let request: NewInvitations = try_or_refuse!(app, tenant, body(&headers, &bytes));
    let language = try_or_refuse!(app, tenant, language(request.language.as_deref()));
    let base = try_or_refuse!(
        app,
        tenant,
        LinkBase::parse(&format!("{}/", tenant.base_url)).map_err(unprocessable)
    );
    let now = (app.options.clock)();
    let mut rng = (app.options.rng)();
    let batch = try_or_refuse!(
        app,
        tenant,
        tenant.apple.lock().map_err(|_| locked()).and_then(|mut g| {
            let ws = &mut g.workspace;
            let users = request
                .accounts
                .iter()
                .map(|a| {
                    ws.user_by_account(a)
                        .map(mdm_model::User::id)
                        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no user `{a}`")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let company = ws.company().to_owned();
            let settings = InstructionSettings {
                link_base: &base,
                service_name: &company,
                agent_name: "MDM Agent",
                android: AndroidDelivery::Store,
                language,
            };
            mdm_packages::send_instructions(ws, &users, &settings, now, &mut rng)
                .map_err(unprocessable)
        })
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let messages: Vec<Value> = batch
        .messages
        .iter()
        .map(|m| {
            json!({
                "user": m.user,
                "email": m.email.as_str(),
                "invitation": m.invitation,
                "link": m.link.to_string(),
                "language": request.language.as_deref().unwrap_or("en"),
                "subject": m.message.subject,
                "text": m.message.text,
                "html": m.message.html,
                "qr_png_base64": b64.encode(&m.message.qr.bytes),
            })
        })
        .collect();
    let without: Vec<Value> = batch
        .without_email
        .iter()
        .map(|(id, account)| json!({ "user": id, "account": account }))
        .collect();
    committed(
        &app,
        &tenant,
        StatusCode::CREATED,
        &json!({ "messages": messages, "without_email": without }),
    )
    .await
}

/// Queues `request` for each device and wakes them; the answer lists
/// what was queued and pushed.
async fn enqueue(
    app: &App,
    tenant: &Tenant,
    devices: &[AppleDeviceId],
    request: &CommandRequest,
    no_push: bool,
) -> Response {
    let mut targets: Vec<PushTarget> = Vec::new();
    let mut results = Vec::new();
    {
        let Ok(mut guard) = tenant.apple.lock() else {
            return refuse(
                app,
                tenant,
                StatusCode::SERVICE_UNAVAILABLE,
                "the workspace is unavailable".into(),
            );
        };
        for device in devices {
            let queued = guard.service.enqueue(device, request.clone());
            if queued.is_ok()
                && let Ok(Some((_, target))) = guard.service.push_target(device)
            {
                targets.push(target);
            }
            results.push(json!({
                "device": device.as_str(),
                "queued": queued.is_ok(),
                "error": queued.err().map(|e| e.to_string()),
            }));
        }
    }
    let mut pushed = Value::Null;
    if !no_push && !targets.is_empty() {
        let mut rng = (app.options.rng)();
        if let Some(report) = tenant.pusher.push(&targets, &mut rng).await {
            pushed = json!({
                "sent": report.results.len(),
                "delivered": report.counts.delivered,
                "outcomes": report
                    .results
                    .iter()
                    .map(|r| format!("{:?}", r.outcome))
                    .collect::<Vec<_>>(),
            });
        }
    }
    committed(
        app,
        tenant,
        StatusCode::OK,
        &json!({
            "command_uuid": request.uuid.as_str(),
            "request_type": request.command.request_type().as_str(),
            "devices": results,
            "push": pushed,
        }),
    )
    .await
}

fn device_ids(list: &str) -> Result<Vec<AppleDeviceId>, (StatusCode, String)> {
    let ids: Vec<AppleDeviceId> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| AppleDeviceId::Udid(s.to_owned()))
        .collect();
    if ids.is_empty() || ids.len() > 10_000 {
        return Err((
            StatusCode::BAD_REQUEST,
            "name 1 to 10 000 device ids, comma-separated".into(),
        ));
    }
    Ok(ids)
}

/// `PUT /api/v1/enqueue/<udid,…>[?nopush=1]`: a raw command plist, as
/// nanomdm's `/v1/enqueue` takes it.
async fn enqueue_raw(
    State((app, tenant)): State<Shared>,
    Path(list): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    bytes: Bytes,
) -> Response {
    let devices = try_or_refuse!(app, tenant, device_ids(&list));
    let request = try_or_refuse!(
        app,
        tenant,
        mdm_apple::parse_command(&bytes)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("not a command plist: {e}")))
    );
    let no_push = query.get("nopush").is_some_and(|v| v == "1" || v == "true");
    enqueue(&app, &tenant, &devices, &request, no_push).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedCommand {
    devices: Vec<String>,
    command: Value,
    #[serde(default)]
    no_push: bool,
}

/// A command from its JSON form: `{"request_type": "DeviceInformation",
/// "queries": […]}` and the like.
fn typed(command: &Value) -> Result<Command, (StatusCode, String)> {
    let bad = |reason: String| (StatusCode::UNPROCESSABLE_ENTITY, reason);
    let kind = command
        .get("request_type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("command.request_type is missing".into()))?;
    let string = |key: &str| command.get(key).and_then(Value::as_str).map(str::to_owned);
    let flag = |key: &str| command.get(key).and_then(Value::as_bool);
    Ok(match kind {
        "DeviceInformation" => {
            let queries = match command.get("queries") {
                None => mdm_apple::DeviceInformation::common().queries,
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|q| {
                        q.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| bad("queries must be strings".into()))
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(bad("queries must be an array".into())),
            };
            Command::DeviceInformation(mdm_apple::DeviceInformation { queries })
        }
        "SecurityInfo" => Command::SecurityInfo(mdm_apple::SecurityInfo),
        "ProfileList" => Command::ProfileList(mdm_apple::ProfileList {
            managed_only: flag("managed_only"),
        }),
        "CertificateList" => Command::CertificateList(mdm_apple::CertificateList {
            managed_only: flag("managed_only"),
        }),
        "InstalledApplicationList" => {
            Command::InstalledApplicationList(mdm_apple::InstalledApplicationList::default())
        }
        "DeviceLock" => Command::DeviceLock(mdm_apple::DeviceLock {
            message: string("message"),
            phone_number: string("phone_number"),
            pin: string("pin"),
        }),
        "RestartDevice" => Command::RestartDevice(mdm_apple::RestartDevice {
            notify_user: flag("notify_user"),
        }),
        "ShutDownDevice" => Command::ShutDownDevice(mdm_apple::ShutDownDevice),
        "EraseDevice" => Command::EraseDevice(mdm_apple::EraseDevice {
            preserve_data_plan: flag("preserve_data_plan"),
            disallow_proximity_setup: flag("disallow_proximity_setup"),
            pin: string("pin"),
        }),
        other => {
            return Err(bad(format!(
                "request_type `{other}` has no JSON form here; send the command plist to /api/v1/enqueue/<ids>"
            )));
        }
    })
}

async fn enqueue_typed(
    State((app, tenant)): State<Shared>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let request: TypedCommand = try_or_refuse!(app, tenant, body(&headers, &bytes));
    let command = try_or_refuse!(app, tenant, typed(&request.command));
    let devices = try_or_refuse!(app, tenant, device_ids(&request.devices.join(",")));
    let uuid = CommandUuid::random(&mut (app.options.rng)());
    enqueue(
        &app,
        &tenant,
        &devices,
        &CommandRequest::new(uuid, command),
        request.no_push,
    )
    .await
}

/// `POST /api/v1/devices/<udid>/wipe`: queues `EraseDevice`; the model
/// wipes the device when the device acknowledges it (R-WP-1).
async fn wipe(State((app, tenant)): State<Shared>, Path(device): Path<String>) -> Response {
    let devices = try_or_refuse!(app, tenant, device_ids(&device));
    let uuid = CommandUuid::random(&mut (app.options.rng)());
    let command = Command::EraseDevice(mdm_apple::EraseDevice {
        preserve_data_plan: None,
        disallow_proximity_setup: None,
        pin: None,
    });
    enqueue(
        &app,
        &tenant,
        &devices,
        &CommandRequest::new(uuid, command),
        false,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApnsUpload {
    file_name: String,
    /// The file (PEM, DER or PKCS#12), base64.
    data_base64: String,
    password: Option<String>,
}

/// `PUT /api/v1/apns-certificate`: the push certificate with its key
/// (PEM with the key beside it, or PKCS#12 with its password), checked by
/// `mdm-certs`' intake against the configured push CA (`--apns-issuer`).
async fn upload_apns(
    State((app, tenant)): State<Shared>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let upload: ApnsUpload = try_or_refuse!(app, tenant, body(&headers, &bytes));
    let data = try_or_refuse!(
        app,
        tenant,
        base64::engine::general_purpose::STANDARD
            .decode(upload.data_base64.trim())
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("data_base64: {e}")))
    );
    if app.apns_issuers.is_empty() {
        return refuse(
            &app,
            &tenant,
            StatusCode::CONFLICT,
            "no push CA configured: start serve with --apns-issuer <PEM>".into(),
        );
    }
    let now = (app.options.clock)();
    let current = tenant
        .apple
        .lock()
        .ok()
        .and_then(|g| g.workspace.apns_certificate().map(|r| r.topic().clone()));
    let mut intake = ApnsIntake::without_kept_key(&app.apns_issuers);
    if let Some(topic) = &current {
        intake = intake.renewing(topic);
    }
    let accepted = try_or_refuse!(
        app,
        tenant,
        intake
            .accept(&upload.file_name, &data, upload.password.as_deref(), now)
            .map_err(unprocessable)
    );
    let details = &accepted.details;
    let record = try_or_refuse!(
        app,
        tenant,
        ApnsCertificateRecord::new(
            details.topic.clone(),
            &details.issuer_name,
            details.not_before,
            details.not_after,
            details.fingerprint,
        )
        .map_err(unprocessable)
    );
    let mut rng = (app.options.rng)();
    let key_pem = try_or_refuse!(
        app,
        tenant,
        accepted
            .identity
            .key
            .to_pkcs8_pem(None, &mut rng)
            .map_err(unprocessable)
    );
    let saved = write_secret(&tenant.dir.join("push-key.pem"), &key_pem).and_then(|()| {
        write_secret(
            &tenant.dir.join("push.pem"),
            &accepted.identity.certificate.pem(),
        )
    });
    if let Err(e) = saved {
        return refuse(
            &app,
            &tenant,
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
        );
    }
    let pushes = tenant.pusher.install(&accepted.identity, now);
    try_or_refuse!(
        app,
        tenant,
        tenant.apple.lock().map_err(|_| locked()).map(|mut g| {
            g.workspace.set_apns_certificate(record, now);
        })
    );
    committed(
        &app,
        &tenant,
        StatusCode::OK,
        &json!({
            "details": details,
            "pushes": pushes.err().map_or_else(|| json!("ready"), |e| json!({ "error": e })),
        }),
    )
    .await
}

/// `POST /api/v1/server-certificate/reserve`: a reserve server certificate
/// for the connection address (R-SV-1), issued by the tenant's CA, valid
/// from now for a year; its key stays in the state folder.
async fn reserve(State((app, tenant)): State<Shared>) -> Response {
    let now = (app.options.clock)();
    let mut rng = (app.options.rng)();
    let Some(host) = app.host.clone() else {
        return refuse(
            &app,
            &tenant,
            StatusCode::CONFLICT,
            "no connection address".into(),
        );
    };
    let issued = Validity::new(now, now + Duration::days(365)).and_then(|v| {
        tenant
            .ca
            .issue_server_certificate(&host, v, KeyAlgorithm::EcdsaP256, &mut rng)
    });
    let reserve = try_or_refuse!(app, tenant, issued.map_err(unprocessable));
    let key = try_or_refuse!(
        app,
        tenant,
        reserve
            .key
            .to_pkcs8_pem(None, &mut rng)
            .map_err(unprocessable)
    );
    let serial = reserve.certificate.info().serial_hex.clone();
    let saved =
        write_secret(&tenant.dir.join(format!("reserve-{serial}-key.pem")), &key).and_then(|()| {
            write_secret(
                &tenant.dir.join(format!("reserve-{serial}.pem")),
                &reserve.certificate.pem(),
            )
        });
    if let Err(e) = saved {
        return refuse(
            &app,
            &tenant,
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
        );
    }
    let info = reserve.certificate.info();
    answer(
        StatusCode::CREATED,
        &json!({
            "certificate_pem": reserve.certificate.pem(),
            "serial": serial,
            "not_before": info.not_before.unix_timestamp(),
            "not_after": info.not_after.unix_timestamp(),
            "fingerprint": info.fingerprint,
        }),
    )
}

async fn audit(State((app, tenant)): State<Shared>) -> Response {
    let log = try_or_refuse!(
        app,
        tenant,
        tenant
            .apple
            .lock()
            .map_err(|_| locked())
            .map(|g| { serde_json::to_value(g.workspace.audit_log()).unwrap_or(Value::Null) })
    );
    let facts = app.facts.about(Some(tenant.name.as_str()));
    answer(StatusCode::OK, &json!({ "workspace": log, "facts": facts }))
}

/// Certificates of the push CA from PEM files.
///
/// # Errors
/// A file cannot be read or holds no certificate.
pub fn read_issuers(paths: &[std::path::PathBuf]) -> Result<Vec<Certificate>, crate::HarnessError> {
    let mut all = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(super::tenant::io(path))?;
        all.extend(
            Certificate::all_from_pem(&text)
                .map_err(super::config::serve_error("--apns-issuer"))?,
        );
    }
    Ok(all)
}
