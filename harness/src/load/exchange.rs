//! One request of a device's step: sent on its connection, timed into the
//! step's latency, and its failures as [`Failure`]s of that step.

use std::time::Instant;

use bytes::Bytes;
use http::Request;

use super::client::{Answer, Connection};
use super::device::Failure;
use super::report::{Recorder, Step};

/// A failure of `step` of `kind`.
pub fn fail(step: Step, kind: &str, detail: impl std::fmt::Display) -> Failure {
    Failure::new(step, kind, detail.to_string())
}

/// An answer with an unexpected status: kind `http <status>`, the body's
/// first 200 characters as the detail.
pub fn refused(step: Step, answer: &Answer) -> Failure {
    let text = String::from_utf8_lossy(answer.body());
    fail(
        step,
        &format!("http {}", answer.status().as_u16()),
        text.trim().chars().take(200).collect::<String>(),
    )
}

/// Sends `request` and records it under `step`.
///
/// # Errors
/// A request that cannot be built, or no answer.
pub async fn send(
    conn: &mut Connection,
    recorder: &Recorder,
    step: Step,
    request: Result<Request<Bytes>, http::Error>,
) -> Result<Answer, Failure> {
    let request = request.map_err(|e| fail(step, "build", e))?;
    let started = Instant::now();
    let answer = conn.send(request).await;
    recorder.request(step, started.elapsed());
    answer.map_err(|e| fail(step, e.kind(), e))
}

/// Runs `work` on every worker at once (one tokio task each) and gives the
/// workers back. A worker cannot panic on input (every failure is a value);
/// a join error would lose only that worker's devices.
pub async fn on_every_worker<W, F, Fut>(workers: Vec<W>, work: F) -> Vec<W>
where
    W: Send + 'static,
    F: Fn(W) -> Fut,
    Fut: std::future::Future<Output = W> + Send + 'static,
{
    let handles: Vec<_> = workers.into_iter().map(|w| tokio::spawn(work(w))).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(w) = h.await {
            out.push(w);
        }
    }
    out
}
