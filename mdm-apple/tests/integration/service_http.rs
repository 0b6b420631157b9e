//! The service over real HTTP on 127.0.0.1 (feature `http`): the captured
//! nanomdm bodies, signed with an `Mdm-Signature` from a test device
//! identity, through `PUT /checkin` and `PUT /mdm`.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use mdm_apple::http::{AppleServer, CHECKIN_CONTENT_TYPE, HttpOptions, router};
use mdm_apple::{
    AppleDeviceId, AppleStore as _, Command, CommandReport, CommandRequest, CommandStatus,
    CommandUuid, DeviceLock, MemoryStore, PlistDictionary,
};
use mdm_model::{AuditEvent, DeviceState};

use super::service_fixtures::{IPAD, Identity, NOW, Setup, pki, vector};

fn clock() -> time::OffsetDateTime {
    NOW
}

/// A server on a port it picked; stopped when dropped.
struct Server {
    addr: SocketAddr,
    shared: Arc<Mutex<AppleServer<MemoryStore>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(setup: Setup, options: HttpOptions) -> Self {
        let Setup { ws, service, .. } = setup;
        let shared = Arc::new(Mutex::new(AppleServer {
            workspace: ws,
            service,
        }));
        let app = router(Arc::clone(&shared), options);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
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
        Self {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// One HTTP/1.1 PUT; returns status and body.
    fn put(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut head = format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
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
        let status_line = String::from_utf8_lossy(&response[..split]).to_string();
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap();
        let mut body = response[split + 4..].to_vec();
        if status_line
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        (status, body)
    }

    fn signed(&self, path: &str, body: &[u8], identity: &Identity) -> (u16, Vec<u8>) {
        let signature = base64::engine::general_purpose::STANDARD.encode(identity.sign(body));
        self.put(path, &[("Mdm-Signature", signature)], body)
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
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

fn uuid(n: u32) -> CommandUuid {
    CommandUuid::new(format!("http-{n}")).unwrap()
}

fn ipad() -> AppleDeviceId {
    AppleDeviceId::Udid(IPAD.into())
}

#[test]
fn an_enrollment_and_its_commands_over_http() {
    let mut setup = Setup::new();
    let x = &pki().x;
    let device = setup.enrolling(x);
    let server = Server::start(setup, HttpOptions::new(clock));

    // Check-ins at /checkin and, with the check-in content type, at /mdm.
    assert_eq!(
        server
            .signed("/checkin", &vector("Authenticate.1.plist"), x)
            .0,
        200
    );
    let body = vector("TokenUpdate.1.plist");
    let signature = base64::engine::general_purpose::STANDARD.encode(x.sign(&body));
    let (status, _) = server.put(
        "/mdm",
        &[
            ("Mdm-Signature", signature),
            ("Content-Type", CHECKIN_CONTENT_TYPE.into()),
        ],
        &body,
    );
    assert_eq!(status, 200);
    {
        let s = server.shared.lock().unwrap();
        assert_eq!(
            s.workspace.device(device).unwrap().state(),
            DeviceState::Connected
        );
    }

    // A queued command is handed out on the next connect.
    let lock = CommandRequest::new(uuid(1), Command::DeviceLock(DeviceLock::default()));
    let other = CommandRequest::new(uuid(2), Command::DeviceLock(DeviceLock::default()));
    {
        let mut s = server.shared.lock().unwrap();
        s.service.enqueue(&ipad(), lock.clone()).unwrap();
        s.service.enqueue(&ipad(), other.clone()).unwrap();
    }
    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    let (status, body) = server.signed("/mdm", &idle, x);
    assert_eq!(status, 200);
    assert_eq!(body, lock.to_xml().unwrap());
    let report = |n, status| {
        CommandReport::result(ipad(), uuid(n), status, PlistDictionary::new())
            .to_xml()
            .unwrap()
    };
    // NotNow keeps it (the next one comes), Acknowledged finishes, a duplicate changes nothing.
    let (_, body) = server.signed("/mdm", &report(1, CommandStatus::NotNow), x);
    assert_eq!(body, other.to_xml().unwrap());
    let (status, body) = server.signed("/mdm", &report(2, CommandStatus::Acknowledged), x);
    assert_eq!((status, body.is_empty()), (200, true));
    let (status, body) = server.signed("/mdm", &report(2, CommandStatus::Acknowledged), x);
    assert_eq!((status, body.is_empty()), (200, true));
    {
        let s = server.shared.lock().unwrap();
        assert_eq!(s.service.store().pending_commands(&ipad()).unwrap(), 1);
    }
    let (_, body) = server.signed("/mdm", &idle, x);
    assert_eq!(
        body,
        lock.to_xml().unwrap(),
        "the deferred command on the next connect"
    );
    server.signed("/mdm", &report(1, CommandStatus::Acknowledged), x);
    let s = server.shared.lock().unwrap();
    assert_eq!(s.service.store().pending_commands(&ipad()).unwrap(), 0);
    assert_eq!(s.workspace.device(device).unwrap().sync_count(), 2);
}

#[test]
fn refusals_over_http_are_400_class_never_401() {
    let mut setup = Setup::new();
    setup.enroll(IPAD, &pki().x);
    let server = Server::start(setup, HttpOptions::new(clock));
    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    // Another device's identity, another CA, no identity, a bad signature header.
    for identity in [&pki().y, &pki().foreign] {
        let (status, body) = server.signed("/mdm", &idle, identity);
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    }
    assert_eq!(server.put("/mdm", &[], &idle).0, 400);
    assert_eq!(
        server
            .put("/mdm", &[("Mdm-Signature", "@@@".into())], &idle)
            .0,
        400
    );
    let (status, body) = server.signed("/checkin", b"not a plist", &pki().x);
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("plist"));
    // Over the 4 MiB limit: 413.
    let big = vec![b' '; mdm_apple::http::DEFAULT_BODY_LIMIT + 1];
    assert_eq!(server.put("/checkin", &[], &big).0, 413);
    let s = server.shared.lock().unwrap();
    let refused = s
        .workspace
        .audit_log()
        .iter()
        .filter(|r| matches!(r.event, AuditEvent::AppleRequestRefused { .. }))
        .count();
    assert_eq!(refused, 5);
}

#[test]
fn a_client_cert_header_counts_only_when_the_proxy_is_trusted() {
    let header = || {
        format!(
            ":{}:",
            base64::engine::general_purpose::STANDARD.encode(pki().x.der())
        )
    };
    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    for trusted in [false, true] {
        let mut setup = Setup::new();
        setup.enroll(IPAD, &pki().x);
        let options = HttpOptions {
            trust_client_cert_header: trusted,
            ..HttpOptions::new(clock)
        };
        let server = Server::start(setup, options);
        let (status, _) = server.put("/mdm", &[("Client-Cert", header())], &idle);
        assert_eq!(status, if trusted { 200 } else { 400 });
    }
}

#[test]
fn curl_sends_a_signed_check_in() {
    if !super::fixtures::tool("curl") {
        return;
    }
    let mut setup = Setup::new();
    let x = &pki().x;
    setup.enrolling(x);
    let server = Server::start(setup, HttpOptions::new(clock));
    let dir = super::fixtures::scratch("service-http-curl");
    let body = vector("Authenticate.1.plist");
    let path = dir.join("Authenticate.1.plist");
    std::fs::write(&path, &body).unwrap();
    let signature = base64::engine::general_purpose::STANDARD.encode(x.sign(&body));
    let out = super::fixtures::run(
        std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT"])
            .arg("-H")
            .arg(format!("Mdm-Signature: {signature}"))
            .arg("--data-binary")
            .arg(format!("@{}", path.display()))
            .arg(format!("http://{}/checkin", server.addr)),
    );
    assert_eq!(String::from_utf8_lossy(&out), "200");
}

thread_local! {
    /// What `tracing` wrote on this thread (see [`ThreadLog`]).
    static THREAD_LOG: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A `tracing` writer into the calling thread's own buffer. One global
/// subscriber writes there for the whole test binary: a scoped
/// (`with_default`) subscriber loses events when another test's thread
/// caches a callsite's interest while no subscriber is set, which made
/// this test flaky once other tests of the binary logged too.
struct ThreadLog;

impl std::io::Write for ThreadLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        THREAD_LOG.with(|log| log.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the global subscriber once and empties this thread's log.
fn capture_this_threads_log() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadLog)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    THREAD_LOG.with(|log| log.borrow_mut().clear());
}

#[test]
fn a_bad_signature_is_logged_with_its_reason_and_without_the_signature() {
    use tower::ServiceExt as _;
    let mut setup = Setup::new();
    setup.enroll(IPAD, &pki().x);
    let shared = Arc::new(Mutex::new(AppleServer {
        workspace: setup.ws,
        service: setup.service,
    }));
    let app = router(shared, HttpOptions::new(clock));
    let idle = CommandReport::idle(ipad()).to_xml().unwrap();
    let signature = base64::engine::general_purpose::STANDARD.encode(pki().x.sign(b"another body"));
    let request = axum::http::Request::builder()
        .method("PUT")
        .uri("/mdm")
        .header("Mdm-Signature", signature.as_str())
        .body(axum::body::Body::from(idle))
        .unwrap();
    capture_this_threads_log();
    // A current-thread runtime: the route logs on this test's thread.
    let status = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(app.oneshot(request))
        .unwrap()
        .status();
    assert_eq!(status, 400);
    let log = THREAD_LOG
        .with(|log| String::from_utf8(log.borrow().clone()))
        .unwrap();
    assert!(log.contains("Apple device request refused"), "{log}");
    assert!(
        log.contains("messageDigest does not match the content"),
        "{log}"
    );
    assert!(
        !log.contains(&signature[..40]),
        "the signature is not logged: {log}"
    );
}
