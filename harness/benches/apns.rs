//! Pushes per second from the APNs provider client (`mdm-apple`, feature
//! `apns`) to the harness's stand-in over loopback TLS + HTTP/2, on 1, 2
//! and 4 connections, with the stand-in in the bench's process
//! (`one_process/…`) and in a child process (`two_processes/…`: this same
//! binary, started with `APNS_BENCH_SERVE=1`, makes the same certificates
//! from the same seed and serves until its stdin closes; stopped by PID).
//! Only the batches are timed; the stand-in's records are cleared between
//! them.
//!
//! Also the memory one in-flight push costs: the resident-set growth while
//! 50,000 pushes are admitted at once on one connection (1,000 streams on
//! the wire, the rest queued), divided by 50,000; with the stand-in in a
//! child process that is the client's memory alone.
//!
//! The allocator is mimalloc, as in `mdm-harness` (whose `serve` sends its
//! pushes with this client and whose `apns-mock` is this stand-in); the
//! commit before this line was added measured glibc's malloc.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use harness::apns_standin::{
    APNS_MAX_CONCURRENT_STREAMS, ApnsBook, ApnsStandIn, FaultPlan, SimulatedApple,
};
use mdm_apple::{
    ApnsClient, ApnsEnvironment, ProviderConfig, ProviderIdentity, PushMagic, PushTarget,
    PushToken, TlsClock,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;
use time::macros::datetime;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 20_000;
const IN_FLIGHT: usize = 50_000;
const NOW: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);
/// Set in the child process that serves the stand-in.
const SERVE_ENV: &str = "APNS_BENCH_SERVE";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The same certificates in both processes: one seed.
fn simulated_apple() -> SimulatedApple {
    SimulatedApple::new(
        ApnsEnvironment::Production,
        NOW,
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap()
}

fn fresh_book() -> ApnsBook {
    ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none())
}

async fn start_stand_in(apple: &SimulatedApple) -> ApnsStandIn {
    let listen = "127.0.0.1:0".parse().unwrap();
    let config = apple.stand_in_config(listen, NOW, fresh_book()).unwrap();
    ApnsStandIn::start(config).await.unwrap()
}

/// The child: serves until stdin closes; `reset` clears the book (answered `ok`).
fn serve_child() {
    let rt = runtime();
    let apple = simulated_apple();
    let server = rt.block_on(start_stand_in(&apple));
    println!("{}", server.local_addr());
    let _ = std::io::stdout().flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "reset" {
            if let Ok(mut book) = server.book().lock() {
                *book = fresh_book();
            }
            println!("ok");
            let _ = std::io::stdout().flush();
        }
    }
    rt.block_on(server.stop());
}

/// Where the stand-in runs.
enum StandIn {
    InProcess(ApnsStandIn),
    Child {
        child: Child,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
        addr: SocketAddr,
    },
}

impl StandIn {
    fn child() -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(SERVE_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line.trim().parse().unwrap();
        Self::Child {
            child,
            stdin,
            stdout,
            addr,
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Self::InProcess(s) => s.local_addr(),
            Self::Child { addr, .. } => *addr,
        }
    }

    /// Clears the records (they would grow without bound over a bench).
    fn reset(&mut self) {
        match self {
            Self::InProcess(s) => {
                if let Ok(mut book) = s.book().lock() {
                    *book = fresh_book();
                }
            }
            Self::Child { stdin, stdout, .. } => {
                writeln!(stdin, "reset").unwrap();
                let mut line = String::new();
                stdout.read_line(&mut line).unwrap();
                assert_eq!(line.trim(), "ok");
            }
        }
    }

    fn stop(self, rt: &tokio::runtime::Runtime) {
        match self {
            Self::InProcess(s) => rt.block_on(s.stop()),
            Self::Child { mut child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn targets(n: usize) -> Vec<PushTarget> {
    (0..n)
        .map(|i| {
            let mut token = vec![0x5a; 32];
            token[..8].copy_from_slice(&(i as u64).to_be_bytes());
            PushTarget {
                token: PushToken::new(token).unwrap(),
                push_magic: PushMagic::new("5C3AB0D3-7E7B-4C23-9F6E-2E1D7E6A4B11").unwrap(),
            }
        })
        .collect()
}

fn client(
    apple: &SimulatedApple,
    addr: SocketAddr,
    connections: usize,
    max_in_flight: usize,
) -> ApnsClient {
    let identity = ProviderIdentity::check(
        &apple.identity(apple.push.certificate.clone()).unwrap(),
        &apple.topic,
        NOW,
    )
    .unwrap();
    ApnsClient::new(
        identity,
        &ProviderConfig {
            connect_to: Some(addr),
            connections,
            max_in_flight,
            server_roots: vec![apple.tls.server_ca.der().to_vec()],
            tls_clock: TlsClock::Fixed(NOW),
            ..ProviderConfig::default()
        },
    )
    .unwrap()
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn throughput(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    apple: &SimulatedApple,
    mode: &str,
    stand_in: &mut StandIn,
) {
    let batch = targets(BATCH);
    let mut group = c.benchmark_group("apns_push");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    for connections in [1usize, 2, 4] {
        let client = client(
            apple,
            stand_in.addr(),
            connections,
            APNS_MAX_CONCURRENT_STREAMS as usize * connections,
        );
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        group.bench_function(format!("{mode}/{connections}_connections"), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let report = rt.block_on(client.send_batch(&batch, &mut rng));
                    timed += start.elapsed();
                    assert_eq!(report.counts.delivered, BATCH as u64);
                    stand_in.reset();
                }
                timed
            });
        });
    }
    group.finish();
}

/// Peak RSS growth per push while `IN_FLIGHT` pushes are admitted at once.
fn memory_per_push(
    rt: &tokio::runtime::Runtime,
    apple: &SimulatedApple,
    mode: &str,
    stand_in: &mut StandIn,
) {
    let client = client(apple, stand_in.addr(), 1, IN_FLIGHT);
    let many = targets(IN_FLIGHT);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    rt.block_on(client.send_batch(&many[..1000], &mut rng)); // connect, warm up
    stand_in.reset();
    let base = rss_bytes();
    let peak = Arc::new(AtomicU64::new(base));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    let report = rt.block_on(client.send_batch(&many, &mut rng));
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    assert_eq!(report.counts.delivered, IN_FLIGHT as u64);
    stand_in.reset();
    let grown = peak.load(Ordering::Relaxed).saturating_sub(base);
    let whose = match stand_in {
        StandIn::InProcess(_) => "client and stand-in (its records too) in one process",
        StandIn::Child { .. } => "the client's process alone",
    };
    eprintln!(
        "apns_push/{mode}: memory per in-flight push: {} bytes (peak RSS +{} KiB for {IN_FLIGHT} pushes admitted at once, {whose})",
        grown / IN_FLIGHT as u64,
        grown / 1024
    );
}

fn main() {
    if std::env::var_os(SERVE_ENV).is_some() {
        serve_child();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let rt = runtime();
    let apple = simulated_apple();
    for mode in ["one_process", "two_processes"] {
        let mut stand_in = match mode {
            "one_process" => StandIn::InProcess(rt.block_on(start_stand_in(&apple))),
            _ => StandIn::child(),
        };
        throughput(&mut c, &rt, &apple, mode, &mut stand_in);
        memory_per_push(&rt, &apple, mode, &mut stand_in);
        stand_in.stop(&rt);
    }
    c.final_summary();
}
