#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Android synced devices per second with queue writes (issue #18): in
//! each batch every one of 10,000 managed devices gets a command queued and
//! syncs, reporting the result of the command queued in the previous batch
//! (the workspace records the sync; the Android store inserts one command
//! row and finishes another, pruning by retention), and the batch is
//! committed in one transaction with `Workspace::commit_with`. On memory
//! (the baseline), SQLite with the Android state in memory (the
//! workspace's own writes), SQLite (a file in the temp dir, WAL, the
//! default `synchronous = FULL`) and PostgreSQL (`MDM_BENCH_POSTGRES` or
//! `MDM_TEST_POSTGRES`, skipped with a message when neither is set).
//! Criterion reports devices/s; the commit latencies (p50, p99, max) are
//! printed per backend.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mdm_android::{
    AGENT_PACKAGE, AgentAuthorization, AgentCommandKind, AgentCommandResult, AgentCommandStatus,
    AndroidEndpoint, AndroidStore, MemoryAndroidStore, SqlAndroidStore, SyncRequest,
};
use mdm_model::storage::test_support::{TempDir, drop_postgres_schema, unique};
use mdm_model::{DeviceId, Workspace, WorkspaceStore};
use rand_core::SeedableRng;

// The integration tests' fixtures: one fleet for tests and benches.
#[allow(dead_code)]
#[path = "../tests/integration/fixtures.rs"]
mod fixtures;
use fixtures::{NOW, managed_agents, sync_request as request};

const BATCH: usize = 10_000;

/// One server over a backend, its fleet after the first sync.
struct Bench {
    ws: Workspace,
    workspace_store: Box<dyn WorkspaceStore>,
    endpoint: AndroidEndpoint,
    agents: Vec<(DeviceId, AgentAuthorization)>,
    requests: Vec<SyncRequest>,
    /// The command each device holds, whose result its next sync reports.
    held: Vec<Option<u64>>,
    batch: i64,
    rng: rand_chacha::ChaCha20Rng,
    commits: Vec<Duration>,
}

impl Bench {
    fn new(mut workspace_store: Box<dyn WorkspaceStore>, android: Box<dyn AndroidStore>) -> Self {
        let (mut ws, mut agents) = managed_agents(BATCH);
        workspace_store.import(&mut ws).unwrap();
        let mut endpoint = AndroidEndpoint::with_boxed_store(AGENT_PACKAGE, android).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let mut requests: Vec<SyncRequest> = agents.iter().map(|(d, _)| request(*d)).collect();
        for (request, (_, auth)) in requests.iter_mut().zip(&mut agents) {
            let answer = endpoint
                .handle_sync(&mut ws, auth, request, NOW, &mut rng)
                .unwrap();
            request.applied_configuration_version = answer.configuration_version;
            *auth = AgentAuthorization::Bearer(answer.agent_credential.unwrap());
        }
        ws.commit_with(&mut *workspace_store, &mut [endpoint.companion()])
            .unwrap();
        Self {
            ws,
            workspace_store,
            endpoint,
            agents,
            requests,
            held: vec![None; BATCH],
            batch: 0,
            rng,
            commits: Vec::new(),
        }
    }

    /// One batch: every device gets a command and syncs, then one commit.
    fn batch(&mut self) -> Duration {
        self.batch += 1;
        let now = NOW + time::Duration::minutes(self.batch);
        let start = Instant::now();
        for (i, (device, auth)) in self.agents.iter().enumerate() {
            let id = self
                .endpoint
                .commands
                .enqueue(&self.ws, *device, AgentCommandKind::ScanNow, now)
                .unwrap();
            let request = &mut self.requests[i];
            request.command_results.clear();
            if let Some(previous) = self.held[i].replace(id) {
                request.command_results.push(AgentCommandResult {
                    id: previous,
                    status: AgentCommandStatus::Done,
                    detail: None,
                    location: None,
                });
            }
            self.endpoint
                .handle_sync(&mut self.ws, auth, request, now, &mut self.rng)
                .unwrap();
        }
        let commit = Instant::now();
        self.ws
            .commit_with(&mut *self.workspace_store, &mut [self.endpoint.companion()])
            .unwrap();
        self.commits.push(commit.elapsed());
        start.elapsed()
    }

    fn report(&mut self, name: &str) {
        let c = &mut self.commits;
        c.sort_unstable();
        if c.is_empty() {
            return;
        }
        let at = |q: f64| c[((c.len() - 1) as f64 * q).round() as usize];
        eprintln!(
            "{name}: {} commits of {BATCH} synced devices: p50 {:?}, p99 {:?}, max {:?}",
            c.len(),
            at(0.5),
            at(0.99),
            c[c.len() - 1]
        );
    }
}

fn run(c: &mut Criterion, name: &str, mut bench: Bench) {
    let mut group = c.benchmark_group("android_store");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(format!("{name}_sync_batch_10000"), |b| {
        b.iter_custom(|iters| (0..iters).map(|_| bench.batch()).sum());
    });
    group.finish();
    bench.report(name);
}

fn memory(c: &mut Criterion) {
    let bench = Bench::new(
        Box::new(mdm_model::MemoryStore::new()),
        Box::new(MemoryAndroidStore::new()),
    );
    run(c, "memory", bench);
}

fn sqlite(c: &mut Criterion) {
    let dir = TempDir::new("mdm-android-bench", "sqlite");
    let path = dir.path().join("bench.sqlite");
    let store = mdm_model::SqliteStore::open(&path).unwrap();
    let android = SqlAndroidStore::open_sqlite(&path, Default::default()).unwrap();
    run(c, "sqlite", Bench::new(Box::new(store), Box::new(android)));
}

/// The baseline of the queue writes: the same batches with the
/// workspace in SQLite and the Android state in memory.
fn sqlite_workspace_only(c: &mut Criterion) {
    let dir = TempDir::new("mdm-android-bench", "sqlite-ws");
    let store = mdm_model::SqliteStore::open(&dir.path().join("bench.sqlite")).unwrap();
    let bench = Bench::new(Box::new(store), Box::new(MemoryAndroidStore::new()));
    run(c, "sqlite_workspace_only", bench);
}

fn postgres(c: &mut Criterion) {
    let Some(conn) = ["MDM_BENCH_POSTGRES", "MDM_TEST_POSTGRES"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|c| !c.trim().is_empty()))
    else {
        eprintln!("SKIP postgres: set MDM_BENCH_POSTGRES (or MDM_TEST_POSTGRES)");
        return;
    };
    let schema = format!("bench_{}", unique("android"));
    let store = mdm_model::PostgresStore::open(&conn, &schema).unwrap();
    let android = SqlAndroidStore::open_postgres(&conn, &schema).unwrap();
    run(
        c,
        "postgres",
        Bench::new(Box::new(store), Box::new(android)),
    );
    drop_postgres_schema(&conn, &schema);
}

criterion_group!(benches, memory, sqlite_workspace_only, sqlite, postgres);
criterion_main!(benches);
