//! Nothing acknowledged is lost: every request that may have changed a
//! tenant's workspace waits, before its answer leaves, for a commit of the
//! workspace's changes to the tenant's store.
//!
//! Commits are grouped: one thread per tenant takes every request waiting
//! at that moment and writes what all of them changed in one transaction
//! (`Workspace::commit_to`), then answers them all. Under load a commit
//! carries many check-ins; alone, a request waits for one commit of its own.
//! The workspace lock is held only while the changed rows are written.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use mdm_apple::http::AppleServer;
use mdm_apple::{AppleService, MemoryStore};
use mdm_model::{ModelError, WorkspaceStore};
use tokio::sync::oneshot;

/// The Apple side of a tenant: its workspace and Apple service.
pub type TenantApple = Arc<Mutex<AppleServer<MemoryStore>>>;

/// A workspace store that can move to the committer's thread.
pub type BoxedStore = Box<dyn WorkspaceStore + Send>;

type Waiter = oneshot::Sender<Result<(), String>>;

/// The handle requests ask for a commit through.
#[derive(Debug, Clone)]
pub struct Committer {
    tx: mpsc::Sender<Waiter>,
}

impl Committer {
    /// Starts the committer thread of one tenant; it ends (after a last
    /// commit) when every handle is dropped.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn start(
        tenant: &str,
        apple: TenantApple,
        mut store: BoxedStore,
    ) -> Result<Self, std::io::Error> {
        let (tx, rx) = mpsc::channel::<Waiter>();
        let name = tenant.to_owned();
        std::thread::Builder::new()
            .name(format!("commit-{tenant}"))
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut waiters = vec![first];
                    waiters.extend(rx.try_iter());
                    let result = commit(&name, &apple, store.as_mut());
                    for waiter in waiters {
                        // A request whose client went away no longer waits.
                        let _ = waiter.send(result.clone());
                    }
                }
                if let Err(reason) = commit(&name, &apple, store.as_mut()) {
                    tracing::error!(tenant = %name, %reason, "last commit failed");
                }
            })?;
        Ok(Self { tx })
    }

    /// Waits until everything changed so far is in the store.
    ///
    /// # Errors
    /// Why the store refused the commit, in words.
    pub async fn commit(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(tx)
            .map_err(|_| "the committer has stopped".to_owned())?;
        rx.await
            .map_err(|_| "the committer has stopped".to_owned())?
    }
}

fn commit(tenant: &str, apple: &TenantApple, store: &mut dyn WorkspaceStore) -> Result<(), String> {
    let mut guard = apple
        .lock()
        .map_err(|_| "the workspace lock was poisoned".to_owned())?;
    match guard.workspace.commit_to(store) {
        Ok(()) => Ok(()),
        Err(ModelError::StoreConflict { .. }) => {
            // Another process committed first: take its workspace, drop
            // what this process changed since (the requests are refused and
            // retried by their devices).
            match store.load() {
                Ok(Some(workspace)) => {
                    tracing::info!(%tenant, "another writer committed: workspace reloaded");
                    guard.workspace = workspace;
                    Err("another server committed first; retry".to_owned())
                }
                Ok(None) => Err("the store was emptied".to_owned()),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => {
            tracing::error!(%tenant, error = %e, "commit failed");
            Err(e.to_string())
        }
    }
}

/// A new Apple side: `workspace` and a service in memory trusting `cas`.
pub fn new_apple(workspace: mdm_model::Workspace, cas: Vec<mdm_certs::Certificate>) -> TenantApple {
    Arc::new(Mutex::new(AppleServer {
        workspace,
        service: AppleService::in_memory(cas),
    }))
}
