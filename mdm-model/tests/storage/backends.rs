#![cfg_attr(not(feature = "sqlite"), allow(dead_code, unused_mut))]
//! The backends under test, each opened fresh per test (its own file or
//! PostgreSQL schema, so tests run in parallel), with a way to open more
//! handles on the same store.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use mdm_model::{MemoryStore, WorkspaceStore};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A unique name for this test run's file or schema.
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
        let dir = std::env::temp_dir().join(format!("mdm-storage-{}", unique(tag)));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One store under test.
pub enum Backend {
    Memory(MemoryStore),
    #[cfg(feature = "sqlite")]
    Sqlite(#[allow(dead_code)] TempDir, PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(String, String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "memory",
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(..) => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(..) => "postgres",
        }
    }

    /// A new handle on this store.
    pub fn handle(&self) -> Box<dyn WorkspaceStore + Send> {
        match self {
            Backend::Memory(m) => Box::new(m.clone()),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_, path) => Box::new(mdm_model::SqliteStore::open(path).unwrap()),
            #[cfg(feature = "postgres")]
            Backend::Postgres(conn, schema) => {
                Box::new(mdm_model::PostgresStore::open(conn, schema).unwrap())
            }
        }
    }
}

#[cfg(feature = "postgres")]
impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres(conn, schema) = self
            && let Ok(mut c) = postgres::Client::connect(conn, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
    }
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
            eprintln!(
                "SKIP postgres backend: MDM_TEST_POSTGRES is not set \
                 (e.g. MDM_TEST_POSTGRES='host=/tmp/mdm-pg user=postgres dbname=mdm_test')"
            );
            None
        }
    }
}

/// A fresh PostgreSQL schema for one test.
#[cfg(feature = "postgres")]
pub fn postgres_backend(tag: &str) -> Option<Backend> {
    postgres().map(|c| Backend::Postgres(c, format!("t_{}", unique(tag))))
}

/// Every backend compiled in, each a fresh empty store.
pub fn all(tag: &str) -> Vec<Backend> {
    let mut out = vec![Backend::Memory(MemoryStore::new())];
    #[cfg(feature = "sqlite")]
    {
        let dir = TempDir::new(tag);
        let path = dir.0.join("workspace.sqlite");
        out.push(Backend::Sqlite(dir, path));
    }
    #[cfg(feature = "postgres")]
    out.extend(postgres_backend(tag));
    #[cfg(not(feature = "sqlite"))]
    eprintln!("SKIP sqlite backend: built without feature `sqlite`");
    #[cfg(not(feature = "postgres"))]
    eprintln!("SKIP postgres backend: built without feature `postgres`");
    let _ = tag;
    out
}
