//! The run against our own `serve` (`--target-kind ours`): the whole flow.
//!
//! 1. `admin`: through serve's administrator API, the push certificate of
//!    the APNs stand-in this process runs ([`super::standin`]), one user
//!    and one invitation per device.
//! 2. `enroll`: each Apple device opens its link with Safari's User-Agent,
//!    verifies the profile, runs SCEP ([`super::enroll`]), registers a push
//!    token with the stand-in and sends `Authenticate` and `TokenUpdate`;
//!    each Android agent opens its link, registers and syncs
//!    ([`super::android`]).
//! 3. `enqueue`: a `DeviceInformation` for every enrolled Apple device
//!    through the API (typed JSON); serve pushes each device's token.
//! 4. `commands`: each device waits until the stand-in recorded a push to
//!    its token, then connects: `Idle`, the command, `Acknowledged`, until
//!    serve has nothing more.
//! 5. `steady` (with a duration): Idle connects round the fleet.
//! 6. `verify`: serve's device list must show no command left pending.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mdm_certs::{Certificate, PrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::json;
use time::OffsetDateTime;

use super::admin::{COMMAND_BATCH, Invitation, ServeApi};
use super::android::{AgentPaths, AndroidAgent};
use super::client::{Connection, Endpoint};
use super::device::{Failure, Paths, WireDevice, udid};
use super::enroll::{IPAD_USER_AGENT, IPHONE_USER_AGENT, enroll_over_the_wire, rsa_pool};
use super::exchange::on_every_worker;
use super::report::{Incomplete, LoadReport, Recorder, RunFacts, Step};
use super::runner::{LoadOptions, rss_kib, timed};
use super::standin::{PushWatch, StandInFiles};
use crate::HarnessError;

/// What a run against our serve needs besides the common options.
#[derive(Debug)]
pub struct OursOptions {
    /// The tenant's administrator token.
    pub admin_token: String,
    /// Android agents besides the Apple devices.
    pub android: u32,
    /// The APNs stand-in's certificates (`--apns-dir`).
    pub apns: StandInFiles,
    /// Where the stand-in listens: serve's `--apns`.
    pub apns_listen: SocketAddr,
    /// RSA keys in the pool the Apple devices' SCEP keys come from.
    pub rsa_keys: usize,
}

/// One Apple device's place in the run.
struct AppleSeat {
    index: u32,
    link: Option<String>,
    user_agent: &'static str,
    device: Option<WireDevice>,
    paths: Option<Paths>,
    /// When its command's enqueue request was sent, the pushes its token
    /// had by then, and whether the push was seen.
    queued: Option<(Instant, usize, bool)>,
    command: Option<String>,
    failure: Option<Failure>,
}

impl AppleSeat {
    fn live(&mut self) -> Option<(&mut WireDevice, &Paths)> {
        if self.failure.is_some() {
            return None;
        }
        match (&mut self.device, &self.paths) {
            (Some(d), Some(p)) => Some((d, p)),
            _ => None,
        }
    }

    fn udid(&self, run: u32) -> String {
        udid(run, self.index)
    }
}

/// One worker: a connection and its share of both fleets.
struct Worker {
    conn: Connection,
    apple: Vec<AppleSeat>,
    android: Vec<AndroidAgent>,
}

struct Shared {
    recorder: Recorder,
    trust: Vec<Certificate>,
    keys: Vec<PrivateKey>,
    push: PushWatch,
    agents: AgentPaths,
    timeout: Duration,
    run_id: u32,
    reuse_idle_signatures: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Enroll,
    Commands,
    Steady(Instant),
}

fn accounts(run: u32, prefix: char, n: u32) -> Vec<String> {
    (0..n)
        .map(|i| format!("load{run:08x}{prefix}{i}"))
        .collect()
}

/// Runs the whole flow against our serve; see the module.
///
/// # Errors
/// [`HarnessError`] when the run cannot start: a refused admin token (named
/// as such), the stand-in cannot listen, keys cannot be made. Failures of
/// devices are in the report.
pub fn run(
    options: &LoadOptions,
    ours: &OursOptions,
    endpoint: Arc<Endpoint>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<LoadReport, HarnessError> {
    let trust = match &options.target_ca_pem {
        Some(pem) => {
            Certificate::all_from_pem(pem).map_err(|source| HarnessError::Certificates {
                step: "reading --target-ca",
                source,
            })?
        }
        None => Vec::new(),
    };
    progress(&format!(
        "making {} RSA-2048 keys (the SCEP key pool)",
        ours.rsa_keys
    ));
    let identity_start = Instant::now();
    let keys = rsa_pool(ours.rsa_keys, u64::from(options.run_id))?;
    let identity_time = identity_start.elapsed();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| HarnessError::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let api = ServeApi::new(&options.target, &ours.admin_token)?;
    let mut api_conn = endpoint.connection();
    let recorder = Recorder::new();
    let mut phases = Vec::new();
    let run_id = options.run_id;
    let apple_accounts = accounts(run_id, 'a', options.devices);
    let android_accounts = accounts(run_id, 'g', ours.android);

    let outcome = runtime.block_on(async {
        let (standin, push) = ours
            .apns
            .start(ours.apns_listen, OffsetDateTime::now_utc())
            .await?;
        progress("admin: push certificate, users, invitations");
        let setup = timed(&mut phases, "admin", &recorder, async {
            let topic = api
                .upload_push_certificate(&mut api_conn, &recorder, &ours.apns.push_pem)
                .await
                .map_err(|e| e.into_error("install the push certificate"))?;
            if topic.as_deref() != Some(ours.apns.topic.as_str()) {
                return Err(HarnessError::Serve {
                    step: "install the push certificate",
                    message: format!("serve read the topic {topic:?}"),
                });
            }
            let all: Vec<String> = apple_accounts
                .iter()
                .chain(&android_accounts)
                .cloned()
                .collect();
            for account in &all {
                api.add_user(&mut api_conn, &recorder, account)
                    .await
                    .map_err(|e| e.into_error("create users"))?;
            }
            api.invite(&mut api_conn, &recorder, &all)
                .await
                .map_err(|e| e.into_error("send invitations"))
        })
        .await;
        let invitations = match setup {
            Ok(i) => i,
            Err(e) => {
                standin.stop().await;
                return Err(e);
            }
        };
        let shared = Arc::new(Shared {
            recorder,
            trust,
            keys,
            push,
            agents: AgentPaths::of(&options.target),
            timeout: options.timeout,
            run_id,
            reuse_idle_signatures: options.reuse_idle_signatures,
        });
        let workers = workers(options, &endpoint, &invitations);
        let rss_before = rss_kib();
        progress("enroll: link, profile, SCEP, Authenticate, TokenUpdate; Android register, sync");
        let mut workers = timed(
            &mut phases,
            "enroll",
            &shared.recorder,
            run_phase(workers, Phase::Enroll, &shared),
        )
        .await;
        let rss_after = rss_kib();
        progress("enqueue: DeviceInformation for every enrolled Apple device, pushed");
        let uuids = timed(
            &mut phases,
            "enqueue",
            &shared.recorder,
            enqueue(&api, &mut api_conn, &mut workers, &shared),
        )
        .await;
        progress("commands: push, Idle, DeviceInformation, Acknowledged");
        workers = timed(
            &mut phases,
            "commands",
            &shared.recorder,
            run_phase(workers, Phase::Commands, &shared),
        )
        .await;
        if !options.duration.is_zero() {
            progress(&format!(
                "steady: Idle connects for {} s",
                options.duration.as_secs()
            ));
            let deadline = Instant::now() + options.duration;
            workers = timed(
                &mut phases,
                "steady",
                &shared.recorder,
                run_phase(workers, Phase::Steady(deadline), &shared),
            )
            .await;
        }
        progress("verify: serve's device list");
        let listed = api.devices(&mut api_conn, &shared.recorder).await;
        standin.stop().await;
        Ok((workers, shared, uuids, listed, (rss_before, rss_after)))
    });
    drop(runtime);
    let (workers, shared, uuids, listed, rss) = outcome?;
    let pending: std::collections::HashMap<String, u64> = match listed {
        Ok(devices) => devices
            .iter()
            .filter_map(|d| {
                Some((
                    d["udid"].as_str()?.to_owned(),
                    d["pending_commands"].as_u64().unwrap_or(0),
                ))
            })
            .collect(),
        Err(e) => {
            shared.recorder.error(Step::Admin, &e.kind);
            std::collections::HashMap::new()
        }
    };

    let mut enrolled = 0;
    let mut completed = 0;
    let mut acknowledged = 0;
    let mut incomplete = Vec::new();
    let mut connections = api_conn.connects();
    for w in &workers {
        connections += w.conn.connects();
        for seat in &w.apple {
            let udid = seat.udid(run_id);
            let device = seat.device.as_ref();
            enrolled += u64::from(device.is_some_and(|d| d.enrolled));
            acknowledged += device.map_or(0, |d| u64::from(d.acknowledged));
            let got_it = device
                .and_then(|d| d.last_command.as_deref())
                .is_some_and(|c| Some(c) == seat.command.as_deref());
            let left = pending.get(&udid).copied();
            match (&seat.failure, got_it, left) {
                (Some(f), _, _) => incomplete.push(Incomplete {
                    udid,
                    step: f.step.name(),
                    reason: format!("{}: {}", f.kind, f.detail),
                }),
                (None, false, _) => incomplete.push(Incomplete {
                    udid,
                    step: "command",
                    reason: "the queued command never came".into(),
                }),
                (None, true, Some(0)) => completed += 1,
                (None, true, left) => incomplete.push(Incomplete {
                    udid,
                    step: "verify",
                    reason: format!("serve lists {left:?} commands still pending"),
                }),
            }
        }
        for agent in &w.android {
            enrolled += u64::from(agent.syncs > 0);
            if agent.completed() {
                completed += 1;
            } else {
                incomplete.push(Incomplete {
                    udid: agent.account.clone(),
                    step: agent
                        .failure
                        .as_ref()
                        .map_or("android_sync", |f| f.step.name()),
                    reason: agent.failure.as_ref().map_or_else(
                        || "did not sync".into(),
                        |f| format!("{}: {}", f.kind, f.detail),
                    ),
                });
            }
        }
    }
    let Some(shared) = Arc::into_inner(shared) else {
        return Err(HarnessError::Internal("a worker outlived the run"));
    };
    let devices = u64::from(options.devices) + u64::from(ours.android);
    let facts = RunFacts {
        target_kind: options.target.kind,
        target: options.target.url(""),
        devices,
        android_devices: u64::from(ours.android),
        concurrency: workers.len() as u64,
        duration_seconds: options.duration.as_secs(),
        identity_time,
        phases,
        connections_opened: connections,
        enrolled,
        completed,
        commands_acknowledged: acknowledged,
        command_uuid: uuids.into_iter().next(),
        incomplete,
        rss_kib: rss,
    };
    Ok(LoadReport::new(facts, &shared.recorder))
}

fn workers(
    options: &LoadOptions,
    endpoint: &Arc<Endpoint>,
    invitations: &[Invitation],
) -> Vec<Worker> {
    let total = invitations.len().max(1);
    let concurrency = (options.concurrency as usize).clamp(1, total);
    let mut workers: Vec<Worker> = (0..concurrency)
        .map(|_| Worker {
            conn: endpoint.connection(),
            apple: Vec::new(),
            android: Vec::new(),
        })
        .collect();
    let apple = options.devices as usize;
    for (i, invitation) in invitations.iter().enumerate() {
        let Some(w) = workers.get_mut(i % concurrency) else {
            continue;
        };
        let path = invitation.path().map(str::to_owned);
        if i < apple {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let failure = path
                .is_none()
                .then(|| Failure::new(Step::Link, "bad link", invitation.link.clone()));
            w.apple.push(AppleSeat {
                index,
                link: path,
                user_agent: if i % 2 == 0 {
                    IPHONE_USER_AGENT
                } else {
                    IPAD_USER_AGENT
                },
                device: None,
                paths: None,
                queued: None,
                command: None,
                failure,
            });
        } else {
            w.android.push(AndroidAgent::new(
                invitation.account.clone(),
                path.unwrap_or_default(),
                invitation.token().unwrap_or_default(),
            ));
        }
    }
    workers
}

/// Queues the command for every enrolled device, [`COMMAND_BATCH`] at a
/// time, noting when each device's batch was sent. Returns the UUIDs.
async fn enqueue(
    api: &ServeApi,
    conn: &mut Connection,
    workers: &mut [Worker],
    shared: &Shared,
) -> Vec<String> {
    let mut seats: Vec<&mut AppleSeat> = workers
        .iter_mut()
        .flat_map(|w| w.apple.iter_mut())
        .filter(|s| s.failure.is_none() && s.device.as_ref().is_some_and(|d| d.enrolled))
        .collect();
    let command = json!({ "request_type": "DeviceInformation" });
    let mut uuids = Vec::new();
    for batch in seats.chunks_mut(COMMAND_BATCH) {
        let udids: Vec<String> = batch.iter().map(|s| s.udid(shared.run_id)).collect();
        let refs: Vec<&str> = udids.iter().map(String::as_str).collect();
        for seat in batch.iter_mut() {
            let seen = seat
                .device
                .as_ref()
                .map_or(0, |d| shared.push.delivered(d.push_token()));
            seat.queued = Some((Instant::now(), seen, false));
        }
        match api.enqueue(conn, &shared.recorder, &refs, &command).await {
            Ok((uuid, _)) => {
                // serve pushes before it answers: the push is usually in
                // the stand-in's book by now.
                for seat in batch.iter_mut() {
                    seat.command = Some(uuid.clone());
                    if let (Some(d), Some((at, seen, pushed))) = (&seat.device, &mut seat.queued)
                        && shared.push.delivered(d.push_token()) > *seen
                    {
                        shared.recorder.span(Step::PushWait, at.elapsed());
                        *pushed = true;
                    }
                }
                uuids.push(uuid);
            }
            Err(refusal) => {
                shared.recorder.error(Step::Enqueue, &refusal.kind);
                for seat in batch.iter_mut() {
                    seat.failure = Some(Failure::new(
                        Step::Enqueue,
                        refusal.kind.clone(),
                        refusal.detail.clone(),
                    ));
                }
            }
        }
    }
    uuids
}

async fn run_phase(workers: Vec<Worker>, phase: Phase, shared: &Arc<Shared>) -> Vec<Worker> {
    on_every_worker(workers, |w| run_worker(w, phase, Arc::clone(shared))).await
}

async fn run_worker(mut worker: Worker, phase: Phase, shared: Arc<Shared>) -> Worker {
    let Worker {
        conn,
        apple,
        android,
    } = &mut worker;
    let recorder = &shared.recorder;
    match phase {
        Phase::Enroll => {
            for seat in apple.iter_mut() {
                if let Err(f) = enroll_apple(seat, conn, &shared).await {
                    recorder.error(f.step, &f.kind);
                    seat.failure = Some(f);
                }
            }
            for agent in android.iter_mut().filter(|a| a.failure.is_none()) {
                if let Err(f) = agent.enroll(conn, recorder, &shared.agents).await {
                    recorder.error(f.step, &f.kind);
                    agent.failure = Some(f);
                }
            }
        }
        Phase::Commands => {
            for seat in apple.iter_mut() {
                if let Err(f) = fetch_command(seat, conn, &shared).await {
                    recorder.error(f.step, &f.kind);
                    seat.failure = Some(f);
                }
            }
        }
        Phase::Steady(deadline) => {
            let mut live: Vec<&mut AppleSeat> = apple
                .iter_mut()
                .filter(|s| s.failure.is_none() && s.device.is_some() && s.paths.is_some())
                .collect();
            let mut next = 0;
            while Instant::now() < deadline && !live.is_empty() {
                let n = live.len();
                let Some((device, paths)) = live.get_mut(next % n).and_then(|s| s.live()) else {
                    break;
                };
                next += 1;
                if let Err(f) = device.connect(conn, paths, recorder).await {
                    recorder.error(f.step, &f.kind);
                }
            }
        }
    }
    worker
}

async fn enroll_apple(
    seat: &mut AppleSeat,
    conn: &mut Connection,
    shared: &Shared,
) -> Result<(), Failure> {
    let Some(link) = seat.link.as_deref() else {
        return Ok(());
    };
    if seat.failure.is_some() {
        return Ok(());
    }
    let mut rng =
        ChaCha20Rng::seed_from_u64((u64::from(shared.run_id) << 32) | u64::from(seat.index));
    let key = shared
        .keys
        .get(seat.index as usize % shared.keys.len().max(1))
        .ok_or_else(|| Failure::new(Step::Scep, "no key", "the RSA pool is empty"))?;
    let (mut device, paths) = enroll_over_the_wire(
        conn,
        &shared.recorder,
        link,
        seat.user_agent,
        &shared.trust,
        key,
        seat.udid(shared.run_id),
        &mut rng,
    )
    .await?;
    device.reuse_idle_signature = shared.reuse_idle_signatures;
    shared.push.register(device.push_token(), &paths.topic);
    let result = device.enroll(conn, &paths, &shared.recorder).await;
    seat.device = Some(device);
    seat.paths = Some(paths);
    result
}

async fn fetch_command(
    seat: &mut AppleSeat,
    conn: &mut Connection,
    shared: &Shared,
) -> Result<(), Failure> {
    let Some((queued_at, seen, pushed)) = seat.queued else {
        return Ok(());
    };
    let Some((device, paths)) = seat.live() else {
        return Ok(());
    };
    if !pushed {
        let deadline = Instant::now() + shared.timeout;
        if !shared.push.wait(device.push_token(), seen, deadline).await {
            return Err(Failure::new(
                Step::PushWait,
                "no push",
                format!("no push to its token within {} s", shared.timeout.as_secs()),
            ));
        }
        shared.recorder.span(Step::PushWait, queued_at.elapsed());
    }
    device.connect(conn, paths, &shared.recorder).await?;
    shared.recorder.span(Step::Command, queued_at.elapsed());
    Ok(())
}
