//! `simulate --store` (issue #18): a run persisted to SQLite or PostgreSQL
//! gives the report of the same run in memory, byte for byte, and its
//! store, opened again, holds the fleet's devices and commands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use harness::{Options, Report, StoreSpec, simulate, simulate_stored};
use mdm_model::storage::test_support::{TempDir, drop_postgres_schema, postgres, unique};
use mdm_model::{Platform, WorkspaceStore as _};

const DEVICES: u32 = 200;
const DAYS: u32 = 4;

fn options() -> Options {
    Options::new("baseline", DEVICES, DAYS, 11).unwrap()
}

fn memory_report() -> Report {
    simulate(&options(), &mut |_, _| {}).unwrap()
}

fn stored(spec: StoreSpec, schema: &str) -> (Report, harness::StoreCheck) {
    let mut opts = options();
    opts.store = Some(spec);
    opts.store_schema = schema.to_owned();
    let (report, check) = simulate_stored(&opts, &mut |_, _| {}).unwrap();
    (report, check.expect("a durable store is checked"))
}

fn android_devices(ws: &mdm_model::Workspace) -> usize {
    ws.devices()
        .iter()
        .filter(|d| d.platform() == Platform::Android)
        .count()
}

#[test]
fn a_run_on_sqlite_reports_as_in_memory_and_leaves_its_fleet_in_the_file() {
    let dir = TempDir::new("harness-sim-store", "sqlite");
    let path = dir.path().join("sim.db");
    let memory = memory_report();
    let (report, check) = stored(StoreSpec::Sqlite(path.clone()), "unused");
    assert_eq!(report.to_json().unwrap(), memory.to_json().unwrap());
    assert!(check.commits >= u64::from(DAYS) * 24, "{check:?}");
    assert!(check.finished_commands > 0, "{check:?}");

    // Through the store API: the workspace and the Android commands.
    let mut store = mdm_model::SqliteStore::open(&path).unwrap();
    let ws = store.load().unwrap().expect("a workspace");
    assert_eq!(ws.devices().len(), check.devices);
    assert!(ws.devices().len() as u64 >= memory.enrolled.total());
    assert!(android_devices(&ws) > 0);
    let android = mdm_android::SqlAndroidStore::open_sqlite(&path, Default::default()).unwrap();
    let finished: usize = ws
        .devices()
        .iter()
        .map(|d| {
            mdm_android::AndroidStore::finished_commands(&android, d.id())
                .unwrap()
                .len()
        })
        .sum();
    let apple = mdm_apple::SqlAppleStore::open_sqlite(&path, Default::default()).unwrap();
    let enrolled = apple.enrolled_devices().unwrap();
    assert_eq!(enrolled.len(), check.apple_enrollments);
    let apple_finished: usize = enrolled
        .iter()
        .map(|(id, _)| {
            mdm_apple::AppleStore::finished_commands(&apple, id)
                .unwrap()
                .len()
        })
        .sum();
    // A few days of the baseline finish Apple commands; Android ones come later.
    assert!(apple_finished > 0);
    assert_eq!(finished + apple_finished, check.finished_commands);

    // And as an administrator would, with their own connection.
    let admin = rusqlite::Connection::open(&path).unwrap();
    let devices: i64 = admin
        .query_row("SELECT count(*) FROM devices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(devices).unwrap(), check.devices);
}

#[test]
fn a_second_run_into_the_same_file_is_refused() {
    let dir = TempDir::new("harness-sim-store", "twice");
    let path = dir.path().join("sim.db");
    let mut opts = Options::new("baseline", 20, 1, 3).unwrap();
    opts.store = Some(StoreSpec::Sqlite(path));
    simulate_stored(&opts, &mut |_, _| {}).unwrap();
    let again = simulate_stored(&opts, &mut |_, _| {});
    match again {
        Err(harness::HarnessError::Store { message, .. }) => {
            assert!(message.contains("already holds a workspace"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|(_, c)| c)),
    }
}

#[test]
fn a_run_on_postgres_reports_as_in_memory_and_leaves_its_fleet_in_the_schema() {
    let Some(connection) = postgres() else { return };
    let schema = format!("sim_{}", unique("store"));
    let memory = memory_report();
    let (report, check) = stored(StoreSpec::Postgres(connection.clone()), &schema);
    let reloaded = {
        let mut store = mdm_model::PostgresStore::open(&connection, &schema).unwrap();
        let ws = store.load().unwrap().expect("a workspace");
        let mut admin = postgres::Client::connect(&connection, postgres::NoTls).unwrap();
        let row = admin
            .query_one(&format!("SELECT count(*) FROM \"{schema}\".devices"), &[])
            .unwrap();
        let counted: i64 = row.get(0);
        (ws.devices().len(), android_devices(&ws), counted)
    };
    drop_postgres_schema(&connection, &schema);
    assert_eq!(report.to_json().unwrap(), memory.to_json().unwrap());
    assert!(check.finished_commands > 0, "{check:?}");
    let (devices, android, counted) = reloaded;
    assert_eq!(devices, check.devices);
    assert!(android > 0);
    assert_eq!(usize::try_from(counted).unwrap(), check.devices);
}
