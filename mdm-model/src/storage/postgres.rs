//! The PostgreSQL store (feature `postgres`): one schema per workspace in a
//! database a server shares, through the synchronous `postgres` client.
//! Batches are written one statement per table (`UNNEST` of one array per
//! column), so a commit of 10,000 device syncs is a handful of round trips.

use std::borrow::BorrowMut;
use std::collections::HashMap;
use std::ops::DerefMut;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, IsolationLevel, NoTls, Statement};

use super::session::{SqlDialect, SqlSession, SqlValue, StoreCompanion};
use super::sql::{self, Dialect, Loader, Table, Ty, Value, Write};
use super::{Revision, SCHEMA_VERSION, WorkspaceStore};
use crate::{ChangeSet, ModelError, Workspace};

/// A workspace kept in one schema of a PostgreSQL database (the tables are
/// in the [module documentation](crate::storage)). Any number of
/// connections may open one schema; commits are checked by revision.
pub struct PostgresStore {
    client: Client,
    location: String,
    statements: HashMap<&'static str, (Statement, Statement)>,
    companion_statements: HashMap<String, Statement>,
    seen: Revision,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

fn pg_error(location: &str, operation: &'static str, e: &postgres::Error) -> ModelError {
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    ModelError::StoreBackend {
        backend: "postgres",
        location: location.into(),
        operation,
        message,
    }
}

/// A schema name this store accepts: a plain lower-case identifier, so it
/// needs no quoting rules beyond double quotes.
fn check_schema(schema: &str) -> Result<(), ModelError> {
    let ok = (1..=63).contains(&schema.len())
        && schema
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ModelError::InvalidName {
            what: "PostgreSQL schema name",
            reason: "it must be 1-63 characters of a-z, 0-9 and _, not starting with a digit",
        })
    }
}

impl PostgresStore {
    /// Connects with `connection` (a libpq-style string such as
    /// `host=/tmp/mdm-pg user=postgres dbname=mdm` or a `postgresql://` URL)
    /// and opens the workspace in `schema`, creating the schema and its
    /// tables when absent and migrating an older version. A schema that
    /// holds other tables, or a newer version, is left untouched.
    ///
    /// # Errors
    /// [`ModelError::InvalidName`] for a schema name that is not a plain
    /// identifier; [`ModelError::NotAWorkspaceStore`];
    /// [`ModelError::StoreSchemaTooNew`]; [`ModelError::StoreCorrupt`];
    /// [`ModelError::StoreBackend`] when the server cannot be reached.
    pub fn open(connection: &str, schema: &str) -> Result<Self, ModelError> {
        check_schema(schema)?;
        let location = format!("postgres schema {schema}");
        let mut client = Client::connect(connection, NoTls)
            .map_err(|e| pg_error(&location, "connect to", &e))?;
        let err = |op| {
            let location = location.clone();
            move |e: postgres::Error| pg_error(&location, op, &e)
        };
        let mut tx = client.transaction().map_err(err("open"))?;
        // One opener at a time per schema: creating and migrating race otherwise.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&schema])
            .map_err(err("lock"))?;
        let tables: Vec<String> = tx
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
                &[&schema],
            )
            .map_err(err("read the schema of"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let found = if tables.is_empty() {
            0
        } else if !tables.iter().any(|t| t == "mdm_store") {
            return Err(ModelError::NotAWorkspaceStore {
                location,
                reason: format!(
                    "it holds tables ({}) but no mdm_store",
                    tables
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        } else {
            let row = tx
                .query_one(
                    &format!("SELECT application, schema_version FROM \"{schema}\".mdm_store"),
                    &[],
                )
                .map_err(|e| ModelError::StoreCorrupt {
                    location: location.clone(),
                    reason: format!("its mdm_store row cannot be read: {e}"),
                })?;
            let application: String = row.get(0);
            let version: i64 = row.get(1);
            if application != sql::APPLICATION {
                return Err(ModelError::NotAWorkspaceStore {
                    location,
                    reason: format!("its mdm_store names application {application:?}"),
                });
            }
            u32::try_from(version).map_err(|_| ModelError::StoreCorrupt {
                location: location.clone(),
                reason: format!("schema version {version} in mdm_store"),
            })?
        };
        if found > SCHEMA_VERSION {
            return Err(ModelError::StoreSchemaTooNew {
                location,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\""
        ))
        .map_err(err("create"))?;
        for version in (found + 1)..=SCHEMA_VERSION {
            let statements = sql::migration(Dialect::Postgres, version).ok_or_else(|| {
                ModelError::StoreBackend {
                    backend: "postgres",
                    location: location.clone(),
                    operation: "migrate",
                    message: format!("no migration to version {version}"),
                }
            })?;
            tx.batch_execute(&statements).map_err(err("migrate"))?;
        }
        tx.commit().map_err(err("open"))?;
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\""))
            .map_err(err("open"))?;
        let mut statements = HashMap::new();
        for table in sql::TABLES {
            let upsert = client
                .prepare(&sql::upsert(Dialect::Postgres, table))
                .map_err(err("prepare"))?;
            let delete = client
                .prepare(&sql::delete(Dialect::Postgres, table))
                .map_err(err("prepare"))?;
            statements.insert(table.name, (upsert, delete));
        }
        Ok(Self {
            client,
            location,
            statements,
            companion_statements: HashMap::new(),
            seen: None,
        })
    }
}

/// Rows of one table gathered column by column, written in one statement.
struct Batch {
    table: &'static Table,
    ints: Vec<Vec<Option<i64>>>,
    texts: Vec<Vec<Option<String>>>,
    deletes: Vec<Option<String>>,
    int_deletes: Vec<Option<i64>>,
}

impl Batch {
    fn new(table: &'static Table) -> Self {
        let count = |ty| table.columns.iter().filter(|(_, t)| *t == ty).count();
        Self {
            table,
            ints: vec![Vec::new(); count(Ty::Int)],
            texts: vec![Vec::new(); count(Ty::Text)],
            deletes: Vec::new(),
            int_deletes: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Value>) {
        let (mut i, mut t) = (0, 0);
        for value in row {
            match value {
                Value::Int(v) => {
                    if let Some(column) = self.ints.get_mut(i) {
                        column.push(v);
                    }
                    i += 1;
                }
                Value::Text(v) => {
                    if let Some(column) = self.texts.get_mut(t) {
                        column.push(v);
                    }
                    t += 1;
                }
            }
        }
    }

    fn flush(
        self,
        tx: &mut postgres::Transaction<'_>,
        statements: &HashMap<&'static str, (Statement, Statement)>,
        location: &str,
    ) -> Result<(), ModelError> {
        let Some((upsert, delete)) = statements.get(self.table.name) else {
            return Ok(());
        };
        if self.ints.first().is_some_and(|c| !c.is_empty())
            || self.texts.first().is_some_and(|c| !c.is_empty())
        {
            let (mut i, mut t) = (self.ints.iter(), self.texts.iter());
            let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(self.table.columns.len());
            for (_, ty) in self.table.columns {
                let next: Option<&(dyn ToSql + Sync)> = match ty {
                    Ty::Int => i.next().map(|c| c as &(dyn ToSql + Sync)),
                    Ty::Text => t.next().map(|c| c as &(dyn ToSql + Sync)),
                };
                params.extend(next);
            }
            tx.execute(upsert, &params)
                .map_err(|e| pg_error(location, "write", &e))?;
        }
        if !self.deletes.is_empty() {
            tx.execute(delete, &[&self.deletes])
                .map_err(|e| pg_error(location, "write", &e))?;
        }
        if !self.int_deletes.is_empty() {
            tx.execute(delete, &[&self.int_deletes])
                .map_err(|e| pg_error(location, "write", &e))?;
        }
        Ok(())
    }
}

/// Writes every row of a change set, one batch per table.
fn write_all(
    tx: &mut postgres::Transaction<'_>,
    statements: &HashMap<&'static str, (Statement, Statement)>,
    location: &str,
    ws: &Workspace,
    changes: &ChangeSet,
) -> Result<(), ModelError> {
    let mut batch: Option<Batch> = None;
    sql::writes(ws, changes, &mut |write| {
        let table = match &write {
            Write::Upsert(table, _) | Write::Delete(table, _) => *table,
        };
        if batch
            .as_ref()
            .is_some_and(|b| !std::ptr::eq(b.table, table))
            && let Some(done) = batch.take()
        {
            done.flush(tx, statements, location)?;
        }
        let current = batch.get_or_insert_with(|| Batch::new(table));
        match write {
            Write::Upsert(_, row) => current.push(row),
            Write::Delete(_, Value::Text(key)) => current.deletes.push(key),
            Write::Delete(_, Value::Int(key)) => current.int_deletes.push(key),
        }
        Ok(())
    })?;
    match batch {
        Some(done) => done.flush(tx, statements, location),
        None => Ok(()),
    }
}

impl WorkspaceStore for PostgresStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn load(&mut self) -> Result<Option<Workspace>, ModelError> {
        let location = self.location.clone();
        let err = |e: postgres::Error| pg_error(&location, "load", &e);
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(err)?;
        let revision: i64 = tx
            .query_one("SELECT revision FROM mdm_store", &[])
            .map_err(err)?
            .get(0);
        let mut loader = Loader::default();
        for table in sql::TABLES {
            let mut rows = tx
                .query_raw(
                    &sql::select(table),
                    std::iter::empty::<&(dyn ToSql + Sync)>(),
                )
                .map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                loader.read_row(table, &location, |i, ty| match ty {
                    Ty::Int => row.try_get::<_, Option<i64>>(i).map(Value::Int),
                    Ty::Text => row.try_get::<_, Option<String>>(i).map(Value::Text),
                })?;
            }
        }
        tx.commit().map_err(err)?;
        self.seen = Some(u64::try_from(revision).unwrap_or(0));
        let data = loader.finish().map_err(|reason| ModelError::StoreCorrupt {
            location: location.clone(),
            reason,
        })?;
        data.map(|d| super::rebuild(d, &location)).transpose()
    }

    fn import(&mut self, workspace: &mut Workspace) -> Result<(), ModelError> {
        let location = self.location.clone();
        let err = |e: postgres::Error| pg_error(&location, "import into", &e);
        let mut tx = self.client.transaction().map_err(err)?;
        // Holds the row lock to the end: a second importer waits, then sees the rows.
        let revision: i64 = tx
            .query_one("SELECT revision FROM mdm_store FOR UPDATE", &[])
            .map_err(err)?
            .get(0);
        let held: i64 = tx
            .query_one("SELECT count(*) FROM workspace", &[])
            .map_err(err)?
            .get(0);
        if held != 0 {
            return Err(ModelError::StoreNotEmpty(location));
        }
        write_all(
            &mut tx,
            &self.statements,
            &location,
            workspace,
            &workspace.everything(),
        )?;
        tx.execute("UPDATE mdm_store SET revision = revision + 1", &[])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        self.seen = Some(u64::try_from(revision).unwrap_or(0) + 1);
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
        let location = self.location.clone();
        let err = |e: postgres::Error| pg_error(&location, "commit to", &e);
        let mut tx = self.client.transaction().map_err(err)?;
        let found: i64 = tx
            .query_one("SELECT revision FROM mdm_store FOR UPDATE", &[])
            .map_err(err)?
            .get(0);
        let found = u64::try_from(found).unwrap_or(0);
        super::check_revision(self.seen, found, &location)?;
        write_all(&mut tx, &self.statements, &location, workspace, changes)?;
        super::session::write_companions(
            &mut PostgresSession {
                client: &mut tx,
                location: location.clone(),
                cache: &mut self.companion_statements,
            },
            companions,
        )?;
        tx.execute("UPDATE mdm_store SET revision = revision + 1", &[])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        self.seen = Some(found + 1);
        Ok(())
    }
}

impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            SqlValue::Text(t) => t.as_str().to_sql(ty, out),
            SqlValue::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The values of a row, by column type.
fn row_values(row: &postgres::Row) -> Result<Vec<SqlValue>, postgres::Error> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        values.push(
            match *ty {
                Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(SqlValue::Int),
                Type::INT4 => row
                    .try_get::<_, Option<i32>>(i)?
                    .map(|v| SqlValue::Int(v.into())),
                Type::INT2 => row
                    .try_get::<_, Option<i16>>(i)?
                    .map(|v| SqlValue::Int(v.into())),
                Type::BOOL => row
                    .try_get::<_, Option<bool>>(i)?
                    .map(|v| SqlValue::Int(v.into())),
                Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(SqlValue::Blob),
                _ => row.try_get::<_, Option<String>>(i)?.map(SqlValue::Text),
            }
            .unwrap_or(SqlValue::Null),
        );
    }
    Ok(values)
}

fn bind(params: &[SqlValue]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A prepared statement from `cache`, prepared on first use.
fn prepared<C: postgres::GenericClient + ?Sized>(
    client: &mut C,
    cache: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, postgres::Error> {
    if let Some(s) = cache.get(sql) {
        return Ok(s.clone());
    }
    let statement = client.prepare(sql)?;
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

fn session_execute<C: postgres::GenericClient + ?Sized>(
    client: &mut C,
    cache: &mut HashMap<String, Statement>,
    location: &str,
    sql: &str,
    params: &[SqlValue],
) -> Result<u64, ModelError> {
    let err = |e: postgres::Error| pg_error(location, "execute a statement in", &e);
    let statement = prepared(client, cache, sql).map_err(err)?;
    client.execute(&statement, &bind(params)).map_err(err)
}

fn session_query<C: postgres::GenericClient + ?Sized>(
    client: &mut C,
    cache: &mut HashMap<String, Statement>,
    location: &str,
    sql: &str,
    params: &[SqlValue],
    each: &mut dyn FnMut(Vec<SqlValue>) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let err = |e: postgres::Error| pg_error(location, "query", &e);
    let statement = prepared(client, cache, sql).map_err(err)?;
    for row in client.query(&statement, &bind(params)).map_err(err)? {
        each(row_values(&row).map_err(err)?)?;
    }
    Ok(())
}

/// SQL statements on a client: a companion's own (`Box<Client>`), or a
/// commit's transaction (`&mut Transaction`), with a statement cache.
pub(crate) struct PostgresSession<C, K> {
    client: C,
    location: String,
    cache: K,
}

type Cache = HashMap<String, Statement>;

/// A companion's own connection.
pub(crate) type OwnedSession = PostgresSession<Box<Client>, Cache>;

impl PostgresSession<Box<Client>, Cache> {
    /// Connects and sets the search path to `schema`.
    pub(crate) fn connect(connection: &str, schema: &str) -> Result<Self, ModelError> {
        check_schema(schema)?;
        let location = format!("postgres schema {schema}");
        let mut client = Client::connect(connection, NoTls)
            .map_err(|e| pg_error(&location, "connect to", &e))?;
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\""))
            .map_err(|e| pg_error(&location, "open", &e))?;
        Ok(Self {
            client: Box::new(client),
            location,
            cache: HashMap::new(),
        })
    }
}

impl<C, K> SqlSession for PostgresSession<C, K>
where
    C: DerefMut,
    C::Target: postgres::GenericClient,
    K: BorrowMut<Cache>,
{
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Postgres
    }
    fn location(&self) -> String {
        self.location.clone()
    }
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, ModelError> {
        session_execute(
            &mut *self.client,
            self.cache.borrow_mut(),
            &self.location,
            sql,
            params,
        )
    }
    fn query(
        &mut self,
        sql: &str,
        params: &[SqlValue],
        row: &mut dyn FnMut(Vec<SqlValue>) -> Result<(), ModelError>,
    ) -> Result<(), ModelError> {
        session_query(
            &mut *self.client,
            self.cache.borrow_mut(),
            &self.location,
            sql,
            params,
            row,
        )
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), ModelError> {
        postgres::GenericClient::batch_execute(&mut *self.client, sql)
            .map_err(|e| pg_error(&self.location, "execute statements in", &e))
    }
}
