#![cfg_attr(not(feature = "sqlite"), allow(dead_code, unused_mut))]
//! The stores under test, each fresh per test (its own file or schema), and
//! reopening one as a restarted server would.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use mdm_apple::{AppleStore, MemoryStore, Retention};
use mdm_model::WorkspaceStore;
use mdm_model::storage::StoreCompanion;

/// An Apple store that can take part in a workspace commit.
pub trait Durable: AppleStore + StoreCompanion + Send {}
impl<T: AppleStore + StoreCompanion + Send> Durable for T {}

static NEXT: AtomicU32 = AtomicU32::new(0);

pub fn unique(tag: &str) -> String {
    format!(
        "{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mdm-apple-store-{}", unique(tag)));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub enum Backend {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite(#[allow(dead_code)] TempDir, PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(String, String),
}

#[cfg(feature = "postgres")]
impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres(conn, schema) = self {
            let _ = drop_schema(conn, schema);
        }
    }
}

#[cfg(feature = "postgres")]
fn drop_schema(conn: &str, schema: &str) -> Result<(), mdm_model::ModelError> {
    use mdm_model::storage::SqlSession as _;
    // The store's own connection drops its schema: no driver needed here.
    let mut db = mdm_model::storage::SqlDatabase::postgres(conn, schema)?;
    db.execute_batch(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
}

/// The PostgreSQL connection string, or `None` (with the reason printed)
/// outside CI; in CI a missing database is a failure.
#[cfg(feature = "postgres")]
pub fn postgres() -> Option<String> {
    match std::env::var("MDM_TEST_POSTGRES") {
        Ok(c) if !c.trim().is_empty() => Some(c),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but MDM_TEST_POSTGRES is not set: the PostgreSQL store must be tested")
        }
        _ => {
            eprintln!("SKIP postgres backend: MDM_TEST_POSTGRES is not set");
            None
        }
    }
}

/// Every backend compiled in.
pub fn all(tag: &str) -> Vec<Backend> {
    let mut out = vec![Backend::Memory];
    #[cfg(feature = "sqlite")]
    {
        let dir = TempDir::new(tag);
        let path = dir.0.join("store.sqlite");
        out.push(Backend::Sqlite(dir, path));
    }
    #[cfg(feature = "postgres")]
    out.extend(postgres().map(|c| Backend::Postgres(c, format!("a_{}", unique(tag)))));
    #[cfg(not(feature = "sqlite"))]
    eprintln!("SKIP sqlite backend: built without feature `sqlite`");
    #[cfg(not(feature = "postgres"))]
    eprintln!("SKIP postgres backend: built without feature `postgres`");
    let _ = tag;
    out
}

/// The workspace store and the Apple store of one server process.
pub struct Stores {
    pub workspace: Box<dyn WorkspaceStore + Send>,
    pub apple: Box<dyn Durable>,
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(..) => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(..) => "postgres",
        }
    }

    pub fn durable(&self) -> bool {
        !matches!(self, Backend::Memory)
    }

    /// Opens both stores (fresh ones for memory).
    pub fn open(&self, retention: Retention) -> Stores {
        match self {
            Backend::Memory => Stores {
                workspace: Box::new(mdm_model::MemoryStore::new()),
                apple: Box::new(MemoryStore::with_retention(retention)),
            },
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_, path) => Stores {
                workspace: Box::new(mdm_model::SqliteStore::open(path).unwrap()),
                apple: Box::new(
                    mdm_apple::SqlAppleStore::open_sqlite(path, Default::default())
                        .unwrap()
                        .with_retention(retention),
                ),
            },
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn, schema) => Stores {
                workspace: Box::new(mdm_model::PostgresStore::open(conn, schema).unwrap()),
                apple: Box::new(
                    mdm_apple::SqlAppleStore::open_postgres(conn, schema)
                        .unwrap()
                        .with_retention(retention),
                ),
            },
        }
    }
}
