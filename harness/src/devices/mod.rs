//! The simulated devices: what each one holds and does on its own side of
//! the wire. A device sees only what the server sends it (links, packages,
//! profiles, certificates, sync answers, commands) and what it remembers
//! itself; it writes the bytes it sends. Nothing here reads the workspace.

pub(crate) mod android;
pub(crate) mod android_sync;
pub(crate) mod apple;
pub(crate) mod scep;

use std::sync::Arc;

use mdm_model::{DeviceId, InvitationToken};
use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use crate::SimTime;
use crate::draw::{self, Purpose, Salt};
use crate::fleet::DevicePlan;
use crate::mdm_server::scep::ScepEndpoint;
use crate::pki::AdminPki;

/// Where a simulated device stands, beyond what the model records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Not invited yet (or its user has no e-mail address).
    Waiting,
    /// Invited; the link is not opened yet.
    Invited,
    /// Android: the agent is installed; its first sync completes the enrollment.
    Installing,
    /// Enrolled; contacts the server.
    Enrolled,
    /// Lost the connection or was refused; waits for its user to reinstall.
    Lost,
    /// Gave up (invitation expired without a new one, unsupported, …).
    Done,
}

/// One simulated device: its plan and what it holds. Kept small: the fleet
/// is a vector of these, one per device.
pub(crate) struct SimDevice {
    pub(crate) plan: DevicePlan,
    pub(crate) stage: Stage,
    pub(crate) token: Option<InvitationToken>,
    pub(crate) model: Option<DeviceId>,
    pub(crate) invited_at: SimTime,
    /// Android: when the server last accepted a sync of this enrollment (as
    /// the device remembers it: the certificate it trusts is the one it
    /// last synced under).
    pub(crate) last_sync: Option<SimTime>,
    /// Android: the configuration version applied; the client certificate's digest.
    pub(crate) config_version: Option<mdm_android::ContentVersion>,
    pub(crate) client_cert: Option<mdm_model::Sha256Digest>,
    /// Android: the credential the server gave the agent (its first sync
    /// proves itself with the invitation token instead).
    pub(crate) agent_credential: Option<mdm_model::AgentCredential>,
    /// Android: results of commands run since the last sync.
    pub(crate) command_results: Vec<mdm_android::AgentCommandResult>,
    /// Apple: the identity certificate (DER) it got at enrollment, which
    /// comes with every request (as the TLS peer certificate).
    pub(crate) apple_identity: Option<Box<[u8]>>,
    /// How many times the device enrolled.
    pub(crate) enrollments: u8,
    /// How many times it opened an invitation link.
    pub(crate) attempts: u8,
}

impl SimDevice {
    /// A device of the fleet before its invitation.
    pub(crate) fn new(plan: DevicePlan) -> Self {
        Self {
            plan,
            stage: Stage::Waiting,
            token: None,
            model: None,
            invited_at: SimTime::ZERO,
            last_sync: None,
            config_version: None,
            client_cert: None,
            agent_credential: None,
            command_results: Vec::new(),
            apple_identity: None,
            enrollments: 0,
            attempts: 0,
        }
    }

    /// The user reinstalls: what the device held of its old enrollment is
    /// gone, and it waits for a new invitation, which comes at once.
    pub(crate) fn reset_for_reinstall(&mut self) {
        self.model = None;
        self.last_sync = None;
        self.config_version = None;
        self.client_cert = None;
        self.agent_credential = None;
        self.command_results.clear();
        if !self.plan.install.is_manageable() {
            self.plan.install = mdm_model::InstallSource::StandalonePackage;
        }
        self.plan.reuses_invitation = false;
        self.stage = Stage::Waiting;
        // A new invitation comes at once; the user acts within the hour.
        self.plan.reaction_secs = self.plan.reaction_secs.min(3600);
    }
}

/// A device's generator for `purpose` in its `attempts`-th enrollment: a
/// device that enrolls again draws new keys and serials.
pub(crate) fn enrollment_stream(seed: u64, i: u32, attempts: u8, purpose: Purpose) -> ChaCha20Rng {
    draw::stream(seed.wrapping_add(u64::from(attempts) << 48), i, purpose)
}

/// What a device sees while it works on its own, off the workspace: the CA
/// it gets its certificate from (the SCEP and OTP exchanges, simulated) and
/// the server certificates it is shown, the address its user was told,
/// virtual time, the seed and the faults. Owned (the PKI is shared), so that
/// work can run on the other cores while the server goes on.
pub(crate) struct DeviceView {
    pub(crate) pki: Arc<AdminPki>,
    /// The workspace's SCEP endpoint (the device sends it its bytes).
    scep: Arc<ScepEndpoint>,
    /// The server's host as the invitation told the user (typed into an
    /// agent installed without settings).
    pub(crate) server_host: &'static str,
    start: OffsetDateTime,
    seed: u64,
    pub(crate) faults: crate::Faults,
}

impl DeviceView {
    pub(crate) fn new(
        pki: Arc<AdminPki>,
        scep: Arc<ScepEndpoint>,
        server_host: &'static str,
        start: OffsetDateTime,
        seed: u64,
        faults: crate::Faults,
    ) -> Self {
        Self {
            pki,
            scep,
            server_host,
            start,
            seed,
            faults,
        }
    }

    pub(crate) fn now(&self, t: SimTime) -> OffsetDateTime {
        t.at(self.start)
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Device `i`'s generator for `purpose` in its `attempts`-th enrollment.
    pub(crate) fn stream(&self, i: u32, attempts: u8, purpose: Purpose) -> ChaCha20Rng {
        enrollment_stream(self.seed, i, attempts, purpose)
    }

    /// The same coin as the engine's `World::coin`.
    pub(crate) fn coin(&self, i: u32, t: SimTime, salt: impl Into<Salt>, p: f64) -> bool {
        draw::coin(self.seed, i, t.0, salt, p)
    }
}
