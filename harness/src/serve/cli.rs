//! The `serve` subcommand's arguments and its run until SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

use super::config::{RngSource, ServeOptions, StoreSpec, TenantName, serve_error};
use crate::HarnessError;

/// `mdm-harness serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the bound one is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The connection address devices use (DNS name or IP) when it is not
    /// the listen IP: the server certificate and the profiles name it.
    #[arg(long)]
    pub host: Option<String>,
    /// The port devices connect to when it is not the listen port (several
    /// `serve` processes behind one load balancer or TCP proxy).
    #[arg(long)]
    pub public_port: Option<u16>,
    /// Where workspaces and Apple state are kept: `sqlite:DIR` (one file
    /// per tenant, default `<state-dir>/db`) or `postgres://…` /
    /// `postgres:host=… dbname=…` (one schema per tenant; several `serve`
    /// processes may share it).
    #[arg(long)]
    pub store: Option<String>,
    /// A tenant to serve under `/t/<name>/` (repeatable; default `default`).
    #[arg(long = "tenant")]
    pub tenants: Vec<String>,
    /// Certificates, keys and token hashes, one folder per tenant.
    #[arg(long, default_value = "mdm-serve")]
    pub state_dir: PathBuf,
    /// A PEM file with the CA that issues push certificates (Apple's, or
    /// the stand-in's); uploaded APNs certificates must come from it.
    #[arg(long = "apns-issuer")]
    pub apns_issuers: Vec<PathBuf>,
    /// The APNs host.
    #[arg(long = "apns", default_value = "https://api.push.apple.com")]
    pub apns_url: String,
    /// A CA (PEM) the APNs host's certificate is checked against.
    #[arg(long)]
    pub apns_ca: Option<PathBuf>,
    /// Seconds in-flight requests may take to finish after SIGTERM/Ctrl-C.
    #[arg(long, default_value_t = 30)]
    pub grace_seconds: u64,
    /// Threads for requests that run off the async runtime (PostgreSQL
    /// tenants, SQLite tenants' Apple check-ins), at most. They wait for
    /// their tenant's lock in turn, so more threads add memory, not speed;
    /// requests beyond them queue.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub blocking_threads: u16,
}

impl ServeArgs {
    /// The options these arguments describe.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for a bad store or tenant name.
    pub fn options(
        &self,
        clock: fn() -> OffsetDateTime,
        rng: RngSource,
    ) -> Result<ServeOptions, HarnessError> {
        let store = match &self.store {
            Some(text) => StoreSpec::parse(text)?,
            None => StoreSpec::default_in(&self.state_dir),
        };
        let names: Vec<&str> = if self.tenants.is_empty() {
            vec!["default"]
        } else {
            self.tenants.iter().map(String::as_str).collect()
        };
        let mut tenants = Vec::new();
        for name in names {
            let name = TenantName::parse(name)?;
            if !tenants.contains(&name) {
                tenants.push(name);
            }
        }
        Ok(ServeOptions {
            listen: self.listen,
            host: self.host.clone(),
            public_port: self.public_port,
            store,
            tenants,
            state_dir: self.state_dir.clone(),
            apns_issuers: self.apns_issuers.clone(),
            apns_url: self.apns_url.clone(),
            apns_ca: self.apns_ca.clone(),
            grace: Duration::from_secs(self.grace_seconds),
            clock,
            rng,
        })
    }
}

/// Runs the server until SIGTERM or Ctrl-C, printing on stdout where it
/// listens, the CA file to trust and the tokens made on this start (one
/// line each: `listening <origin>`, `ca <file>`, `tenant <name>
/// <base URL>/`, `token <operator|tenant> <token>`, then `ready`), with logs on
/// stderr (`RUST_LOG` filters them).
///
/// # Errors
/// Setting up fails.
pub fn run(
    args: &ServeArgs,
    clock: fn() -> OffsetDateTime,
    rng: RngSource,
) -> Result<(), HarnessError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let options = args.options(clock, rng)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(usize::from(args.blocking_threads))
        .build()
        .map_err(serve_error("starting tokio"))?;
    runtime.block_on(async {
        let running = super::start(options).await?;
        // Written whole, once; a reader that stopped reading (it had what it
        // needed) must not stop the server, so a failed write is ignored.
        let mut lines = format!(
            "listening {}\nca {}\n",
            running.origin,
            running.tls_ca_file.display()
        );
        for (name, url) in &running.tenant_urls {
            lines.push_str(&format!("tenant {name} {url}/\n"));
        }
        for (who, token) in &running.new_tokens {
            lines.push_str(&format!("token {who} {token}\n"));
        }
        lines.push_str("ready\n");
        let mut stdout = std::io::stdout().lock();
        let _ = stdout
            .write_all(lines.as_bytes())
            .and_then(|()| stdout.flush());
        drop(stdout);
        signal().await?;
        tracing::info!("shutting down: finishing requests in flight");
        let cut = running.shutdown().await;
        tracing::info!(cut, "stopped");
        Ok(())
    })
}

async fn signal() -> Result<(), HarnessError> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(serve_error("SIGTERM handler"))?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map_err(serve_error("Ctrl-C handler")),
        _ = term.recv() => Ok(()),
    }
}
