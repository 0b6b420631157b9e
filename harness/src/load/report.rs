//! What a load run measured: requests and check-ins per second (overall, by
//! phase, and second by second), latency p50/p90/p99/max per step, errors
//! by kind, the devices that never completed; as JSON and as a
//! self-contained HTML page in the style of the `simulate` report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::latency::Histogram;
use super::target::TargetKind;
use crate::html::escape;

/// One kind of request a device (or the runner) makes, or one span of a
/// device's flow measured end to end (`push_wait`, `command`, `profile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Opening the invitation link (a browser's GET with a real User-Agent).
    Link,
    /// Verifying the downloaded enrollment profile's signature up to the
    /// tenant's CA and reading its payloads (on the device, no request).
    Profile,
    /// SCEP `GetCACert`.
    ScepCaCert,
    /// SCEP `PKCSReq` with the profile's challenge: the identity certificate.
    Scep,
    /// The `Authenticate` check-in.
    Authenticate,
    /// The `TokenUpdate` check-in.
    TokenUpdate,
    /// From the command's enqueue request to its push reaching the
    /// device's token at the APNs stand-in (no request of the device's).
    PushWait,
    /// An `Idle` connect to the command endpoint.
    Idle,
    /// A command result (`Acknowledged`).
    Acknowledge,
    /// From the command's enqueue request to the device's `Acknowledged`
    /// being accepted: push, Idle, the command, its result.
    Command,
    /// Queueing commands through the server's API.
    Enqueue,
    /// Setting the tenant up through serve's admin API (push certificate,
    /// users, invitations).
    Admin,
    /// The Android agent's registration with its invitation.
    AndroidRegister,
    /// An Android agent's sync.
    AndroidSync,
}

impl Step {
    /// Every step, in the order of the flow.
    pub const ALL: [Step; 14] = [
        Step::Link,
        Step::Profile,
        Step::ScepCaCert,
        Step::Scep,
        Step::Authenticate,
        Step::TokenUpdate,
        Step::PushWait,
        Step::Idle,
        Step::Acknowledge,
        Step::Command,
        Step::Enqueue,
        Step::Admin,
        Step::AndroidRegister,
        Step::AndroidSync,
    ];

    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Step::Link => "link",
            Step::Profile => "profile",
            Step::ScepCaCert => "scep_cacert",
            Step::Scep => "scep",
            Step::Authenticate => "authenticate",
            Step::TokenUpdate => "token_update",
            Step::PushWait => "push_wait",
            Step::Idle => "idle",
            Step::Acknowledge => "acknowledge",
            Step::Command => "command",
            Step::Enqueue => "enqueue",
            Step::Admin => "admin",
            Step::AndroidRegister => "android_register",
            Step::AndroidSync => "android_sync",
        }
    }

    /// A device's check-in or report to the Apple MDM endpoints (what
    /// "check-ins per second" counts).
    pub fn is_check_in(self) -> bool {
        matches!(
            self,
            Step::Authenticate | Step::TokenUpdate | Step::Idle | Step::Acknowledge
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Seconds of the per-second timeline kept (a longer run folds into the last).
const TIMELINE_SECONDS: usize = 3600;

/// Counts shared by every worker while the run goes.
pub struct Recorder {
    start: Instant,
    steps: Vec<Histogram>,
    failures: Vec<AtomicU64>,
    requests: AtomicU64,
    check_ins: AtomicU64,
    per_second: Box<[AtomicU64]>,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// Starts the clock.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            steps: Step::ALL.iter().map(|_| Histogram::new()).collect(),
            failures: Step::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            requests: AtomicU64::new(0),
            check_ins: AtomicU64::new(0),
            per_second: (0..TIMELINE_SECONDS).map(|_| AtomicU64::new(0)).collect(),
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records one request of `step` that took `elapsed` (answered or not).
    pub fn request(&self, step: Step, elapsed: Duration) {
        if let Some(h) = self.steps.get(step.index()) {
            h.record(elapsed);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        if step.is_check_in() {
            self.check_ins.fetch_add(1, Ordering::Relaxed);
            let second = usize::try_from(self.start.elapsed().as_secs()).unwrap_or(usize::MAX);
            if let Some(s) = self.per_second.get(second.min(TIMELINE_SECONDS - 1)) {
                s.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Records a span of a device's flow that is no request of its own
    /// (`push_wait`, `command`, `profile`): its latency only.
    pub fn span(&self, step: Step, elapsed: Duration) {
        if let Some(h) = self.steps.get(step.index()) {
            h.record(elapsed);
        }
    }

    /// Records a failed step, by kind (`"http 401"`, `"timeout"`, …).
    pub fn error(&self, step: Step, kind: &str) {
        if let Some(f) = self.failures.get(step.index()) {
            f.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut errors) = self.errors.lock() {
            *errors
                .entry(format!("{}: {kind}", step.name()))
                .or_default() += 1;
        }
    }

    /// Requests so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Check-ins so far.
    pub fn check_ins(&self) -> u64 {
        self.check_ins.load(Ordering::Relaxed)
    }

    /// Time since the recorder started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn latencies(&self) -> Vec<StepLatency> {
        Step::ALL
            .iter()
            .zip(&self.steps)
            .zip(&self.failures)
            .filter(|((_, h), _)| h.count() > 0)
            .map(|((step, h), failed)| StepLatency {
                step: step.name(),
                count: h.count(),
                failed: failed.load(Ordering::Relaxed),
                mean_ms: ms(h.mean_us()),
                p50_ms: ms(h.quantile_us(0.50)),
                p90_ms: ms(h.quantile_us(0.90)),
                p99_ms: ms(h.quantile_us(0.99)),
                max_ms: ms(h.quantile_us(1.0)),
            })
            .collect()
    }

    fn timeline(&self) -> Vec<u64> {
        let seconds = usize::try_from(self.start.elapsed().as_secs())
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(TIMELINE_SECONDS);
        self.per_second
            .iter()
            .take(seconds)
            .map(|s| s.load(Ordering::Relaxed))
            .collect()
    }
}

#[allow(clippy::cast_precision_loss)]
fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

#[allow(clippy::cast_precision_loss)]
fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        (count as f64 / secs * 10.0).round() / 10.0
    } else {
        0.0
    }
}

/// One step's latencies, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepLatency {
    /// The step.
    pub step: &'static str,
    /// Requests made.
    pub count: u64,
    /// Of those, how many failed (an error answer or none).
    pub failed: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// One phase of the run and its rates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseReport {
    /// `enroll`, `connect`, `enqueue`, `commands`, `steady`, …
    pub phase: &'static str,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// HTTP requests made in the phase.
    pub requests: u64,
    /// Device check-ins (check-in messages, Idle connects, command results).
    pub check_ins: u64,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Check-ins per second.
    pub check_ins_per_second: f64,
}

/// A phase's bounds, as the runner saw them.
#[derive(Clone, Copy, Debug)]
pub struct PhaseMark {
    /// The phase.
    pub phase: &'static str,
    /// How long it took.
    pub elapsed: Duration,
    /// Requests before and after it.
    pub requests: (u64, u64),
    /// Check-ins before and after it.
    pub check_ins: (u64, u64),
}

impl PhaseMark {
    fn report(&self) -> PhaseReport {
        let requests = self.requests.1.saturating_sub(self.requests.0);
        let check_ins = self.check_ins.1.saturating_sub(self.check_ins.0);
        PhaseReport {
            phase: self.phase,
            seconds: (self.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            requests,
            check_ins,
            requests_per_second: rate(requests, self.elapsed),
            check_ins_per_second: rate(check_ins, self.elapsed),
        }
    }
}

/// A device that did not finish the flow, and where it stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incomplete {
    /// Its UDID.
    pub udid: String,
    /// The step that failed.
    pub step: &'static str,
    /// Why.
    pub reason: String,
}

/// Most incomplete devices listed by name (all are counted).
pub const MAX_LISTED_INCOMPLETE: usize = 50;

/// The whole report of a load run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadReport {
    /// The target's kind.
    pub target_kind: TargetKind,
    /// The target's base URL.
    pub target: String,
    /// Simulated devices (Apple and Android).
    pub devices: u64,
    /// Of those, Android agents (against our serve; 0 otherwise).
    pub android_devices: u64,
    /// Connections (and workers) at once.
    pub concurrency: u64,
    /// Seconds of steady Idle check-ins asked for.
    pub duration_seconds: u64,
    /// Wall-clock seconds of the whole run, identities included.
    pub seconds: f64,
    /// Seconds spent making the devices' keys and certificates (not on the wire).
    pub identity_seconds: f64,
    /// HTTP requests made.
    pub requests: u64,
    /// Device check-ins made.
    pub check_ins: u64,
    /// Requests per second over the wire phases.
    pub requests_per_second: f64,
    /// Check-ins per second over the wire phases.
    pub check_ins_per_second: f64,
    /// Check-ins per second in the steady phase (0 without one).
    pub sustained_check_ins_per_second: f64,
    /// TCP/TLS connections opened.
    pub connections_opened: u64,
    /// Each phase.
    pub phases: Vec<PhaseReport>,
    /// Latency of each step.
    pub latency: Vec<StepLatency>,
    /// Failures by `step: kind`.
    pub errors: BTreeMap<String, u64>,
    /// Devices that enrolled (Authenticate and TokenUpdate accepted).
    pub enrolled: u64,
    /// Devices that acknowledged every command queued for them.
    pub completed: u64,
    /// Commands acknowledged, over all devices.
    pub commands_acknowledged: u64,
    /// The UUID of the command queued for the first batch of devices (each
    /// batch of the enqueue API has its own).
    pub command_uuid: Option<String>,
    /// Devices that never completed.
    pub incomplete: u64,
    /// The first of them, with where and why they stopped.
    pub incomplete_devices: Vec<Incomplete>,
    /// The process's resident memory after the devices were made, in KiB.
    pub rss_kib_with_devices: u64,
    /// Its resident memory before, in KiB.
    pub rss_kib_before_devices: u64,
    /// (After - before) / devices: memory per simulated device, in bytes.
    pub bytes_per_device: u64,
    /// Check-ins, second by second.
    pub check_ins_per_second_timeline: Vec<u64>,
}

/// What the runner hands over to build the report.
#[derive(Debug)]
pub struct RunFacts {
    /// Kind of target.
    pub target_kind: TargetKind,
    /// Base URL.
    pub target: String,
    /// Devices (Apple and Android).
    pub devices: u64,
    /// Of those, Android agents.
    pub android_devices: u64,
    /// Concurrency.
    pub concurrency: u64,
    /// Steady seconds asked for.
    pub duration_seconds: u64,
    /// Time to make identities.
    pub identity_time: Duration,
    /// The phases, in order.
    pub phases: Vec<PhaseMark>,
    /// Connections opened.
    pub connections_opened: u64,
    /// Enrolled devices.
    pub enrolled: u64,
    /// Completed devices.
    pub completed: u64,
    /// Commands acknowledged.
    pub commands_acknowledged: u64,
    /// The queued command.
    pub command_uuid: Option<String>,
    /// Incomplete devices (all of them; the report lists the first).
    pub incomplete: Vec<Incomplete>,
    /// RSS before and after making the devices, KiB.
    pub rss_kib: (u64, u64),
}

impl LoadReport {
    /// Builds the report from the runner's facts and the recorder's counts.
    pub fn new(facts: RunFacts, recorder: &Recorder) -> Self {
        let wire: Vec<&PhaseMark> = facts.phases.iter().collect();
        let wire_time: Duration = wire.iter().map(|p| p.elapsed).sum();
        let requests = recorder.requests();
        let check_ins = recorder.check_ins();
        let sustained = facts
            .phases
            .iter()
            .find(|p| p.phase == "steady")
            .map_or(0.0, |p| p.report().check_ins_per_second);
        let (before, after) = facts.rss_kib;
        let bytes_per_device = after
            .saturating_sub(before)
            .saturating_mul(1024)
            .checked_div(facts.devices)
            .unwrap_or(0);
        let incomplete = facts.incomplete.len() as u64;
        Self {
            target_kind: facts.target_kind,
            target: facts.target,
            devices: facts.devices,
            android_devices: facts.android_devices,
            concurrency: facts.concurrency,
            duration_seconds: facts.duration_seconds,
            seconds: (recorder.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            identity_seconds: (facts.identity_time.as_secs_f64() * 1000.0).round() / 1000.0,
            requests,
            check_ins,
            requests_per_second: rate(requests, wire_time),
            check_ins_per_second: rate(check_ins, wire_time),
            sustained_check_ins_per_second: sustained,
            connections_opened: facts.connections_opened,
            phases: facts.phases.iter().map(PhaseMark::report).collect(),
            latency: recorder.latencies(),
            errors: recorder
                .errors
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
            enrolled: facts.enrolled,
            completed: facts.completed,
            commands_acknowledged: facts.commands_acknowledged,
            command_uuid: facts.command_uuid,
            incomplete,
            incomplete_devices: facts
                .incomplete
                .into_iter()
                .take(MAX_LISTED_INCOMPLETE)
                .collect(),
            rss_kib_with_devices: after,
            rss_kib_before_devices: before,
            bytes_per_device,
            check_ins_per_second_timeline: recorder.timeline(),
        }
    }

    /// True when every device completed and nothing failed.
    pub fn all_completed(&self) -> bool {
        self.incomplete == 0 && self.errors.is_empty() && self.completed == self.devices
    }

    /// The report as pretty JSON.
    ///
    /// # Errors
    /// Never in practice (every field serialises).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// A few lines for the terminal.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} devices against {} ({:?}), {} connections: {} enrolled, {} completed, {} incomplete",
            self.devices,
            self.target,
            self.target_kind,
            self.concurrency,
            self.enrolled,
            self.completed,
            self.incomplete
        );
        let _ = writeln!(
            s,
            "{} requests, {} check-ins in {:.2} s ({:.2} s making identities): {:.1} requests/s, {:.1} check-ins/s",
            self.requests,
            self.check_ins,
            self.seconds,
            self.identity_seconds,
            self.requests_per_second,
            self.check_ins_per_second
        );
        if self.sustained_check_ins_per_second > 0.0 {
            let _ = writeln!(
                s,
                "steady phase: {:.1} check-ins/s sustained over {} s",
                self.sustained_check_ins_per_second, self.duration_seconds
            );
        }
        for p in &self.phases {
            let _ = writeln!(
                s,
                "  phase {:<9} {:>8.2} s {:>9} requests {:>9.1} check-ins/s",
                p.phase, p.seconds, p.requests, p.check_ins_per_second
            );
        }
        for l in &self.latency {
            let _ = writeln!(
                s,
                "  {:<13} n={:<8} failed={:<5} p50 {:>8.2} ms  p90 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
                l.step, l.count, l.failed, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
            );
        }
        for (kind, n) in &self.errors {
            let _ = writeln!(s, "  error {kind}: {n}");
        }
        let _ = writeln!(
            s,
            "memory: {} KiB RSS with the devices, {} bytes per device",
            self.rss_kib_with_devices, self.bytes_per_device
        );
        s
    }

    /// A self-contained HTML page: the summary, check-ins per second over
    /// time, latency per step and errors by kind.
    pub fn to_html(&self) -> String {
        let mut page = String::new();
        let title = format!("Load: {} devices against {}", self.devices, self.target);
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mdm-harness: {t}</title><style>body{{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:3px 8px;text-align:left}}td.n{{text-align:right}}.fail{{color:#c00;font-weight:bold}}.ok{{color:#2a7}}pre{{background:#f6f6f6;padding:1em;white-space:pre-wrap}}</style></head><body>\n<h1>{t}</h1>\n<pre>{s}</pre>\n",
            t = escape(&title),
            s = escape(&self.summary())
        );
        page.push_str(&timeline_chart(&self.check_ins_per_second_timeline));
        page.push_str("<h2>Latency by step (ms)</h2>\n<table><tr><th>step</th><th>requests</th><th>failed</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
        for l in &self.latency {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td></tr>",
                l.step, l.count, l.failed, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
            );
        }
        page.push_str("</table>\n<h2>Errors by kind</h2>\n");
        if self.errors.is_empty() {
            page.push_str("<p class=\"ok\">none</p>\n");
        } else {
            page.push_str("<table><tr><th>kind</th><th>count</th></tr>\n");
            for (kind, n) in &self.errors {
                let _ = writeln!(
                    page,
                    "<tr><td class=\"fail\">{}</td><td class=\"n\">{n}</td></tr>",
                    escape(kind)
                );
            }
            page.push_str("</table>\n");
        }
        let _ = writeln!(
            page,
            "<h2>Devices that never completed: {}</h2>",
            self.incomplete
        );
        if !self.incomplete_devices.is_empty() {
            page.push_str("<table><tr><th>UDID</th><th>step</th><th>reason</th></tr>\n");
            for d in &self.incomplete_devices {
                let _ = writeln!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&d.udid),
                    d.step,
                    escape(&d.reason)
                );
            }
            page.push_str("</table>\n");
        }
        page.push_str("</body></html>\n");
        page
    }
}

/// Check-ins per second as an SVG bar chart.
#[allow(clippy::cast_precision_loss)]
fn timeline_chart(points: &[u64]) -> String {
    const W: f64 = 760.0;
    const H: f64 = 240.0;
    const PAD: f64 = 40.0;
    let (w, h) = (W - 2.0 * PAD, H - 2.0 * PAD);
    let max = points.iter().copied().max().unwrap_or(0).max(1);
    let n = points.len().max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg id="check-ins" class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="Check-ins per second" xmlns="http://www.w3.org/2000/svg"><title>Check-ins per second</title><rect x="{PAD}" y="{PAD}" width="{w}" height="{h}" fill="#fafafa" stroke="#ccc"/>"##
    );
    for k in 0..=4u64 {
        let y = PAD + h - h * k as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{PAD}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{tx}" y="{ty:.1}" font-size="10" text-anchor="end">{v}</text>"##,
            x2 = PAD + w,
            tx = PAD - 4.0,
            ty = y + 3.0,
            v = max * k / 4
        );
    }
    let bar = w / n as f64;
    for (i, &v) in points.iter().enumerate() {
        let bh = h * v as f64 / max as f64;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.2}" height="{bh:.1}" fill="#4a7ebb"><title>second {i}: {v}</title></rect>"##,
            x = PAD + bar * i as f64,
            y = PAD + h - bh,
            bw = (bar * 0.9).max(0.5)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{x}" y="{y}" font-size="11" text-anchor="middle">seconds since start ({n})</text><text x="{PAD}" y="{ty}" font-size="12">Check-ins per second</text></svg>"#,
        x = PAD + w / 2.0,
        y = PAD + h + 16.0,
        ty = PAD - 10.0
    );
    svg.push('\n');
    svg
}
