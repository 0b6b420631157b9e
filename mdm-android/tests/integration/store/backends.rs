//! The stores under test: mdm-model's shared test backends (a fresh store
//! in memory, an SQLite file, a PostgreSQL schema from `MDM_TEST_POSTGRES`),
//! and the Android store opened on each, as a restarted server would.

use mdm_android::{AndroidStore, MemoryAndroidStore};
use mdm_model::WorkspaceStore;
use mdm_model::storage::Retention;
pub use mdm_model::storage::test_support::Backend;
#[cfg(feature = "sqlite")]
use mdm_model::storage::test_support::TempDir;
#[cfg(feature = "postgres")]
pub use mdm_model::storage::test_support::{postgres, unique};

#[cfg(feature = "sqlite")]
pub fn temp_dir(tag: &str) -> TempDir {
    TempDir::new("mdm-android-store", tag)
}

/// Every backend compiled into mdm-android. mdm-model may have more (a
/// workspace build unifies its features with other members'); those are
/// left out, since this crate has no Android store for them.
pub fn all(tag: &str) -> Vec<Backend> {
    Backend::all("mdm-android-store", tag)
        .into_iter()
        // The arms are constants per build, so clippy sees a `matches!`
        // in a build without the features; it is a table of features.
        .filter(|b| {
            #[allow(clippy::match_like_matches_macro)]
            match b.name() {
                "sqlite" => cfg!(feature = "sqlite"),
                "postgres" => cfg!(feature = "postgres"),
                _ => true,
            }
        })
        .collect()
}

/// The workspace store and the Android store of one server process.
pub struct Stores {
    pub workspace: Box<dyn WorkspaceStore + Send>,
    pub android: Box<dyn AndroidStore>,
}

/// Opens both stores (fresh ones for memory).
pub fn open(b: &Backend, retention: Retention) -> Stores {
    // The workspace store first: it creates the file or schema and its tables.
    let workspace = b.workspace_store();
    let android: Box<dyn AndroidStore> = match b {
        Backend::Memory => Box::new(MemoryAndroidStore::with_retention(retention)),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite(_, path) => Box::new(
            mdm_android::SqlAndroidStore::open_sqlite(path, Default::default())
                .unwrap()
                .with_retention(retention),
        ),
        #[cfg(feature = "postgres")]
        Backend::Postgres(conn, schema) => Box::new(
            mdm_android::SqlAndroidStore::open_postgres(conn, schema)
                .unwrap()
                .with_retention(retention),
        ),
        #[allow(unreachable_patterns)]
        _ => unreachable!("a backend this build does not have"),
    };
    Stores { workspace, android }
}
