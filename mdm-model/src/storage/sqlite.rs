//! The SQLite store (feature `sqlite`): one file per workspace, in WAL mode,
//! with the bundled library — a path and nothing to install.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as RawValue};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::session::{SqlDialect, SqlSession, SqlValue, StoreCompanion};
use super::sql::{self, Dialect, Loader, Value, Write};
use super::{Revision, SCHEMA_VERSION, WorkspaceStore};
use crate::{ChangeSet, ModelError, Workspace};

/// How hard each commit pushes to the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// `PRAGMA synchronous = FULL`: a commit is on disk before it returns,
    /// so it survives a power cut (the default).
    #[default]
    Full,
    /// `PRAGMA synchronous = NORMAL`: a commit survives the process
    /// crashing, but the last ones may be lost in a power cut (WAL is
    /// flushed at checkpoints). Faster with many small commits.
    Normal,
}

/// How a [`SqliteStore`] opens its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of each commit.
    pub synchronous: Synchronous,
    /// How long a writer waits for another handle's transaction.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// A workspace kept in an SQLite file (the schema is in the
/// [module documentation](crate::storage)). Several handles (threads or
/// processes) may open one file; commits are serialised by SQLite and
/// checked by revision.
pub struct SqliteStore {
    connection: Connection,
    path: PathBuf,
    seen: Revision,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Int(Some(v)) => ToSqlOutput::Owned(RawValue::Integer(*v)),
            Value::Text(Some(s)) => ToSqlOutput::Borrowed(s.as_str().into()),
            Value::Int(None) | Value::Text(None) => ToSqlOutput::Owned(RawValue::Null),
        })
    }
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` with [`SqliteOptions::default`].
    ///
    /// # Errors
    /// See [`open_with`](Self::open_with).
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens the store at `path`, creating the file and its schema when the
    /// file is new or empty, migrating an older schema. Nothing is written
    /// to a file that is not a workspace store.
    ///
    /// # Errors
    /// [`ModelError::StoreCorrupt`] for a file that is not an SQLite database
    /// or is damaged; [`ModelError::NotAWorkspaceStore`] for another
    /// application's database; [`ModelError::StoreSchemaTooNew`] for a
    /// schema from a newer build; [`ModelError::StoreBackend`] when the file
    /// cannot be opened.
    pub fn open_with(path: &Path, options: SqliteOptions) -> Result<Self, ModelError> {
        Self::open_at_version(path, options, SCHEMA_VERSION)
    }

    /// Opens, migrating at most to `target` (tests make older stores with it).
    pub(crate) fn open_at_version(
        path: &Path,
        options: SqliteOptions,
        target: u32,
    ) -> Result<Self, ModelError> {
        let location = path.display().to_string();
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| backend(&location, "open", &e))?;
        let mut store = Self {
            connection,
            path: path.to_owned(),
            seen: None,
        };
        store
            .connection
            .busy_timeout(options.busy_timeout)
            .map_err(|e| store.error("open", &e))?;
        // Only reads until the file is known to be ours (or empty).
        let found = store.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(ModelError::StoreSchemaTooNew {
                location,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let c = &store.connection;
        let mode: String = c
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| store.error("switch to WAL", &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(store.error_text("switch to WAL", format!("journal mode stayed {mode}")));
        }
        let synchronous = match options.synchronous {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        c.pragma_update(None, "synchronous", synchronous)
            .and_then(|()| c.pragma_update(None, "cache_size", -65_536))
            .map_err(|e| store.error("configure", &e))?;
        c.set_prepared_statement_cache_capacity(32);
        if found < target {
            store.migrate(target)?;
        }
        Ok(store)
    }

    /// The schema version of the file: 0 for an empty database, an error
    /// for something that is not a workspace store.
    fn schema_version(&self) -> Result<u32, ModelError> {
        let tables: Vec<String> = self
            .connection
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.error("read the schema of", &e))?;
        if tables.is_empty() {
            return Ok(0);
        }
        if !tables.iter().any(|t| t == "mdm_store") {
            let mut listed = tables
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if tables.len() > 5 {
                listed.push_str(", …");
            }
            return Err(ModelError::NotAWorkspaceStore {
                location: self.location(),
                reason: format!("it holds tables ({listed}) but no mdm_store"),
            });
        }
        let (application, version): (String, i64) = self
            .connection
            .query_row(
                "SELECT application, schema_version FROM mdm_store",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.corrupt(format!("its mdm_store row cannot be read: {e}")))?;
        if application != sql::APPLICATION {
            return Err(ModelError::NotAWorkspaceStore {
                location: self.location(),
                reason: format!("its mdm_store names application {application:?}"),
            });
        }
        u32::try_from(version)
            .map_err(|_| self.corrupt(format!("schema version {version} in mdm_store")))
    }

    /// Runs the migrations from the file's version to `target`, in one
    /// transaction (another handle may have run them first: checked inside).
    fn migrate(&mut self, target: u32) -> Result<(), ModelError> {
        let location = self.location();
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend(&location, "migrate", &e))?;
        let found: u32 = match tx.query_row("SELECT schema_version FROM mdm_store", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(v) => u32::try_from(v).unwrap_or(u32::MAX),
            Err(_) => 0,
        };
        for version in (found + 1)..=target {
            let statements = sql::migration(Dialect::Sqlite, version).ok_or_else(|| {
                ModelError::StoreBackend {
                    backend: "sqlite",
                    location: location.clone(),
                    operation: "migrate",
                    message: format!("no migration to version {version}"),
                }
            })?;
            tx.execute_batch(&statements)
                .map_err(|e| backend(&location, "migrate", &e))?;
        }
        tx.commit().map_err(|e| backend(&location, "migrate", &e))
    }

    /// The schema version the file has now.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn version(&self) -> Result<u32, ModelError> {
        self.schema_version()
    }

    /// Runs SQLite's `PRAGMA quick_check` over the whole file (O(size):
    /// for an administrator's check, not every open).
    ///
    /// # Errors
    /// [`ModelError::StoreCorrupt`] with SQLite's first finding.
    pub fn check_integrity(&self) -> Result<(), ModelError> {
        let first: String = self
            .connection
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| self.error("check", &e))?;
        if first == "ok" {
            Ok(())
        } else {
            Err(self.corrupt(first))
        }
    }

    fn error(&self, operation: &'static str, e: &rusqlite::Error) -> ModelError {
        backend(&self.location(), operation, e)
    }

    fn error_text(&self, operation: &'static str, message: String) -> ModelError {
        ModelError::StoreBackend {
            backend: "sqlite",
            location: self.location(),
            operation,
            message,
        }
    }

    fn corrupt(&self, reason: String) -> ModelError {
        ModelError::StoreCorrupt {
            location: self.location(),
            reason,
        }
    }
}

/// SQLite's error, as the store's: damage is [`ModelError::StoreCorrupt`].
fn backend(location: &str, operation: &'static str, e: &rusqlite::Error) -> ModelError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => ModelError::StoreCorrupt {
            location: location.into(),
            reason: format!("SQLite cannot {operation} it: {e}"),
        },
        _ => ModelError::StoreBackend {
            backend: "sqlite",
            location: location.into(),
            operation,
            message: e.to_string(),
        },
    }
}

fn read_revision(c: &Connection, location: &str) -> Result<u64, ModelError> {
    let v: i64 = c
        .query_row("SELECT revision FROM mdm_store", [], |r| r.get(0))
        .map_err(|e| backend(location, "read the revision of", &e))?;
    u64::try_from(v).map_err(|_| ModelError::StoreCorrupt {
        location: location.into(),
        reason: format!("revision {v}"),
    })
}

/// Reads every row of `table` in `c`'s current transaction into `loader`.
fn read_table(
    c: &Connection,
    table: &sql::Table,
    location: &str,
    loader: &mut Loader,
) -> Result<(), ModelError> {
    let mut statement = c
        .prepare(&sql::select(table))
        .map_err(|e| backend(location, "load", &e))?;
    let mut rows = statement
        .query([])
        .map_err(|e| backend(location, "load", &e))?;
    while let Some(row) = rows.next().map_err(|e| backend(location, "load", &e))? {
        loader.read_row(table, location, |i, ty| match ty {
            sql::Ty::Int => row.get::<_, Option<i64>>(i).map(Value::Int),
            sql::Ty::Text => row.get::<_, Option<String>>(i).map(Value::Text),
        })?;
    }
    Ok(())
}

/// The audit log read on a connection of its own, in a snapshot of
/// `revision` (the one the caller's transaction reads); `None` when that
/// snapshot is another revision (a commit came between) or the file cannot
/// be opened a second time, so the caller reads it itself.
fn read_audit_beside(path: &Path, revision: u64) -> Result<Option<Loader>, ModelError> {
    let location = path.display().to_string();
    let Ok(mut c) = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return Ok(None);
    };
    let Ok(tx) = c.transaction_with_behavior(TransactionBehavior::Deferred) else {
        return Ok(None);
    };
    // The first read starts the snapshot.
    match read_revision(&tx, &location) {
        Ok(found) if found == revision => {}
        _ => return Ok(None),
    }
    let mut loader = Loader::default();
    read_table(&tx, &sql::AUDIT, &location, &mut loader)?;
    Ok(Some(loader))
}

/// Writes every row of a change set through cached statements.
fn write_all(
    c: &Connection,
    location: &str,
    ws: &Workspace,
    changes: &ChangeSet,
) -> Result<(), ModelError> {
    // The statements' text, built once per commit rather than once per row.
    let texts: Vec<(&str, String, String)> = sql::TABLES
        .iter()
        .map(|t| {
            (
                t.name,
                sql::upsert(Dialect::Sqlite, t),
                sql::delete(Dialect::Sqlite, t),
            )
        })
        .collect();
    let text_of = |table: &sql::Table, upsert: bool| {
        texts
            .iter()
            .find(|(name, _, _)| *name == table.name)
            .map(|(_, u, d)| if upsert { u.as_str() } else { d.as_str() })
            .unwrap_or_default()
    };
    sql::writes(ws, changes, &mut |write| {
        let (text, params) = match &write {
            Write::Upsert(table, row) => (text_of(table, true), row.as_slice()),
            Write::Delete(table, key) => (text_of(table, false), std::slice::from_ref(key)),
        };
        c.prepare_cached(text)
            .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
            .map(drop)
            .map_err(|e| backend(location, "write", &e))
    })
}

impl WorkspaceStore for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&mut self) -> Result<Option<Workspace>, ModelError> {
        let location = self.location();
        let path = self.path.clone();
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(|e| backend(&location, "load", &e))?;
        let revision = read_revision(&tx, &location)?;
        let mut loader = Loader::default();
        // The audit log is the largest table (several records per device):
        // it is read and parsed on a second connection, on a thread of its
        // own, while this one reads the rest — when that connection's
        // snapshot is the same revision; otherwise it is read here after the
        // rest, as before.
        let beside = std::thread::scope(|scope| {
            let audit = std::thread::Builder::new()
                .name("load-audit".into())
                .spawn_scoped(scope, || read_audit_beside(&path, revision));
            for table in sql::TABLES.iter().filter(|t| t.name != sql::AUDIT.name) {
                read_table(&tx, table, &location, &mut loader)?;
            }
            match audit {
                Ok(handle) => handle.join().map_err(|_| ModelError::StoreBackend {
                    backend: "sqlite",
                    location: location.clone(),
                    operation: "load",
                    message: "the thread reading the audit log panicked".into(),
                })?,
                // No thread: read it here.
                Err(_) => Ok(None),
            }
        })?;
        match beside {
            Some(audit) => loader.take_audit(audit),
            None => read_table(&tx, &sql::AUDIT, &location, &mut loader)?,
        }
        drop(tx);
        self.seen = Some(revision);
        let data = loader.finish().map_err(|reason| ModelError::StoreCorrupt {
            location: location.clone(),
            reason,
        })?;
        data.map(|d| super::rebuild(d, &location)).transpose()
    }

    fn import(&mut self, workspace: &mut Workspace) -> Result<(), ModelError> {
        let location = self.location();
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend(&location, "import into", &e))?;
        let held: i64 = tx
            .query_row("SELECT count(*) FROM workspace", [], |r| r.get(0))
            .map_err(|e| backend(&location, "import into", &e))?;
        if held != 0 {
            return Err(ModelError::StoreNotEmpty(location));
        }
        let revision = read_revision(&tx, &location)? + 1;
        write_all(&tx, &location, workspace, &workspace.everything())?;
        tx.execute("UPDATE mdm_store SET revision = revision + 1", [])
            .and_then(|_| tx.commit())
            .map_err(|e| backend(&location, "import into", &e))?;
        self.seen = Some(revision);
        workspace.track_changes();
        Ok(())
    }

    fn commit(&mut self, workspace: &Workspace, changes: &ChangeSet) -> Result<(), ModelError> {
        self.commit_with(workspace, changes, &mut [])
    }

    fn commit_with(
        &mut self,
        workspace: &Workspace,
        changes: &ChangeSet,
        companions: &mut [&mut dyn StoreCompanion],
    ) -> Result<(), ModelError> {
        let location = self.location();
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend(&location, "commit to", &e))?;
        let found = read_revision(&tx, &location)?;
        super::check_revision(self.seen, found, &location)?;
        write_all(&tx, &location, workspace, changes)?;
        super::session::write_companions(
            &mut SqliteSession {
                connection: &*tx,
                location: location.clone(),
            },
            companions,
        )?;
        tx.execute("UPDATE mdm_store SET revision = revision + 1", [])
            .and_then(|_| tx.commit())
            .map_err(|e| backend(&location, "commit to", &e))?;
        self.seen = Some(found + 1);
        Ok(())
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            SqlValue::Int(v) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*v)),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(s.as_str().into()),
            SqlValue::Blob(b) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Blob(b)),
        })
    }
}

fn session_execute(
    c: &Connection,
    location: &str,
    sql: &str,
    params: &[SqlValue],
) -> Result<u64, ModelError> {
    c.prepare_cached(sql)
        .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
        .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
        .map_err(|e| backend(location, "execute a statement in", &e))
}

fn session_query(
    c: &Connection,
    location: &str,
    sql: &str,
    params: &[SqlValue],
    each: &mut dyn FnMut(Vec<SqlValue>) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let err = |e: rusqlite::Error| backend(location, "query", &e);
    let mut statement = c.prepare_cached(sql).map_err(err)?;
    let columns = statement.column_count();
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(err)?;
    while let Some(row) = rows.next().map_err(err)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            use rusqlite::types::ValueRef;
            values.push(match row.get_ref(i).map_err(err)? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(v) => SqlValue::Int(v),
                ValueRef::Real(v) => SqlValue::Text(v.to_string()),
                ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
            });
        }
        each(values)?;
    }
    Ok(())
}

/// SQL statements on a connection: a companion's own (`Connection`), or
/// the one a commit's transaction holds (`&Connection`).
pub(crate) struct SqliteSession<C> {
    connection: C,
    location: String,
}

/// A companion's own connection.
pub(crate) type OwnedSession = SqliteSession<Connection>;

impl SqliteSession<Connection> {
    /// Opens an existing file with the store's settings (WAL, busy timeout).
    pub(crate) fn open(path: &Path, options: SqliteOptions) -> Result<Self, ModelError> {
        let location = path.display().to_string();
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| backend(&location, "open", &e))?;
        connection
            .busy_timeout(options.busy_timeout)
            .and_then(|()| {
                connection.pragma_update(
                    None,
                    "synchronous",
                    match options.synchronous {
                        Synchronous::Full => "FULL",
                        Synchronous::Normal => "NORMAL",
                    },
                )
            })
            .map_err(|e| backend(&location, "open", &e))?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(Self {
            connection,
            location,
        })
    }
}

impl<C: Borrow<Connection>> SqlSession for SqliteSession<C> {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Sqlite
    }
    fn location(&self) -> String {
        self.location.clone()
    }
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, ModelError> {
        session_execute(self.connection.borrow(), &self.location, sql, params)
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        row: &mut dyn FnMut(Vec<SqlValue>) -> Result<(), ModelError>,
    ) -> Result<(), ModelError> {
        session_query(self.connection.borrow(), &self.location, sql, params, row)
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), ModelError> {
        self.connection
            .borrow()
            .execute_batch(sql)
            .map_err(|e| backend(&self.location, "execute statements in", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_schema_is_migrated_on_open() {
        let dir = std::env::temp_dir().join(format!("mdm-sqlite-migrate-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let old = SqliteStore::open_at_version(&dir, SqliteOptions::default(), 1).unwrap();
        assert_eq!(old.version().unwrap(), 1);
        let has_index = |s: &SqliteStore| -> bool {
            s.connection
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'devices_last_sync'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap()
                == 1
        };
        assert!(!has_index(&old));
        drop(old);
        let new = SqliteStore::open(&dir).unwrap();
        assert_eq!(new.version().unwrap(), SCHEMA_VERSION);
        assert!(has_index(&new));
        drop(new);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }

    #[test]
    fn the_audit_log_is_read_beside_only_in_the_same_snapshot() {
        let path =
            std::env::temp_dir().join(format!("mdm-sqlite-audit-beside-{}", std::process::id()));
        let t0 = time::macros::datetime!(2026-11-28 09:00 UTC);
        let mut ws = Workspace::new("w", "W Inc", None, t0).unwrap();
        ws.add_user("alice", None, t0).unwrap();
        let mut store = SqliteStore::open(&path).unwrap();
        store.import(&mut ws).unwrap();
        let revision = read_revision(&store.connection, &store.location()).unwrap();
        let audit = read_audit_beside(&path, revision).unwrap().unwrap();
        assert_eq!(audit.audit_len(), ws.audit_log().len());
        assert!(!ws.audit_log().is_empty(), "the user was audited");
        // Another revision: the caller reads it itself.
        assert!(read_audit_beside(&path, revision + 1).unwrap().is_none());
        // And a load over both connections is the workspace.
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.audit_log(), ws.audit_log());
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
