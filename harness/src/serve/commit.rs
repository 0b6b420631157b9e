//! Nothing acknowledged is lost: every request that may have changed a
//! tenant's state waits, before its answer leaves, for a commit of what
//! changed — the workspace's rows, the Apple service's (enrollments,
//! expected identities, command queues), the Android endpoint's (agents,
//! command queues and results, settings) and the one-time SCEP passwords
//! issued or redeemed ([`super::otp`]) in **one** transaction of the
//! tenant's store ([`TenantStore::commit`], `Workspace::commit_with`).
//!
//! Commits are grouped: one thread per tenant takes every request waiting
//! at that moment and writes what all of them changed in one transaction,
//! then answers them all. Under load a commit carries many check-ins;
//! alone, a request waits for one commit of its own. The tenant's lock is
//! held while the changed rows are written (the rows are read from the
//! workspace), not while the answers go out.
//!
//! When another process committed first (a shared PostgreSQL store), the
//! store refuses the commit with `StoreConflict` and writes nothing: the
//! workspace is reloaded from the store and the Apple changes not committed
//! are dropped and the Android endpoint is opened again over the store, so
//! all three show the store's state again, and the requests of
//! that batch are refused with a retryable answer (503, `Retry-After`).
//! [`Committer::reloads`] counts these reloads, so a request that ran before
//! one can tell its changes may be gone ([`super::app`]).
//!
//! On a shared store a request first asks for a refresh
//! ([`Committer::refresh`]): the committer commits what is pending, asks the
//! store's revision and reloads when another process committed since, so
//! the request is served from the latest state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mdm_apple::http::AppleServer;
use mdm_apple::{AppleService, SqlAppleStore};
use mdm_model::ModelError;
use tokio::sync::oneshot;

use super::android::TenantAndroid;
use super::store::TenantStore;

/// The Apple side of a tenant: its workspace and its Apple service over the
/// durable Apple store.
pub type TenantApple = Arc<Mutex<AppleServer<SqlAppleStore>>>;

type Waiter = oneshot::Sender<Result<(), String>>;

/// What a request asks the committer for.
enum Ask {
    /// Make everything changed so far durable.
    Commit(Waiter),
    /// As `Commit`, then catch up with other processes' commits.
    Refresh(Waiter),
}

/// The handle requests ask for a commit through.
#[derive(Debug, Clone)]
pub struct Committer {
    tx: mpsc::Sender<Ask>,
    reloads: Arc<AtomicU64>,
    shared: bool,
}

/// A commit slower than this is logged at `info`.
const SLOW_COMMIT: Duration = Duration::from_millis(100);

impl Committer {
    /// Starts the committer thread of one tenant; it ends (after a last
    /// commit) when every handle is dropped.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn start(
        tenant: &str,
        apple: TenantApple,
        android: Arc<TenantAndroid>,
        mut store: TenantStore,
    ) -> Result<Self, std::io::Error> {
        let (tx, rx) = mpsc::channel::<Ask>();
        let name = tenant.to_owned();
        let reloads = Arc::new(AtomicU64::new(0));
        let shared = store.is_shared();
        let counter = Arc::clone(&reloads);
        std::thread::Builder::new()
            .name(format!("commit-{tenant}"))
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut asks = vec![first];
                    asks.extend(rx.try_iter());
                    let refresh = asks.iter().any(|a| matches!(a, Ask::Refresh(_)));
                    let batch = asks.len();
                    let result = step(
                        &name, &apple, &android, &mut store, &counter, refresh, batch,
                    );
                    for ask in asks {
                        let (Ask::Commit(waiter) | Ask::Refresh(waiter)) = ask;
                        // A request whose client went away no longer waits.
                        let _ = waiter.send(result.clone());
                    }
                }
                if let Err(reason) = step(&name, &apple, &android, &mut store, &counter, false, 0) {
                    tracing::error!(tenant = %name, %reason, "last commit failed");
                }
            })?;
        Ok(Self {
            tx,
            reloads,
            shared,
        })
    }

    /// Waits until everything changed so far is in the store.
    ///
    /// # Errors
    /// Why the store refused the commit, in words.
    pub async fn commit(&self) -> Result<(), String> {
        self.ask(Ask::Commit).await
    }

    /// On a shared store, waits until the workspace shows every commit
    /// other processes made before this call; at once otherwise.
    ///
    /// # Errors
    /// Why the store could not be read or the pending changes written.
    pub async fn refresh(&self) -> Result<(), String> {
        if !self.shared {
            return Ok(());
        }
        self.ask(Ask::Refresh).await
    }

    /// Whether other processes may write the store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// How many times the workspace was reloaded after a conflict (each
    /// reload drops changes that were not committed).
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Acquire)
    }

    async fn ask(&self, ask: fn(Waiter) -> Ask) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(ask(tx))
            .map_err(|_| "the committer has stopped".to_owned())?;
        rx.await
            .map_err(|_| "the committer has stopped".to_owned())?
    }
}

/// One round of the committer: commit, and on a conflict (or, asked to
/// refresh, when the store moved on) reload.
fn step(
    tenant: &str,
    apple: &TenantApple,
    android: &TenantAndroid,
    store: &mut TenantStore,
    reloads: &AtomicU64,
    refresh: bool,
    batch: usize,
) -> Result<(), String> {
    let mut guard = apple
        .lock()
        .map_err(|_| "the workspace lock was poisoned".to_owned())?;
    let AppleServer { workspace, service } = &mut *guard;
    let mut endpoint = android
        .endpoint()
        .map_err(|_| "the Android endpoint's lock was poisoned".to_owned())?;
    let started = Instant::now();
    match store.commit(workspace, service.store_mut(), Some(&mut endpoint)) {
        Ok(wrote) => {
            let elapsed = started.elapsed();
            if wrote {
                let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                if elapsed >= SLOW_COMMIT {
                    tracing::info!(%tenant, batch, micros, "slow commit");
                } else {
                    tracing::debug!(%tenant, batch, micros, "commit");
                }
            }
        }
        Err(ModelError::StoreConflict { .. }) => {
            // Another process committed first: take the store's state, drop
            // what this process changed since (the requests are refused and
            // retried by their devices).
            reloads.fetch_add(1, Ordering::AcqRel);
            store
                .reload(workspace, service.store_mut())
                .map_err(|e| e.to_string())?;
            *endpoint = store.android_endpoint().map_err(|e| e.to_string())?;
            tracing::info!(%tenant, "another server committed first: state reloaded");
            return Err("another server committed first; retry".to_owned());
        }
        Err(e) => {
            tracing::error!(%tenant, error = %e, "commit failed");
            return Err(e.to_string());
        }
    }
    // Everything this process changed is durable now: catching up with the
    // store loses nothing.
    if refresh && store.is_stale().map_err(|e| e.to_string())? {
        store
            .reload(workspace, service.store_mut())
            .map_err(|e| e.to_string())?;
        *endpoint = store.android_endpoint().map_err(|e| e.to_string())?;
        tracing::debug!(%tenant, "caught up with another server's commits");
    }
    Ok(())
}

/// A new Apple side: `workspace` and a service over `store` trusting `cas`.
pub fn new_apple(
    workspace: mdm_model::Workspace,
    store: SqlAppleStore,
    cas: Vec<mdm_certs::Certificate>,
) -> TenantApple {
    Arc::new(Mutex::new(AppleServer {
        workspace,
        service: AppleService::new(store, cas),
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use mdm_apple::{AppleDeviceId, AppleStore as _};
    use mdm_model::storage::StoreCompanion as _;

    use super::super::config::{StoreSpec, TenantName};
    use super::super::store::tests::{profile_list, temp_dir};
    use super::super::store::{OpenedStore, TenantStore};
    use super::*;

    #[test]
    fn a_lost_race_is_refused_as_retryable_and_reloads_both_halves() {
        let dir = temp_dir("committer");
        let spec = StoreSpec::Sqlite(dir.clone());
        let name = TenantName::parse("acme").unwrap();
        let now = time::OffsetDateTime::now_utc();
        let device = AppleDeviceId::Udid("UDID-1".into());
        let OpenedStore {
            store,
            workspace,
            apple,
            android,
            ..
        } = TenantStore::open(&spec, &name, now).unwrap();
        let tenant = new_apple(workspace, apple, Vec::new());
        let android = Arc::new(TenantAndroid::new(Arc::clone(&tenant), android));
        let committer =
            Committer::start("acme", Arc::clone(&tenant), Arc::clone(&android), store).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();

        // This process's change is committed.
        tenant
            .lock()
            .unwrap()
            .workspace
            .add_user("alice", None, now)
            .unwrap();
        runtime.block_on(committer.commit()).unwrap();
        assert_eq!(committer.reloads(), 0);

        // Another process commits; this one's next change loses the race.
        let mut other = TenantStore::open(&spec, &name, now).unwrap();
        other.workspace.add_user("bob", None, now).unwrap();
        other.apple.enqueue(&device, profile_list("B-1")).unwrap();
        other
            .store
            .commit(&mut other.workspace, &mut other.apple, None)
            .unwrap();
        {
            let mut guard = tenant.lock().unwrap();
            guard.workspace.add_user("carol", None, now).unwrap();
            guard.service.enqueue(&device, profile_list("A-2")).unwrap();
        }
        let refused = runtime.block_on(committer.commit());
        assert!(refused.unwrap_err().contains("retry"));
        assert_eq!(committer.reloads(), 1);
        {
            let guard = tenant.lock().unwrap();
            assert!(guard.workspace.user_by_account("bob").is_some());
            assert!(guard.workspace.user_by_account("alice").is_some());
            assert!(guard.workspace.user_by_account("carol").is_none());
            assert!(!guard.service.store().has_pending());
            assert_eq!(guard.service.store().pending_commands(&device).unwrap(), 1);
        }
        // Retried on the reloaded state, it is stored.
        tenant
            .lock()
            .unwrap()
            .workspace
            .add_user("carol", None, now)
            .unwrap();
        runtime.block_on(committer.commit()).unwrap();
        drop(committer);
        let reopened = TenantStore::open(&spec, &name, now).unwrap();
        assert!(reopened.workspace.user_by_account("carol").is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
