//! The Android agent's routes (`mdm-android`'s `sync_router`: `POST
//! /android/register`, `POST /android/sync`) over a tenant's workspace: the
//! state shares the workspace with the Apple side (one lock, taken first)
//! and keeps the Android endpoint (settings, command queue) beside it, over
//! its tables in the tenant's store. The changes are committed by the same
//! layer as the Apple routes', in the same transaction, before the answer
//! leaves; after a conflict the committer opens the endpoint again over
//! what the store holds ([`super::commit`]).

use std::sync::{Arc, LockResult, Mutex, MutexGuard};

use mdm_android::http::{AndroidState, SyncRoute};
use mdm_android::{AndroidEndpoint, AndroidError};
use mdm_model::Workspace;

use super::App;
use super::commit::TenantApple;

/// A tenant's Android state.
pub struct TenantAndroid {
    apple: TenantApple,
    endpoint: Mutex<AndroidEndpoint>,
}

impl TenantAndroid {
    /// The Android state beside `apple`'s workspace, served by `endpoint`.
    pub fn new(apple: TenantApple, endpoint: AndroidEndpoint) -> Self {
        Self {
            apple,
            endpoint: Mutex::new(endpoint),
        }
    }

    /// The endpoint, for the committer (which holds the workspace's lock
    /// first, as the routes do).
    pub fn endpoint(&self) -> LockResult<MutexGuard<'_, AndroidEndpoint>> {
        self.endpoint.lock()
    }
}

impl AndroidState for TenantAndroid {
    fn with_endpoint<T>(
        &self,
        f: impl FnOnce(&mut Workspace, &mut AndroidEndpoint) -> T,
    ) -> Result<T, AndroidError> {
        let unavailable = |what: &str| AndroidError::StateUnavailable {
            reason: format!("the {what} lock was poisoned by a panic"),
        };
        let mut apple = self.apple.lock().map_err(|_| unavailable("workspace"))?;
        let mut endpoint = self.endpoint.lock().map_err(|_| unavailable("endpoint"))?;
        Ok(f(&mut apple.workspace, &mut endpoint))
    }
}

/// The sync route of a tenant's Android state.
pub fn route(app: &App, state: Arc<TenantAndroid>) -> SyncRoute<TenantAndroid> {
    let rng = Arc::clone(&app.options.rng);
    SyncRoute::new(
        state,
        Arc::new(app.options.clock),
        Arc::new(move || Box::new(rng())),
    )
}
