//! Enrollment of an Apple device, end to end:
//!
//! 1. the invitation link (`/t/<tenant>/enroll/<token>`) is opened through
//!    `mdm-packages`' link routing (`begin_link` → `build` → `finish_link`):
//!    for iOS/iPadOS it answers the signed enrollment profile, whose SCEP
//!    payload points at our `/scep` with a fresh one-time password as its
//!    challenge (R-CL-1), and whose MDM payload has `SignMessage`,
//!    `ServerURL` = `/mdm` and `CheckInURL` = `/checkin`; the model consumes
//!    the invitation and creates the device;
//! 2. the device redeems the password at `/scep` (`mdm-certs`' route): the
//!    certificate's CN is the label the password was issued for, which
//!    names the model device;
//! 3. the issued certificate is declared to the Apple service
//!    (`expect_identity`), so the device's `Authenticate` binds it.
//!
//! The password and the label's device are committed to the tenant's
//! store before the profile leaves, and the password's use before the
//! `CertRep` leaves ([`super::otp`]): a restart in between loses neither.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mdm_apple::{EnrollmentIdentity, EnrollmentParams, ScepIdentity};
use mdm_certs::{ClientIdentity, OtpPolicy, ScepOutcome, ScepRoute};
use mdm_model::{InvitationToken, PushTopic};
use mdm_packages::{
    AndroidRoute, AppleRoute, ClientHints, Language, LinkAnswer, LinkRequest, LinkRoutes, LinkStep,
    begin_link, finish_link,
};
use rand_core::Rng as _;

use super::App;
use super::facts::Fact;
use super::otp::TenantOtp;
use super::tenant::Tenant;

/// The store listing Android devices are sent to (the agent's).
pub const AGENT_STORE_URL: &str =
    "https://play.google.com/store/apps/details?id=com.example.mdm.agent";

/// The SCEP route of `tenant`: `mdm-certs`' router over the tenant's
/// responder and one-time passwords, each issued certificate declared to
/// the Apple service.
pub fn scep_route(app: &App, tenant: &Arc<Tenant>) -> ScepRoute<TenantOtp> {
    let clock = app.options.clock;
    let rng = Arc::clone(&app.options.rng);
    let t = Arc::clone(tenant);
    ScepRoute {
        server: Arc::clone(&tenant.scep),
        store: Arc::new(TenantOtp {
            apple: Arc::clone(&tenant.apple),
            challenges: Arc::clone(&tenant.challenges),
        }),
        now: Arc::new(clock),
        rng: Arc::new(move || Box::new(rng())),
        audit: Arc::new(move |outcome| scep_outcome(&t, outcome, clock())),
    }
}

fn scep_outcome(tenant: &Tenant, outcome: &ScepOutcome, now: time::OffsetDateTime) {
    match outcome {
        ScepOutcome::Issued { certificate, .. } => {
            let label = certificate.info().subject_common_name.clone();
            let device = label.as_ref().and_then(|l| tenant.labels.device(l));
            let Some(device) = device else {
                tracing::warn!(tenant = %tenant.name, cn = ?label, "SCEP certificate for no enrollment");
                return;
            };
            let Ok(mut guard) = tenant.apple.lock() else {
                return;
            };
            let server = &mut *guard;
            if let Err(e) = server.service.expect_identity(certificate.der(), device) {
                tracing::error!(tenant = %tenant.name, error = %e, "cannot declare the identity");
            }
            if let Err(e) = server
                .workspace
                .record_client_certificate_issued(device, now)
            {
                tracing::warn!(tenant = %tenant.name, error = %e, "certificate not recorded");
            }
            tracing::info!(tenant = %tenant.name, device = %device, "SCEP identity issued");
        }
        ScepOutcome::Refused {
            fail_info, error, ..
        } => {
            tenant.facts.record(Fact {
                at: now,
                tenant: Some(tenant.name.to_string()),
                route: "scep".into(),
                status: 200,
                reason: format!("CertRep FAILURE {fail_info:?}: {error}"),
            });
            // The workspace's own audit log too (written with its next commit).
            if let Ok(mut guard) = tenant.apple.lock() {
                let reason = crate::mdm_server::scep::refusal_of(error);
                guard
                    .workspace
                    .record_client_certificate_refusal(None, reason, now);
            }
        }
        _ => {}
    }
}

/// `GET /t/<tenant>/enroll/<token>`: the invitation link.
pub async fn open_link(
    State((app, tenant)): State<(Arc<App>, Arc<Tenant>)>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let now = (app.options.clock)();
    let mut rng = (app.options.rng)();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let hints = ClientHints::from_headers(
        headers
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v))),
    );
    let answer = {
        let Ok(mut guard) = tenant.apple.lock() else {
            return (StatusCode::SERVICE_UNAVAILABLE, "workspace unavailable\n").into_response();
        };
        let ws = &mut guard.workspace;
        // The challenge: a one-time password for a fresh label; the
        // certificate SCEP issues for it carries the label as its CN.
        let mut label = [0u8; 16];
        rng.fill_bytes(&mut label);
        let label = hex::encode(label);
        let account = InvitationToken::parse(&token)
            .ok()
            .and_then(|t| ws.invitation_for(&t).map(mdm_model::Invitation::user))
            .and_then(|u| ws.user(u).ok())
            .map(|u| u.account().to_owned());
        let identity = match ClientIdentity::new(&label, account.as_deref()) {
            Ok(identity) => identity,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
        };
        let policy = OtpPolicy::default();
        let otp = tenant.challenges.issue(identity, policy, now, &mut rng);
        let mut scep = ScepIdentity::new(tenant.base_url.join("scep").as_str());
        scep.challenge = Some(otp.expose().to_owned());
        scep.name = Some(format!("{} MDM CA", tenant.name));
        scep.subject = vec![
            ("O".into(), tenant.name.to_string()),
            ("CN".into(), label.clone()),
        ];
        let topic = ws
            .apns_certificate()
            .map(|r| r.topic().clone())
            .or_else(|| PushTopic::parse("com.apple.mgmt.External.none").ok());
        let Some(topic) = topic else {
            return (StatusCode::SERVICE_UNAVAILABLE, "no push topic\n").into_response();
        };
        let params = EnrollmentParams {
            server_url: tenant.base_url.join("mdm"),
            check_in_url: Some(tenant.base_url.join("checkin")),
            topic,
            identity: EnrollmentIdentity::Scep(scep),
            server_root_ca_der: Some(app.tls_ca.der().to_vec()),
            identifier_prefix: format!("org.mdm-toolkit.serve.{}", tenant.name),
            organization: ws.company().to_owned(),
        };
        let routes = LinkRoutes {
            android: AndroidRoute::StoreListing {
                url: AGENT_STORE_URL,
            },
            apple: AppleRoute {
                params: &params,
                signer: Some(&tenant.signer),
            },
        };
        let request = LinkRequest {
            token: &token,
            user_agent: &user_agent,
            hints,
        };
        let answer = match begin_link(ws, &request, &routes, now) {
            Ok(LinkStep::Answered(answer)) => Ok(answer),
            Ok(LinkStep::Pending(pending)) => pending
                .build(&routes, now, &mut rng)
                .and_then(|built| finish_link(ws, built, now)),
            Err(e) => Err(e),
        };
        // The password goes out with the profile (committed, with the
        // label's device, before the answer leaves), or not at all.
        if let Ok(LinkAnswer::AppleProfile { device, .. }) = &answer {
            let expires_at = now.saturating_add(policy.lifetime());
            tenant.labels.bind(label, *device, expires_at);
        } else {
            tenant.challenges.withdraw(otp.expose());
        }
        answer
    };
    match answer {
        Ok(LinkAnswer::AppleProfile { profile, .. }) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    mdm_packages::MOBILECONFIG_CONTENT_TYPE,
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"enroll.mobileconfig\"",
                ),
            ],
            profile,
        )
            .into_response(),
        Ok(LinkAnswer::AndroidStore { url, .. }) => {
            (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
        }
        Ok(LinkAnswer::NeedsTouchHint { page }) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response(),
        Ok(other) => {
            let status =
                StatusCode::from_u16(other.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{}\n", other.explanation(Language::English)),
            )
                .into_response()
        }
        Err(e) => {
            tenant.facts.record(Fact {
                at: now,
                tenant: Some(tenant.name.to_string()),
                route: "enroll".into(),
                status: 422,
                reason: e.to_string(),
            });
            (StatusCode::UNPROCESSABLE_ENTITY, format!("{e}\n")).into_response()
        }
    }
}
