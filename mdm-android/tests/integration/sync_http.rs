//! The sync service over real HTTP on 127.0.0.1 (feature `http`): an agent
//! registers with its invitation token, syncs, is handed a command and
//! reports its result; every kind of bad request is a 4xx with its reason
//! and an audit fact.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mdm_android::http::{AndroidServer, REGISTER_PATH, SYNC_PATH, SyncRoute, sync_router};
use mdm_android::{
    AGENT_PACKAGE, AgentAuthorization, AgentCommandKind, AgentCommandResult, AgentCommandStatus,
    AgentInfo, AgentRegistration, AndroidEndpoint, DeviceStatus, InstallReport, SyncRequest,
    SyncResponse,
};
use mdm_model::{
    AgentCredential, AgentRequestRefusal, AuditEvent, DeviceId, DeviceState, InvitationToken,
    OsVersion,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::fixtures::{NOW, managed_workspace};

/// The sync service on a port it picked; stopped when dropped.
struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<AndroidServer>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(body_limit: usize) -> (Self, DeviceId) {
        let (workspace, device) = managed_workspace();
        let state = Arc::new(Mutex::new(AndroidServer {
            workspace,
            endpoint: AndroidEndpoint::default(),
        }));
        let seed = AtomicU64::new(1);
        let mut route = SyncRoute::new(
            Arc::clone(&state),
            Arc::new(|| NOW),
            Arc::new(move || {
                Box::new(ChaCha20Rng::seed_from_u64(
                    seed.fetch_add(1, Ordering::Relaxed),
                ))
            }),
        );
        route.body_limit = body_limit;
        let app = sync_router(route);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let server = Self {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        };
        (server, device)
    }

    /// One HTTP/1.1 POST; returns status, headers and body.
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        // A body over the limit may be refused before it is all read.
        let _ = stream.write_all(body);
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP response");
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap();
        (
            status,
            head.to_ascii_lowercase(),
            response[split + 4..].to_vec(),
        )
    }

    fn sync(&self, authorization: &AgentAuthorization, request: &SyncRequest) -> SyncResponse {
        let (status, _, body) = self.post(
            SYNC_PATH,
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &authorization.header_value()),
            ],
            &request.to_json().unwrap(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        SyncResponse::parse(&body).unwrap()
    }

    fn refusals(&self) -> Vec<(Option<DeviceId>, AgentRequestRefusal)> {
        let state = self.state.lock().unwrap();
        state
            .workspace
            .audit_log()
            .iter()
            .filter_map(|r| match &r.event {
                AuditEvent::AgentRequestRefused { device, reason } => Some((*device, *reason)),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The token `managed_workspace` enrolled its device with.
fn token() -> InvitationToken {
    InvitationToken::generate(&mut ChaCha20Rng::seed_from_u64(7))
}

fn request(device: DeviceId) -> SyncRequest {
    SyncRequest {
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
    }
}

#[test]
fn an_agent_registers_syncs_and_runs_a_command_over_http() {
    let (server, device) = Server::start(mdm_android::http::DEFAULT_BODY_LIMIT);
    let invitation = AgentAuthorization::Invitation(token());

    // Registration: the token tells the agent which device it is.
    let (status, _, body) = server.post(
        REGISTER_PATH,
        &[("Authorization", &invitation.header_value())],
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let registration = AgentRegistration::parse(&body).unwrap();
    assert_eq!(registration.device_id, device);
    assert_eq!(registration.device_state, DeviceState::Managed);

    // The first sync, with the token: the configuration and the credential.
    let mut sync = request(registration.device_id);
    let first = server.sync(&invitation, &sync);
    assert_eq!(first.device_state, DeviceState::Managed);
    assert!(first.configuration.is_some());
    let bearer = AgentAuthorization::Bearer(first.agent_credential.expect("a credential"));
    sync.applied_configuration_version = first.configuration_version;

    // A command queued by the administrator is delivered...
    let queued = {
        let mut state = server.state.lock().unwrap();
        let AndroidServer {
            workspace,
            endpoint,
        } = &mut *state;
        endpoint
            .commands
            .enqueue(workspace, device, AgentCommandKind::ScanNow, NOW)
            .unwrap()
    };
    let second = server.sync(&bearer, &sync);
    assert!(second.configuration.is_none(), "unchanged: not sent again");
    assert_eq!(second.agent_credential, None);
    assert_eq!(second.commands.len(), 1);
    assert_eq!(second.commands[0].id, queued);
    assert_eq!(second.commands[0].kind, AgentCommandKind::ScanNow);

    // ...and its result recorded; the queue is then empty.
    sync.command_results.push(AgentCommandResult {
        id: queued,
        status: AgentCommandStatus::Done,
        detail: None,
        location: None,
    });
    let third = server.sync(&bearer, &sync);
    assert!(third.commands.is_empty());
    let completed = server
        .state
        .lock()
        .unwrap()
        .endpoint
        .commands
        .take_completed();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].device, device);
    assert_eq!(completed[0].result.status, AgentCommandStatus::Done);
    let syncs = server
        .state
        .lock()
        .unwrap()
        .workspace
        .device(device)
        .unwrap()
        .sync_count();
    assert_eq!(syncs, 3);
    assert!(server.refusals().is_empty());
}

#[test]
fn bad_requests_are_refused_with_a_reason_and_audited() {
    let (server, device) = Server::start(4096);
    let good = request(device).to_json().unwrap();
    let invitation = AgentAuthorization::Invitation(token()).header_value();
    let json = ("Content-Type", "application/json");
    let auth = ("Authorization", invitation.as_str());
    let text = |body: &[u8]| String::from_utf8_lossy(body).to_string();

    // Not JSON.
    let (status, _, body) = server.post(SYNC_PATH, &[json, auth], b"{\"deviceId\": 0,");
    assert_eq!(status, 400, "{}", text(&body));
    assert!(
        text(&body).contains("sync request is malformed"),
        "{}",
        text(&body)
    );
    // JSON of the wrong shape.
    let (status, _, body) = server.post(SYNC_PATH, &[json, auth], b"[1, 2]");
    assert_eq!(status, 400, "{}", text(&body));
    // Over the limit.
    let mut big = good.clone();
    big.truncate(big.len() - 1);
    big.extend_from_slice(b",\"padding\":\"");
    big.extend(std::iter::repeat_n(b'x', 8192));
    big.extend_from_slice(b"\"}");
    let (status, _, body) = server.post(SYNC_PATH, &[json, auth], &big);
    assert_eq!(status, 413, "{}", text(&body));
    // Not JSON by its content type, and no content type at all.
    let (status, _, body) = server.post(SYNC_PATH, &[("Content-Type", "text/plain"), auth], &good);
    assert_eq!(status, 415, "{}", text(&body));
    assert!(text(&body).contains("\"text/plain\""), "{}", text(&body));
    let (status, _, _) = server.post(SYNC_PATH, &[auth], &good);
    assert_eq!(status, 415);
    // No proof, a malformed one, and a wrong credential (the model's refusal).
    let (status, head, body) = server.post(SYNC_PATH, &[json], &good);
    assert_eq!(status, 401, "{}", text(&body));
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    assert!(
        text(&body).contains("no Authorization header"),
        "{}",
        text(&body)
    );
    let (status, _, body) = server.post(SYNC_PATH, &[json, ("Authorization", "Basic YTpi")], &good);
    assert_eq!(status, 401, "{}", text(&body));
    let stranger = AgentCredential::generate(&mut ChaCha20Rng::seed_from_u64(5));
    let forged = AgentAuthorization::Bearer(stranger).header_value();
    let (status, _, body) = server.post(SYNC_PATH, &[json, ("Authorization", &forged)], &good);
    assert_eq!(status, 401, "{}", text(&body));
    assert!(
        text(&body).contains("not from its agent"),
        "{}",
        text(&body)
    );
    // Registration with a token that enrolled nothing, and with a credential.
    let unknown = AgentAuthorization::Invitation(InvitationToken::generate(
        &mut ChaCha20Rng::seed_from_u64(1234),
    ))
    .header_value();
    let (status, _, body) = server.post(REGISTER_PATH, &[("Authorization", &unknown)], b"");
    assert_eq!(status, 404, "{}", text(&body));
    let (status, _, _) = server.post(REGISTER_PATH, &[("Authorization", &forged)], b"");
    assert_eq!(status, 401);

    use AgentRequestRefusal as R;
    assert_eq!(
        server.refusals(),
        [
            (None, R::MalformedRequest),
            (None, R::MalformedRequest),
            (None, R::BodyTooLarge),
            (None, R::WrongContentType),
            (None, R::WrongContentType),
            (Some(device), R::MalformedAuthorization),
            (Some(device), R::MalformedAuthorization),
            (None, R::UnknownInvitation),
            (None, R::MalformedAuthorization),
        ]
    );
    // The refused proof is the model's own audit fact.
    let state = server.state.lock().unwrap();
    let failed = state
        .workspace
        .audit_log()
        .iter()
        .filter(|r| matches!(r.event, AuditEvent::AgentAuthenticationFailed { .. }))
        .count();
    assert_eq!(failed, 1);
    // Nothing was recorded as a sync.
    assert_eq!(state.workspace.device(device).unwrap().sync_count(), 0);
}
