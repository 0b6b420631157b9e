//! Requests of a tenant kept in PostgreSQL run off the async runtime.
//!
//! The stores speak to PostgreSQL through the synchronous `postgres`
//! client, which drives a runtime of its own and refuses to run inside
//! another's. The crates' routes call their stores synchronously (a lock,
//! a read, a write), so a request of such a tenant is run to completion on
//! a blocking thread, by a small executor that parks the thread between
//! polls, with the server's runtime handle entered (so a route may still
//! spawn work on it) but not running. A SQLite tenant's Apple check-ins
//! run here too ([`super::app`]): they wait for the tenant's lock, which
//! must not stall the runtime's workers (TLS, other connections) meanwhile.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Runs `future` to completion on a blocking thread outside the runtime.
///
/// # Errors
/// The future panicked (the reason, in words).
pub async fn off_runtime<F>(future: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _entered = handle.enter();
        block_on(future)
    })
    .await
    .map_err(|e| e.to_string())
}

/// Wakes the parked thread that polls the future.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_future_runs_off_the_runtime_and_may_still_spawn_on_it() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let answer = runtime.block_on(off_runtime(async {
            // A nested runtime may run here, as the postgres client's does.
            let nested = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let inner = nested.block_on(async { 20 });
            let spawned = tokio::spawn(async { 22 }).await.unwrap();
            inner + spawned
        }));
        assert_eq!(answer.unwrap(), 42);
    }
}
