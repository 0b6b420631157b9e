//! Crash: a child process (this test binary, re-run on one ignored test)
//! applies the script and prints each acknowledged step; the test kills it
//! with SIGKILL at random points, reopens the store and checks that every
//! acknowledged step is there, nothing half-applied is, and the model's
//! invariants hold (the load checks them).

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};

use mdm_model::{Workspace, WorkspaceStore};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::backends;
use crate::script::{self, Script};

const CHILD: &str = "MDM_STORAGE_CRASH_CHILD";
const TARGET: &str = "MDM_STORAGE_CRASH_TARGET";
const FROM: &str = "MDM_STORAGE_CRASH_FROM";
const SEED: u64 = 99;
/// The child stops after this many steps (a bound, should the parent stall).
const LIMIT: u64 = 20_000;

fn open(kind: &str, target: &str) -> Box<dyn WorkspaceStore> {
    match kind {
        "sqlite" => Box::new(mdm_model::SqliteStore::open(std::path::Path::new(target)).unwrap()),
        #[cfg(feature = "postgres")]
        "postgres" => Box::new(
            mdm_model::PostgresStore::open(&backends::postgres().unwrap(), target).unwrap(),
        ),
        other => panic!("unknown backend {other}"),
    }
}

/// The first script position from step `from` on whose workspace equals
/// `loaded`, and the script there; `None` when none does (a commit lost or
/// half-applied). Some steps change nothing (a refused operation), so the
/// search starts at the last acknowledged step.
fn position(loaded: &Workspace, from: u64) -> Option<(Script, Workspace)> {
    let mut s = Script::new(SEED);
    let mut ws = script::start();
    while s.step < from {
        s.apply(&mut ws);
    }
    loop {
        let (have, want) = (ws.audit_log().len(), loaded.audit_log().len());
        if have == want && ws == *loaded {
            return Some((s, ws));
        }
        if have > want || s.step > LIMIT {
            return None;
        }
        s.apply(&mut ws);
    }
}

#[test]
#[ignore = "the child process of the crash tests: they start it with MDM_STORAGE_CRASH_CHILD"]
fn crash_child() {
    let (Ok(kind), Ok(target)) = (std::env::var(CHILD), std::env::var(TARGET)) else {
        return;
    };
    let mut store = open(&kind, &target);
    let (mut s, mut ws) = match store.load().unwrap() {
        None => {
            let mut ws = script::start();
            store.import(&mut ws).unwrap();
            (Script::new(SEED), ws)
        }
        Some(loaded) => {
            let from = std::env::var(FROM)
                .ok()
                .and_then(|f| f.parse().ok())
                .unwrap_or(0);
            let (s, mut ws) =
                position(&loaded, from).expect("the store holds a prefix of the script");
            ws.track_changes();
            (s, ws)
        }
    };
    // The replayed workspace equals the stored one; commit from the store's handle.
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nSTART:{}", s.step).unwrap();
    out.flush().unwrap();
    while s.step < LIMIT {
        // One to three operations per commit.
        let n = 1 + (s.step % 3);
        for _ in 0..n {
            s.apply(&mut ws);
        }
        ws.commit_to(&mut *store).unwrap();
        writeln!(out, "\nACK:{}", s.step).unwrap();
        out.flush().unwrap();
    }
}

fn number_after(line: &str, tag: &str) -> Option<u64> {
    let rest = &line[line.find(tag)? + tag.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Kills the child `rounds` times and checks the store after each.
fn crash_many_times(kind: &str, target: &str, rounds: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(2026);
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged = 0;
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "crash::crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, kind)
            .env(TARGET, target)
            .env(FROM, acknowledged.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let wanted = 1 + rng.next_u64() % 30;
        let mut seen = 0;
        let mut started = None;
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
        if rng.next_u64() % 2 == 0 {
            std::thread::sleep(std::time::Duration::from_micros(rng.next_u64() % 3000));
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
        let loaded = open(kind, target)
            .load()
            .unwrap()
            .expect("the store holds a workspace");
        assert!(loaded.check_invariants().is_empty());
        let (s, _) = position(&loaded, acknowledged).unwrap_or_else(|| {
            panic!("round {round}: the store holds no prefix of the script (half-applied?)")
        });
        assert!(
            s.step >= acknowledged,
            "round {round}: step {acknowledged} was acknowledged, the store holds {}",
            s.step
        );
        acknowledged = s.step;
    }
    assert!(
        acknowledged > rounds as u64,
        "the children made progress: {acknowledged}"
    );
}

#[test]
fn sqlite_survives_sigkill_at_random_points() {
    let dir = backends::TempDir::new("crash");
    let path = dir.0.join("crash.sqlite");
    crash_many_times("sqlite", path.to_str().unwrap(), 40);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_survives_sigkill_at_random_points() {
    let Some(b) = backends::postgres_backend("crash") else {
        return;
    };
    let backends::Backend::Postgres(_, schema) = &b else {
        unreachable!()
    };
    crash_many_times("postgres", schema, 15);
}
