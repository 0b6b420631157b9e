//! State other crates keep in the workspace's database, committed in the
//! workspace's own transaction (issue #18: "what it changes must reach the
//! store in the same logical step, so a crash never leaves the two apart").
//!
//! A *companion* store (the Apple enrollments and command queues of
//! `mdm-apple`, the Android agent queues of `mdm-android`) keeps its tables
//! in the same SQLite file or PostgreSQL schema as the workspace. It reads
//! through its own connection ([`SqlDatabase`]) and holds what it changed
//! in memory until the next commit; [`Workspace::commit_with`] then asks the
//! workspace store to write the workspace's [`ChangeSet`] **and** every
//! companion's pending rows ([`StoreCompanion::write_pending`]) in one
//! transaction. Either all of it is durable or none of it is.
//!
//! Companions speak SQL through [`SqlSession`], one small interface over
//! both backends: statements use `$1`, `$2`, … placeholders (first used in
//! ascending order, which SQLite reads as numbered parameters too), values
//! are [`SqlValue`]s. Their schemas are versioned per component in the
//! table `mdm_components (component, schema_version)` by
//! [`SqlDatabase::migrate`], in the style of the workspace schema:
//! migrations run on open, a newer version is refused.

use crate::{ModelError, Workspace};

use super::WorkspaceStore;

/// One value bound to a statement or read from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqlValue {
    /// SQL `NULL`.
    Null,
    /// An integer (`INTEGER` / `BIGINT`; booleans are 0 and 1).
    Int(i64),
    /// Text (`TEXT`).
    Text(String),
    /// Bytes (`BLOB` / `BYTEA`).
    Blob(Vec<u8>),
}

impl SqlValue {
    /// The integer, if this is one.
    #[must_use]
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The text, if this is text.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes, if these are bytes.
    #[must_use]
    pub fn as_blob(&self) -> Option<&[u8]> {
        match self {
            Self::Blob(v) => Some(v),
            _ => None,
        }
    }

    /// Whether this is `NULL`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Text, or `NULL` for `None`.
    #[must_use]
    pub fn opt_text(v: Option<impl Into<String>>) -> Self {
        v.map_or(Self::Null, |s| Self::Text(s.into()))
    }

    /// Bytes, or `NULL` for `None`.
    #[must_use]
    pub fn opt_blob(v: Option<impl Into<Vec<u8>>>) -> Self {
        v.map_or(Self::Null, |b| Self::Blob(b.into()))
    }

    /// An integer, or `NULL` for `None`.
    #[must_use]
    pub fn opt_int(v: Option<impl Into<i64>>) -> Self {
        v.map_or(Self::Null, |i| Self::Int(i.into()))
    }
}

/// The two SQL dialects a session speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqlDialect {
    /// SQLite (feature `sqlite`).
    Sqlite,
    /// PostgreSQL (feature `postgres`).
    Postgres,
}

impl SqlDialect {
    /// A migration's text in this dialect: `{int}` becomes `INTEGER` /
    /// `BIGINT`, `{blob}` `BLOB` / `BYTEA`, `{time}` a text column that
    /// sorts bytewise (times are stored as the workspace stores them).
    #[must_use]
    pub fn render(self, migration: &str) -> String {
        let (int, blob, time) = match self {
            Self::Sqlite => ("INTEGER", "BLOB", "TEXT"),
            Self::Postgres => ("BIGINT", "BYTEA", "TEXT COLLATE \"C\""),
        };
        migration
            .replace("{int}", int)
            .replace("{blob}", blob)
            .replace("{time}", time)
    }
}

/// SQL statements against one connection, inside or outside a transaction.
pub trait SqlSession {
    /// The dialect of the database.
    fn dialect(&self) -> SqlDialect;

    /// Where the database is, for messages.
    fn location(&self) -> String;

    /// Runs one statement with `$1`, `$2`, … bound to `params`; how many
    /// rows it changed.
    ///
    /// # Errors
    /// [`ModelError::StoreBackend`] when the database refuses it.
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, ModelError>;

    /// Runs a query and hands each row's values, in column order, to `row`.
    ///
    /// # Errors
    /// [`ModelError::StoreBackend`], or what `row` returns.
    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        row: &mut dyn FnMut(Vec<SqlValue>) -> Result<(), ModelError>,
    ) -> Result<(), ModelError>;

    /// Runs statements without parameters, separated by `;` (migrations).
    ///
    /// # Errors
    /// [`ModelError::StoreBackend`].
    fn execute_batch(&mut self, sql: &str) -> Result<(), ModelError>;
}

/// State kept beside a workspace in its database, written in the
/// workspace's commit transaction.
pub trait StoreCompanion {
    /// Whether it holds changes the next commit must write.
    fn has_pending(&self) -> bool;

    /// Writes its pending changes through `session`, inside the commit's
    /// transaction: they become durable with the workspace's rows, or not
    /// at all. Called once per commit; must not commit or roll back.
    ///
    /// # Errors
    /// A [`ModelError`]; the whole transaction is then rolled back.
    fn write_pending(&mut self, session: &mut dyn SqlSession) -> Result<(), ModelError>;

    /// The transaction that carried [`Self::write_pending`]'s rows
    /// committed: the pending changes are durable and can be dropped.
    fn committed(&mut self);
}

impl Workspace {
    /// Commits what changed since the last commit to `store` together with
    /// the pending changes of `companions`, in **one** transaction (see the
    /// [module documentation](crate::storage::session)). When it fails,
    /// the workspace's changes are kept and every companion keeps its
    /// pending changes, so the next commit writes them; after
    /// [`ModelError::StoreConflict`] reload instead (and drop the
    /// companions' pending changes).
    ///
    /// # Errors
    /// Those of [`WorkspaceStore::commit_with`].
    pub fn commit_with<S: WorkspaceStore + ?Sized>(
        &mut self,
        store: &mut S,
        companions: &mut [&mut dyn StoreCompanion],
    ) -> Result<(), ModelError> {
        let changes = self.take_changes();
        if changes.is_empty() && !companions.iter().any(|c| c.has_pending()) {
            return Ok(());
        }
        match store.commit_with(self, &changes, companions) {
            Ok(()) => {
                for companion in companions.iter_mut() {
                    companion.committed();
                }
                Ok(())
            }
            Err(e) => {
                self.restore_changes(changes);
                Err(e)
            }
        }
    }
}

/// Writes every companion's pending changes in `session` (a commit's
/// transaction).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn write_companions(
    session: &mut dyn SqlSession,
    companions: &mut [&mut dyn StoreCompanion],
) -> Result<(), ModelError> {
    for companion in companions.iter_mut() {
        if companion.has_pending() {
            companion.write_pending(session)?;
        }
    }
    Ok(())
}

/// The refusal of a store that cannot carry companions' rows (one in
/// memory): an error when any companion has pending changes.
pub(crate) fn no_companions(
    location: String,
    companions: &[&mut dyn StoreCompanion],
) -> Result<(), ModelError> {
    if companions.iter().any(|c| c.has_pending()) {
        Err(ModelError::StoreBackend {
            backend: "memory",
            location,
            operation: "commit companion state to",
            message: "a store in memory holds no SQL tables; keep companion state in memory too"
                .into(),
        })
    } else {
        Ok(())
    }
}

/// The next schema version of a companion, refused when newer than this
/// build's `supported`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn check_component_version(
    location: &str,
    component: &str,
    found: i64,
    supported: usize,
) -> Result<u32, ModelError> {
    let found = u32::try_from(found).map_err(|_| ModelError::StoreCorrupt {
        location: location.into(),
        reason: format!("schema version {found} of {component} in mdm_components"),
    })?;
    let supported = u32::try_from(supported).unwrap_or(u32::MAX);
    if found > supported {
        return Err(ModelError::StoreSchemaTooNew {
            location: format!("{location} ({component})"),
            found,
            supported,
        });
    }
    Ok(found)
}

/// A companion's own connection to the workspace's database: its reads,
/// its migrations, and writes of its own outside a workspace commit.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub struct SqlDatabase {
    inner: Backend,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite(super::sqlite::OwnedSession),
    #[cfg(feature = "postgres")]
    Postgres(Box<super::postgres::OwnedSession>),
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl std::fmt::Debug for SqlDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlDatabase")
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl SqlDatabase {
    /// A connection to the SQLite workspace store at `path`, which must
    /// exist and be one (open it with [`super::SqliteStore::open`] first:
    /// that creates, checks and migrates the workspace's tables).
    ///
    /// # Errors
    /// [`ModelError::NotAWorkspaceStore`], [`ModelError::StoreCorrupt`],
    /// [`ModelError::StoreBackend`].
    #[cfg(feature = "sqlite")]
    pub fn sqlite(
        path: &std::path::Path,
        options: super::SqliteOptions,
    ) -> Result<Self, ModelError> {
        let session = super::sqlite::OwnedSession::open(path, options)?;
        let mut db = Self {
            inner: Backend::Sqlite(session),
        };
        db.require_workspace_store()?;
        Ok(db)
    }

    /// A connection to the PostgreSQL workspace store in `schema` (open
    /// it with [`super::PostgresStore::open`] first).
    ///
    /// # Errors
    /// As [`super::PostgresStore::open`].
    #[cfg(feature = "postgres")]
    pub fn postgres(connection: &str, schema: &str) -> Result<Self, ModelError> {
        let session = super::postgres::OwnedSession::connect(connection, schema)?;
        let mut db = Self {
            inner: Backend::Postgres(Box::new(session)),
        };
        db.require_workspace_store()?;
        Ok(db)
    }

    fn session(&mut self) -> &mut dyn SqlSession {
        match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s,
            #[cfg(feature = "postgres")]
            Backend::Postgres(s) => &mut **s,
        }
    }

    fn require_workspace_store(&mut self) -> Result<(), ModelError> {
        let location = self.location();
        let mut found = None;
        let probe = self
            .session()
            .query("SELECT application FROM mdm_store", &[], &mut |row| {
                found = row.into_iter().next();
                Ok(())
            });
        match (probe, found) {
            (Ok(()), Some(SqlValue::Text(a))) if a == super::sql::APPLICATION => Ok(()),
            (Err(e @ ModelError::StoreCorrupt { .. }), _) => Err(e),
            (_, other) => Err(ModelError::NotAWorkspaceStore {
                location,
                reason: format!(
                    "no mdm_store row of a workspace store (found {other:?}); open it as a workspace store first"
                ),
            }),
        }
    }

    /// Runs `f` in one transaction (SQLite `BEGIN IMMEDIATE`; PostgreSQL
    /// read committed): committed when `f` returns `Ok`, rolled back
    /// otherwise.
    ///
    /// # Errors
    /// What `f` returns, or [`ModelError::StoreBackend`].
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn SqlSession) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        let session = self.session();
        let (begin, commit) = match session.dialect() {
            SqlDialect::Sqlite => ("BEGIN IMMEDIATE", "COMMIT"),
            SqlDialect::Postgres => ("BEGIN", "COMMIT"),
        };
        session.execute_batch(begin)?;
        match f(&mut *session) {
            Ok(value) => match session.execute_batch(commit) {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = session.execute_batch("ROLLBACK");
                    Err(e)
                }
            },
            Err(e) => {
                let _ = session.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Brings the tables of `component` to the newest of `migrations`
    /// (migration `n`, from 1, makes version `n`; their text is rendered
    /// with [`SqlDialect::render`]), in one transaction; returns the
    /// version found before. A version newer than `migrations.len()` is
    /// refused and nothing is changed.
    ///
    /// # Errors
    /// [`ModelError::StoreSchemaTooNew`], [`ModelError::StoreCorrupt`],
    /// [`ModelError::StoreBackend`].
    pub fn migrate(&mut self, component: &str, migrations: &[&str]) -> Result<u32, ModelError> {
        self.migrate_to(component, migrations, migrations.len())
    }

    /// As [`Self::migrate`], stopping at version `target` (tests make
    /// older stores with it).
    ///
    /// # Errors
    /// As [`Self::migrate`].
    #[doc(hidden)]
    pub fn migrate_to(
        &mut self,
        component: &str,
        migrations: &[&str],
        target: usize,
    ) -> Result<u32, ModelError> {
        let location = self.location();
        self.transaction(|s| {
            let dialect = s.dialect();
            if dialect == SqlDialect::Postgres {
                s.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))",
                    &[SqlValue::Text(format!("mdm_components {component}"))],
                )?;
            }
            s.execute_batch(&dialect.render(
                "CREATE TABLE IF NOT EXISTS mdm_components (component TEXT PRIMARY KEY, schema_version {int} NOT NULL)",
            ))?;
            let mut found = 0;
            s.query(
                "SELECT schema_version FROM mdm_components WHERE component = $1",
                &[SqlValue::Text(component.into())],
                &mut |row| {
                    found = row.first().and_then(SqlValue::as_int).unwrap_or(0);
                    Ok(())
                },
            )?;
            let found = check_component_version(&location, component, found, migrations.len())?;
            let from = usize::try_from(found).unwrap_or(usize::MAX);
            for migration in migrations.iter().take(target).skip(from) {
                s.execute_batch(&dialect.render(migration))?;
            }
            if target > from {
                let version = i64::try_from(target).unwrap_or(i64::MAX);
                s.execute(
                    "INSERT INTO mdm_components (component, schema_version) VALUES ($1, $2) \
                     ON CONFLICT (component) DO UPDATE SET schema_version = excluded.schema_version",
                    &[SqlValue::Text(component.into()), SqlValue::Int(version)],
                )?;
            }
            Ok(found)
        })
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl SqlSession for SqlDatabase {
    fn dialect(&self) -> SqlDialect {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s.dialect(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(s) => s.dialect(),
        }
    }

    fn location(&self) -> String {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s.location(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(s) => s.location(),
        }
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, ModelError> {
        self.session().execute(sql, params)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        row: &mut dyn FnMut(Vec<SqlValue>) -> Result<(), ModelError>,
    ) -> Result<(), ModelError> {
        self.session().query(sql, params, row)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), ModelError> {
        self.session().execute_batch(sql)
    }
}

/// A time as the stores keep it: UTC text with nine fractional digits
/// (`2026-11-28T09:00:00.000000000Z`), which sorts as the time does.
///
/// # Errors
/// [`ModelError::StoreBackend`] for a year outside 0000-9999.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub fn time_text(t: time::OffsetDateTime) -> Result<String, ModelError> {
    super::sql::time_text(t)
}

/// Reads [`time_text`]'s form back.
///
/// # Errors
/// What is wrong with the text.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub fn parse_time(text: &str) -> Result<time::OffsetDateTime, String> {
    super::sql::parse_time(text)
}
