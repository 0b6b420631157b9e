//! The same assertions on every Apple store. A durable store is also
//! reopened (a restarted server) wherever the assertion is about what it
//! kept; the memory store is kept as it is.

use mdm_apple::{
    AppleError, AppleStore, Command, CommandRequest, CommandStatus, CommandUuid, DeviceLock,
    EnrollmentState, Retention, SecurityInfo, ServiceEvent,
};
use mdm_model::{DeviceState, ModelError, Sha256Digest};

use crate::backends::{self, Backend};
use crate::fixture::{NOW, Server, identity, topic, udid};

/// Commits, then (for a durable store) starts a new server on the same store.
fn restart(server: Server, backend: &Backend, retention: Retention) -> Server {
    let mut server = server;
    server.commit().unwrap();
    if backend.durable() {
        drop(server);
        Server::start(backend, retention)
    } else {
        server
    }
}

fn uuid(n: usize) -> CommandUuid {
    CommandUuid::new(format!("cmd-{n:04}")).unwrap()
}

fn request(n: usize) -> CommandRequest {
    let command = if n.is_multiple_of(2) {
        Command::SecurityInfo(SecurityInfo)
    } else {
        Command::DeviceLock(DeviceLock {
            message: Some(format!("lost device {n}")),
            ..DeviceLock::default()
        })
    };
    CommandRequest::new(uuid(n), command)
}

fn sent(events: &[ServiceEvent]) -> Option<CommandUuid> {
    events.iter().find_map(|e| match e {
        ServiceEvent::CommandSent(u) => Some(u.clone()),
        _ => None,
    })
}

#[test]
fn an_enrollment_is_kept_whole() {
    for b in backends::all("enrollment") {
        let mut s = Server::start(&b, Retention::DEFAULT);
        let device = s.enroll(0);
        // Read back before the commit (pending) and after a restart (stored).
        for round in 0..2 {
            let record = s.service.store().enrollment(&udid(0)).unwrap().unwrap();
            let what = format!("{} round {round}", b.name());
            assert_eq!(record.device, device, "{what}");
            assert_eq!(record.identity, Sha256Digest::of(identity(0)), "{what}");
            let window = record.identity_window.expect("a window");
            assert!(window.contains(NOW), "{what}");
            let e = &record.enrollment;
            assert_eq!(e.state(), EnrollmentState::Enrolled, "{what}");
            assert_eq!(e.topic(), &topic(), "{what}");
            let push = e.push_target().expect("enrolled");
            assert_eq!(push.token.as_bytes(), &[1; 32], "{what}");
            assert_eq!(push.push_magic.as_str(), "MAGIC-0", "{what}");
            assert_eq!(e.unlock_token().unwrap().as_bytes(), &[0xAB, 0], "{what}");
            let auth = e.last_authenticate().unwrap();
            assert_eq!(auth.serial_number.as_deref(), Some("SERIAL0"), "{what}");
            assert_eq!(auth.product_name.as_deref(), Some("iPad13,1"), "{what}");
            assert_eq!(auth.device, udid(0), "{what}");
            assert!(record.bootstrap_token.is_none(), "{what}");
            assert_eq!(
                s.ws.device(device).unwrap().state(),
                DeviceState::Connected,
                "{what}"
            );
            assert!(s.service.store().enrollment(&udid(1)).unwrap().is_none());
            // The push request is built from what was kept.
            let push = s
                .service
                .push_request(&udid(0), &Default::default())
                .unwrap()
                .unwrap();
            assert_eq!(push.body, br#"{"mdm":"MAGIC-0"}"#, "{what}");
            s = restart(s, &b, Retention::DEFAULT);
        }
    }
}

#[test]
fn an_expected_identity_is_taken_once() {
    for b in backends::all("expected") {
        let mut s = Server::start(&b, Retention::DEFAULT);
        let device = s.enrolling(3);
        let digest = Sha256Digest::of(identity(3));
        let other = Sha256Digest::of(identity(4));
        let store = s.service.store_mut();
        assert_eq!(store.take_expected_identity(&other).unwrap(), None);
        s = restart(s, &b, Retention::DEFAULT);
        let store = s.service.store_mut();
        assert_eq!(
            store.take_expected_identity(&digest).unwrap(),
            Some(device),
            "{}",
            b.name()
        );
        assert_eq!(store.take_expected_identity(&digest).unwrap(), None);
        s = restart(s, &b, Retention::DEFAULT);
        assert_eq!(
            s.service
                .store_mut()
                .take_expected_identity(&digest)
                .unwrap(),
            None,
            "{}: the take was kept",
            b.name()
        );
        // Declared again (a renewal) it can be taken again.
        s.service
            .store_mut()
            .expect_identity(digest, device)
            .unwrap();
        s = restart(s, &b, Retention::DEFAULT);
        assert_eq!(
            s.service
                .store_mut()
                .take_expected_identity(&digest)
                .unwrap(),
            Some(device)
        );
    }
}

#[test]
fn a_queue_follows_the_protocol_across_restarts() {
    for b in backends::all("queue") {
        let name = b.name();
        let mut s = Server::start(&b, Retention::DEFAULT);
        s.enroll(0);
        for n in 1..=3 {
            s.service.enqueue(&udid(0), request(n)).unwrap();
        }
        assert!(matches!(
            s.service.enqueue(&udid(0), request(1)),
            Err(AppleError::DuplicateCommand { .. })
        ));
        s = restart(s, &b, Retention::DEFAULT);
        assert_eq!(s.service.store().pending_commands(&udid(0)).unwrap(), 3);
        assert!(matches!(
            s.service.enqueue(&udid(0), request(2)),
            Err(AppleError::DuplicateCommand { .. })
        ));
        let idle = s.idle(0, NOW).unwrap();
        assert!(matches!(idle.events[0], ServiceEvent::Synced(_)), "{name}");
        assert_eq!(sent(&idle.events), Some(uuid(1)), "{name}");
        assert_eq!(
            idle.body,
            request(1).to_xml().unwrap(),
            "{name}: the command as queued"
        );
        let deferred = s.report(0, &uuid(1), CommandStatus::NotNow).unwrap();
        assert_eq!(deferred.events[0], ServiceEvent::CommandDeferred(uuid(1)));
        assert_eq!(sent(&deferred.events), Some(uuid(2)), "{name}");
        // The deferral holds for this connection, across a restart.
        s = restart(s, &b, Retention::DEFAULT);
        let acked = s.report(0, &uuid(2), CommandStatus::Acknowledged).unwrap();
        assert_eq!(
            acked.events[0],
            ServiceEvent::CommandFinished {
                uuid: uuid(2),
                status: CommandStatus::Acknowledged,
                request_type: Some(mdm_apple::RequestType::SecurityInfo),
            },
            "{name}"
        );
        assert_eq!(sent(&acked.events), Some(uuid(3)), "{name}");
        let failed = s.report(0, &uuid(3), CommandStatus::Error).unwrap();
        assert_eq!(
            sent(&failed.events),
            None,
            "{name}: 1 is deferred, the connection ends"
        );
        let idle = s.idle(0, NOW).unwrap();
        assert_eq!(
            sent(&idle.events),
            Some(uuid(1)),
            "{name}: a new connection"
        );
        s.report(0, &uuid(1), CommandStatus::Acknowledged).unwrap();
        let again = s.report(0, &uuid(1), CommandStatus::Acknowledged).unwrap();
        assert_eq!(again.events[0], ServiceEvent::ReportIgnored(Some(uuid(1))));
        let unknown = s.report(0, &uuid(9), CommandStatus::Acknowledged).unwrap();
        assert_eq!(
            unknown.events[0],
            ServiceEvent::ReportIgnored(Some(uuid(9)))
        );
        s = restart(s, &b, Retention::DEFAULT);
        let store = s.service.store();
        assert_eq!(store.pending_commands(&udid(0)).unwrap(), 0, "{name}");
        let finished = store.finished_commands(&udid(0)).unwrap();
        let seen: Vec<_> = finished
            .iter()
            .map(|f| {
                (
                    f.uuid.clone(),
                    f.report.status.clone(),
                    f.request_type.clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    uuid(2),
                    CommandStatus::Acknowledged,
                    mdm_apple::RequestType::SecurityInfo
                ),
                (
                    uuid(3),
                    CommandStatus::Error,
                    mdm_apple::RequestType::DeviceLock
                ),
                (
                    uuid(1),
                    CommandStatus::Acknowledged,
                    mdm_apple::RequestType::DeviceLock
                ),
            ],
            "{name}"
        );
        assert_eq!(finished[0].report.device, udid(0));
        // A repeated report after the restart is still a duplicate, and a
        // finished UUID cannot be queued again.
        let again = s.report(0, &uuid(3), CommandStatus::Acknowledged).unwrap();
        assert_eq!(again.events[0], ServiceEvent::ReportIgnored(Some(uuid(3))));
        assert!(s.service.enqueue(&udid(0), request(3)).is_err(), "{name}");
    }
}

/// What the store remembers between its own commits (enrollments, devices
/// without a queue, drained queues) answers as the database would: a
/// command queued after each commit is still sent.
#[test]
fn what_is_remembered_across_commits_follows_the_queue() {
    for b in backends::all("remembered") {
        let name = b.name();
        let mut s = Server::start(&b, Retention::DEFAULT);
        s.enroll(0);
        s.commit().unwrap();
        // No queue yet, twice (the second without a read).
        for _ in 0..2 {
            assert_eq!(sent(&s.idle(0, NOW).unwrap().events), None, "{name}");
            s.commit().unwrap();
        }
        s.service.enqueue(&udid(0), request(1)).unwrap();
        s.commit().unwrap();
        assert_eq!(
            sent(&s.idle(0, NOW).unwrap().events),
            Some(uuid(1)),
            "{name}"
        );
        s.report(0, &uuid(1), CommandStatus::Acknowledged).unwrap();
        s.commit().unwrap();
        // Drained, twice.
        for _ in 0..2 {
            assert_eq!(sent(&s.idle(0, NOW).unwrap().events), None, "{name}");
            s.commit().unwrap();
        }
        // A repeated report still finds the finished command.
        let again = s.report(0, &uuid(1), CommandStatus::Acknowledged).unwrap();
        assert_eq!(
            again.events[0],
            ServiceEvent::ReportIgnored(Some(uuid(1))),
            "{name}"
        );
        s.commit().unwrap();
        s.service.enqueue(&udid(0), request(2)).unwrap();
        s.commit().unwrap();
        assert_eq!(
            sent(&s.idle(0, NOW).unwrap().events),
            Some(uuid(2)),
            "{name}"
        );
        s.report(0, &uuid(2), CommandStatus::NotNow).unwrap();
        s.commit().unwrap();
        // Deferred, not drained: the next connection gets it again.
        assert_eq!(
            sent(&s.idle(0, NOW).unwrap().events),
            Some(uuid(2)),
            "{name}"
        );
        s.commit().unwrap();
        // And all of it is what a restart reads.
        s = restart(s, &b, Retention::DEFAULT);
        assert_eq!(
            s.service.store().pending_commands(&udid(0)).unwrap(),
            1,
            "{name}"
        );
        assert_eq!(
            sent(&s.idle(0, NOW).unwrap().events),
            Some(uuid(2)),
            "{name}"
        );
    }
}

#[test]
fn a_report_for_a_device_without_a_queue_changes_nothing() {
    for b in backends::all("noqueue") {
        let mut s = Server::start(&b, Retention::DEFAULT);
        let store = s.service.store_mut();
        let idle = mdm_apple::CommandReport::idle(udid(5));
        let step = store.record_report(&udid(5), &idle).unwrap();
        assert_eq!(step.outcome, mdm_apple::ReportOutcome::Idle, "{}", b.name());
        assert!(step.next.is_none());
        let result = mdm_apple::CommandReport::result(
            udid(5),
            uuid(1),
            CommandStatus::Acknowledged,
            Default::default(),
        );
        let step = store.record_report(&udid(5), &result).unwrap();
        assert_eq!(step.outcome, mdm_apple::ReportOutcome::Unknown(uuid(1)));
        let step = store.record_report(&udid(6), &result).unwrap();
        assert_eq!(step.outcome, mdm_apple::ReportOutcome::Unmatched);
        assert_eq!(store.pending_commands(&udid(5)).unwrap(), 0);
        assert!(store.finished_commands(&udid(5)).unwrap().is_empty());
        assert!(!mdm_model::storage::StoreCompanion::has_pending(&**store));
        s.commit().unwrap();
    }
}

/// The retention rule: over a long run a device keeps only its last K
/// finished commands, on every store; a durable store's table holds no more.
#[test]
fn a_queue_does_not_grow_without_bound() {
    let retention = Retention {
        finished_per_device: 5,
    };
    for b in backends::all("retention") {
        let mut s = Server::start(&b, retention);
        s.enroll(0);
        s.enroll(1);
        for n in 0..300 {
            let device = n % 2;
            s.service.enqueue(&udid(device), request(n)).unwrap();
            if n.is_multiple_of(3) {
                // Commit between enqueue and result sometimes, sometimes not.
                s.commit().unwrap();
            }
            let idle = s.idle(device, NOW).unwrap();
            assert_eq!(sent(&idle.events), Some(uuid(n)));
            s.report(device, &uuid(n), CommandStatus::Acknowledged)
                .unwrap();
            if n.is_multiple_of(7) {
                s = restart(s, &b, retention);
            }
        }
        s = restart(s, &b, retention);
        for device in 0..2 {
            let kept: Vec<_> = s
                .service
                .store()
                .finished_commands(&udid(device))
                .unwrap()
                .into_iter()
                .map(|f| f.uuid)
                .collect();
            let want: Vec<_> = (0..300)
                .filter(|n| n % 2 == device)
                .skip(145)
                .map(uuid)
                .collect();
            assert_eq!(kept, want, "{}: the last five", b.name());
        }
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        if b.durable() {
            assert_eq!(
                rows(&b, "SELECT count(*) FROM apple_commands"),
                10,
                "{}",
                b.name()
            );
        }
    }
}

/// A count from the store's database, through its own kind of session.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn rows(b: &Backend, sql: &str) -> i64 {
    use mdm_model::storage::{SqlDatabase, SqlSession as _, SqlValue};
    let mut db = match b {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite(_, path) => SqlDatabase::sqlite(path, Default::default()).unwrap(),
        #[cfg(feature = "postgres")]
        Backend::Postgres(conn, schema) => SqlDatabase::postgres(conn, schema).unwrap(),
        Backend::Memory => unreachable!(),
    };
    let mut n = -1;
    db.query(sql, &[], &mut |row| {
        n = row.first().and_then(SqlValue::as_int).unwrap_or(-1);
        Ok(())
    })
    .unwrap();
    n
}

/// The one-transaction commit: the workspace's changes and the Apple
/// store's are written together, or (a conflict) neither is.
#[test]
fn the_workspace_and_the_apple_state_commit_together_or_not_at_all() {
    for b in backends::all("together") {
        if !b.durable() {
            continue;
        }
        let name = b.name();
        let mut a = Server::start(&b, Retention::DEFAULT);
        let device = a.enrolling(1);
        a.commit().unwrap();
        // A's check-ins change both the model and the Apple state...
        a.authenticate(1).unwrap();
        a.token_update(1).unwrap();
        a.service.enqueue(&udid(1), request(1)).unwrap();
        assert_eq!(a.ws.device(device).unwrap().state(), DeviceState::Connected);
        // ...but another server commits first: A's commit writes nothing.
        let mut other = Server::start(&b, Retention::DEFAULT);
        other.ws.add_user("bob", None, NOW).unwrap();
        other.commit().unwrap();
        assert!(
            matches!(a.commit(), Err(ModelError::StoreConflict { .. })),
            "{name}"
        );
        drop(a);
        let mut c = Server::start(&b, Retention::DEFAULT);
        assert_eq!(c.ws.users().len(), 2, "{name}: the other server's commit");
        assert_eq!(c.ws.device(device).unwrap().state(), DeviceState::Enrolling);
        assert!(
            c.service.store().enrollment(&udid(1)).unwrap().is_none(),
            "{name}"
        );
        assert_eq!(c.service.store().pending_commands(&udid(1)).unwrap(), 0);
        // The expectation was not taken either: the device enrolls now.
        c.authenticate(1).unwrap();
        c.token_update(1).unwrap();
        c.commit().unwrap();
        drop(c);
        let d = Server::start(&b, Retention::DEFAULT);
        assert_eq!(d.ws.device(device).unwrap().state(), DeviceState::Connected);
        assert!(
            d.service.store().enrollment(&udid(1)).unwrap().is_some(),
            "{name}"
        );
        // A server that stops without committing leaves nothing either.
        let mut e = d;
        e.service.enqueue(&udid(1), request(7)).unwrap();
        e.idle(1, NOW).unwrap();
        drop(e);
        let f = Server::start(&b, Retention::DEFAULT);
        assert_eq!(f.service.store().pending_commands(&udid(1)).unwrap(), 0);
        assert_eq!(f.ws.device(device).unwrap().sync_count(), 0, "{name}");
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn bad_databases_are_typed_errors() {
    use mdm_apple::SqlAppleStore;
    use mdm_model::storage::{SqlDatabase, SqlSession as _};
    let dir = backends::TempDir::new("bad");
    // Garbage where a database belongs.
    let junk = dir.0.join("junk.sqlite");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let err = SqlAppleStore::open_sqlite(&junk, Default::default()).unwrap_err();
    assert!(matches!(err, ModelError::StoreCorrupt { .. }), "{err:?}");
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        vec![0x5a; 8192],
        "left untouched"
    );
    // An SQLite file that is not a workspace store.
    let absent = dir.0.join("absent.sqlite");
    let err = SqlAppleStore::open_sqlite(&absent, Default::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::StoreBackend { .. } | ModelError::NotAWorkspaceStore { .. }
        ),
        "{err:?}"
    );
    // Apple tables from a newer build.
    let path = dir.0.join("store.sqlite");
    mdm_model::SqliteStore::open(&path).unwrap();
    drop(SqlAppleStore::open_sqlite(&path, Default::default()).unwrap());
    let mut db = SqlDatabase::sqlite(&path, Default::default()).unwrap();
    db.execute_batch("UPDATE mdm_components SET schema_version = 99 WHERE component = 'mdm-apple'")
        .unwrap();
    let err = SqlAppleStore::open_sqlite(&path, Default::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::StoreSchemaTooNew {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    db.execute_batch("UPDATE mdm_components SET schema_version = 1 WHERE component = 'mdm-apple'")
        .unwrap();
    // A damaged row is a store error naming the column, never a panic.
    let b = Backend::Sqlite(backends::TempDir::new("badrow"), dir.0.join("rows.sqlite"));
    let mut s = Server::start(&b, Retention::DEFAULT);
    s.enroll(0);
    s.commit().unwrap();
    let Backend::Sqlite(_, rows) = &b else {
        unreachable!()
    };
    let mut db = SqlDatabase::sqlite(rows, Default::default()).unwrap();
    for (sql, column) in [
        ("UPDATE apple_enrollments SET state = 'asleep'", "state"),
        (
            "UPDATE apple_enrollments SET state = 'enrolled', identity_sha256 = 'zz'",
            "identity_sha256",
        ),
        (
            "UPDATE apple_enrollments SET identity_sha256 = NULL",
            "identity_sha256",
        ),
    ] {
        if db.execute_batch(sql).is_err() {
            continue; // a NOT NULL column refuses the damage itself
        }
        let fresh = Server::start(&b, Retention::DEFAULT);
        match fresh.service.store().enrollment(&udid(0)) {
            Err(AppleError::Store { reason }) => assert!(reason.contains(column), "{reason}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
}
