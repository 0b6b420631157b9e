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
//! Every device request's workspace changes are committed to the tenant's
//! store before the answer leaves ([`commit`]); shutdown finishes the
//! requests in flight ([`net`]). Where the pieces live: [`config`] (the
//! options), [`tenant`] (one tenant's certificates, store and workspace),
//! [`tls`], [`app`] (the router), [`enroll`] (link → profile → SCEP →
//! `Authenticate`), [`push`] (APNs), [`token`], [`facts`].
//!
//! The Apple service's own state (enrollments, command queues) is kept in
//! memory (`mdm_apple::MemoryStore`) until mdm-apple's durable Apple stores
//! land: after a restart Apple devices enroll again; the workspace (users,
//! invitations, devices, audit log) is durable.

pub mod admin;
pub mod android;
pub mod app;
pub mod cli;
pub mod commit;
pub mod config;
pub mod enroll;
pub mod facts;
pub mod net;
pub mod push;
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
        port: local_addr.port(),
        now,
        facts: Arc::clone(&facts),
        apns_url: &options.apns_url,
        apns_ca: apns_ca.as_ref(),
    };
    let mut tenants = BTreeMap::new();
    for name in &options.tenants {
        let opened = Tenant::open(name, &setup, &mut rng)?;
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
        stop: Some(stop),
        task,
    })
}
