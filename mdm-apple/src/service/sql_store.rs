//! The durable [`AppleStore`] (features `sqlite` and `postgres`): the
//! service's state in the **same database as the workspace** — the same
//! SQLite file, the same PostgreSQL schema — so that one transaction
//! carries both (issue #18).
//!
//! # One logical step
//! A request changes the workspace (a sync, a wipe, an audit record) and
//! the Apple state (a bound identity, a push token, a queue) together.
//! [`SqlAppleStore`] reads through its own connection but **writes
//! nothing on its own**: what the service changed waits in memory (reads
//! see it at once) until the integrator commits the workspace with the
//! store as a companion:
//!
//! ```no_run
//! # use mdm_apple::{AppleService, SqlAppleStore};
//! # use mdm_model::{SqliteOptions, SqliteStore, WorkspaceStore};
//! # fn run(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
//! let mut workspaces = SqliteStore::open(path)?; // creates or checks the file
//! let mut ws = workspaces.load()?.expect("a tenant");
//! let store = SqlAppleStore::open_sqlite(path, SqliteOptions::default())?;
//! let mut service = AppleService::new(store, vec![/* the device CA */]);
//! // … service.handle(&mut ws, &request, now) for each request of a batch …
//! ws.commit_with(&mut workspaces, &mut [service.store_mut()])?; // one transaction
//! # Ok(()) }
//! ```
//!
//! [`mdm_model::Workspace::commit_with`] writes the workspace's changes and
//! these rows in the workspace store's transaction: a crash before it
//! returns leaves neither, after it both. Answer devices after the commit
//! (or batch requests per commit, as the workspace does). A store used
//! without a workspace commit writes its changes with [`SqlAppleStore::flush`].
//! After [`mdm_model::ModelError::StoreConflict`] (another writer
//! committed first) reload the workspace and [`SqlAppleStore::discard_pending`].
//!
//! # Tables
//! Versioned as component `mdm-apple` in `mdm_components`; migrations run
//! on open and a newer version is refused ([`mdm_model::ModelError::StoreSchemaTooNew`]).
//! Times are text as in the workspace tables; tokens are bytes.
//!
//! | table | columns |
//! |---|---|
//! | `apple_enrollments` | `udid` and `id_kind` (`UDID` or `EnrollmentID`; the key), `device_id` (the model's device), `identity_sha256` (hex), `window_not_before`, `window_not_after`, `topic`, `state` (`new`, `authenticated`, `enrolled`, `checked_out`), `push_token`, `push_magic`, `unlock_token`, `bootstrap_token`, `authenticated` (0/1: the last `Authenticate`'s facts follow), `serial_number`, `os_version`, `build_version`, `product_name`, `model`, `model_name`, `device_name`, `imei`, `meid` |
//! | `apple_expected_identities` | `identity_sha256` (hex), `device_id` |
//! | `apple_commands` | `udid`, `id_kind`, `command_uuid` (the key), `request_type`, `command` (the plist as sent), `status` (`pending`, or the final `Acknowledged`, `Error`, `CommandFormatError`), `position` (queue order of pending commands), `not_now_count`, `deferred` (0/1: `NotNow` in this connection), `result` (the final report, XML), `finished_order` (1, 2, … per device) |
//!
//! ```sql
//! -- enrolled devices and their push targets
//! SELECT udid, device_id, serial_number, hex(push_token), push_magic
//!   FROM apple_enrollments WHERE state = 'enrolled';
//! -- queue depth per device
//! SELECT udid, count(*) FROM apple_commands WHERE status = 'pending' GROUP BY udid;
//! -- failed commands
//! SELECT udid, request_type, result FROM apple_commands WHERE status = 'Error';
//! ```
//!
//! Finished commands are kept by the [`Retention`] rule: the last
//! `finished_per_device` per device, older ones deleted in the commit that
//! finishes a newer one.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use mdm_model::storage::session::time_text;
use mdm_model::storage::{SqlDatabase, SqlRow, SqlSession, SqlValue, StoreCompanion};
use mdm_model::{DeviceId, ModelError, PushTopic, Sha256Digest};

use super::identity::CheckedWindow;
use super::store::{
    AppleStore, EnrollmentRecord, QueueStep, Retention, step_with_queue, step_without_queue,
};
use crate::command::{CommandRequest, parse_command};
use crate::enrollment_state::{AppleEnrollment, EnrollmentState, PushTarget};
use crate::error::{AppleError, Result};
use crate::ids::CommandUuid;
use crate::message::{
    AppleDeviceId, Authenticate, BootstrapToken, CommandReport, DeviceMessage, PushMagic,
    PushToken, UnlockToken, decode,
};
use crate::queue::{CommandQueue, FinishedCommand, PendingCommand};

/// The component name of these tables in `mdm_components`.
pub const APPLE_COMPONENT: &str = "mdm-apple";

/// The migrations of the Apple tables, oldest first; never changed once
/// released.
const MIGRATIONS: [&str; 1] = [
    "CREATE TABLE apple_enrollments (udid TEXT NOT NULL, id_kind TEXT NOT NULL,
        device_id {int} NOT NULL, identity_sha256 TEXT NOT NULL,
        window_not_before {time}, window_not_after {time}, topic TEXT NOT NULL, state TEXT NOT NULL,
        push_token {blob}, push_magic TEXT, unlock_token {blob}, bootstrap_token {blob},
        authenticated {int} NOT NULL, serial_number TEXT, os_version TEXT, build_version TEXT,
        product_name TEXT, model TEXT, model_name TEXT, device_name TEXT, imei TEXT, meid TEXT,
        PRIMARY KEY (udid, id_kind));
     CREATE INDEX apple_enrollments_device ON apple_enrollments (device_id);
     CREATE TABLE apple_expected_identities (identity_sha256 TEXT PRIMARY KEY, device_id {int} NOT NULL);
     CREATE TABLE apple_commands (udid TEXT NOT NULL, id_kind TEXT NOT NULL, command_uuid TEXT NOT NULL,
        request_type TEXT NOT NULL, command {blob} NOT NULL, status TEXT NOT NULL,
        position {int} NOT NULL, not_now_count {int} NOT NULL, deferred {int} NOT NULL,
        result TEXT, finished_order {int},
        PRIMARY KEY (udid, id_kind, command_uuid));
     CREATE INDEX apple_commands_status ON apple_commands (status);",
];

/// The enrollment columns, in the order rows are written and read.
const ENROLLMENT_COLUMNS: [&str; 22] = [
    "udid",
    "id_kind",
    "device_id",
    "identity_sha256",
    "window_not_before",
    "window_not_after",
    "topic",
    "state",
    "push_token",
    "push_magic",
    "unlock_token",
    "bootstrap_token",
    "authenticated",
    "serial_number",
    "os_version",
    "build_version",
    "product_name",
    "model",
    "model_name",
    "device_name",
    "imei",
    "meid",
];

static UPSERT_ENROLLMENT: LazyLock<String> = LazyLock::new(|| {
    let columns = &ENROLLMENT_COLUMNS;
    format!(
        "INSERT INTO apple_enrollments ({}) VALUES ({}) ON CONFLICT (udid, id_kind) DO UPDATE SET {}",
        columns.join(", "),
        (1..=columns.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
        columns[2..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
});

static SELECT_ENROLLMENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM apple_enrollments WHERE udid = $1 AND id_kind = $2",
        ENROLLMENT_COLUMNS.join(", ")
    )
});

const SELECT_QUEUE: &str = "SELECT command_uuid, status, command, not_now_count, deferred FROM apple_commands \
     WHERE udid = $1 AND id_kind = $2 ORDER BY position, command_uuid";
const COUNT_PENDING: &str =
    "SELECT count(*) FROM apple_commands WHERE udid = $1 AND id_kind = $2 AND status = 'pending'";
const SELECT_FINISHED: &str = "SELECT command_uuid, request_type, result FROM apple_commands \
     WHERE udid = $1 AND id_kind = $2 AND status <> 'pending' ORDER BY finished_order";
const INSERT_PENDING: &str = "INSERT INTO apple_commands (udid, id_kind, command_uuid, request_type, command, status, \
     position, not_now_count, deferred) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)";
const UPDATE_PENDING: &str = "UPDATE apple_commands SET position = $1, not_now_count = $2, deferred = $3 \
     WHERE udid = $4 AND id_kind = $5 AND command_uuid = $6 AND status = 'pending'";
const FINISH: &str = "UPDATE apple_commands SET finished_order = (SELECT COALESCE(MAX(finished_order), 0) + 1 \
     FROM apple_commands WHERE udid = $1 AND id_kind = $2), status = $3, result = $4, deferred = 0 \
     WHERE udid = $1 AND id_kind = $2 AND command_uuid = $5";
const PRUNE: &str = "DELETE FROM apple_commands WHERE udid = $1 AND id_kind = $2 AND status <> 'pending' \
     AND finished_order <= (SELECT MAX(finished_order) FROM apple_commands WHERE udid = $1 AND id_kind = $2) - $3";
const INSERT_EXPECTED: &str = "INSERT INTO apple_expected_identities (identity_sha256, device_id) VALUES ($1, $2) \
     ON CONFLICT (identity_sha256) DO UPDATE SET device_id = excluded.device_id";
const DELETE_EXPECTED: &str = "DELETE FROM apple_expected_identities WHERE identity_sha256 = $1";
const SELECT_EXPECTED: &str =
    "SELECT device_id FROM apple_expected_identities WHERE identity_sha256 = $1";
const SELECT_ENROLLED: &str = "SELECT udid, id_kind, device_id FROM apple_enrollments";

/// A device queue loaded for this batch, and what changed in it.
#[derive(Debug)]
struct LoadedQueue {
    queue: CommandQueue,
    /// Commands queued since the last commit (their rows are inserted).
    fresh: Vec<CommandRequest>,
    /// Finished since the last commit, in order.
    finished: Vec<FinishedCommand>,
}

/// What changed since the last commit.
#[derive(Debug, Default)]
struct Pending {
    enrollments: HashMap<AppleDeviceId, EnrollmentRecord>,
    /// `Some`: declared; `None`: taken (to delete).
    expected: HashMap<Sha256Digest, Option<DeviceId>>,
    queues: HashMap<AppleDeviceId, LoadedQueue>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.enrollments.is_empty() && self.expected.is_empty() && self.queues.is_empty()
    }
}

/// Apple enrollments, expected identities and command queues in the
/// workspace's SQLite file or PostgreSQL schema (see the
/// [module documentation](self) for the tables and the one-transaction
/// commit).
pub struct SqlAppleStore {
    db: RefCell<SqlDatabase>,
    location: String,
    retention: Retention,
    pending: Pending,
    /// Enrollments as the database holds them: read from it, or written by
    /// this store's own commits. Kept across commits (a device's every
    /// check-in needs its enrollment) up to [`KNOWN_LIMIT`] entries, and
    /// dropped with the pending changes (after another writer's commit).
    read: RefCell<HashMap<AppleDeviceId, Option<EnrollmentRecord>>>,
    /// Devices the database holds no command queue for, as read; a device
    /// leaves it when a command is queued for it here. Kept like `read`.
    no_queue: HashSet<AppleDeviceId>,
    /// Devices whose stored queue has no pending command (only finished
    /// ones): their `Idle` needs no read. Kept like `read`.
    drained: HashSet<AppleDeviceId>,
}

/// The most enrollments (and queue-less devices) remembered between
/// commits; beyond it the memory is cleared and refilled from the database.
const KNOWN_LIMIT: usize = 200_000;

impl std::fmt::Debug for SqlAppleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAppleStore")
            .field("location", &self.location)
            .field("retention", &self.retention)
            .field("pending", &!self.pending.is_empty())
            .finish_non_exhaustive()
    }
}

fn store_error(e: &ModelError) -> AppleError {
    AppleError::Store {
        reason: e.to_string(),
    }
}

fn encode_error(location: &str, e: &AppleError) -> ModelError {
    ModelError::StoreBackend {
        backend: "apple",
        location: location.into(),
        operation: "encode a row of",
        message: e.to_string(),
    }
}

fn key(device: &AppleDeviceId) -> [SqlValue; 2] {
    let kind = match device {
        AppleDeviceId::Udid(_) => "UDID",
        AppleDeviceId::EnrollmentId(_) => "EnrollmentID",
    };
    [
        SqlValue::Text(device.as_str().into()),
        SqlValue::Text(kind.into()),
    ]
}

fn state_name(state: EnrollmentState) -> &'static str {
    match state {
        EnrollmentState::New => "new",
        EnrollmentState::Authenticated => "authenticated",
        EnrollmentState::Enrolled => "enrolled",
        EnrollmentState::CheckedOut => "checked_out",
    }
}

fn device_int(device: DeviceId) -> SqlValue {
    SqlValue::Int(device.get().into())
}

/// Reads one row's columns in the order `names` gives them (the `SELECT`'s),
/// through the model's [`SqlRow`], each refusal an [`AppleError::Store`]
/// naming the table and the column.
struct Columns<'a> {
    row: SqlRow<'a>,
    names: &'a [&'static str],
    at: usize,
}

impl<'a> Columns<'a> {
    fn new(
        values: Vec<SqlValue>,
        table: &'a str,
        names: &'a [&'static str],
        location: &'a str,
    ) -> Self {
        Self {
            row: SqlRow::new(values, table, location),
            names,
            at: 0,
        }
    }

    fn bad(&self, what: &str) -> AppleError {
        store_error(&self.row.refusal(what))
    }

    fn name(&mut self) -> &'static str {
        let name = self.names.get(self.at).copied().unwrap_or("?");
        self.at += 1;
        name
    }

    fn opt_text(&mut self) -> Result<Option<String>> {
        let name = self.name();
        self.row.opt_text(name).map_err(|e| store_error(&e))
    }

    fn text(&mut self) -> Result<String> {
        let name = self.name();
        self.row.text(name).map_err(|e| store_error(&e))
    }

    fn opt_blob(&mut self) -> Result<Option<Vec<u8>>> {
        let name = self.name();
        self.row.opt_blob(name).map_err(|e| store_error(&e))
    }

    fn int(&mut self) -> Result<i64> {
        let name = self.name();
        self.row.int(name).map_err(|e| store_error(&e))
    }

    fn bool(&mut self) -> Result<bool> {
        let name = self.name();
        self.row.bool(name).map_err(|e| store_error(&e))
    }

    fn device(&mut self) -> Result<DeviceId> {
        let name = self.name();
        self.row.id(name).map_err(|e| store_error(&e))
    }

    fn opt_time(&mut self) -> Result<Option<time::OffsetDateTime>> {
        let name = self.name();
        self.row.opt_time(name).map_err(|e| store_error(&e))
    }
}

fn enrollment_row(device: &AppleDeviceId, r: &EnrollmentRecord) -> Result<Vec<SqlValue>> {
    let window = |t: Option<time::OffsetDateTime>| -> Result<SqlValue> {
        t.map(time_text)
            .transpose()
            .map(SqlValue::opt_text)
            .map_err(|e| store_error(&e))
    };
    let e = &r.enrollment;
    let push = e.push_target();
    let auth = e.last_authenticate();
    let fact = |f: fn(&Authenticate) -> &Option<String>| {
        SqlValue::opt_text(auth.and_then(|a| f(a).clone()))
    };
    let [udid, kind] = key(device);
    Ok(vec![
        udid,
        kind,
        device_int(r.device),
        SqlValue::Text(r.identity.to_hex()),
        window(r.identity_window.map(|w| w.not_before))?,
        window(r.identity_window.map(|w| w.not_after))?,
        SqlValue::Text(e.topic().as_str().into()),
        SqlValue::Text(state_name(e.state()).into()),
        SqlValue::opt_blob(push.map(|p| p.token.as_bytes().to_vec())),
        SqlValue::opt_text(push.map(|p| p.push_magic.as_str().to_owned())),
        SqlValue::opt_blob(e.unlock_token().map(|u| u.as_bytes().to_vec())),
        SqlValue::opt_blob(r.bootstrap_token.as_ref().map(|b| b.as_bytes().to_vec())),
        SqlValue::Int(auth.is_some().into()),
        fact(|a| &a.serial_number),
        fact(|a| &a.os_version),
        fact(|a| &a.build_version),
        fact(|a| &a.product_name),
        fact(|a| &a.model),
        fact(|a| &a.model_name),
        fact(|a| &a.device_name),
        fact(|a| &a.imei),
        fact(|a| &a.meid),
    ])
}

fn enrollment_from(
    device: &AppleDeviceId,
    values: Vec<SqlValue>,
    location: &str,
) -> Result<EnrollmentRecord> {
    let mut c = Columns::new(values, "apple_enrollments", &ENROLLMENT_COLUMNS, location);
    let _udid = c.text()?;
    let _kind = c.text()?;
    let model_device = c.device()?;
    let identity = c.text()?;
    let identity = Sha256Digest::from_hex(&identity).map_err(|e| c.bad(e))?;
    let window = match (c.opt_time()?, c.opt_time()?) {
        (Some(not_before), Some(not_after)) => Some(CheckedWindow {
            not_before,
            not_after,
        }),
        (None, None) => None,
        _ => return Err(c.bad("only one end of the window is set")),
    };
    let topic = c.text()?;
    let topic = PushTopic::parse(&topic).map_err(|e| c.bad(&e.to_string()))?;
    let state = match c.text()?.as_str() {
        "new" => EnrollmentState::New,
        "authenticated" => EnrollmentState::Authenticated,
        "enrolled" => EnrollmentState::Enrolled,
        "checked_out" => EnrollmentState::CheckedOut,
        other => return Err(c.bad(&format!("{other:?} is not a state"))),
    };
    let token = c.opt_blob()?;
    let magic = c.opt_text()?;
    let push = match (token, magic) {
        (Some(token), Some(magic)) => Some(PushTarget {
            token: PushToken::new(token).map_err(|e| c.bad(&e.to_string()))?,
            push_magic: PushMagic::new(magic).map_err(|e| c.bad(&e.to_string()))?,
        }),
        (None, None) => None,
        _ => return Err(c.bad("push token and push magic must be set together")),
    };
    let unlock_token = c.opt_blob()?.map(UnlockToken::new);
    let bootstrap_token = c.opt_blob()?.map(BootstrapToken::new);
    let authenticated = c.bool()?;
    let mut auth = Authenticate::new(topic.clone(), device.clone());
    auth.serial_number = c.opt_text()?;
    auth.os_version = c.opt_text()?;
    auth.build_version = c.opt_text()?;
    auth.product_name = c.opt_text()?;
    auth.model = c.opt_text()?;
    auth.model_name = c.opt_text()?;
    auth.device_name = c.opt_text()?;
    auth.imei = c.opt_text()?;
    auth.meid = c.opt_text()?;
    Ok(EnrollmentRecord {
        device: model_device,
        identity,
        identity_window: window,
        enrollment: AppleEnrollment::from_parts(
            topic,
            state,
            authenticated.then_some(auth),
            push,
            unlock_token,
        ),
        bootstrap_token,
    })
}

impl SqlAppleStore {
    /// Opens the Apple tables in the SQLite workspace store at `path`
    /// (open it with [`mdm_model::SqliteStore::open`] first), creating or
    /// migrating them, keeping [`Retention::DEFAULT`].
    ///
    /// # Errors
    /// [`ModelError::NotAWorkspaceStore`] for a file that is not a
    /// workspace store, [`ModelError::StoreSchemaTooNew`] for Apple tables
    /// of a newer build, [`ModelError::StoreCorrupt`],
    /// [`ModelError::StoreBackend`].
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(
        path: &std::path::Path,
        options: mdm_model::SqliteOptions,
    ) -> std::result::Result<Self, ModelError> {
        Self::over(SqlDatabase::sqlite(path, options)?)
    }

    /// Opens the Apple tables in the PostgreSQL workspace store in
    /// `schema` (open it with [`mdm_model::PostgresStore::open`] first).
    ///
    /// # Errors
    /// As [`Self::open_sqlite`].
    #[cfg(feature = "postgres")]
    pub fn open_postgres(connection: &str, schema: &str) -> std::result::Result<Self, ModelError> {
        Self::over(SqlDatabase::postgres(connection, schema)?)
    }

    fn over(mut db: SqlDatabase) -> std::result::Result<Self, ModelError> {
        db.migrate(APPLE_COMPONENT, &MIGRATIONS)?;
        Ok(Self {
            location: db.location(),
            db: RefCell::new(db),
            retention: Retention::DEFAULT,
            pending: Pending::default(),
            read: RefCell::new(HashMap::new()),
            no_queue: HashSet::new(),
            drained: HashSet::new(),
        })
    }

    /// The same store keeping `retention` instead.
    #[must_use]
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The newest schema version of the Apple tables this build knows.
    pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

    /// Writes the pending changes in a transaction of their own, for a
    /// store used without a workspace commit (the usual way is
    /// [`mdm_model::Workspace::commit_with`], which writes them with the
    /// workspace's).
    ///
    /// # Errors
    /// A database failure; the changes stay pending.
    pub fn flush(&mut self) -> std::result::Result<(), ModelError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Self {
            db,
            pending,
            retention,
            location,
            ..
        } = self;
        db.get_mut()
            .transaction(|s| write(pending, *retention, location, s))?;
        StoreCompanion::committed(self);
        Ok(())
    }

    /// Drops the changes not yet committed (after a
    /// [`ModelError::StoreConflict`], before the request is applied again
    /// to the reloaded workspace).
    pub fn discard_pending(&mut self) {
        self.pending = Pending::default();
        self.read.get_mut().clear();
        self.no_queue.clear();
        self.drained.clear();
    }

    /// Every enrollment's Apple id with the model device it belongs to,
    /// committed or pending, in id order: an administrator's device list
    /// (and the one lookup from model device to Apple id a server needs
    /// after a restart).
    ///
    /// # Errors
    /// [`AppleError::Store`] when the database fails or a row is damaged.
    pub fn enrolled_devices(&self) -> Result<Vec<(AppleDeviceId, DeviceId)>> {
        let mut rows = Vec::new();
        self.db
            .borrow_mut()
            .query(SELECT_ENROLLED, &[], &mut |row| {
                rows.push(row);
                Ok(())
            })
            .map_err(|e| store_error(&e))?;
        let mut found: HashMap<AppleDeviceId, DeviceId> = HashMap::new();
        for row in rows {
            let mut c = Columns::new(
                row,
                "apple_enrollments",
                &["udid", "id_kind", "device_id"],
                &self.location,
            );
            let (id, kind) = (c.text()?, c.text()?);
            let id = match kind.as_str() {
                "UDID" => AppleDeviceId::Udid(id),
                "EnrollmentID" => AppleDeviceId::EnrollmentId(id),
                other => return Err(c.bad(&format!("`{other}` is not UDID or EnrollmentID"))),
            };
            found.insert(id, c.device()?);
        }
        for (id, record) in &self.pending.enrollments {
            found.insert(id.clone(), record.device);
        }
        let mut list: Vec<_> = found.into_iter().collect();
        list.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        Ok(list)
    }

    fn read_enrollment(&self, device: &AppleDeviceId) -> Result<Option<EnrollmentRecord>> {
        let mut found = None;
        self.db
            .borrow_mut()
            .query(&SELECT_ENROLLMENT, &key(device), &mut |row| {
                found = Some(row);
                Ok(())
            })
            .map_err(|e| store_error(&e))?;
        found
            .map(|row| enrollment_from(device, row, &self.location))
            .transpose()
    }

    /// The queue of `device` for this batch (loaded on first use; `None`
    /// when it has no command rows and none were queued in this batch).
    fn loaded_queue(&mut self, device: &AppleDeviceId) -> Result<Option<&mut LoadedQueue>> {
        if !self.pending.queues.contains_key(device) {
            if self.no_queue.contains(device) {
                return Ok(None);
            }
            let Some(loaded) = self.load_queue(device)? else {
                self.no_queue.insert(device.clone());
                return Ok(None);
            };
            if loaded.queue.pending_len() == 0 {
                self.drained.insert(device.clone());
            }
            self.pending.queues.insert(device.clone(), loaded);
        }
        Ok(self.pending.queues.get_mut(device))
    }

    fn load_queue(&self, device: &AppleDeviceId) -> Result<Option<LoadedQueue>> {
        let mut rows = Vec::new();
        self.db
            .borrow_mut()
            .query(SELECT_QUEUE, &key(device), &mut |row| {
                rows.push(row);
                Ok(())
            })
            .map_err(|e| store_error(&e))?;
        if rows.is_empty() {
            return Ok(None);
        }
        const NAMES: [&str; 5] = [
            "command_uuid",
            "status",
            "command",
            "not_now_count",
            "deferred",
        ];
        let (mut pending, mut deferred, mut finished) = (Vec::new(), Vec::new(), Vec::new());
        for row in rows {
            let mut c = Columns::new(row, "apple_commands", &NAMES, &self.location);
            let uuid = CommandUuid::new(c.text()?).map_err(|e| c.bad(&e.to_string()))?;
            if c.text()? != "pending" {
                finished.push(uuid);
                continue;
            }
            let bytes = c.opt_blob()?.ok_or_else(|| c.bad("null"))?;
            let request = parse_command(&bytes).map_err(|e| c.bad(&e.to_string()))?;
            let not_now_count = u32::try_from(c.int()?).map_err(|e| c.bad(&e.to_string()))?;
            if c.bool()? {
                deferred.push(uuid.clone());
            }
            if request.uuid != uuid {
                return Err(c.bad("the command's CommandUUID is not its row's"));
            }
            pending.push(PendingCommand {
                request,
                not_now_count,
            });
        }
        Ok(Some(LoadedQueue {
            queue: CommandQueue::from_parts(device.clone(), pending, deferred, finished),
            fresh: Vec::new(),
            finished: Vec::new(),
        }))
    }
}

/// Writes `pending` through `s` (a transaction).
fn write(
    pending: &Pending,
    retention: Retention,
    location: &str,
    s: &mut dyn SqlSession,
) -> std::result::Result<(), ModelError> {
    let encode = |e: AppleError| encode_error(location, &e);
    for (device, record) in &pending.enrollments {
        s.execute(
            &UPSERT_ENROLLMENT,
            &enrollment_row(device, record).map_err(encode)?,
        )?;
    }
    for (identity, device) in &pending.expected {
        let digest = SqlValue::Text(identity.to_hex());
        match device {
            Some(d) => s.execute(INSERT_EXPECTED, &[digest, device_int(*d)])?,
            None => s.execute(DELETE_EXPECTED, &[digest])?,
        };
    }
    let keep = i64::try_from(retention.finished_per_device).unwrap_or(i64::MAX);
    for (device, loaded) in &pending.queues {
        let [udid, kind] = key(device);
        // Commands queued in this batch get their rows first (a command
        // queued and finished in one batch is then updated like any other).
        for request in &loaded.fresh {
            s.execute(
                INSERT_PENDING,
                &[
                    udid.clone(),
                    kind.clone(),
                    SqlValue::Text(request.uuid.as_str().into()),
                    SqlValue::Text(request.command.request_type().as_str().into()),
                    SqlValue::Blob(request.to_xml().map_err(encode)?),
                    SqlValue::Int(i64::MAX),
                    SqlValue::Int(0),
                    SqlValue::Int(0),
                ],
            )?;
        }
        for done in &loaded.finished {
            let report = done.report.to_xml().map_err(encode)?;
            let report = String::from_utf8(report).map_err(|e| ModelError::StoreBackend {
                backend: "apple",
                location: location.into(),
                operation: "encode a row of",
                message: e.to_string(),
            })?;
            s.execute(
                FINISH,
                &[
                    udid.clone(),
                    kind.clone(),
                    SqlValue::Text(done.report.status.as_str().into()),
                    SqlValue::Text(report),
                    SqlValue::Text(done.uuid.as_str().into()),
                ],
            )?;
        }
        for (position, p) in loaded.queue.pending().enumerate() {
            let uuid = &p.request.uuid;
            s.execute(
                UPDATE_PENDING,
                &[
                    SqlValue::Int(i64::try_from(position).unwrap_or(i64::MAX)),
                    SqlValue::Int(p.not_now_count.into()),
                    SqlValue::Int(loaded.queue.is_deferred(uuid).into()),
                    udid.clone(),
                    kind.clone(),
                    SqlValue::Text(uuid.as_str().into()),
                ],
            )?;
        }
        if !loaded.finished.is_empty() {
            s.execute(PRUNE, &[udid.clone(), kind.clone(), SqlValue::Int(keep)])?;
        }
    }
    Ok(())
}

impl StoreCompanion for SqlAppleStore {
    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn write_pending(
        &mut self,
        session: &mut dyn SqlSession,
    ) -> std::result::Result<(), ModelError> {
        write(&self.pending, self.retention, &self.location, session)
    }

    fn committed(&mut self) {
        // What was written is what the database holds now.
        let written = std::mem::take(&mut self.pending);
        let read = self.read.get_mut();
        if read.len() + written.enrollments.len() > KNOWN_LIMIT {
            read.clear();
        }
        read.extend(
            written
                .enrollments
                .into_iter()
                .map(|(device, record)| (device, Some(record))),
        );
        if self.no_queue.len() > KNOWN_LIMIT {
            self.no_queue.clear();
        }
        if self.drained.len() + written.queues.len() > KNOWN_LIMIT {
            self.drained.clear();
        }
        for (device, loaded) in written.queues {
            if loaded.queue.pending_len() == 0 {
                self.drained.insert(device);
            } else {
                self.drained.remove(&device);
            }
        }
    }
}

impl AppleStore for SqlAppleStore {
    fn enrollment(&self, device: &AppleDeviceId) -> Result<Option<EnrollmentRecord>> {
        if let Some(record) = self.pending.enrollments.get(device) {
            return Ok(Some(record.clone()));
        }
        if let Some(read) = self.read.borrow().get(device) {
            return Ok(read.clone());
        }
        let record = self.read_enrollment(device)?;
        self.read
            .borrow_mut()
            .insert(device.clone(), record.clone());
        Ok(record)
    }

    fn save_enrollment(&mut self, device: &AppleDeviceId, record: EnrollmentRecord) -> Result<()> {
        self.read.get_mut().remove(device);
        self.pending.enrollments.insert(device.clone(), record);
        Ok(())
    }

    fn expect_identity(&mut self, identity: Sha256Digest, device: DeviceId) -> Result<()> {
        self.pending.expected.insert(identity, Some(device));
        Ok(())
    }

    fn take_expected_identity(&mut self, identity: &Sha256Digest) -> Result<Option<DeviceId>> {
        if let Some(slot) = self.pending.expected.get_mut(identity) {
            return Ok(slot.take());
        }
        let mut found = None;
        self.db
            .get_mut()
            .query(
                SELECT_EXPECTED,
                &[SqlValue::Text(identity.to_hex())],
                &mut |row| {
                    found = Some(row);
                    Ok(())
                },
            )
            .map_err(|e| store_error(&e))?;
        let Some(row) = found else {
            return Ok(None);
        };
        let device = Columns::new(
            row,
            "apple_expected_identities",
            &["device_id"],
            &self.location,
        )
        .device()?;
        self.pending.expected.insert(*identity, None);
        Ok(Some(device))
    }

    fn enqueue(&mut self, device: &AppleDeviceId, request: CommandRequest) -> Result<()> {
        self.drained.remove(device);
        if self.loaded_queue(device)?.is_none() {
            self.no_queue.remove(device);
            self.pending.queues.insert(
                device.clone(),
                LoadedQueue {
                    queue: CommandQueue::new(device.clone()),
                    fresh: Vec::new(),
                    finished: Vec::new(),
                },
            );
        }
        match self.pending.queues.get_mut(device) {
            Some(loaded) => {
                loaded.queue.enqueue(request.clone())?;
                loaded.fresh.push(request);
                Ok(())
            }
            None => Err(AppleError::Store {
                reason: format!("{}: the queue of {device} was not loaded", self.location),
            }),
        }
    }

    fn record_report(
        &mut self,
        device: &AppleDeviceId,
        report: &CommandReport,
    ) -> Result<QueueStep> {
        // A new connection from a device with nothing pending: nothing to
        // read, nothing changes (what its loaded queue would answer).
        if report.status == crate::CommandStatus::Idle
            && report.device == *device
            && !self.pending.queues.contains_key(device)
            && self.drained.contains(device)
        {
            return Ok(QueueStep {
                outcome: crate::ReportOutcome::Idle,
                finished: None,
                next: None,
            });
        }
        let Some(loaded) = self.loaded_queue(device)? else {
            return Ok(step_without_queue(device, report));
        };
        let (step, done) = step_with_queue(&mut loaded.queue, report)?;
        loaded.finished.extend(done);
        Ok(step)
    }

    fn pending_commands(&self, device: &AppleDeviceId) -> Result<usize> {
        if let Some(loaded) = self.pending.queues.get(device) {
            return Ok(loaded.queue.pending_len());
        }
        let mut count = 0;
        self.db
            .borrow_mut()
            .query(COUNT_PENDING, &key(device), &mut |row| {
                count = row.first().and_then(SqlValue::as_int).unwrap_or(0);
                Ok(())
            })
            .map_err(|e| store_error(&e))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn finished_commands(&self, device: &AppleDeviceId) -> Result<Vec<FinishedCommand>> {
        let mut rows = Vec::new();
        self.db
            .borrow_mut()
            .query(SELECT_FINISHED, &key(device), &mut |row| {
                rows.push(row);
                Ok(())
            })
            .map_err(|e| store_error(&e))?;
        const NAMES: [&str; 3] = ["command_uuid", "request_type", "result"];
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut c = Columns::new(row, "apple_commands", &NAMES, &self.location);
            let uuid = CommandUuid::new(c.text()?).map_err(|e| c.bad(&e.to_string()))?;
            let request_type = crate::command::RequestType::parse(&c.text()?);
            let result = c.text()?;
            let report = match decode(result.as_bytes()) {
                Ok(DeviceMessage::Report(r)) => r.message,
                Ok(other) => {
                    return Err(c.bad(&format!("a {} where a report belongs", other.kind())));
                }
                Err(e) => return Err(c.bad(&e.to_string())),
            };
            out.push(FinishedCommand {
                uuid,
                request_type,
                report,
            });
        }
        if let Some(loaded) = self.pending.queues.get(device) {
            out.extend(loaded.finished.iter().cloned());
        }
        let excess = out.len().saturating_sub(self.retention.finished_per_device);
        out.drain(..excess);
        Ok(out)
    }
}
