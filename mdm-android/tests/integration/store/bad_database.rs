//! Bad databases are typed errors, never a panic and never a silent
//! overwrite: garbage, a file that is not a workspace store, another
//! application's database, Android tables from a newer build, damaged rows.

use mdm_android::{
    AGENT_PACKAGE, AgentCommandKind, AndroidEndpoint, AndroidError, SqlAndroidStore,
};
use mdm_model::ModelError;
use mdm_model::storage::{Retention, SqlDatabase, SqlSession as _};

use super::backends::{self, Backend};
use super::fixture::{NOW, Server};
use crate::integration::fixtures::android_settings;

#[test]
fn files_that_are_not_our_store_are_refused_untouched() {
    let dir = backends::temp_dir("bad");
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let err = SqlAndroidStore::open_sqlite(&junk, Default::default()).unwrap_err();
    assert!(matches!(err, ModelError::StoreCorrupt { .. }), "{err:?}");
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        vec![0x5a; 8192],
        "left untouched"
    );
    let absent = dir.path().join("absent.sqlite");
    let err = SqlAndroidStore::open_sqlite(&absent, Default::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::StoreBackend { .. } | ModelError::NotAWorkspaceStore { .. }
        ),
        "{err:?}"
    );
    // Another application's database (made with the sqlite3 tool's library).
    let other = dir.path().join("other.sqlite");
    drop(mdm_model::SqliteStore::open(&other).unwrap());
    let mut db = SqlDatabase::sqlite(&other, Default::default()).unwrap();
    db.execute_batch("UPDATE mdm_store SET application = 'someone else'")
        .unwrap();
    drop(db);
    let err = SqlAndroidStore::open_sqlite(&other, Default::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::NotAWorkspaceStore { .. } | ModelError::StoreCorrupt { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn android_tables_from_a_newer_build_are_refused() {
    let dir = backends::temp_dir("future");
    let path = dir.path().join("store.sqlite");
    drop(mdm_model::SqliteStore::open(&path).unwrap());
    drop(SqlAndroidStore::open_sqlite(&path, Default::default()).unwrap());
    let mut db = SqlDatabase::sqlite(&path, Default::default()).unwrap();
    db.execute_batch(
        "UPDATE mdm_components SET schema_version = 99 WHERE component = 'mdm-android'",
    )
    .unwrap();
    let err = SqlAndroidStore::open_sqlite(&path, Default::default()).unwrap_err();
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
    assert_eq!(SqlAndroidStore::SCHEMA_VERSION, 1);
    let mut version = 0;
    db.query(
        "SELECT schema_version FROM mdm_components WHERE component = 'mdm-android'",
        &[],
        &mut |row| {
            version = row[0].as_int().unwrap();
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(version, 99, "the newer schema is not touched");
}

#[test]
fn damaged_rows_are_store_errors_naming_the_column() {
    let dir = backends::temp_dir("rows");
    let path = dir.path().join("rows.sqlite");
    let b = Backend::Sqlite(None, path.clone());
    let mut s = Server::start(&b, Retention::DEFAULT);
    let d = s.devices[0];
    let policy = s.ws.effective_policy(d).unwrap().id();
    s.endpoint
        .set_android_settings(policy, android_settings())
        .unwrap();
    s.sync(0, vec![], NOW).unwrap();
    s.endpoint
        .commands
        .enqueue(&s.ws, d, AgentCommandKind::Lock, NOW)
        .unwrap();
    s.commit().unwrap();
    drop(s);
    let mut db = SqlDatabase::sqlite(&path, Default::default()).unwrap();
    let endpoint = || {
        SqlAndroidStore::open_sqlite(&path, Default::default())
            .map_err(|source| AndroidError::Store {
                operation: "open",
                source,
            })
            .and_then(|store| AndroidEndpoint::with_store(AGENT_PACKAGE, store))
    };
    for (damage, repair, column) in [
        (
            "UPDATE android_commands SET kind = 'REBOOT'",
            "UPDATE android_commands SET kind = 'LOCK'",
            "android_commands.kind",
        ),
        (
            "UPDATE android_commands SET issued_at = 'yesterday'",
            "UPDATE android_commands SET issued_at = '2026-11-28T09:00:00.000000000Z'",
            "android_commands.issued_at",
        ),
        (
            "UPDATE android_commands SET device_id = -4",
            "UPDATE android_commands SET device_id = 0",
            "android_commands.device_id",
        ),
        (
            "UPDATE android_policy_settings SET settings = '{\"cameraAccess\": 7'",
            "UPDATE android_policy_settings SET settings = '{}'",
            "android_policy_settings.settings",
        ),
        (
            "UPDATE android_agents SET applied_configuration_version = 'zz'",
            "UPDATE android_agents SET applied_configuration_version = NULL",
            "android_agents.applied_configuration_version",
        ),
        (
            "UPDATE android_queue SET last_command_id = 0",
            "UPDATE android_queue SET last_command_id = 1",
            "last_command_id",
        ),
    ] {
        db.execute_batch(damage).unwrap();
        match endpoint() {
            Err(AndroidError::Store {
                source: ModelError::StoreCorrupt { reason, .. },
                ..
            }) => assert!(reason.contains(column), "{damage}: {reason}"),
            other => panic!("{damage}: {other:?}"),
        }
        db.execute_batch(repair).unwrap();
    }
    let repaired = endpoint().unwrap();
    assert_eq!(repaired.commands.pending(d).len(), 1);
}
