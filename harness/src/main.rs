//! `mdm-harness`: simulate fleets, list scenarios, write a workspace's artifacts.
//!
//! The binary parses arguments, calls the `harness` library and prints; it
//! holds no rules. Wall-clock time is read here only, for the progress bar
//! and the speed figures printed beside the (deterministic) report.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use harness::{Options, simulate_stored};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Simulate fleets of Android and Apple devices enrolling and syncing with an
/// MDM workspace, on virtual time, and report what broke.
#[derive(Parser)]
#[command(name = "mdm-harness", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a fleet simulation and print its summary.
    Simulate(SimulateArgs),
    /// List the scenarios, one line each.
    Scenarios,
    /// Write one workspace's real artifacts (certificates, CSR, push request,
    /// profiles, command plists, package, QR, message) for inspection.
    Artifacts {
        /// The folder to write into (created if missing).
        #[arg(long, default_value = "artifacts")]
        out: PathBuf,
        /// Seed for keys and tokens.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run the APNs stand-in (HTTP/2, TLS, client certificate from the
    /// simulated Apple CA) until Ctrl-C; writes the push certificate, key
    /// and server CA as PEM for curl.
    ApnsMock(ApnsMockArgs),
    /// Run the reference MDM server (HTTPS; Apple /mdm /checkin, SCEP,
    /// invitation links, the administrator API) until SIGTERM or Ctrl-C.
    Serve(harness::serve::cli::ServeArgs),
    /// Run simulated devices over real HTTP(S), in real time, against a
    /// server (nanomdm, or `serve`) and report rates, latencies and errors.
    Load(harness::load::cli::LoadArgs),
}

#[derive(clap::Args)]
struct ApnsMockArgs {
    /// Address to listen on (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Folder for push.pem, push-key.pem, apns-ca.pem.
    #[arg(long, default_value = "apns-mock")]
    out: PathBuf,
    /// Seed of the certificates and faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Send GOAWAY after this many streams on a connection.
    #[arg(long)]
    goaway_after: Option<u32>,
    /// Pushes (per million) that start a 429 burst.
    #[arg(long, default_value_t = 0)]
    too_many_requests_ppm: u32,
    /// Pushes to one token a 429 burst lasts.
    #[arg(long, default_value_t = 3)]
    burst: u32,
    /// Pushes (per million) answered 503.
    #[arg(long, default_value_t = 0)]
    service_unavailable_ppm: u32,
    /// Pushes (per million) after which the token is Unregistered.
    #[arg(long, default_value_t = 0)]
    unregister_ppm: u32,
    /// Also serve token-based connections (no client certificate), e.g. h2load.
    #[arg(long)]
    provider_tokens: bool,
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Devices in the fleet (60 % Android, 30 % iPhone, 10 % iPad).
    #[arg(long, default_value_t = 10_000)]
    devices: u32,
    /// Days of virtual time (default: the scenario's own length).
    #[arg(long)]
    days: Option<u32>,
    /// Seed of every random choice; the same seed gives the same report.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Scenario name (see `mdm-harness scenarios`).
    #[arg(long, default_value = "baseline")]
    scenario: String,
    /// Write the full JSON report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write a self-contained HTML page with charts here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Worker threads for parallel work (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Fail when more devices than this are lost.
    #[arg(long)]
    max_lost: Option<u64>,
    /// Where the server's state is persisted: `memory` (nothing written),
    /// `sqlite:PATH` (a new file) or PostgreSQL (`postgres://user@host/db`
    /// or `postgres:host=… dbname=…`, the same syntax as `serve --store`).
    /// Every sync and command is committed, once per simulated hour; the
    /// report is the same as in memory, and the store is reopened and
    /// checked at the end.
    #[arg(long, default_value = "memory")]
    store: String,
    /// The PostgreSQL schema a `postgres` store is written to (it must
    /// not hold a workspace yet).
    #[arg(long, default_value = Options::DEFAULT_STORE_SCHEMA)]
    store_schema: String,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mdm-harness: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Scenarios => {
            for s in harness::scenario::all() {
                println!("{:<16} {} ({} days)", s.name, s.summary, s.default_days);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Artifacts { out, seed } => {
            // The one place the wall clock is read: artifacts are made valid from today.
            let written =
                harness::artifacts::write_all(&out, seed, time::OffsetDateTime::now_utc())?;
            for path in written {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate(args) => simulate_command(&args),
        Command::ApnsMock(args) => apns_mock_command(&args),
        Command::Serve(args) => {
            // The wall clock and the OS generator: only the binary has them.
            let rng: harness::serve::RngSource = std::sync::Arc::new(|| {
                <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_rng(&mut rand::rng())
            });
            harness::serve::cli::run(&args, time::OffsetDateTime::now_utc, rng)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Load(args) => Ok(if harness::load::cli::command(&args)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }),
    }
}

fn apns_mock_command(args: &ApnsMockArgs) -> anyhow::Result<ExitCode> {
    use harness::apns_standin::{FaultPlan, MockOptions, start_mock};
    let options = MockOptions {
        listen: args.listen,
        out: args.out.clone(),
        seed: args.seed,
        faults: FaultPlan {
            seed: args.seed,
            unregister_ppm: args.unregister_ppm,
            too_many_requests_ppm: args.too_many_requests_ppm,
            burst: args.burst,
            service_unavailable_ppm: args.service_unavailable_ppm,
            goaway_after: args.goaway_after,
        },
        provider_tokens: args.provider_tokens,
    };
    let runtime = tokio::runtime::Runtime::new().context("starting tokio")?;
    runtime.block_on(async {
        // The wall clock: certificates valid from today.
        let mock = start_mock(&options, time::OffsetDateTime::now_utc()).await?;
        println!("listening on {}", mock.server.local_addr());
        println!("topic {}", mock.topic.as_str());
        println!("cert {}", mock.files.certificate.display());
        println!("key {}", mock.files.key.display());
        println!("cacert {}", mock.files.server_ca.display());
        println!(
            "host {} (curl --resolve HOST:PORT:127.0.0.1)",
            mdm_apple::ApnsEnvironment::Production.host()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        let served = mock.server.book().lock().map(|b| b.served()).unwrap_or(0);
        eprintln!("served {served} pushes");
        mock.server.stop().await;
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

fn simulate_command(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("setting up worker threads")?;
    }
    let days = match args.days {
        Some(d) => d,
        None => harness::scenario::find(&args.scenario).map_or(30, |s| s.default_days),
    };
    let mut options = Options::new(&args.scenario, args.devices, days, args.seed)?;
    options.max_lost = args.max_lost;
    options.store = harness::StoreSpec::parse_or_memory(&args.store)?;
    options.store_schema.clone_from(&args.store_schema);
    let bar = ProgressBar::new(u64::from(days) * 24);
    if std::io::stderr().is_terminal() {
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} simulated {pos}/{len} h [{bar:40}] {elapsed_precise} {msg}",
            )
            .context("progress style")?,
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let wall = Instant::now();
    let (report, stored) = simulate_stored(&options, &mut |now, _| {
        bar.set_position(u64::from(now.hour()));
    })?;
    bar.finish_and_clear();
    let secs = wall.elapsed().as_secs_f64();
    print!("{}", report.summary());
    #[allow(clippy::cast_precision_loss)]
    let (events, enrolled) = (report.events as f64, report.enrolled.total() as f64);
    println!(
        "wall time: {secs:.1} s · {:.0} events/s · {:.0} devices enrolled/s · peak memory {}",
        events / secs.max(1e-9),
        enrolled / secs.max(1e-9),
        peak_memory()
    );
    if let Some(check) = &stored {
        println!(
            "store: {} · {} commits · reopened and checked: {} devices, {} Apple enrollments, {} pending and {} finished commands",
            check.location,
            check.commits,
            check.devices,
            check.apple_enrollments,
            check.pending_commands,
            check.finished_commands
        );
    }
    if let Some(path) = &args.report {
        std::fs::write(path, report.to_json()?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &args.html {
        std::fs::write(path, harness::html::render(&report))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("html: {}", path.display());
    }
    if let Some(broken) = report.first_violation() {
        eprintln!(
            "invariant broken: {} — {}",
            broken.invariant,
            broken.first_violation.as_deref().unwrap_or("no detail")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The process's peak resident memory, from /proc (Linux), in words.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
