//! The same assertions on every Android store; a store is reopened (a
//! restarted server) wherever the assertion is about what it kept.

use mdm_android::{
    AgentCommand, AgentCommandKind, AgentCommandResult, AgentCommandStatus, AgentSyncState,
    AndroidError, Location,
};
use mdm_model::storage::Retention;
use mdm_model::{DeviceState, ModelError};
use time::Duration;

use super::backends;
use super::fixture::{NOW, Server, done, request};
use crate::integration::fixtures::android_settings;

const KEEP_TWO: Retention = Retention {
    finished_per_device: 2,
};

fn ids(commands: &[AgentCommand]) -> Vec<u64> {
    commands.iter().map(|c| c.id).collect()
}

#[test]
fn queues_and_results_survive_restarts() {
    for b in backends::all("queues") {
        let name = b.name();
        let mut s = Server::start(&b, Retention::DEFAULT);
        s.sync(0, vec![], NOW).unwrap();
        s.sync(1, vec![], NOW).unwrap();
        let (d0, d1) = (s.devices[0], s.devices[1]);
        let kinds = [
            AgentCommandKind::Lock,
            AgentCommandKind::Locate,
            AgentCommandKind::ScanNow,
        ];
        for (n, kind) in kinds.into_iter().enumerate() {
            let at = NOW + Duration::minutes(n as i64);
            s.endpoint.commands.enqueue(&s.ws, d0, kind, at).unwrap();
        }
        s.endpoint
            .commands
            .enqueue(&s.ws, d1, AgentCommandKind::UpdateDefinitions, NOW)
            .unwrap();
        let before = s.endpoint.commands.pending(d0).to_vec();
        s = s.restart(&b, Retention::DEFAULT);
        assert_eq!(s.endpoint.commands.pending(d0), before, "{name}");
        assert_eq!(ids(s.endpoint.commands.pending(d1)), vec![4], "{name}");
        // Device 0 reports a failure and a location fix.
        let fix = Location {
            latitude: 35.681_236_1,
            longitude: 139.767_125,
            accuracy_meters: 12.5,
            at: NOW + Duration::minutes(5),
        };
        let results = vec![
            AgentCommandResult {
                id: 1,
                status: AgentCommandStatus::Failed,
                detail: Some("the screen is already locked".into()),
                location: None,
            },
            AgentCommandResult {
                id: 2,
                status: AgentCommandStatus::Done,
                detail: None,
                location: Some(fix),
            },
        ];
        let reported = NOW + Duration::hours(1);
        let answer = s.sync(0, results.clone(), reported).unwrap();
        assert_eq!(ids(&answer.commands), vec![3], "{name}");
        let finished = s.endpoint.commands.finished(d0).unwrap();
        s = s.restart(&b, Retention::DEFAULT);
        let kept = s.endpoint.commands.finished(d0).unwrap();
        assert_eq!(kept, finished, "{name}: read back before and after");
        assert_eq!(kept.len(), 2, "{name}");
        assert_eq!(kept[0].result, results[0], "{name}");
        assert_eq!(kept[1].result, results[1], "{name}: the fix, exactly");
        assert_eq!(kept[1].command, before[1], "{name}");
        assert_eq!(kept[1].reported_at, reported, "{name}");
        assert_eq!(ids(s.endpoint.commands.pending(d0)), vec![3], "{name}");
        // A repeated result is ignored; ids are never reused.
        let again = s.sync(0, vec![done(1)], reported).unwrap();
        assert_eq!(ids(&again.commands), vec![3], "{name}");
        assert_eq!(s.endpoint.commands.finished(d0).unwrap().len(), 2);
        let next = s
            .endpoint
            .commands
            .enqueue(&s.ws, d0, AgentCommandKind::Lock, NOW)
            .unwrap();
        assert_eq!(next, 5, "{name}");
        assert!(
            s.endpoint
                .commands
                .finished(s.devices[2])
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn retention_keeps_the_last_finished_commands() {
    for b in backends::all("retention") {
        let name = b.name();
        let mut s = Server::start(&b, KEEP_TWO);
        let d = s.devices[0];
        s.sync(0, vec![], NOW).unwrap();
        for round in 0..6u64 {
            let id = s
                .endpoint
                .commands
                .enqueue(&s.ws, d, AgentCommandKind::ScanNow, NOW)
                .unwrap();
            s.sync(0, vec![done(id)], NOW).unwrap();
            if round % 2 == 1 {
                s = s.restart(&b, KEEP_TWO);
            }
        }
        // One pending command stays, whatever the retention.
        s.endpoint
            .commands
            .enqueue(&s.ws, d, AgentCommandKind::Lock, NOW)
            .unwrap();
        s = s.restart(&b, KEEP_TWO);
        let kept: Vec<u64> = s
            .endpoint
            .commands
            .finished(d)
            .unwrap()
            .iter()
            .map(|c| c.command.id)
            .collect();
        assert_eq!(kept, vec![5, 6], "{name}: the last two");
        assert_eq!(ids(s.endpoint.commands.pending(d)), vec![7], "{name}");
        // A late result for a pruned command is ignored.
        let late = s.sync(0, vec![done(1)], NOW).unwrap();
        assert_eq!(ids(&late.commands), vec![7], "{name}");
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        if b.durable() {
            assert_eq!(
                b.count("SELECT count(*) FROM android_commands"),
                3,
                "{name}"
            );
            assert_eq!(
                b.count("SELECT count(*) FROM android_commands WHERE status = 'pending'"),
                1,
                "{name}"
            );
        }
    }
}

#[test]
fn settings_and_agent_reports_survive_restarts() {
    for b in backends::all("settings") {
        let name = b.name();
        let mut s = Server::start(&b, Retention::DEFAULT);
        let d = s.devices[0];
        let policy = s.ws.effective_policy(d).unwrap().id();
        s.endpoint
            .set_android_settings(policy, android_settings())
            .unwrap();
        let first = s.sync(0, vec![], NOW).unwrap();
        let version = first.configuration_version;
        assert!(first.configuration.is_some());
        let mut applied = request(d, vec![]);
        applied.applied_configuration_version = version;
        applied.agent.version = "1.5.0".into();
        s.sync_request(0, &applied, NOW).unwrap();
        s = s.restart(&b, Retention::DEFAULT);
        assert_eq!(
            s.endpoint.android_settings(policy),
            Some(&android_settings()),
            "{name}"
        );
        assert_eq!(
            s.endpoint.store().agent_state(d).unwrap(),
            Some(AgentSyncState {
                agent_version: "1.5.0".into(),
                applied_configuration_version: version,
            }),
            "{name}"
        );
        assert_eq!(s.endpoint.store().agent_state(s.devices[3]).unwrap(), None);
        // The restored settings render the same configuration: not sent again.
        let answer = s.sync_request(0, &applied, NOW).unwrap();
        assert_eq!(answer.configuration_version, version, "{name}");
        assert!(answer.configuration.is_none(), "{name}");
        // Settings set after a restart get a newer revision: a new version.
        let mut changed = android_settings();
        changed.applications.pop();
        s.endpoint.set_android_settings(policy, changed).unwrap();
        let answer = s.sync_request(0, &applied, NOW).unwrap();
        assert_ne!(answer.configuration_version, version, "{name}");
    }
}

#[test]
fn a_wiped_device_keeps_no_pending_command() {
    for b in backends::all("wipe") {
        let name = b.name();
        let mut s = Server::start(&b, Retention::DEFAULT);
        let d = s.devices[1];
        s.sync(1, vec![], NOW).unwrap();
        let wipe = s
            .endpoint
            .commands
            .enqueue(&s.ws, d, AgentCommandKind::Wipe, NOW)
            .unwrap();
        s.endpoint
            .commands
            .enqueue(&s.ws, d, AgentCommandKind::Lock, NOW)
            .unwrap();
        s = s.restart(&b, Retention::DEFAULT);
        let answer = s.sync(1, vec![done(wipe)], NOW).unwrap();
        assert_eq!(answer.device_state, DeviceState::Wiped, "{name}");
        s = s.restart(&b, Retention::DEFAULT);
        assert!(s.endpoint.commands.pending(d).is_empty(), "{name}");
        let finished = s.endpoint.commands.finished(d).unwrap();
        assert_eq!(finished.len(), 1, "{name}");
        assert_eq!(finished[0].command.kind, AgentCommandKind::Wipe);
        assert_eq!(s.ws.device(d).unwrap().state(), DeviceState::Wiped);
        assert!(matches!(
            s.endpoint
                .commands
                .enqueue(&s.ws, d, AgentCommandKind::Lock, NOW),
            Err(AndroidError::CommandRefused { .. })
        ));
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        if b.durable() {
            assert_eq!(
                b.count("SELECT count(*) FROM android_commands WHERE status = 'pending'"),
                0,
                "{name}"
            );
        }
    }
}

/// One transaction: the workspace's changes and the queues' are written
/// together, or (a conflict, a failing row) neither is.
#[test]
fn the_workspace_and_the_queues_commit_together_or_not_at_all() {
    for b in backends::all("together") {
        if !b.durable() {
            continue;
        }
        let name = b.name();
        let mut a = Server::start(&b, Retention::DEFAULT);
        a.commit().unwrap();
        let d = a.devices[0];
        // A's sync changes the model, and a command is queued...
        a.sync(0, vec![], NOW).unwrap();
        a.endpoint
            .commands
            .enqueue(&a.ws, d, AgentCommandKind::Lock, NOW)
            .unwrap();
        // ...but another server commits first: A's commit writes nothing.
        let mut other = Server::start(&b, Retention::DEFAULT);
        other.ws.add_user("bob", None, NOW).unwrap();
        other.commit().unwrap();
        assert!(
            matches!(a.commit(), Err(ModelError::StoreConflict { .. })),
            "{name}"
        );
        drop((a, other));
        let mut c = Server::start(&b, Retention::DEFAULT);
        assert_eq!(c.ws.users().len(), 2, "{name}: the other server's commit");
        assert_eq!(c.ws.device(d).unwrap().sync_count(), 0, "{name}");
        assert!(c.endpoint.commands.pending(d).is_empty(), "{name}");
        assert_eq!(c.endpoint.store().agent_state(d).unwrap(), None, "{name}");
        // A queue row that cannot be written fails the whole commit: the
        // sync recorded in the same step is not kept either.
        c.sync(0, vec![], NOW).unwrap();
        c.commit().unwrap();
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        {
            use mdm_model::storage::SqlSession as _;
            let mut db = b.database();
            // A row squatting on the next command id (written behind the server's back).
            db.execute_batch(
                "INSERT INTO android_commands (command_id, device_id, kind, issued_at, status) \
                 VALUES (1, 3, 'LOCK', '2026-11-28T09:00:00.000000000Z', 'DONE')",
            )
            .unwrap();
        }
        c.sync(0, vec![], NOW + Duration::hours(1)).unwrap();
        c.endpoint
            .commands
            .enqueue(&c.ws, d, AgentCommandKind::Lock, NOW)
            .unwrap();
        assert!(c.commit().is_err(), "{name}: the insert must fail");
        drop(c);
        let e = Server::start(&b, Retention::DEFAULT);
        assert_eq!(
            e.ws.device(d).unwrap().sync_count(),
            1,
            "{name}: the second sync went with the failed queue row"
        );
        // A server that stops without committing leaves nothing either.
        let mut f = e;
        f.endpoint
            .commands
            .enqueue(&f.ws, f.devices[2], AgentCommandKind::Lock, NOW)
            .unwrap();
        drop(f);
        let g = Server::start(&b, Retention::DEFAULT);
        assert!(
            g.endpoint.commands.pending(g.devices[2]).is_empty(),
            "{name}"
        );
    }
}

/// An endpoint over any store can be shared as before (a server keeps it
/// behind a lock, the harness reads it from other threads).
#[test]
fn an_endpoint_over_a_store_stays_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<mdm_android::AndroidEndpoint>();
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    shareable::<mdm_android::SqlAndroidStore>();
}
