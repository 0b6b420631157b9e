//! Where a run keeps the server's state (`simulate --store`): in memory
//! (the default), or in a SQLite file or PostgreSQL schema where every
//! sync and every command is persisted — the workspace
//! ([`mdm_model::SqliteStore`], [`mdm_model::PostgresStore`]), the Apple
//! service's state ([`SqlAppleStore`]) and the Android endpoint's
//! ([`SqlAndroidStore`]) committed together, one transaction per commit
//! (`Workspace::commit_with`); the engine commits once per simulated hour.
//!
//! The run reads from memory: the Apple service's store is a
//! [`SimAppleStore`], which answers from its [`MemoryStore`] and hands
//! every change to the durable store as well, so a run's answers, and its
//! report, do not depend on the store. At the end the store is opened
//! again and what it holds is compared with the run's state
//! ([`Durable::verify`]).

use std::sync::Mutex;

use mdm_android::{AGENT_PACKAGE, AndroidEndpoint, AndroidStore as _, SqlAndroidStore};
use mdm_apple::{
    AppleDeviceId, AppleError, AppleStore, CommandQueue, CommandReport, CommandRequest,
    EnrollmentRecord, FinishedCommand, MemoryStore, QueueStep, ReportOutcome, SqlAppleStore,
};
use mdm_model::storage::StoreCompanion;
use mdm_model::{DeviceId, ModelError, Platform, Sha256Digest, Workspace, WorkspaceStore};

use crate::{HarnessError, StoreSpec};

/// The Apple service's store in a run: the memory store every read is
/// answered from and, with a durable store, the SQL store every change is
/// also told to (its rows are written at the next commit).
#[derive(Debug, Default)]
pub(crate) struct SimAppleStore {
    memory: MemoryStore,
    /// Behind a lock only so the service can be shared by the threads that
    /// read it (reads never touch it; writes hold `&mut self`).
    durable: Option<Mutex<SqlAppleStore>>,
}

fn poisoned() -> AppleError {
    AppleError::Store {
        reason: "the durable Apple store's lock was poisoned".into(),
    }
}

impl SimAppleStore {
    /// The queue of `device`, if it ever had a command.
    pub(crate) fn queue(&self, device: &AppleDeviceId) -> Option<&CommandQueue> {
        self.memory.queue(device)
    }

    fn durable(&mut self) -> mdm_apple::Result<Option<&mut SqlAppleStore>> {
        self.durable
            .as_mut()
            .map(|m| m.get_mut().map_err(|_| poisoned()))
            .transpose()
    }

    /// The durable store, as a companion of the workspace's commit.
    fn companion(&mut self) -> Result<Option<&mut dyn StoreCompanion>, HarnessError> {
        match self.durable.as_mut() {
            None => Ok(None),
            Some(m) => m
                .get_mut()
                .map(|s| Some(s as &mut dyn StoreCompanion))
                .map_err(|_| HarnessError::Internal("the durable Apple store's lock was poisoned")),
        }
    }
}

impl AppleStore for SimAppleStore {
    fn enrollment(&self, device: &AppleDeviceId) -> mdm_apple::Result<Option<EnrollmentRecord>> {
        self.memory.enrollment(device)
    }

    fn save_enrollment(
        &mut self,
        device: &AppleDeviceId,
        record: EnrollmentRecord,
    ) -> mdm_apple::Result<()> {
        if let Some(sql) = self.durable()? {
            sql.save_enrollment(device, record.clone())?;
        }
        self.memory.save_enrollment(device, record)
    }

    fn expect_identity(
        &mut self,
        identity: Sha256Digest,
        device: DeviceId,
    ) -> mdm_apple::Result<()> {
        if let Some(sql) = self.durable()? {
            sql.expect_identity(identity, device)?;
        }
        self.memory.expect_identity(identity, device)
    }

    fn take_expected_identity(
        &mut self,
        identity: &Sha256Digest,
    ) -> mdm_apple::Result<Option<DeviceId>> {
        let taken = self.memory.take_expected_identity(identity)?;
        if let Some(sql) = self.durable()? {
            // Only a declared identity has a row to delete.
            if taken.is_some() {
                sql.take_expected_identity(identity)?;
            }
        }
        Ok(taken)
    }

    fn enqueue(
        &mut self,
        device: &AppleDeviceId,
        request: CommandRequest,
    ) -> mdm_apple::Result<()> {
        if let Some(sql) = self.durable()? {
            sql.enqueue(device, request.clone())?;
        }
        self.memory.enqueue(device, request)
    }

    fn record_report(
        &mut self,
        device: &AppleDeviceId,
        report: &CommandReport,
    ) -> mdm_apple::Result<QueueStep> {
        // Whether an `Idle` will change the queue: it clears the commands
        // deferred (`NotNow`) in the last connection, if any.
        let had_deferred = self
            .memory
            .queue(device)
            .is_some_and(|q| q.pending().any(|p| q.is_deferred(&p.request.uuid)));
        let step = self.memory.record_report(device, report)?;
        // Only a report that changed the queue's stored state goes to the
        // durable store (which would otherwise read the queue back from
        // the database, to change nothing): a command finished, one was
        // deferred, or an `Idle` made deferred commands eligible again.
        // Duplicates, unknown commands and the `Idle` of a device with
        // nothing deferred (nearly every check-in) change no row.
        let changed = match &step.outcome {
            ReportOutcome::Finished(..) | ReportOutcome::Deferred(_) => true,
            ReportOutcome::Idle => had_deferred,
            _ => false,
        };
        if changed && let Some(sql) = self.durable()? {
            sql.record_report(device, report)?;
        }
        Ok(step)
    }

    fn pending_commands(&self, device: &AppleDeviceId) -> mdm_apple::Result<usize> {
        self.memory.pending_commands(device)
    }

    fn finished_commands(&self, device: &AppleDeviceId) -> mdm_apple::Result<Vec<FinishedCommand>> {
        self.memory.finished_commands(device)
    }
}

/// What a durable store holds at the end of a run, read back from a fresh
/// handle and found equal to the run's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCheck {
    /// Where it is (`sqlite:PATH`, `postgres:…`).
    pub location: String,
    /// Commits the run made.
    pub commits: u64,
    /// Devices in the reloaded workspace.
    pub devices: usize,
    /// Apple enrollments in the reloaded Apple store.
    pub apple_enrollments: usize,
    /// Commands pending in the reloaded stores (Apple and Android).
    pub pending_commands: usize,
    /// Finished commands kept in the reloaded stores (Apple and Android).
    pub finished_commands: usize,
}

/// The durable side of a run: the workspace's store (the Apple and
/// Android stores are inside the service and the endpoint).
pub(crate) struct Durable {
    spec: StoreSpec,
    schema: String,
    workspaces: Box<dyn WorkspaceStore + Send>,
    commits: u64,
}

/// The stores of a run, as [`Durable::open`] opens them.
pub(crate) struct Opened {
    pub(crate) durable: Option<Durable>,
    pub(crate) apple: SimAppleStore,
    pub(crate) android: AndroidEndpoint,
}

fn store_error(step: &'static str) -> impl Fn(ModelError) -> HarnessError {
    move |e| HarnessError::Store {
        step,
        message: e.to_string(),
    }
}

fn android_error(step: &'static str) -> impl Fn(mdm_android::AndroidError) -> HarnessError {
    move |e| HarnessError::Store {
        step,
        message: e.to_string(),
    }
}

fn apple_error(step: &'static str) -> impl Fn(AppleError) -> HarnessError {
    move |e| HarnessError::Store {
        step,
        message: e.to_string(),
    }
}

type Handles = (
    Box<dyn WorkspaceStore + Send>,
    SqlAppleStore,
    SqlAndroidStore,
);

fn handles(spec: &StoreSpec, schema: &str) -> Result<Handles, HarnessError> {
    Ok(match spec {
        StoreSpec::Sqlite(path) => {
            let workspaces =
                mdm_model::SqliteStore::open(path).map_err(store_error("open the SQLite store"))?;
            let apple = SqlAppleStore::open_sqlite(path, mdm_model::SqliteOptions::default())
                .map_err(store_error("open the SQLite Apple store"))?;
            let android = SqlAndroidStore::open_sqlite(path, mdm_model::SqliteOptions::default())
                .map_err(store_error("open the SQLite Android store"))?;
            (Box::new(workspaces), apple, android)
        }
        StoreSpec::Postgres(connection) => {
            let workspaces = mdm_model::PostgresStore::open(connection, schema)
                .map_err(store_error("open the PostgreSQL store"))?;
            let apple = SqlAppleStore::open_postgres(connection, schema)
                .map_err(store_error("open the PostgreSQL Apple store"))?;
            let android = SqlAndroidStore::open_postgres(connection, schema)
                .map_err(store_error("open the PostgreSQL Android store"))?;
            (Box::new(workspaces), apple, android)
        }
    })
}

impl Durable {
    /// The stores of a run: in memory without `spec`; otherwise the store
    /// `spec` names (PostgreSQL: in `schema`), which must be empty, with
    /// `ws` imported into it.
    pub(crate) fn open(
        spec: Option<&StoreSpec>,
        schema: &str,
        ws: &mut Workspace,
    ) -> Result<Opened, HarnessError> {
        let Some(spec) = spec else {
            return Ok(Opened {
                durable: None,
                apple: SimAppleStore::default(),
                android: AndroidEndpoint::default(),
            });
        };
        let (mut workspaces, apple, android) = handles(spec, schema)?;
        match workspaces.import(ws) {
            Ok(()) => {}
            Err(ModelError::StoreNotEmpty(_)) => {
                return Err(HarnessError::Store {
                    step: "import the workspace",
                    message: format!(
                        "{} already holds a workspace: simulate needs an empty store (a new SQLite file, or a PostgreSQL schema {schema} that does not exist)",
                        spec.describe()
                    ),
                });
            }
            Err(e) => return Err(store_error("import the workspace")(e)),
        }
        let android = AndroidEndpoint::with_store(AGENT_PACKAGE, android)
            .map_err(android_error("open the Android endpoint"))?;
        Ok(Opened {
            durable: Some(Self {
                spec: spec.clone(),
                schema: schema.to_owned(),
                workspaces,
                commits: 0,
            }),
            apple: SimAppleStore {
                memory: MemoryStore::new(),
                durable: Some(Mutex::new(apple)),
            },
            android,
        })
    }

    /// Writes what changed in the workspace, the Apple store and the
    /// Android endpoint since the last commit, in one transaction.
    pub(crate) fn commit(
        &mut self,
        ws: &mut Workspace,
        apple: &mut SimAppleStore,
        android: &mut AndroidEndpoint,
    ) -> Result<(), HarnessError> {
        let mut companions: Vec<&mut dyn StoreCompanion> = vec![android.companion()];
        companions.extend(apple.companion()?);
        ws.commit_with(self.workspaces.as_mut(), &mut companions)
            .map_err(store_error("commit"))?;
        self.commits += 1;
        Ok(())
    }

    /// Opens the store again and checks it holds what the run holds: the
    /// workspace's devices, users and invitations, the Apple enrollments,
    /// and each device's pending and finished commands on both platforms.
    pub(crate) fn verify(
        &self,
        ws: &Workspace,
        apple: &SimAppleStore,
        android: &AndroidEndpoint,
    ) -> Result<StoreCheck, HarnessError> {
        let (mut workspaces, reopened_apple, reopened_android) = handles(&self.spec, &self.schema)?;
        let loaded = workspaces
            .load()
            .map_err(store_error("reload the workspace"))?
            .ok_or_else(|| mismatch("the store holds no workspace".into()))?;
        same("devices", ws.devices().len(), loaded.devices().len())?;
        same("users", ws.users().len(), loaded.users().len())?;
        same(
            "invitations",
            ws.invitations().len(),
            loaded.invitations().len(),
        )?;
        for (mine, theirs) in ws.devices().iter().zip(loaded.devices()) {
            if mine.id() != theirs.id()
                || mine.state() != theirs.state()
                || mine.last_sync() != theirs.last_sync()
            {
                return Err(mismatch(format!(
                    "device {}: the run has {:?} (last sync {:?}), the store {:?} (last sync {:?})",
                    mine.id(),
                    mine.state(),
                    mine.last_sync(),
                    theirs.state(),
                    theirs.last_sync()
                )));
            }
        }
        let enrolled = reopened_apple
            .enrolled_devices()
            .map_err(apple_error("read the Apple enrollments"))?;
        let mut pending = 0;
        let mut finished = 0;
        for device in ws.devices() {
            if device.platform() == Platform::Android {
                let id = device.id();
                let run_finished = android
                    .commands
                    .finished(id)
                    .map_err(android_error("read the run's Android history"))?;
                let stored_finished = reopened_android
                    .finished_commands(id)
                    .map_err(android_error("read the stored Android history"))?;
                same(
                    "finished Android commands of a device",
                    run_finished.len(),
                    stored_finished.len(),
                )?;
                finished += stored_finished.len();
            }
        }
        let snapshot = {
            let mut store = reopened_android;
            store
                .load()
                .map_err(android_error("reload the Android queues"))?
        };
        let run_pending: usize = ws
            .devices()
            .iter()
            .map(|d| android.commands.pending(d.id()).len())
            .sum();
        same(
            "pending Android commands",
            run_pending,
            snapshot.pending.len(),
        )?;
        pending += snapshot.pending.len();
        for (apple_id, _) in &enrolled {
            if apple
                .enrollment(apple_id)
                .map_err(apple_error("read the run's enrollment"))?
                .is_none()
            {
                return Err(mismatch(format!(
                    "the store has an enrollment of {} the run does not",
                    apple_id.as_str()
                )));
            }
        }
        let apple_enrollments = enrolled.len();
        for queue in apple.memory.queues() {
            let id = queue.device();
            let p = reopened_apple
                .pending_commands(id)
                .map_err(apple_error("read the stored Apple queue"))?;
            let f = reopened_apple
                .finished_commands(id)
                .map_err(apple_error("read the stored Apple history"))?
                .len();
            same(
                "pending Apple commands of a device",
                apple
                    .pending_commands(id)
                    .map_err(apple_error("read the run's queue"))?,
                p,
            )?;
            same(
                "finished Apple commands of a device",
                apple
                    .finished_commands(id)
                    .map_err(apple_error("read the run's history"))?
                    .len(),
                f,
            )?;
            pending += p;
            finished += f;
        }
        Ok(StoreCheck {
            location: self.spec.describe(),
            commits: self.commits,
            devices: loaded.devices().len(),
            apple_enrollments,
            pending_commands: pending,
            finished_commands: finished,
        })
    }
}

fn mismatch(message: String) -> HarnessError {
    HarnessError::Store {
        step: "check the reopened store",
        message,
    }
}

fn same(what: &str, run: usize, stored: usize) -> Result<(), HarnessError> {
    if run == stored {
        Ok(())
    } else {
        Err(mismatch(format!(
            "{what}: the run has {run}, the store {stored}"
        )))
    }
}
