//! `mdm-harness serve`: the reference MDM server, composed from the
//! crates' own routes (issue #19).
//!
//! One HTTPS listener (rustls, HTTP/1.1 and HTTP/2) serves one or many
//! tenants, each under `/t/<tenant>/` with its own CA, server certificate,
//! SCEP responder, APNs certificate, administrator token and store:
//!
//! | path | what | from |
//! |---|---|---|
//! | `PUT /t/<t>/mdm`, `PUT /t/<t>/checkin` | Apple check-ins and command reports | `mdm_apple::http::router` |
//! | `GET/POST /t/<t>/scep` | SCEP (RFC 8894), one-time passwords | `mdm_certs::scep_router` |
//! | `GET /t/<t>/enroll/<token>` | the invitation link: the signed profile for iOS/iPadOS, the store for Android | `mdm_packages::{begin_link, finish_link}` |
//! | `POST /t/<t>/android/register`, `POST /t/<t>/android/sync` | the Android agent's sync | `mdm_android::http::sync_router` |
//! | `/t/<t>/api/v1/…` | the administrator API ([`admin`]) | here |
//! | `GET /healthz` | liveness | here |
//!
//! Every device request's changes are committed to the tenant's store
//! before the answer leaves ([`commit`]); shutdown finishes the requests in
//! flight ([`net`]). Where the pieces live: [`config`] (the options),
//! [`tenant`] (one tenant's certificates, store and workspace), [`store`]
//! (the tenant's database), [`otp`] (the one-time SCEP passwords in it),
//! [`blocking`] (PostgreSQL requests off the runtime), [`tls`], [`app`]
//! (the router), [`enroll`] (link → profile → SCEP → `Authenticate`),
//! [`push`] (APNs), [`token`], [`facts`].
//!
//! # Where the state lives
//! - **The store** (`--store`: `sqlite:DIR`, one file per tenant, or
//!   PostgreSQL, one schema per tenant): the workspace (users, invitations,
//!   devices, audit log) and the Apple service's state — enrollments with
//!   their push targets and bound identities, expected SCEP identities,
//!   command queues and results (`mdm_apple::SqlAppleStore`, tables
//!   `apple_*`), the Android endpoint's agents, queues, results and
//!   settings (`mdm_android::SqlAndroidStore`, tables `android_*`), and the
//!   one-time SCEP passwords (their hashes) with the profile labels they
//!   were issued for ([`otp`], table `serve_scep_challenges`) — written
//!   together in one transaction per group commit, before the answers
//!   leave. A restart keeps enrolled devices, their queued and finished
//!   commands, and the passwords of profiles downloaded but not yet used
//!   (a used one stays refused).
//! - **The state folder** (`--state-dir`): each tenant's CA, server
//!   certificate, SCEP responder, APNs certificate and token hash; the
//!   operator token's hash; `tls-ca.pem`; `facts.jsonl`.
//! - **Memory only**: SCEP requests held PENDING for approval (serve
//!   issues no password that holds them) and the APNs client's connections.
//!
//! # Several processes over one PostgreSQL database
//! Processes given the same `--store postgres://…`, the same `--state-dir`
//! (or a copy of it: the tenants' CAs and server certificates must be the
//! same, and the first process makes them, so start it first) and the same
//! connection address (`--host`, `--public-port` behind a load balancer)
//! serve the same fleet: a device may check in through any of them. Each
//! request first catches up with the other processes' commits (a revision
//! check; the workspace is reloaded when it moved), and a commit that
//! loses the race to another process's is refused with a retryable 503
//! after the state is reloaded ([`commit`]). Reloading reads the whole
//! workspace, so processes writing the same tenant at once spend time on
//! reloads: they suit fail-over and moderate load better than splitting
//! one tenant's peak between them.
//!
//! A SQLite store is for one process: a second one over the same file
//! loses nothing (its commits are refused and it reloads) but is not kept
//! current between its own commits.
//!
//! # One listener certificate
//! The listener presents one certificate, the first tenant's server
//! certificate, and `tls-ca.pem` is its CA. Every tenant is served at the
//! same connection address (`--host`), so a TLS client's server name (SNI)
//! is the same whichever tenant it talks to and could not choose among
//! per-tenant certificates; tenants are told apart by their path
//! (`/t/<tenant>/`). Each tenant's enrollment profile therefore carries
//! the listener's CA as the server's trust anchor (a certificate payload in
//! the enrollment profile), while SCEP, device identities and profile signatures
//! use the tenant's own CA.

pub mod admin;
pub mod android;
pub mod app;
pub mod blocking;
pub mod cli;
pub mod commit;
pub mod config;
pub mod enroll;
pub mod facts;
pub mod net;
pub mod otp;
pub mod push;
pub mod store;
pub mod tenant;
pub mod tls;
pub mod token;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use mdm_certs::Certificate;
use mdm_model::{ServerHost, Sha256Digest};
use tokio::sync::oneshot;

pub use config::{RngSource, ServeOptions, StoreSpec, TenantName};

use crate::HarnessError;
use config::serve_error;
use facts::Facts;
use tenant::{Tenant, TenantSetup};

/// The server's shared state.
pub struct App {
    /// The options it was started with.
    pub options: ServeOptions,
    /// The connection address.
    pub host: Option<ServerHost>,
    /// The tenants by name.
    pub tenants: BTreeMap<String, Arc<Tenant>>,
    /// The hash of the operator token.
    pub operator: Sha256Digest,
    /// The CA of the certificate the listener presents (the first tenant's).
    pub tls_ca: Certificate,
    /// The push CA uploads must come from.
    pub apns_issuers: Vec<Certificate>,
    /// Refusals the model has no audit event for.
    pub facts: Arc<Facts>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("tenants", &self.tenants.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A server that is running.
#[derive(Debug)]
pub struct Running {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    /// `https://<host>:<port>`.
    pub origin: String,
    /// Tokens made on this start (printed once; only hashes are kept):
    /// `("operator", token)` and `(tenant, token)`.
    pub new_tokens: Vec<(String, String)>,
    /// The CA file clients trust for the listener (`<state-dir>/tls-ca.pem`).
    pub tls_ca_file: std::path::PathBuf,
    /// Each tenant's name and base URL (`https://<host>:<port>/t/<name>`,
    /// with the public port).
    pub tenant_urls: Vec<(String, String)>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<usize>,
}

impl Running {
    /// Stops accepting, finishes the requests in flight (within the grace
    /// period) and waits; returns how many connections were cut.
    pub async fn shutdown(mut self) -> usize {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap_or(0)
    }
}

/// Binds, opens every tenant and starts serving.
///
/// # Errors
/// [`HarnessError::Serve`], [`HarnessError::Io`] or
/// [`HarnessError::InvalidOption`] when the listener, a tenant's files or
/// store, or a certificate cannot be set up.
pub async fn start(options: ServeOptions) -> Result<Running, HarnessError> {
    if options.tenants.is_empty() {
        return Err(config::invalid("tenant", "name at least one tenant"));
    }
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(serve_error("binding the listener"))?;
    let local_addr = listener
        .local_addr()
        .map_err(serve_error("listener address"))?;
    let host_text = options
        .host
        .clone()
        .unwrap_or_else(|| local_addr.ip().to_string());
    let host = ServerHost::parse(&host_text).map_err(serve_error("--host"))?;
    std::fs::create_dir_all(&options.state_dir).map_err(tenant::io(&options.state_dir))?;
    let now = (options.clock)();
    let mut rng = (options.rng)();
    let facts = Arc::new(Facts::new(Some(options.state_dir.join("facts.jsonl"))));
    let apns_ca = match &options.apns_ca {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(tenant::io(path))?;
            Some(Certificate::from_pem(&text).map_err(serve_error("--apns-ca"))?)
        }
        None => None,
    };
    let mut new_tokens = Vec::new();
    let (operator, token) = token::operator_token(&options.state_dir, &mut rng)?;
    if let Some(token) = token {
        new_tokens.push(("operator".to_owned(), token));
    }
    let setup = TenantSetup {
        state_dir: &options.state_dir,
        store: &options.store,
        host: &host,
        port: options.public_port.unwrap_or(local_addr.port()),
        now,
        facts: Arc::clone(&facts),
        apns_url: &options.apns_url,
        apns_ca: apns_ca.as_ref(),
    };
    // Opened on a thread of their own: a PostgreSQL store's client runs a
    // runtime of its own, which may not start inside this one.
    let handle = tokio::runtime::Handle::current();
    let opened = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // Still able to spawn on this runtime (the APNs client).
                let _entered = handle.enter();
                options
                    .tenants
                    .iter()
                    .map(|name| Tenant::open(name, &setup, &mut rng).map(|t| (name, t)))
                    .collect::<Result<Vec<_>, HarnessError>>()
            })
            .join()
    })
    .map_err(|_| config::invalid("tenant", "opening a tenant panicked"))??;
    let mut tenants = BTreeMap::new();
    for (name, opened) in opened {
        if let Some(token) = opened.new_token {
            new_tokens.push((name.to_string(), token));
        }
        tenants.insert(name.to_string(), opened.tenant);
    }
    let first = tenants
        .values()
        .next()
        .cloned()
        .ok_or_else(|| config::invalid("tenant", "name at least one tenant"))?;
    let tls = tls::server_config(&first.server, first.ca.certificate())?;
    let tls_ca_file = options.state_dir.join("tls-ca.pem");
    std::fs::write(&tls_ca_file, first.ca.certificate().pem()).map_err(tenant::io(&tls_ca_file))?;
    let apns_issuers = admin::read_issuers(&options.apns_issuers)?;
    let grace = options.grace;
    let origin = format!("https://{}:{}", tenant::url_host(&host), local_addr.port());
    let tenant_urls = tenants
        .iter()
        .map(|(name, t)| (name.clone(), t.base_url.to_string()))
        .collect();
    let app = Arc::new(App {
        options,
        host: Some(host),
        tenants,
        operator,
        tls_ca: first.ca.certificate().clone(),
        apns_issuers,
        facts,
    });
    let router = app::router(&app);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        let cut = net::serve(listener, tls, router, shutdown, grace).await;
        // The committers finish with the last handles to the tenants.
        drop(app);
        cut
    });
    tracing::info!(%local_addr, "serving");
    Ok(Running {
        local_addr,
        origin,
        new_tokens,
        tls_ca_file,
        tenant_urls,
        stop: Some(stop),
        task,
    })
}
