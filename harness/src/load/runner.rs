//! The run: `concurrency` workers, each with one keep-alive connection and
//! its share of the devices, go through the phases together — enroll, a
//! first connect, the command queued through the target's API, a connect
//! that fetches and acknowledges it, and (with a duration) a steady phase
//! of Idle connects until the time is up. Every request has a timeout, so
//! a run is bounded: phases × devices × timeout at worst.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mdm_apple::CommandUuid;
use rayon::prelude::*;
use time::OffsetDateTime;

use super::api::{NanomdmApi, inventory_command};
use super::client::{Connection, Endpoint};
use super::device::{Failure, Paths, WireDevice};
use super::ours::OursOptions;
use super::report::{Incomplete, LoadReport, PhaseMark, Recorder, RunFacts};
use super::target::{Target, TargetKind};
use crate::HarnessError;

/// Most connections at once.
pub const MAX_CONCURRENCY: u32 = 20_000;
/// Most devices in one run.
pub const MAX_DEVICES: u32 = 2_000_000;

/// How devices get their identity.
pub enum Identities {
    /// Issued here by the CA the target trusts (nanomdm's `-ca`).
    FromCa(Box<mdm_certs::CertificateAuthority>),
    /// Through the target's own enrollment: profile and SCEP (ours).
    Enrollment,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FromCa(ca) => f
                .debug_tuple("FromCa")
                .field(&ca.certificate().info().subject)
                .finish(),
            Self::Enrollment => f.write_str("Enrollment"),
        }
    }
}

/// What to run.
#[derive(Debug)]
pub struct LoadOptions {
    /// The target.
    pub target: Target,
    /// Devices simulated.
    pub devices: u32,
    /// Workers, each with one connection.
    pub concurrency: u32,
    /// Length of the steady phase (zero: none).
    pub duration: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Where identities come from.
    pub identities: Identities,
    /// The CA PEM an HTTPS target's certificate chains to.
    pub target_ca_pem: Option<String>,
    /// The target's API key (nanomdm `-api`).
    pub api_key: Option<String>,
    /// The push topic devices enroll with.
    pub topic: mdm_model::PushTopic,
    /// The check-in route (`/mdm` by the content type, or `/checkin`).
    pub check_in_route: String,
    /// The run's id, in every UDID (distinct runs, distinct devices).
    pub run_id: u32,
    /// What a run against our serve needs (`--target-kind ours`).
    pub ours: Option<OursOptions>,
    /// Devices send their first Idle's signature again with each later
    /// Idle ([`WireDevice::reuse_idle_signature`]).
    pub reuse_idle_signatures: bool,
}

impl LoadOptions {
    fn check(&self) -> Result<(), HarnessError> {
        let bad = |option, reason: &str| {
            Err(HarnessError::InvalidOption {
                option,
                reason: reason.into(),
            })
        };
        if self.devices == 0 || self.devices > MAX_DEVICES {
            return bad("devices", "between 1 and 2 000 000");
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return bad("concurrency", "between 1 and 20 000");
        }
        if self.timeout.is_zero() {
            return bad("timeout", "more than zero");
        }
        if self.target.kind == TargetKind::Nanomdm && self.api_key.is_none() {
            return bad("api-key", "nanomdm's -api key queues the commands");
        }
        if self.target.kind == TargetKind::Ours && self.ours.is_none() {
            return bad("target-kind", "ours needs --admin-token and --apns-dir");
        }
        Ok(())
    }
}

/// One worker: its connection and its devices.
struct Slot {
    conn: Connection,
    devices: Vec<WireDevice>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Enroll,
    Connect,
    Steady(Instant),
}

struct Shared {
    paths: Paths,
    recorder: Recorder,
}

/// Resident memory of this process in KiB (Linux; 0 elsewhere).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs the load to its end; `progress` hears each phase as it starts.
///
/// # Errors
/// [`HarnessError`] for bad options, identities that cannot be made, or a
/// runtime that cannot start. Failures on the wire are not errors: they
/// are in the report.
pub fn run(
    options: LoadOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<LoadReport, HarnessError> {
    options.check()?;
    let endpoint = Arc::new(match (&options.target_ca_pem, options.target.https) {
        (_, false) => Endpoint::http(&options.target.host, options.target.port, options.timeout)?,
        (Some(pem), true) => Endpoint::https(
            &options.target.host,
            options.target.port,
            pem,
            options.timeout,
        )?,
        (None, true) => {
            return Err(HarnessError::InvalidOption {
                option: "target-ca",
                reason: "an https:// target needs the CA its certificate chains to".into(),
            });
        }
    });
    if let Some(ours) = &options.ours {
        return super::ours::run(&options, ours, endpoint, progress);
    }
    let recorder = Recorder::new();
    let rss_before = rss_kib();
    progress(&format!("making {} device identities", options.devices));
    let identity_start = Instant::now();
    let now = OffsetDateTime::now_utc();
    let Identities::FromCa(ca) = &options.identities else {
        return Err(HarnessError::InvalidOption {
            option: "ca-cert",
            reason: "nanomdm: --ca-cert and --ca-key issue the device identities".into(),
        });
    };
    let devices: Vec<WireDevice> = (0..options.devices)
        .into_par_iter()
        .map(|i| {
            WireDevice::issued(ca, options.run_id, i, now).map(|mut d| {
                d.reuse_idle_signature = options.reuse_idle_signatures;
                d
            })
        })
        .collect::<Result<_, _>>()?;
    let identity_time = identity_start.elapsed();
    let rss_after = rss_kib();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| HarnessError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let concurrency = options.concurrency.min(options.devices) as usize;
    let mut slots: Vec<Slot> = (0..concurrency)
        .map(|_| Slot {
            conn: endpoint.connection(),
            devices: Vec::with_capacity(options.devices as usize / concurrency + 1),
        })
        .collect();
    for (i, d) in devices.into_iter().enumerate() {
        if let Some(slot) = slots.get_mut(i % concurrency) {
            slot.devices.push(d);
        }
    }
    let shared = Arc::new(Shared {
        paths: Paths {
            check_in: options.target.path(&options.check_in_route),
            server: options.target.path("/mdm"),
            topic: options.topic.clone(),
        },
        recorder,
    });
    let api = NanomdmApi::new(&options.target, options.api_key.as_deref().unwrap_or(""))?;
    let mut api_conn = endpoint.connection();
    let mut phases = Vec::new();
    // One command per enqueue batch (nanomdm takes a command UUID once).
    let batches = (options.devices as usize).div_ceil(super::api::ENQUEUE_BATCH);
    let mut command_uuids = Vec::with_capacity(batches);
    let mut command_xml = Vec::with_capacity(batches);
    for batch in 0..batches {
        let uuid = CommandUuid::new(uuid_of(options.run_id, now, batch))
            .map_err(crate::error::apple("command UUID"))?;
        command_xml.push(inventory_command(uuid.clone())?.1);
        command_uuids.push(uuid);
    }
    let queued: std::collections::HashSet<&str> =
        command_uuids.iter().map(CommandUuid::as_str).collect();

    let slots = runtime.block_on(async {
        let mut slots = slots;
        progress("enroll: Authenticate + TokenUpdate");
        slots = timed(
            &mut phases,
            "enroll",
            &shared.recorder,
            run_phase(slots, Phase::Enroll, &shared),
        )
        .await;
        progress("connect: Idle with empty queues");
        slots = timed(
            &mut phases,
            "connect",
            &shared.recorder,
            run_phase(slots, Phase::Connect, &shared),
        )
        .await;
        progress("enqueue: DeviceInformation for every enrolled device");
        let udids: Vec<String> = slots
            .iter()
            .flat_map(|s| s.devices.iter())
            .filter(|d| d.failure.is_none())
            .map(|d| d.udid().to_owned())
            .collect();
        let refused = timed(&mut phases, "enqueue", &shared.recorder, async {
            let refs: Vec<&str> = udids.iter().map(String::as_str).collect();
            api.enqueue(&mut api_conn, &shared.recorder, &refs, &command_xml)
                .await
        })
        .await;
        for (udid, reason) in refused {
            for d in slots.iter_mut().flat_map(|s| s.devices.iter_mut()) {
                if d.udid() == udid && d.failure.is_none() {
                    d.failure = Some(Failure {
                        step: super::report::Step::Enqueue,
                        kind: "refused".into(),
                        detail: reason.clone(),
                    });
                }
            }
        }
        progress("commands: Idle, DeviceInformation, Acknowledged");
        slots = timed(
            &mut phases,
            "commands",
            &shared.recorder,
            run_phase(slots, Phase::Connect, &shared),
        )
        .await;
        if !options.duration.is_zero() {
            progress(&format!(
                "steady: Idle connects for {} s",
                options.duration.as_secs()
            ));
            let deadline = Instant::now() + options.duration;
            slots = timed(
                &mut phases,
                "steady",
                &shared.recorder,
                run_phase(slots, Phase::Steady(deadline), &shared),
            )
            .await;
        }
        slots
    });
    drop(runtime);

    let mut enrolled = 0;
    let mut completed = 0;
    let mut acknowledged = 0;
    let mut incomplete = Vec::new();
    let mut connections = api_conn.connects();
    for slot in &slots {
        connections += slot.conn.connects();
        for d in &slot.devices {
            enrolled += u64::from(d.enrolled);
            acknowledged += u64::from(d.acknowledged);
            let got_it = d
                .last_command
                .as_deref()
                .is_some_and(|c| queued.contains(c));
            match (&d.failure, got_it) {
                (None, true) => completed += 1,
                (Some(f), _) => incomplete.push(Incomplete {
                    udid: d.udid().to_owned(),
                    step: f.step.name(),
                    reason: format!("{}: {}", f.kind, f.detail),
                }),
                (None, false) => incomplete.push(Incomplete {
                    udid: d.udid().to_owned(),
                    step: "acknowledge",
                    reason: "the queued command never came".into(),
                }),
            }
        }
    }
    let Some(shared) = Arc::into_inner(shared) else {
        return Err(HarnessError::Internal("a worker outlived the run"));
    };
    let facts = RunFacts {
        target_kind: options.target.kind,
        target: options.target.url(""),
        devices: u64::from(options.devices),
        android_devices: 0,
        concurrency: concurrency as u64,
        duration_seconds: options.duration.as_secs(),
        identity_time,
        phases,
        connections_opened: connections,
        enrolled,
        completed,
        commands_acknowledged: acknowledged,
        command_uuid: command_uuids.first().map(|u| u.as_str().to_owned()),
        incomplete,
        rss_kib: (rss_before, rss_after),
    };
    Ok(LoadReport::new(facts, &shared.recorder))
}

/// The UUID of the run's command for enqueue batch `batch` (from the run
/// id, the start time and the batch).
fn uuid_of(run: u32, now: OffsetDateTime, batch: usize) -> String {
    let nanos = now.unix_timestamp_nanos().unsigned_abs();
    let low = u64::try_from(nanos & u128::from(u64::MAX)).unwrap_or(0) & 0xFFFF_FFFF;
    format!("{run:08X}-C0DE-4000-8000-{low:08X}{:04X}", batch & 0xFFFF)
}

/// Runs one phase of the run and marks its bounds.
pub(super) async fn timed<T>(
    phases: &mut Vec<PhaseMark>,
    phase: &'static str,
    recorder: &Recorder,
    work: impl std::future::Future<Output = T>,
) -> T {
    let requests = recorder.requests();
    let check_ins = recorder.check_ins();
    let started = Instant::now();
    let out = work.await;
    phases.push(PhaseMark {
        phase,
        elapsed: started.elapsed(),
        requests: (requests, recorder.requests()),
        check_ins: (check_ins, recorder.check_ins()),
    });
    out
}

async fn run_phase(slots: Vec<Slot>, phase: Phase, shared: &Arc<Shared>) -> Vec<Slot> {
    super::exchange::on_every_worker(slots, |s| run_slot(s, phase, Arc::clone(shared))).await
}

async fn run_slot(mut slot: Slot, phase: Phase, shared: Arc<Shared>) -> Slot {
    let Slot { conn, devices } = &mut slot;
    let (paths, recorder) = (&shared.paths, &shared.recorder);
    match phase {
        Phase::Enroll | Phase::Connect => {
            for d in devices.iter_mut().filter(|d| d.failure.is_none()) {
                let result = if phase == Phase::Enroll {
                    d.enroll(conn, paths, recorder).await
                } else {
                    d.connect(conn, paths, recorder).await.map(|_| ())
                };
                if let Err(f) = result {
                    recorder.error(f.step, &f.kind);
                    d.failure = Some(f);
                }
            }
        }
        Phase::Steady(deadline) => {
            let live: Vec<usize> = (0..devices.len())
                .filter(|&i| devices.get(i).is_some_and(|d| d.failure.is_none()))
                .collect();
            if live.is_empty() {
                return slot;
            }
            let mut next = 0;
            while Instant::now() < deadline {
                let Some(d) = live
                    .get(next % live.len())
                    .and_then(|&i| devices.get_mut(i))
                else {
                    break;
                };
                next += 1;
                if let Err(f) = d.connect(conn, paths, recorder).await {
                    recorder.error(f.step, &f.kind);
                }
            }
        }
    }
    slot
}
