//! Bad input: files and databases that are not a workspace store, or are
//! damaged, or come from the future — each a typed error, never a panic,
//! and nothing overwritten.

use std::path::Path;

use mdm_model::{ModelError, SqliteStore, WorkspaceStore};

use crate::backends::TempDir;
use crate::script;

fn open_err(path: &Path) -> ModelError {
    match SqliteStore::open(path).and_then(|mut s| s.load()) {
        Ok(_) => panic!("{} opened and loaded", path.display()),
        Err(e) => e,
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = TempDir::new("garbage");
    for (name, bytes) in [
        ("text", b"hello, this is not a database\n".repeat(100)),
        (
            "noise",
            (0..65_536u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
    ] {
        let path = dir.0.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let e = open_err(&path);
        assert!(matches!(e, ModelError::StoreCorrupt { .. }), "{name}: {e}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} was changed");
        assert!(!dir.0.join(format!("{name}-wal")).exists());
    }
}

fn saved_store(path: &Path, devices: usize) {
    let mut store = SqliteStore::open(path).unwrap();
    store.import(&mut script::fleet(devices)).unwrap();
    // Dropping the last handle checkpoints the WAL into the file.
}

#[test]
fn a_truncated_store_is_refused_untouched() {
    let dir = TempDir::new("truncated");
    let whole = dir.0.join("whole.sqlite");
    saved_store(&whole, 3000);
    let bytes = std::fs::read(&whole).unwrap();
    assert!(
        !dir.0.join("whole.sqlite-wal").exists()
            || std::fs::metadata(dir.0.join("whole.sqlite-wal"))
                .unwrap()
                .len()
                == 0
    );
    for fraction in [2, 3, 10] {
        let path = dir.0.join(format!("cut{fraction}.sqlite"));
        let cut = &bytes[..bytes.len() * (fraction - 1) / fraction];
        std::fs::write(&path, cut).unwrap();
        let e = open_err(&path);
        assert!(
            matches!(e, ModelError::StoreCorrupt { .. }),
            "cut to {}/{fraction}: {e}",
            fraction - 1
        );
        assert_eq!(std::fs::read(&path).unwrap(), cut, "cut file was changed");
    }
    // Cut inside the header: not even a database any more.
    let path = dir.0.join("header.sqlite");
    std::fs::write(&path, &bytes[..60]).unwrap();
    assert!(matches!(open_err(&path), ModelError::StoreCorrupt { .. }));
    assert_eq!(std::fs::read(&path).unwrap(), &bytes[..60]);
}

#[test]
fn another_applications_database_is_refused_untouched() {
    let dir = TempDir::new("other");
    let path = dir.0.join("shop.sqlite");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ann');")
        .unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    let e = open_err(&path);
    assert!(
        matches!(&e, ModelError::NotAWorkspaceStore { reason, .. } if reason.contains("customers")),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A table called mdm_store, but another application's.
    let path = dir.0.join("impostor.sqlite");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE mdm_store (application TEXT, schema_version INTEGER, revision INTEGER); INSERT INTO mdm_store VALUES ('mdm-lookalike', 1, 0);")
        .unwrap();
    drop(c);
    let e = open_err(&path);
    assert!(matches!(e, ModelError::NotAWorkspaceStore { .. }), "{e}");
}

#[test]
fn a_schema_from_the_future_is_refused_untouched() {
    let dir = TempDir::new("future");
    let path = dir.0.join("future.sqlite");
    saved_store(&path, 10);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("UPDATE mdm_store SET schema_version = 99", [])
        .unwrap();
    c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(c);
    let before = std::fs::read(&path).unwrap();
    let e = open_err(&path);
    assert_eq!(
        e,
        ModelError::StoreSchemaTooNew {
            location: path.display().to_string(),
            found: 99,
            supported: mdm_model::SCHEMA_VERSION,
        }
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn hand_edited_rows_the_model_would_refuse_are_corrupt() {
    let dir = TempDir::new("edited");
    for (n, edit) in [
        "UPDATE devices SET state = 'flying' WHERE id = 3",
        "UPDATE devices SET group_id = NULL WHERE id = 3",
        "UPDATE devices SET last_sync = 'yesterday' WHERE id = 3",
        "UPDATE devices SET owner = 'alice' WHERE id = 3",
        "DELETE FROM devices WHERE id = 2",
        "UPDATE invitations SET state = 'pending', device_id = NULL WHERE id = 1",
        "UPDATE policies SET settings = '{' WHERE id = 0",
        "UPDATE users SET account = '' WHERE id = 0",
        "INSERT INTO users VALUES (5000, 'ghost', NULL)",
        "UPDATE workspace SET invitation_validity_seconds = 9223372036854775807",
    ]
    .iter()
    .enumerate()
    {
        let path = dir.0.join(format!("edit{n}.sqlite"));
        saved_store(&path, 10);
        let c = rusqlite::Connection::open(&path).unwrap();
        let _ = c.execute_batch(edit);
        drop(c);
        let e = open_err(&path);
        assert!(matches!(e, ModelError::StoreCorrupt { .. }), "{edit}: {e}");
    }
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_refuses_another_applications_schema_and_a_future_one() {
    let Some(conn) = crate::backends::postgres() else {
        return;
    };
    let mut admin = postgres::Client::connect(&conn, postgres::NoTls).unwrap();
    let other = format!("t_{}", crate::backends::unique("other"));
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {other}; CREATE TABLE {other}.customers (id bigint)"
        ))
        .unwrap();
    let e = mdm_model::PostgresStore::open(&conn, &other).unwrap_err();
    assert!(matches!(e, ModelError::NotAWorkspaceStore { .. }), "{e}");
    let future = format!("t_{}", crate::backends::unique("future"));
    drop(mdm_model::PostgresStore::open(&conn, &future).unwrap());
    admin
        .batch_execute(&format!(
            "UPDATE {future}.mdm_store SET schema_version = 99"
        ))
        .unwrap();
    let e = mdm_model::PostgresStore::open(&conn, &future).unwrap_err();
    assert!(
        matches!(e, ModelError::StoreSchemaTooNew { found: 99, .. }),
        "{e}"
    );
    let v: i64 = admin
        .query_one(
            &format!("SELECT schema_version FROM {future}.mdm_store"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(v, 99);
    assert!(matches!(
        mdm_model::PostgresStore::open(&conn, "Robert'); DROP TABLE x;--"),
        Err(ModelError::InvalidName { .. })
    ));
    admin
        .batch_execute(&format!(
            "DROP SCHEMA {other} CASCADE; DROP SCHEMA {future} CASCADE"
        ))
        .unwrap();
}
