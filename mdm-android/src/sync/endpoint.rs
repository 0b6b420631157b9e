//! The server's Android endpoint: one sync checked against the model and
//! recorded through the model's own operations, and the configuration
//! each device should have, rendered once per policy version, license and
//! Android-settings revision.

use std::collections::HashMap;
use std::sync::Arc;

use mdm_model::storage::StoreCompanion;
use mdm_model::{
    ClientCertificateState, DeviceId, DeviceState, LicenseId, ModelError, Platform, PolicyId,
    SyncReport, Workspace,
};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::queue::AgentCommandQueue;
use super::wire::{
    AGENT_PACKAGE, AgentCommandKind, AgentCommandStatus, CertificateStatus, SyncRequest,
    SyncResponse,
};
use crate::configuration::{AgentConfiguration, LicenseGrant, RenderedConfiguration};
use crate::store::{AgentSyncState, AndroidStore};
use crate::{AgentAuthorization, AndroidDeviceSettings, AndroidError};

/// What a rendered configuration depends on; equal keys render equal documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ConfigurationKey {
    policy: Option<(PolicyId, u32)>,
    license: Option<LicenseId>,
    android_revision: u64,
}

/// The server's Android endpoint: the Android settings of each policy,
/// the command queue, and a cache of rendered configurations. What must
/// survive a restart is kept in its [`AndroidStore`]: in memory by default,
/// in the workspace's database with [`Self::with_store`].
#[derive(Debug)]
pub struct AndroidEndpoint {
    agent_package: String,
    android: HashMap<PolicyId, (u64, Arc<AndroidDeviceSettings>)>,
    revision: u64,
    cache: HashMap<ConfigurationKey, RenderedConfiguration>,
    /// Remote commands waiting for devices (and the store they are kept in).
    pub commands: AgentCommandQueue,
}

impl Default for AndroidEndpoint {
    fn default() -> Self {
        Self::new(AGENT_PACKAGE)
    }
}

impl AndroidEndpoint {
    /// Rendered configurations kept before the cache is cleared.
    const CACHE_LIMIT: usize = 4096;

    /// An endpoint for the agent with package name `agent_package`.
    pub fn new(agent_package: &str) -> Self {
        Self {
            agent_package: agent_package.to_owned(),
            android: HashMap::new(),
            revision: 0,
            cache: HashMap::new(),
            commands: AgentCommandQueue::default(),
        }
    }

    /// An endpoint over `store`, with what it holds: the pending commands
    /// of every device, the next command id, the Android settings of each
    /// policy (a restarted server carries on where it stopped). Commit the
    /// store's changes with the workspace's through [`Self::companion`].
    ///
    /// # Errors
    /// [`AndroidError::Store`] when the store cannot be read.
    pub fn with_store(
        agent_package: &str,
        store: impl AndroidStore + 'static,
    ) -> Result<Self, AndroidError> {
        Self::with_boxed_store(agent_package, Box::new(store))
    }

    /// As [`Self::with_store`], for a store chosen at run time.
    ///
    /// # Errors
    /// As [`Self::with_store`].
    pub fn with_boxed_store(
        agent_package: &str,
        mut store: Box<dyn AndroidStore>,
    ) -> Result<Self, AndroidError> {
        let snapshot = store.load()?;
        let mut endpoint = Self::new(agent_package);
        for (policy, revision, settings) in &snapshot.settings {
            endpoint.revision = endpoint.revision.max(*revision);
            endpoint
                .android
                .insert(*policy, (*revision, Arc::new(settings.clone())));
        }
        endpoint.commands = AgentCommandQueue::restored(&snapshot, store);
        Ok(endpoint)
    }

    /// The store the endpoint keeps its state in.
    pub fn store(&self) -> &dyn AndroidStore {
        &*self.commands.store
    }

    /// The store as a companion of the workspace's commit:
    /// `ws.commit_with(&mut workspace_store, &mut [endpoint.companion()])`
    /// writes the workspace's changes and the endpoint's in one transaction.
    pub fn companion(&mut self) -> &mut dyn StoreCompanion {
        &mut *self.commands.store
    }

    /// The store, to open another endpoint over it (a restart, in tests of
    /// the memory store).
    pub fn into_store(self) -> Box<dyn AndroidStore> {
        self.commands.store
    }

    /// Sets the Android settings (password, camera, status reporting, apps)
    /// of a policy. Devices receive them on their next sync.
    ///
    /// # Errors
    /// What [`AndroidDeviceSettings::check`] refuses, or [`AndroidError::Store`].
    pub fn set_android_settings(
        &mut self,
        policy: PolicyId,
        settings: AndroidDeviceSettings,
    ) -> Result<(), AndroidError> {
        settings.check()?;
        let revision = self.revision + 1;
        self.commands
            .store
            .settings_set(policy, revision, &settings)?;
        self.revision = revision;
        self.android.insert(policy, (revision, Arc::new(settings)));
        Ok(())
    }

    /// The Android settings of a policy, if set.
    pub fn android_settings(&self, policy: PolicyId) -> Option<&AndroidDeviceSettings> {
        self.android.get(&policy).map(|(_, s)| s.as_ref())
    }

    /// Handles one sync (R-SY-1):
    ///
    /// 0. the request must pass [`SyncRequest::check`], and `authorization`
    ///    must prove it comes from the device's agent
    ///    ([`Workspace::authenticate_agent`]: the enrolling invitation's token
    ///    on the first sync, answered with the agent's credential, then that
    ///    credential; otherwise [`AndroidError::AgentNotAuthenticated`],
    ///    audited by the model);
    /// 1. the device must exist ([`AndroidError::UnknownDevice`]) and be
    ///    Android ([`AndroidError::NotAndroid`]);
    /// 2. the client certificate presented must be the one the model records
    ///    for it (compared in constant time), and none may be presented before
    ///    one was redeemed ([`AndroidError::CertificateMismatch`]);
    /// 3. an agent installed through KNOX or another EMM is refused with the
    ///    model's remedy ([`AndroidError::UnmanageableInstall`], R-IN-4);
    /// 4. a first connection completes the enrollment and a lost connection
    ///    is restored, through the model; a wiped or retired device gets
    ///    [`AndroidError::DeviceLeftManagement`];
    /// 5. command results are applied; a confirmed `WIPE` wipes the device in
    ///    the model (R-WP-1) and the answer says so;
    /// 6. the sync is recorded with [`Workspace::record_sync`], and the answer
    ///    carries the configuration only if its version differs from the one
    ///    the agent applied, the license, pending commands and the next sync time.
    pub fn handle_sync<R: CryptoRng + ?Sized>(
        &mut self,
        workspace: &mut Workspace,
        authorization: &AgentAuthorization,
        request: &SyncRequest,
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<SyncResponse, AndroidError> {
        request.check()?;
        let id = request.device_id;
        let name = || id.to_string();
        let agent_credential = workspace
            .authenticate_agent(id, authorization.proof(), now, rng)
            .map_err(|e| match e {
                ModelError::AgentNotAuthenticated { reason, .. } => {
                    AndroidError::AgentNotAuthenticated {
                        device_id: name(),
                        reason,
                    }
                }
                source => AndroidError::Model {
                    operation: "authenticate the agent",
                    device_id: name(),
                    source,
                },
            })?;
        let device = workspace
            .device(id)
            .map_err(|_| AndroidError::UnknownDevice { device_id: name() })?;
        if device.platform() != Platform::Android {
            return Err(AndroidError::NotAndroid { device_id: name() });
        }
        let certificate_ok = match (
            device.client_certificate(),
            request.client_certificate_sha256,
        ) {
            (ClientCertificateState::Applied(expected), Some(presented)) => {
                bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
            }
            (ClientCertificateState::Applied(_), None) => false,
            (ClientCertificateState::None | ClientCertificateState::Issued, presented) => {
                presented.is_none()
            }
        };
        if !certificate_ok {
            return Err(AndroidError::CertificateMismatch { device_id: name() });
        }
        request
            .agent
            .install
            .manageable_source(&self.agent_package, &name())?;
        let model = |operation: &'static str| {
            move |source| AndroidError::Model {
                operation,
                device_id: id.to_string(),
                source,
            }
        };
        match device.state() {
            DeviceState::Enrolling => workspace
                .complete_enrollment(id, now)
                .map_err(model("complete the enrollment"))?,
            DeviceState::ConnectionLost => workspace
                .restore_connection(id, now)
                .map_err(model("restore the connection"))?,
            DeviceState::Connected | DeviceState::Managed => {}
            state @ (DeviceState::Wiped | DeviceState::Retired) => {
                self.commands.forget(id)?;
                return Err(AndroidError::DeviceLeftManagement {
                    device_id: name(),
                    state,
                });
            }
        }

        let mut wiped = false;
        for result in &request.command_results {
            if let Some(command) = self.commands.acknowledge(id, result, now)? {
                wiped |= command.kind == AgentCommandKind::Wipe
                    && result.status == AgentCommandStatus::Done;
            }
        }
        if wiped {
            workspace
                .wipe_device(id, now)
                .map_err(model("wipe the device"))?;
            self.commands.forget(id)?;
            return Ok(SyncResponse {
                device_id: id,
                device_state: DeviceState::Wiped,
                configuration_version: None,
                configuration: None,
                license: None,
                license_problem: None,
                client_certificate: CertificateStatus::NotIssued,
                agent_credential: None,
                commands: Vec::new(),
                next_sync_at: None,
            });
        }

        let report = SyncReport {
            os_version: request.os_version,
            protection: request.status.protection(),
        };
        let outcome = workspace
            .record_sync(id, &report, now)
            .map_err(model("record the sync"))?;
        self.commands.store.agent_synced(
            id,
            &AgentSyncState {
                agent_version: request.agent.version.clone(),
                applied_configuration_version: request.applied_configuration_version,
            },
        )?;
        let rendered = self.configuration_for(workspace, id)?;
        let configuration = (request.applied_configuration_version != Some(rendered.version))
            .then(|| Arc::clone(&rendered.document));
        let device = workspace
            .device(id)
            .map_err(|_| AndroidError::UnknownDevice { device_id: name() })?;
        let license = outcome
            .license
            .and_then(|l| workspace.license(l).ok())
            .map(LicenseGrant::from);
        Ok(SyncResponse {
            device_id: id,
            device_state: device.state(),
            configuration_version: Some(rendered.version),
            configuration,
            license,
            license_problem: outcome.license_problem,
            client_certificate: match device.client_certificate() {
                ClientCertificateState::None => CertificateStatus::NotIssued,
                ClientCertificateState::Issued => CertificateStatus::AwaitingRedemption,
                ClientCertificateState::Applied(_) => CertificateStatus::Applied,
            },
            agent_credential,
            commands: self.commands.pending(id).to_vec(),
            next_sync_at: Some(outcome.next_sync_due),
        })
    }

    /// Parses a JSON body and its `Authorization` header value, handles
    /// it, and writes the JSON answer.
    pub fn handle_sync_json<R: CryptoRng + ?Sized>(
        &mut self,
        workspace: &mut Workspace,
        authorization: &str,
        body: &[u8],
        now: OffsetDateTime,
        rng: &mut R,
    ) -> Result<Vec<u8>, AndroidError> {
        let authorization = AgentAuthorization::parse(authorization)?;
        let request = SyncRequest::parse(body)?;
        self.handle_sync(workspace, &authorization, &request, now, rng)?
            .to_json()
    }

    /// The configuration `device` should have now: its effective policy (none
    /// while it is in *Unassigned devices*), the license it holds and the
    /// Android settings of that policy, rendered once and cached by policy
    /// version, license and Android-settings revision. The one way to render
    /// a device's configuration (a sync answers with it).
    pub fn configuration_for(
        &mut self,
        workspace: &Workspace,
        device: DeviceId,
    ) -> Result<RenderedConfiguration, AndroidError> {
        let record = workspace
            .device(device)
            .map_err(|_| AndroidError::UnknownDevice {
                device_id: device.to_string(),
            })?;
        let policy = workspace.effective_policy(device);
        let android = policy.and_then(|p| self.android.get(&p.id()));
        let key = ConfigurationKey {
            policy: policy.map(|p| (p.id(), p.version())),
            license: record.license(),
            android_revision: android.map_or(0, |(revision, _)| *revision),
        };
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit.clone());
        }
        let license = record.license().and_then(|l| workspace.license(l).ok());
        let rendered =
            AgentConfiguration::from_policy(policy, license, android.map(|(_, s)| s.as_ref()))?
                .rendered()?;
        if self.cache.len() >= Self::CACHE_LIMIT {
            self.cache.clear();
        }
        self.cache.insert(key, rendered.clone());
        Ok(rendered)
    }
}
