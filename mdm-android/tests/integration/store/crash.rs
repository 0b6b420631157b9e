//! Crash: a child process (this test binary, re-run on one ignored test)
//! serves one device — each step queues a command, takes the agent's sync
//! carrying its result (a sync in the model, the command finished in the
//! Android store, the agent's new version reported), then commits both in
//! one transaction and prints the step. mdm-model's shared crash driver
//! SIGKILLs it at random points; the store is reopened and must hold every
//! acknowledged step, and the workspace and the queues must never drift
//! apart: the model's sync count is exactly the number of commands issued
//! and finished, the last ones finished are the last issued, nothing is
//! left pending.

use mdm_android::{AgentAuthorization, AgentCommandKind};
use mdm_model::storage::Retention;
use mdm_model::storage::test_support::{
    CrashRun, announce_ack, announce_start, crash_from, crash_many_times,
};
use time::Duration;

use super::backends::{self, Backend};
use super::fixture::{NOW, Server, done, request};

const KIND: &str = "MDM_ANDROID_CRASH_KIND";
const TARGET: &str = "MDM_ANDROID_CRASH_TARGET";
const AGENT: &str = "MDM_ANDROID_CRASH_AGENT";
const LIMIT: u64 = 20_000;
const RETENTION: Retention = Retention {
    finished_per_device: 3,
};

fn backend(kind: &str, target: &str) -> Backend {
    match kind {
        "sqlite" => Backend::Sqlite(None, target.into()),
        #[cfg(feature = "postgres")]
        "postgres" => Backend::Postgres(backends::postgres().unwrap(), target.into()),
        other => panic!("unknown backend {other}"),
    }
}

#[test]
#[ignore = "the child process of the crash tests: they start it with MDM_ANDROID_CRASH_KIND"]
fn crash_child() {
    let (Ok(kind), Ok(target), Ok(agent)) = (
        std::env::var(KIND),
        std::env::var(TARGET),
        std::env::var(AGENT),
    ) else {
        return;
    };
    let b = backend(&kind, &target);
    let mut s = Server::start(&b, RETENTION);
    std::mem::forget(b); // the child must not drop the parent's schema
    s.agents[0] = AgentAuthorization::parse(&agent).unwrap();
    let device = s.devices[0];
    // The parent's first sync is step 0.
    let mut step = u64::from(s.ws.device(device).unwrap().sync_count()) - 1;
    assert!(step >= crash_from());
    announce_start(step);
    while step < LIMIT {
        let id = s
            .endpoint
            .commands
            .enqueue(&s.ws, device, AgentCommandKind::ScanNow, NOW)
            .unwrap();
        let mut sync = request(device, vec![done(id)]);
        sync.agent.version = format!("1.{}", step + 1);
        let at = NOW + Duration::seconds(i64::try_from(step).unwrap());
        let answer = s.sync_request(0, &sync, at).unwrap();
        assert!(answer.commands.is_empty());
        s.commit().unwrap();
        step += 1;
        announce_ack(step);
    }
}

fn crash(kind: &str, b: &Backend, target: &str, rounds: usize) {
    // The device's first sync, by the parent: the agent's credential is
    // handed to every child.
    let mut s = Server::start(b, RETENTION);
    s.sync(0, vec![], NOW).unwrap();
    s.commit().unwrap();
    let agent = s.agents[0].header_value();
    drop(s);
    let run = CrashRun {
        child_test: "integration::store::crash::crash_child",
        env: vec![
            (KIND.into(), kind.into()),
            (TARGET.into(), target.into()),
            (AGENT.into(), agent),
        ],
        rounds,
        max_acks_per_round: 25,
        seed: 1818,
    };
    crash_many_times(&run, |round, acknowledged| {
        let s = Server::start(b, RETENTION);
        assert!(s.ws.check_invariants().is_empty(), "round {round}");
        let device = s.devices[0];
        let steps = u64::from(s.ws.device(device).unwrap().sync_count()) - 1;
        assert!(
            steps >= acknowledged,
            "round {round}: {acknowledged} acknowledged, {steps} kept"
        );
        assert!(
            s.endpoint.commands.pending(device).is_empty(),
            "round {round}: half a step"
        );
        let finished: Vec<u64> = s
            .endpoint
            .commands
            .finished(device)
            .unwrap()
            .iter()
            .map(|c| c.command.id)
            .collect();
        let want: Vec<u64> = (steps.saturating_sub(3) + 1..=steps).collect();
        assert_eq!(
            finished, want,
            "round {round}: the model and the queues apart"
        );
        let agent = s.endpoint.store().agent_state(device).unwrap().unwrap();
        let version = if steps == 0 {
            "1.4.0".to_owned()
        } else {
            format!("1.{steps}")
        };
        assert_eq!(agent.agent_version, version, "round {round}");
        let mut store = s.endpoint.into_store();
        assert_eq!(
            store.load().unwrap().last_command_id,
            steps,
            "round {round}"
        );
        steps
    });
}

#[test]
fn sqlite_android_store_survives_sigkill_at_random_points() {
    let dir = backends::temp_dir("crash");
    let path = dir.path().join("crash.sqlite");
    let target = path.to_str().unwrap();
    crash("sqlite", &backend("sqlite", target), target, 30);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_android_store_survives_sigkill_at_random_points() {
    let Some(conn) = backends::postgres() else {
        return;
    };
    let schema = format!("android_{}", backends::unique("crash"));
    let b = Backend::Postgres(conn, schema.clone());
    crash("postgres", &b, &schema, 12);
}
