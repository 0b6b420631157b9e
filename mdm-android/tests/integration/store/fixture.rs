//! A "server": the workspace, its store and an `AndroidEndpoint` over the
//! Android store under test; four managed Android devices whose agents
//! keep their credentials across the server's restarts, as real agents do.

use mdm_android::{
    AGENT_PACKAGE, AgentAuthorization, AgentCommandResult, AgentCommandStatus, AndroidEndpoint,
    AndroidError, SyncRequest, SyncResponse,
};
use mdm_model::storage::Retention;
use mdm_model::{DeviceId, ModelError, Workspace, WorkspaceStore};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;

use super::backends::{self, Backend};
use crate::integration::fixtures::{managed_agents, sync_request};

pub use crate::integration::fixtures::NOW;
pub const DEVICES: usize = 4;

/// The agent's sync request carrying `results`.
pub fn request(device: DeviceId, results: Vec<AgentCommandResult>) -> SyncRequest {
    SyncRequest {
        command_results: results,
        ..sync_request(device)
    }
}

pub fn done(id: u64) -> AgentCommandResult {
    AgentCommandResult {
        id,
        status: AgentCommandStatus::Done,
        detail: None,
        location: None,
    }
}

/// One server process.
pub struct Server {
    pub ws: Workspace,
    pub workspace_store: Box<dyn WorkspaceStore + Send>,
    pub endpoint: AndroidEndpoint,
    pub devices: Vec<DeviceId>,
    pub agents: Vec<AgentAuthorization>,
    rng: ChaCha20Rng,
}

impl Server {
    /// Opens the backend's stores; loads the workspace, or imports a new one.
    pub fn start(backend: &Backend, retention: Retention) -> Self {
        let stores = backends::open(backend, retention);
        let mut workspace_store = stores.workspace;
        let (fresh, agents) = managed_agents(DEVICES);
        let ws = match workspace_store.load().unwrap() {
            Some(ws) => ws,
            None => {
                let mut ws = fresh;
                workspace_store.import(&mut ws).unwrap();
                ws
            }
        };
        let endpoint = AndroidEndpoint::with_boxed_store(AGENT_PACKAGE, stores.android).unwrap();
        Self {
            ws,
            workspace_store,
            endpoint,
            devices: agents.iter().map(|(d, _)| *d).collect(),
            agents: agents.into_iter().map(|(_, a)| a).collect(),
            rng: ChaCha20Rng::seed_from_u64(99),
        }
    }

    /// Commits, then (for a durable store) starts a new server on the same
    /// stores; the memory store is handed to a new endpoint. The agents
    /// keep their credentials.
    pub fn restart(mut self, backend: &Backend, retention: Retention) -> Self {
        self.commit().unwrap();
        let agents = std::mem::take(&mut self.agents);
        let mut next = if backend.durable() {
            drop(self);
            Self::start(backend, retention)
        } else {
            let store = self.endpoint.into_store();
            self.endpoint = AndroidEndpoint::with_boxed_store(AGENT_PACKAGE, store).unwrap();
            self
        };
        next.agents = agents;
        next
    }

    /// Commits the workspace and the Android store in one transaction.
    pub fn commit(&mut self) -> Result<(), ModelError> {
        self.ws
            .commit_with(&mut *self.workspace_store, &mut [self.endpoint.companion()])
    }

    /// Device `i` syncs with `results`; its agent keeps a new credential.
    pub fn sync(
        &mut self,
        i: usize,
        results: Vec<AgentCommandResult>,
        now: OffsetDateTime,
    ) -> Result<SyncResponse, AndroidError> {
        self.sync_request(i, &request(self.devices[i], results), now)
    }

    pub fn sync_request(
        &mut self,
        i: usize,
        request: &SyncRequest,
        now: OffsetDateTime,
    ) -> Result<SyncResponse, AndroidError> {
        let answer = self.endpoint.handle_sync(
            &mut self.ws,
            &self.agents[i],
            request,
            now,
            &mut self.rng,
        )?;
        if let Some(credential) = &answer.agent_credential {
            self.agents[i] = AgentAuthorization::Bearer(credential.clone());
        }
        Ok(answer)
    }
}
