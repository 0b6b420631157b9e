//! The router, its state trait and its handlers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mdm_apple::{EnrollmentParams, ProfileSigner};
use mdm_model::{InvitationToken, ModelError, Workspace};
use rand_core::CryptoRng;
use time::OffsetDateTime;

use crate::error::{PackagesError, Result};
use crate::link::LinkBase;
use crate::message::{Language, escape_html};
use crate::package::{ConnectionSettings, StandalonePackage};
use crate::product::ProductDescription;
use crate::routing::{
    AndroidRoute, AppleRoute, LinkAnswer, LinkRequest, LinkRoutes, LinkStep,
    MOBILECONFIG_CONTENT_TYPE, begin_link, finish_link,
};
use crate::user_agent::ClientHints;

/// Where the route's state lives: the workspace, and the standalone
/// packages the server offers for download.
pub trait LinkState: Send + Sync + 'static {
    /// Runs `f` with the workspace and keeps what it changed: a server over
    /// a database commits the workspace's changes (the new device, the
    /// audit facts) before returning.
    ///
    /// # Errors
    /// [`PackagesError::StateUnavailable`] when the workspace cannot be
    /// reached or what changed cannot be kept.
    fn with_workspace<T>(&self, f: impl FnOnce(&mut Workspace) -> T) -> Result<T>;

    /// The standalone package offered as `file_name`, if any.
    fn standalone_package(&self, file_name: &str) -> Option<Arc<StandalonePackage>> {
        let _ = file_name;
        None
    }
}

/// The in-memory state: a workspace and the packages offered by name.
#[derive(Debug)]
pub struct LinkServer {
    /// The workspace whose invitations the links carry.
    pub workspace: Workspace,
    /// Packages offered at `/packages/{file}`.
    pub packages: BTreeMap<String, Arc<StandalonePackage>>,
}

impl LinkState for Mutex<LinkServer> {
    fn with_workspace<T>(&self, f: impl FnOnce(&mut Workspace) -> T) -> Result<T> {
        let mut guard = self.lock().map_err(|_| PackagesError::StateUnavailable {
            problem: "the state's lock was poisoned by a panic".into(),
        })?;
        Ok(f(&mut guard.workspace))
    }

    fn standalone_package(&self, file_name: &str) -> Option<Arc<StandalonePackage>> {
        self.lock().ok()?.packages.get(file_name).cloned()
    }
}

/// How Android devices get the agent (the owned form of [`AndroidRoute`]).
#[derive(Debug, Clone)]
pub enum AndroidDownload {
    /// Redirect to the store listing, the invitation link as `referrer`.
    StoreListing {
        /// The listing, e.g. `https://play.google.com/store/apps/details?id=…`.
        url: String,
    },
    /// A standalone package built for the invited user.
    StandalonePackage {
        /// The product to package.
        product: Arc<ProductDescription>,
        /// The bytes of its files, by path.
        files: Arc<Vec<(String, Vec<u8>)>>,
        /// Server, CA and workspace.
        connection: Arc<ConnectionSettings>,
    },
}

/// Makes one device's profile parameters from the route's (a one-time SCEP
/// challenge, say); may refuse.
pub type PrepareProfile = dyn Fn(&mut EnrollmentParams, OffsetDateTime) -> Result<()> + Send + Sync;

/// How iOS and iPadOS devices get the enrollment profile.
#[derive(Clone)]
pub struct AppleDownload {
    /// The workspace's profile parameters (the topic is replaced by the
    /// topic of the workspace's APNs certificate).
    pub params: EnrollmentParams,
    /// Called on a copy of `params` for each accepted enrollment, before the
    /// profile is built: e.g. to put a fresh one-time challenge in the SCEP
    /// payload (R-CL-1).
    pub prepare: Option<Arc<PrepareProfile>>,
    /// Signs the profile (CMS) when given.
    pub signer: Option<Arc<ProfileSigner>>,
}

impl std::fmt::Debug for AppleDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppleDownload")
            .field("params", &self.params)
            .field("prepare", &self.prepare.is_some())
            .field("signer", &self.signer)
            .finish()
    }
}

/// What the router needs from its caller.
pub struct LinkRoute<S> {
    /// The workspace and the packages.
    pub state: Arc<S>,
    /// The base the links belong to (for the store's `referrer`).
    pub link_base: LinkBase,
    /// Android.
    pub android: AndroidDownload,
    /// iOS and iPadOS.
    pub apple: AppleDownload,
    /// The time of a request.
    pub now: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
    /// A CSPRNG for one request (the profile's UUIDs, signatures).
    pub rng: Arc<dyn Fn() -> Box<dyn CryptoRng + Send> + Send + Sync>,
}

impl<S> Clone for LinkRoute<S> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            link_base: self.link_base.clone(),
            android: self.android.clone(),
            apple: self.apple.clone(),
            now: Arc::clone(&self.now),
            rng: Arc::clone(&self.rng),
        }
    }
}

/// The router: `GET /enroll/{token}` and `GET /packages/{file}`.
pub fn link_router<S: LinkState>(route: LinkRoute<S>) -> Router {
    Router::new()
        .route("/enroll/{token}", get(enroll::<S>))
        .route("/packages/{file}", get(package::<S>))
        .with_state(Arc::new(route))
}

/// A page for the person holding the device.
fn page(status: StatusCode, language: Language, title: &str, text: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>\n",
        language.tag(),
        escape_html(title),
        escape_html(title),
        escape_html(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn download(content_type: &str, file_name: &str, bytes: Vec<u8>) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let mut response =
        (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    response
}

/// The store listing with the invitation link as the install `referrer`.
fn store_redirect(listing: &str, link: &str) -> Result<String> {
    let mut url = url::Url::parse(listing).map_err(|e| PackagesError::InvitationLink {
        input: listing.to_owned(),
        problem: format!("the store listing is not a URL: {e}"),
    })?;
    url.query_pairs_mut().append_pair("referrer", link);
    Ok(url.into())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A failure of the server itself (not of the request), logged.
fn failure(error: &PackagesError, language: Language) -> Response {
    let status = match error {
        PackagesError::StateUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        PackagesError::Model {
            source: ModelError::EnrollmentRefused(_),
            ..
        } => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::error!(status = status.as_u16(), reason = %error, "invitation link not answered");
    let text = match (status, error) {
        (
            StatusCode::FORBIDDEN,
            PackagesError::Model {
                source: ModelError::EnrollmentRefused(reason),
                ..
            },
        ) => LinkAnswer::Refused(*reason).explanation(language),
        _ => "The server could not answer this link now; try again later.".to_owned(),
    };
    page(status, language, "Enrollment", &text)
}

async fn enroll<S: LinkState>(
    State(route): State<Arc<LinkRoute<S>>>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let language = Language::negotiate(header_text(&headers, header::ACCEPT_LANGUAGE));
    let user_agent = header_text(&headers, header::USER_AGENT).to_owned();
    let hints = ClientHints::from_headers(
        headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
    )
    .with_query(query.as_deref().unwrap_or_default());
    let work = tokio::task::spawn_blocking(move || {
        answer_link(&route, &token, &user_agent, hints, language)
    })
    .await;
    match work {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => failure(&error, language),
        Err(_) => failure(
            &PackagesError::StateUnavailable {
                problem: "the request was abandoned".into(),
            },
            language,
        ),
    }
}

/// The three steps of opening a link, the state taken only for the first
/// and the last.
fn answer_link<S: LinkState>(
    route: &LinkRoute<S>,
    token: &str,
    user_agent: &str,
    hints: ClientHints,
    language: Language,
) -> Result<Response> {
    let now = (route.now)();
    let request = LinkRequest {
        token,
        user_agent,
        hints,
    };
    let files: Vec<(&str, &[u8])>;
    let android = match &route.android {
        AndroidDownload::StoreListing { url } => AndroidRoute::StoreListing { url },
        AndroidDownload::StandalonePackage {
            product,
            files: owned,
            connection,
        } => {
            files = owned
                .iter()
                .map(|(p, b)| (p.as_str(), b.as_slice()))
                .collect();
            AndroidRoute::StandalonePackage {
                product,
                files: &files,
                connection,
            }
        }
    };
    let routes = LinkRoutes {
        android,
        apple: AppleRoute {
            params: &route.apple.params,
            signer: route.apple.signer.as_deref(),
        },
    };
    let step = route.state.with_workspace(|workspace| {
        let step = begin_link(workspace, &request, &routes, now);
        if let Ok(LinkStep::Answered(LinkAnswer::Refused(reason))) = &step
            && InvitationToken::parse(token).is_err()
        {
            // The model never saw a token not of the token's form.
            workspace.record_enrollment_refusal(*reason, now);
        }
        step
    })??;
    let answer = match step {
        LinkStep::Answered(answer) => answer,
        LinkStep::Pending(pending) => {
            let mut rng = (route.rng)();
            let built = match &route.apple.prepare {
                Some(prepare) if pending.platform().is_apple() => {
                    let mut params = route.apple.params.clone();
                    prepare(&mut params, now)?;
                    let routes = LinkRoutes {
                        android: routes.android,
                        apple: AppleRoute {
                            params: &params,
                            signer: routes.apple.signer,
                        },
                    };
                    pending.build(&routes, now, &mut *rng)?
                }
                _ => pending.build(&routes, now, &mut *rng)?,
            };
            route
                .state
                .with_workspace(|workspace| finish_link(workspace, built, now))??
        }
    };
    let status = StatusCode::from_u16(answer.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let explanation = answer.explanation(language);
    Ok(match answer {
        LinkAnswer::AndroidStore { device, url } => {
            let link = InvitationToken::parse(token)
                .map(|t| route.link_base.link(t).to_string())
                .map_err(|_| PackagesError::InvitationLink {
                    input: "<token>".into(),
                    problem: "the token is malformed".into(),
                })?;
            let location = store_redirect(&url, &link)?;
            tracing::info!(device = %device, "invitation link opened on Android: to the store");
            let mut response = page(status, language, "Enrollment", &explanation);
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        LinkAnswer::AndroidPackage { device, package } => {
            tracing::info!(device = %device, "invitation link opened on Android: the package");
            let name = package.file_name();
            download("application/zip", &name, package.into_bytes())
        }
        LinkAnswer::AppleProfile {
            device,
            platform,
            profile,
            signed,
        } => {
            tracing::info!(device = %device, platform = platform.name(), signed, "invitation link opened: the enrollment profile");
            download(MOBILECONFIG_CONTENT_TYPE, "enroll.mobileconfig", profile)
        }
        LinkAnswer::NeedsTouchHint { page: probe } => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            probe,
        )
            .into_response(),
        other => {
            tracing::warn!(status = status.as_u16(), answer = ?other, "invitation link refused");
            page(status, language, "Enrollment", &explanation)
        }
    })
}

async fn package<S: LinkState>(
    State(route): State<Arc<LinkRoute<S>>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let language = Language::negotiate(header_text(&headers, header::ACCEPT_LANGUAGE));
    match route.state.standalone_package(&file) {
        Some(package) => download(
            "application/zip",
            &package.file_name(),
            package.bytes().to_vec(),
        ),
        None => {
            tracing::warn!(file = %file.escape_debug(), "no such package");
            let text = match language {
                Language::English => "There is no such installation package.",
                Language::Japanese => "このインストールパッケージはありません。",
                Language::Russian => "Такого установочного пакета нет.",
            };
            page(
                StatusCode::NOT_FOUND,
                language,
                "Installation package",
                text,
            )
        }
    }
}
