//! The MDM server of a run, as an integrator would hold it: the workspace,
//! its administrator's certificates, the Android sync endpoint, the Apple
//! service, what the workspace distributes (the agent's package, the
//! enrollment profile) and the administrator's own generators. It takes
//! what devices send as bytes and answers with bytes; it knows nothing of
//! the simulated devices nor of the event queue.

pub(crate) mod admin;
pub(crate) mod android;
pub(crate) mod apple;
pub(crate) mod distribution;
pub(crate) mod invitations;
pub(crate) mod scep;
pub(crate) mod store;

use std::sync::Arc;

use mdm_android::AndroidEndpoint;
use mdm_apple::AppleService;
use mdm_certs::ApnsCertificateDetails;
use mdm_model::{
    ActivationCode, ApnsCertificateRecord, EmailAddress, PolicySettings, UserId, Workspace,
    WorkspaceSettings,
};
use rand_chacha::ChaCha20Rng;
use time::{Duration, OffsetDateTime};

pub(crate) use distribution::Distribution;

use crate::draw::{self, Purpose};
use crate::error::model;
use crate::fleet::FleetSpec;
use crate::pki::{AdminPki, ApnsFlowFiles};
use crate::queue::ADMIN;
use crate::{HarnessError, Options, SimTime};

/// The workspace's connection address in every run.
pub(crate) const SERVER_HOST: &str = "mdm.fleet.example";
pub(crate) const COMPANY: &str = "Fleet Simulation K.K.";
pub(crate) const COUNTRY: &str = "JP";

/// The Apple service of a run (its store: [`store::SimAppleStore`]).
pub(crate) type SimApple = AppleService<store::SimAppleStore>;

/// The server side of a run.
pub(crate) struct MdmServer {
    /// Virtual time zero.
    pub(crate) start: OffsetDateTime,
    pub(crate) ws: Workspace,
    /// Shared with the devices' own work (`DeviceView`: the CA that issues
    /// their certificates, the server certificates they are shown), which
    /// runs on the other cores while the server goes on; only the
    /// administrator changes it.
    pub(crate) pki: Arc<AdminPki>,
    pub(crate) android: AndroidEndpoint,
    pub(crate) dist: Distribution,
    pub(crate) link_base: mdm_packages::LinkBase,
    /// The workspace's users, and whether each has an e-mail address.
    pub(crate) users: Vec<(UserId, bool)>,
    /// The Apple server side: enrollments, identity bindings, push targets
    /// and command queues, trusting identities from the workspace CA.
    pub(crate) apple: SimApple,
    /// The durable store of a run with `--store sqlite:`/`postgres:`
    /// (`None`: in memory).
    pub(crate) durable: Option<store::Durable>,
    pub(crate) admin_rng: ChaCha20Rng,
    /// The server's own secrets (agent credentials): a stream of its own, so
    /// they change no other draw of the run.
    pub(crate) server_rng: ChaCha20Rng,
    /// The SCEP endpoint's secrets (one-time challenges, enrollment
    /// labels): a stream of its own too.
    pub(crate) scep_rng: ChaCha20Rng,
    /// The workspace's SCEP endpoint (R-CL-1), shared with the devices'
    /// own work, which sends it its `PKCSReq`.
    pub(crate) scep: Arc<scep::ScepEndpoint>,
    /// Enrollments whose SCEP identity is still to come.
    pub(crate) pending_identities: scep::PendingIdentities,
    /// The files of the first APNs flow (for `mdm-harness artifacts`).
    pub(crate) apns_flow: ApnsFlowFiles,
    /// APNs as the stand-in decides it, in-process: the tokens devices
    /// registered at TokenUpdate, counted (not recorded) per token.
    pub(crate) apns: crate::apns_standin::ApnsBook,
}

impl MdmServer {
    /// The administrator sets the workspace up: its CA and server
    /// certificate, the first APNs certificate, settings, license, default
    /// policy and the fleet's users; then what it distributes. Returns the
    /// APNs certificate's details as the console shows them.
    pub(crate) fn set_up(opts: &Options) -> Result<(Self, ApnsCertificateDetails), HarnessError> {
        let start = opts.start;
        let mut admin_rng = draw::stream(opts.seed, ADMIN, Purpose::Admin);
        let server_rng = draw::stream(opts.seed, ADMIN, Purpose::Server);
        let mut scep_rng = draw::stream(opts.seed, ADMIN, Purpose::Scep);
        let apns_issued_at = start
            + Duration::days(i64::from(opts.scenario.apns_expires_after_days))
            - mdm_certs::PUSH_CERTIFICATE_VALIDITY;
        let (pki, uploaded) = AdminPki::set_up(
            COMPANY,
            COUNTRY,
            SERVER_HOST,
            start,
            apns_issued_at,
            &mut admin_rng,
        )?;
        let mut ws = Workspace::new("fleet", COMPANY, Some(COUNTRY), start - Duration::days(1))
            .map_err(model("create workspace"))?;
        let settings = WorkspaceSettings {
            invitation_validity: Duration::days(14),
            ..WorkspaceSettings::default()
        };
        ws.set_settings(settings, start)
            .map_err(model("settings"))?;
        record_apns(&mut ws, &uploaded.accepted, start)?;
        let seats = u32::try_from(u64::from(opts.devices) * 95 / 100)
            .unwrap_or(u32::MAX)
            .max(1);
        let code =
            ActivationCode::parse("FLEET-SIM00-LICEN-SE001").map_err(model("activation code"))?;
        let license = ws
            .activate_license(code, seats, start + Duration::days(365), true, start)
            .map_err(model("activate license"))?;
        ws.add_policy(
            "Default policy",
            Workspace::MANAGED,
            PolicySettings {
                license: Some(license),
                ..PolicySettings::default()
            },
            start,
        )
        .map_err(model("add policy"))?;

        let spec = FleetSpec::new(opts.devices);
        let users = (0..spec.users())
            .map(|i| {
                let mut rng = draw::stream(opts.seed, i, Purpose::Events);
                let has_email = !draw::chance(&mut rng, spec.users_without_email);
                let email = has_email
                    .then(|| EmailAddress::parse(&format!("user{i}@fleet.example")))
                    .transpose()
                    .map_err(model("e-mail"))?;
                let id = ws
                    .add_user(&format!("user{i}"), email, start)
                    .map_err(model("add user"))?;
                Ok((id, has_email))
            })
            .collect::<Result<Vec<_>, HarnessError>>()?;
        let (dist, link_base) = Distribution::set_up(&pki)?;
        let scep =
            scep::ScepEndpoint::set_up(&pki.ca, scep::responder_key()?, start, &mut scep_rng)?;
        let stores = store::Durable::open(opts.store.as_ref(), &opts.store_schema, &mut ws)?;
        let apple = AppleService::new(stores.apple, vec![pki.ca.certificate().clone()]);
        let server = Self {
            start,
            ws,
            pki: Arc::new(pki),
            android: stores.android,
            durable: stores.durable,
            dist,
            link_base,
            users,
            apple,
            admin_rng,
            server_rng,
            scep_rng,
            scep: Arc::new(scep),
            pending_identities: scep::PendingIdentities::default(),
            apns_flow: uploaded.flow,
            apns: crate::apns_standin::ApnsBook::counting(
                mdm_apple::ApnsEnvironment::Production,
                crate::apns_standin::FaultPlan {
                    seed: opts.seed,
                    ..crate::apns_standin::FaultPlan::none()
                },
            ),
        };
        Ok((server, uploaded.accepted.details))
    }

    /// With a durable store, writes what changed since the last commit
    /// (the workspace, the Apple and the Android state) in one transaction.
    pub(crate) fn commit(&mut self) -> Result<(), HarnessError> {
        match self.durable.as_mut() {
            Some(durable) => {
                durable.commit(&mut self.ws, self.apple.store_mut(), &mut self.android)
            }
            None => Ok(()),
        }
    }

    /// With a durable store, a last commit, then the store opened again and
    /// checked against the run's state.
    pub(crate) fn finish_store(&mut self) -> Result<Option<store::StoreCheck>, HarnessError> {
        self.commit()?;
        match self.durable.as_ref() {
            Some(durable) => durable
                .verify(&self.ws, self.apple.store(), &self.android)
                .map(Some),
            None => Ok(None),
        }
    }

    /// Wall-clock time of a virtual instant.
    pub(crate) fn now(&self, t: SimTime) -> OffsetDateTime {
        t.at(self.start)
    }

    /// How long an invitation stays valid, in seconds.
    pub(crate) fn invitation_validity_secs(&self) -> u32 {
        u32::try_from(self.ws.settings().invitation_validity.whole_seconds()).unwrap_or(u32::MAX)
    }
}

/// The administrator's hold on the PKI. Devices' own work holds it only
/// within a batch, so between events it is never shared.
pub(crate) fn pki_mut(pki: &mut Arc<AdminPki>) -> Result<&mut AdminPki, HarnessError> {
    Arc::get_mut(pki).ok_or(HarnessError::Internal(
        "the PKI was still shared with devices' work when the administrator changed it",
    ))
}

/// Records an accepted APNs certificate in the model (R-WS-1).
pub(crate) fn record_apns(
    ws: &mut Workspace,
    accepted: &mdm_certs::AcceptedApnsCertificate,
    at: OffsetDateTime,
) -> Result<(), HarnessError> {
    let d = &accepted.details;
    let record = ApnsCertificateRecord::new(
        d.topic.clone(),
        &d.issuer_name,
        d.not_before,
        d.not_after,
        d.fingerprint,
    )
    .map_err(model("APNs record"))?;
    ws.set_apns_certificate(record, at);
    Ok(())
}
