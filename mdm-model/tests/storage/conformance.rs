//! The same assertions on every backend.

use std::sync::OnceLock;

use mdm_model::{ModelError, Workspace, WorkspaceStore};

use crate::backends::{self, Backend};
use crate::script::{self, Script, T0};

fn reload(store: &mut dyn WorkspaceStore) -> Workspace {
    store.load().unwrap().expect("the store holds a workspace")
}

#[test]
fn an_empty_store_loads_nothing_and_imports_once() {
    for b in backends::all("empty") {
        let mut first = b.handle();
        assert!(first.load().unwrap().is_none(), "{}", b.name());
        let mut ws = script::start();
        first.import(&mut ws).unwrap();
        assert!(ws.is_tracking_changes());
        let mut second = b.handle();
        let mut other = script::start();
        assert!(
            matches!(second.import(&mut other), Err(ModelError::StoreNotEmpty(_))),
            "{}",
            b.name()
        );
        assert_eq!(reload(&mut *second), ws, "{}", b.name());
    }
}

#[test]
fn every_operation_reaches_the_store_and_reloads_equal() {
    for b in backends::all("ops") {
        let mut store = b.handle();
        let mut ws = script::start();
        store.import(&mut ws).unwrap();
        let mut s = Script::new(11);
        for i in 0..600 {
            s.apply(&mut ws);
            // Commits of one operation and of several.
            if i % 3 != 1 {
                ws.commit_to(&mut *store).unwrap();
            }
            if i % 97 == 0 {
                ws.commit_to(&mut *store).unwrap();
                let mut fresh = b.handle();
                assert!(reload(&mut *fresh) == ws, "{} after step {i}", b.name());
            }
        }
        ws.commit_to(&mut *store).unwrap();
        assert!(ws.take_changes().is_empty());
        let loaded = reload(&mut *b.handle());
        assert!(loaded == ws, "{}", b.name());
        assert!(loaded.check_invariants().is_empty());
        // The script really exercised the model.
        assert!(ws.devices().len() >= 15, "{}", ws.devices().len());
        assert!(
            ws.devices()
                .iter()
                .any(|d| d.state() == mdm_model::DeviceState::Managed)
        );
        assert!(ws.apns_certificate().is_some() && !ws.licenses().is_empty());
        // A loaded workspace carries on where the first left off.
        let loaded_len = loaded.audit_log().len();
        let mut again = loaded;
        let (mut more_a, mut more_b) = (Script::new(12), Script::new(12));
        for _ in 0..50 {
            more_a.apply(&mut again);
            more_b.apply(&mut ws);
        }
        assert!(again.audit_log().len() > loaded_len);
        let mut store = b.handle();
        store.load().unwrap();
        again.commit_to(&mut *store).unwrap();
        assert!(
            reload(&mut *b.handle()) == ws,
            "{}: carried on differently",
            b.name()
        );
    }
}

#[test]
fn json_export_and_import_round_trip_through_every_backend() {
    let mut ws = script::start();
    let mut s = Script::new(5);
    for _ in 0..400 {
        s.apply(&mut ws);
    }
    let json = ws.to_json().unwrap();
    for b in backends::all("json") {
        let mut imported = Workspace::from_json(&json).unwrap();
        b.handle().import(&mut imported).unwrap();
        let out = reload(&mut *b.handle()).to_json().unwrap();
        assert_eq!(out, json, "{}", b.name());
    }
}

#[test]
fn a_writer_that_missed_a_commit_is_refused_and_loses_nothing() {
    for b in backends::all("conflict") {
        let mut a = b.handle();
        let mut ws_a = script::start();
        a.import(&mut ws_a).unwrap();
        let mut bh = b.handle();
        let mut ws_b = reload(&mut *bh);
        ws_a.add_user("from-a", None, T0).unwrap();
        ws_a.commit_to(&mut *a).unwrap();
        ws_b.add_user("from-b", None, T0).unwrap();
        let refused = ws_b.commit_to(&mut *bh);
        assert!(
            matches!(refused, Err(ModelError::StoreConflict { .. })),
            "{}: {refused:?}",
            b.name()
        );
        // Nothing of b's was written; b reloads and applies again.
        let stored = reload(&mut *b.handle());
        assert_eq!(stored, ws_a, "{}", b.name());
        let mut ws_b = reload(&mut *bh);
        ws_b.add_user("from-b", None, T0).unwrap();
        ws_b.commit_to(&mut *bh).unwrap();
        let accounts: Vec<String> = reload(&mut *b.handle())
            .users()
            .iter()
            .map(|u| u.account().to_owned())
            .collect();
        assert_eq!(accounts, ["from-a", "from-b"], "{}", b.name());
    }
}

#[test]
fn concurrent_writers_on_two_handles_lose_no_update() {
    const EACH: usize = 15;
    for b in backends::all("concurrent") {
        b.handle().import(&mut script::start()).unwrap();
        std::thread::scope(|scope| {
            for writer in 0..2 {
                let mut store = b.handle();
                scope.spawn(move || {
                    let mut ws = store.load().unwrap().unwrap();
                    for i in 0..EACH {
                        loop {
                            ws.add_user(&format!("w{writer}-{i}"), None, T0).unwrap();
                            match ws.commit_to(&mut *store) {
                                Ok(()) => break,
                                Err(ModelError::StoreConflict { .. }) => {
                                    ws = store.load().unwrap().unwrap();
                                }
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                });
            }
        });
        let ws = reload(&mut *b.handle());
        assert_eq!(ws.users().len(), 2 * EACH, "{}", b.name());
        for writer in 0..2 {
            for i in 0..EACH {
                assert!(ws.user_by_account(&format!("w{writer}-{i}")).is_some());
            }
        }
    }
}

/// One 100,000-device workspace, built once for the per-backend tests.
fn big() -> &'static Workspace {
    static BIG: OnceLock<Workspace> = OnceLock::new();
    BIG.get_or_init(|| script::fleet(100_000))
}

fn hundred_thousand(b: &Backend) {
    let mut ws = big().clone();
    b.handle().import(&mut ws).unwrap();
    let loaded = reload(&mut *b.handle());
    assert_eq!(loaded.devices().len(), 100_000);
    assert!(loaded == *big(), "{}: reloaded workspace differs", b.name());
}

#[test]
fn a_hundred_thousand_devices_reload_equal_memory() {
    hundred_thousand(&Backend::Memory(mdm_model::MemoryStore::new()));
}

#[cfg(feature = "sqlite")]
#[test]
fn a_hundred_thousand_devices_reload_equal_sqlite() {
    let dir = backends::TempDir::new("big");
    let path = dir.0.join("big.sqlite");
    hundred_thousand(&Backend::Sqlite(dir, path));
}

#[cfg(feature = "postgres")]
#[test]
fn a_hundred_thousand_devices_reload_equal_postgres() {
    if let Some(b) = backends::postgres_backend("big") {
        hundred_thousand(&b);
    }
}
