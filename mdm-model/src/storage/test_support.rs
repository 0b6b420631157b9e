//! What the store tests of every crate share (feature `test-support`, for
//! dev-dependencies only; never in a library build): fresh temporary
//! directories and names, the PostgreSQL picker (`MDM_TEST_POSTGRES`: a
//! skip with a clear message outside CI, a failure when `CI=true`), and the
//! SIGKILL crash driver. Test code: it panics where a test would fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A name unique to this process and call: `{tag}_{pid}_{n}` (a file, a
/// PostgreSQL schema, so tests run in parallel).
pub fn unique(tag: &str) -> String {
    format!(
        "{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory `{temp}/{prefix}-{unique(tag)}`.
    pub fn new(prefix: &str, tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", unique(tag)));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL connection string from `MDM_TEST_POSTGRES`, or `None`
/// (with the reason printed) outside CI; with `CI=true` a missing database
/// is a failure.
pub fn postgres() -> Option<String> {
    match std::env::var("MDM_TEST_POSTGRES") {
        Ok(c) if !c.trim().is_empty() => Some(c),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but MDM_TEST_POSTGRES is not set: the PostgreSQL store must be tested")
        }
        _ => {
            eprintln!(
                "SKIP postgres backend: MDM_TEST_POSTGRES is not set \
                 (e.g. MDM_TEST_POSTGRES='host=/tmp/mdm-pg user=postgres dbname=mdm_test')"
            );
            None
        }
    }
}

/// One store under test: in memory, an SQLite file, a PostgreSQL schema.
/// A PostgreSQL schema is dropped with its `Backend` (a crash test's child
/// forgets its copy).
#[derive(Debug)]
pub enum Backend {
    /// Fresh stores in memory.
    Memory,
    /// An SQLite file (in its own temporary directory, when it owns one).
    #[cfg(feature = "sqlite")]
    Sqlite(Option<TempDir>, PathBuf),
    /// A connection string and a schema.
    #[cfg(feature = "postgres")]
    Postgres(String, String),
}

impl Backend {
    /// Every backend compiled in, each a fresh empty store (`prefix` names
    /// the crate's temporary directories); PostgreSQL as [`postgres`] says.
    pub fn all(prefix: &str, tag: &str) -> Vec<Self> {
        #[allow(unused_mut)] // without the sqlite and postgres features
        let mut out = vec![Self::Memory];
        #[cfg(feature = "sqlite")]
        {
            let dir = TempDir::new(prefix, tag);
            let path = dir.path().join("store.sqlite");
            out.push(Self::Sqlite(Some(dir), path));
        }
        #[cfg(feature = "postgres")]
        out.extend(postgres().map(|c| Self::Postgres(c, format!("t_{}", unique(tag)))));
        #[cfg(not(feature = "sqlite"))]
        eprintln!("SKIP sqlite backend: built without feature `sqlite`");
        #[cfg(not(feature = "postgres"))]
        eprintln!("SKIP postgres backend: built without feature `postgres`");
        let _ = (prefix, tag);
        out
    }

    /// `memory`, `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Memory => "memory",
            #[cfg(feature = "sqlite")]
            Self::Sqlite(..) => "sqlite",
            #[cfg(feature = "postgres")]
            Self::Postgres(..) => "postgres",
        }
    }

    /// Whether it outlives its handles (a restarted server finds it).
    pub fn durable(&self) -> bool {
        !matches!(self, Self::Memory)
    }

    /// A workspace store on it (a fresh one in memory).
    pub fn workspace_store(&self) -> Box<dyn crate::WorkspaceStore + Send> {
        match self {
            Self::Memory => Box::new(crate::MemoryStore::new()),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_, path) => Box::new(crate::SqliteStore::open(path).unwrap()),
            #[cfg(feature = "postgres")]
            Self::Postgres(conn, schema) => {
                Box::new(crate::PostgresStore::open(conn, schema).unwrap())
            }
        }
    }

    /// A connection of its own to the database (an administrator's).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub fn database(&self) -> super::SqlDatabase {
        match self {
            Self::Memory => panic!("a memory store has no database"),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_, path) => super::SqlDatabase::sqlite(path, Default::default()).unwrap(),
            #[cfg(feature = "postgres")]
            Self::Postgres(conn, schema) => super::SqlDatabase::postgres(conn, schema).unwrap(),
        }
    }

    /// The first column of the first row of an administrator's query.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub fn count(&self, sql: &str) -> i64 {
        use super::SqlSession as _;
        let mut n = -1;
        self.database()
            .query(sql, &[], &mut |row| {
                n = row.first().and_then(super::SqlValue::as_int).unwrap_or(-1);
                Ok(())
            })
            .unwrap();
        n
    }
}

#[cfg(feature = "postgres")]
impl Drop for Backend {
    fn drop(&mut self) {
        if let Self::Postgres(conn, schema) = self {
            drop_postgres_schema(conn, schema);
        }
    }
}

/// Drops a test's PostgreSQL schema and everything in it.
#[cfg(feature = "postgres")]
pub fn drop_postgres_schema(connection: &str, schema: &str) {
    if let Ok(mut c) = postgres::Client::connect(connection, postgres::NoTls) {
        let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    }
}

/// The child's side of a crash test: prints `START:n` before its first step.
pub fn announce_start(step: u64) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nSTART:{step}").unwrap();
    out.flush().unwrap();
}

/// The child's side of a crash test: prints `ACK:n` once step `n` is
/// acknowledged (its commit returned).
pub fn announce_ack(step: u64) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nACK:{step}").unwrap();
    out.flush().unwrap();
}

/// The environment variable the driver sets for the child: the last step
/// acknowledged so far.
pub const CRASH_FROM: &str = "MDM_CRASH_FROM";

/// The last step acknowledged before this child started (`CRASH_FROM`).
pub fn crash_from() -> u64 {
    std::env::var(CRASH_FROM)
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// One crash test: the child test to run (an `#[ignore]`d test of the
/// current test binary that returns at once unless its environment is set)
/// and how often to kill it.
#[derive(Debug, Clone)]
pub struct CrashRun {
    /// The child's test path, e.g. `crash::crash_child`.
    pub child_test: &'static str,
    /// Its environment (what to open, where).
    pub env: Vec<(String, String)>,
    /// How many times it is started and killed.
    pub rounds: usize,
    /// Each round waits for 1..=this many acknowledgements before the kill.
    pub max_acks_per_round: u64,
    /// The seed of the kill points.
    pub seed: u64,
}

fn number_after(line: &str, tag: &str) -> Option<u64> {
    let rest = &line[line.find(tag)? + tag.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// SplitMix64: kill points from a seed, without a generator crate.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Starts the child `run.rounds` times, SIGKILLs it at a random point
/// (after some acknowledgements, sometimes a little later, mid-step), and
/// after each kill calls `check(round, acknowledged)`, which reopens the
/// store, asserts that every acknowledged step is there and nothing
/// half-applied is, and returns the step the store holds (the next round
/// starts from it). Panics when the child does not start, restarts before
/// an acknowledged step, or makes no progress.
pub fn crash_many_times(run: &CrashRun, mut check: impl FnMut(usize, u64) -> u64) {
    let mut seed = run.seed;
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged = 0;
    for round in 0..run.rounds {
        let mut child = Command::new(&exe)
            .args([
                run.child_test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(run.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(CRASH_FROM, acknowledged.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wanted = 1 + next(&mut seed) % run.max_acks_per_round.max(1);
        let (mut seen, mut started) = (0, None);
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(s) = number_after(&line, "START:") {
                assert!(
                    s >= acknowledged,
                    "round {round}: restarted at {s}, {acknowledged} acknowledged"
                );
                started = Some(s);
            }
            if let Some(a) = number_after(&line, "ACK:") {
                acknowledged = a;
                seen += 1;
                if seen >= wanted {
                    break;
                }
            }
        }
        if next(&mut seed).is_multiple_of(2) {
            std::thread::sleep(std::time::Duration::from_micros(next(&mut seed) % 3000));
        }
        child.kill().unwrap(); // SIGKILL
        // Acknowledgements printed before the kill still count.
        for line in lines.map_while(Result::ok) {
            if let Some(a) = number_after(&line, "ACK:") {
                acknowledged = a;
            }
        }
        let status = child.wait().unwrap();
        if started.is_none() {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            panic!("round {round}: the child did not start ({status}): {err}");
        }
        let held = check(round, acknowledged);
        assert!(
            held >= acknowledged,
            "round {round}: step {acknowledged} was acknowledged, the store holds {held}"
        );
        acknowledged = held;
    }
    assert!(
        acknowledged > run.rounds as u64,
        "the children made progress: {acknowledged}"
    );
}
