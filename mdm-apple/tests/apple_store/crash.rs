//! Crash: a child process (this test binary, re-run on one ignored test)
//! serves one device — each step queues a command, takes an `Idle` (a sync
//! in the model, the command sent) and its acknowledgement (the command
//! finished in the Apple store), then commits both in one transaction and
//! prints the step. The test SIGKILLs it at random points, reopens the
//! stores, and checks that every acknowledged step is there and that the
//! workspace and the Apple store never drift apart: the model's sync count
//! is exactly the number of finished commands, the last one finished is
//! the last synced, and nothing is left pending.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};

use mdm_apple::{AppleStore, CommandStatus, CommandUuid, Retention, ServiceEvent};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use time::Duration;

use crate::backends::{self, Backend};
use crate::fixture::{NOW, Server, udid};

const CHILD: &str = "MDM_APPLE_CRASH_CHILD";
const LIMIT: u32 = 20_000;
const RETENTION: Retention = Retention {
    finished_per_device: 3,
};

fn backend(kind: &str, target: &str) -> Backend {
    match kind {
        "sqlite" => Backend::Sqlite(backends::TempDir::new("unused"), target.into()),
        #[cfg(feature = "postgres")]
        "postgres" => Backend::Postgres(backends::postgres().unwrap(), target.into()),
        other => panic!("unknown backend {other}"),
    }
}

fn uuid(n: u32) -> CommandUuid {
    CommandUuid::new(format!("crash-{n}")).unwrap()
}

#[test]
#[ignore = "the child process of the crash tests: they start it with MDM_APPLE_CRASH_CHILD"]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let (kind, target) = spec.split_once(':').unwrap();
    let b = backend(kind, target);
    let mut s = Server::start(&b, RETENTION);
    // The child must not drop the parent's schema.
    std::mem::forget(b);
    let device = match s.ws.devices().first() {
        Some(d) => d.id(),
        None => {
            let d = s.enroll(0);
            s.commit().unwrap();
            d
        }
    };
    let mut out = std::io::stdout().lock();
    let mut step = s.ws.device(device).unwrap().sync_count();
    writeln!(out, "\nSTART:{step}").unwrap();
    out.flush().unwrap();
    while step < LIMIT {
        s.service
            .enqueue(
                &udid(0),
                mdm_apple::CommandRequest::new(
                    uuid(step),
                    mdm_apple::Command::SecurityInfo(mdm_apple::SecurityInfo),
                ),
            )
            .unwrap();
        let idle = s.idle(0, NOW + Duration::seconds(step.into())).unwrap();
        assert!(idle.events.contains(&ServiceEvent::CommandSent(uuid(step))));
        s.report(0, &uuid(step), CommandStatus::Acknowledged)
            .unwrap();
        s.commit().unwrap();
        step += 1;
        writeln!(out, "\nACK:{step}").unwrap();
        out.flush().unwrap();
    }
}

fn number_after(line: &str, tag: &str) -> Option<u32> {
    let rest = &line[line.find(tag)? + tag.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn crash_many_times(kind: &str, target: &str, rounds: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(1818);
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
            .env(CHILD, format!("{kind}:{target}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let wanted = 1 + rng.next_u64() % 25;
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
        if rng.next_u64() % 2 == 0 {
            std::thread::sleep(std::time::Duration::from_micros(rng.next_u64() % 3000));
        }
        child.kill().unwrap(); // SIGKILL
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
        let b = backend(kind, target);
        let s = Server::start(&b, RETENTION);
        std::mem::forget(b);
        assert!(s.ws.check_invariants().is_empty());
        let device = s.ws.devices()[0].id();
        let syncs = s.ws.device(device).unwrap().sync_count();
        assert!(
            syncs >= acknowledged,
            "round {round}: {acknowledged} acknowledged, {syncs} kept"
        );
        let store = s.service.store();
        assert_eq!(
            store.pending_commands(&udid(0)).unwrap(),
            0,
            "round {round}: half a step"
        );
        let finished: Vec<_> = store
            .finished_commands(&udid(0))
            .unwrap()
            .into_iter()
            .map(|f| f.uuid)
            .collect();
        let want: Vec<_> = (syncs.saturating_sub(3)..syncs).map(uuid).collect();
        assert_eq!(
            finished, want,
            "round {round}: the model and the Apple store apart"
        );
        acknowledged = syncs;
    }
    assert!(
        acknowledged > rounds as u32,
        "the children made progress: {acknowledged}"
    );
}

#[test]
fn sqlite_apple_store_survives_sigkill_at_random_points() {
    let dir = backends::TempDir::new("crash");
    let path = dir.0.join("crash.sqlite");
    crash_many_times("sqlite", path.to_str().unwrap(), 30);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_apple_store_survives_sigkill_at_random_points() {
    let Some(conn) = backends::postgres() else {
        return;
    };
    let b = Backend::Postgres(conn, format!("a_{}", backends::unique("crash")));
    let Backend::Postgres(_, schema) = &b else {
        unreachable!()
    };
    crash_many_times("postgres", schema, 12);
}
