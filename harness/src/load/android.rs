//! A simulated Android agent against our `serve`: the invitation link
//! opened in Chrome on a Pixel (serve enrolls the device and sends the
//! browser to the store), then the agent's wire (`mdm-android`'s `http`
//! feature): `POST android/register` with `Authorization: Invitation
//! <token>` gives its device id, the first `POST android/sync` with the
//! invitation gives the configuration and a credential, the next syncs
//! carry `Bearer <credential>`.

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use mdm_android::{
    AGENT_PACKAGE, AgentAuthorization, AgentInfo, AgentRegistration, DeviceStatus, InstallReport,
    SyncRequest, SyncResponse,
};
use mdm_model::{DeviceId, InvitationToken, OsVersion};

use super::client::Connection;
use super::device::Failure;
use super::exchange::{fail, refused, send};
use super::report::{Recorder, Step};
use super::target::Target;

/// Chrome on a Pixel 8 (Android 14).
pub const PIXEL_USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36";

/// The agent's routes under the tenant.
#[derive(Debug, Clone)]
pub struct AgentPaths {
    /// `…/android/register`.
    pub register: String,
    /// `…/android/sync`.
    pub sync: String,
}

impl AgentPaths {
    /// The routes of the tenant at `target`.
    pub fn of(target: &Target) -> Self {
        Self {
            register: target.path("/android/register"),
            sync: target.path("/android/sync"),
        }
    }
}

/// One simulated agent.
#[derive(Debug)]
pub struct AndroidAgent {
    /// Its account (and the invitation's).
    pub account: String,
    link_path: String,
    invitation: Option<InvitationToken>,
    device: Option<DeviceId>,
    credential: Option<AgentAuthorization>,
    /// Syncs answered.
    pub syncs: u32,
    /// Why it stopped, if it did.
    pub failure: Option<Failure>,
}

impl AndroidAgent {
    /// The agent invited with the link at `link_path` (token `token`).
    pub fn new(account: String, link_path: String, token: &str) -> Self {
        let (invitation, failure) = match InvitationToken::parse(token) {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(fail(Step::Link, "bad token", e))),
        };
        Self {
            account,
            link_path,
            invitation,
            device: None,
            credential: None,
            syncs: 0,
            failure,
        }
    }

    /// Whether it registered and synced with its credential.
    pub fn completed(&self) -> bool {
        self.failure.is_none() && self.syncs >= 2 && self.credential.is_some()
    }

    /// The link, registration, the first sync (with the invitation) and a
    /// second (with the credential it was given).
    ///
    /// # Errors
    /// The [`Failure`] of the first step that did not work.
    pub async fn enroll(
        &mut self,
        conn: &mut Connection,
        recorder: &Recorder,
        paths: &AgentPaths,
    ) -> Result<(), Failure> {
        let invitation = self
            .invitation
            .clone()
            .map(AgentAuthorization::Invitation)
            .ok_or_else(|| fail(Step::Link, "bad token", "no invitation token"))?;
        let request = Request::builder()
            .method(Method::GET)
            .uri(self.link_path.as_str())
            .header(header::USER_AGENT, PIXEL_USER_AGENT)
            .body(Bytes::new());
        let answer = send(conn, recorder, Step::Link, request).await?;
        if answer.status() != StatusCode::FOUND {
            return Err(refused(Step::Link, &answer));
        }
        let request = Request::builder()
            .method(Method::POST)
            .uri(paths.register.as_str())
            .header(header::AUTHORIZATION, invitation.header_value())
            .body(Bytes::new());
        let answer = send(conn, recorder, Step::AndroidRegister, request).await?;
        if answer.status() != StatusCode::OK {
            return Err(refused(Step::AndroidRegister, &answer));
        }
        let registration = AgentRegistration::parse(answer.body())
            .map_err(|e| fail(Step::AndroidRegister, "bad answer", e))?;
        self.device = Some(registration.device_id);
        let first = self.sync(conn, recorder, paths, &invitation).await?;
        let credential = first
            .agent_credential
            .map(AgentAuthorization::Bearer)
            .ok_or_else(|| {
                fail(
                    Step::AndroidSync,
                    "no credential",
                    "the first sync gave none",
                )
            })?;
        self.sync(conn, recorder, paths, &credential).await?;
        self.credential = Some(credential);
        Ok(())
    }

    /// One more sync with its credential (the steady phase).
    ///
    /// # Errors
    /// The sync's [`Failure`].
    pub async fn sync_again(
        &mut self,
        conn: &mut Connection,
        recorder: &Recorder,
        paths: &AgentPaths,
    ) -> Result<(), Failure> {
        let credential = self
            .credential
            .clone()
            .ok_or_else(|| fail(Step::AndroidSync, "no credential", "not enrolled"))?;
        self.sync(conn, recorder, paths, &credential)
            .await
            .map(drop)
    }

    async fn sync(
        &mut self,
        conn: &mut Connection,
        recorder: &Recorder,
        paths: &AgentPaths,
        authorization: &AgentAuthorization,
    ) -> Result<SyncResponse, Failure> {
        let step = Step::AndroidSync;
        let device = self
            .device
            .ok_or_else(|| fail(step, "not registered", "no device id"))?;
        let request = SyncRequest {
            device_id: device,
            client_certificate_sha256: None,
            applied_configuration_version: None,
            agent: AgentInfo {
                version: "1.4.0".into(),
                install: InstallReport {
                    installer_package: Some("com.android.vending".into()),
                    managing_package: Some(AGENT_PACKAGE.into()),
                    embedded_settings: false,
                },
            },
            os_version: Some(OsVersion::new(14, 0, 0)),
            status: DeviceStatus::default(),
            command_results: Vec::new(),
        };
        let body = request.to_json().map_err(|e| fail(step, "build", e))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(paths.sync.as_str())
            .header(header::AUTHORIZATION, authorization.header_value())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(body));
        let answer = send(conn, recorder, step, request).await?;
        if answer.status() != StatusCode::OK {
            return Err(refused(step, &answer));
        }
        let response =
            SyncResponse::parse(answer.body()).map_err(|e| fail(step, "bad answer", e))?;
        if response.device_id != device {
            return Err(fail(step, "another device", response.device_id));
        }
        self.syncs += 1;
        Ok(response)
    }
}
