//! A stand-in for Apple's Push Notification service (issue #14), faithful
//! to what Apple documents for certificate-based providers, for tests and
//! load runs. **Not Apple**; it talks to nothing.
//!
//! * [`ApnsBook::decide`] — the answer to one push as a pure function of
//!   the request, the client certificate's facts, the date and the book
//!   (tokens registered per topic, tokens turned `Unregistered`, disallowed
//!   topics, revoked certificates, seeded [`FaultPlan`]); every push is
//!   recorded per token ([`ApnsBook::pushes_for`]) so a run can wake the
//!   right simulated device. The simulator can call it in-process.
//! * [`ApnsStandIn`] — the same on the wire: HTTP/2 over TLS, a client
//!   certificate required and chained to the simulated Apple CA, the topic
//!   checked against that certificate's UID, [`APNS_MAX_CONCURRENT_STREAMS`]
//!   advertised, GOAWAY after a seeded number of streams. Run by
//!   `mdm-harness apns-mock --listen 127.0.0.1:PORT`.
//! * [`SimulatedApple`] — the certificates of a run (simulated Apple CA,
//!   a push certificate for a topic, the stand-in's server identity) and
//!   the PEM files `curl` and `h2load` take.

mod decide;
mod faults;
mod fixture;
mod mock;
mod payload;
mod server;
mod stream;

pub use decide::{
    ApnsBook, Decision, MAX_PAYLOAD_BYTES, PUSH_TYPES, PushAttempt, PushRecord, TOKEN_BYTES,
};
pub use faults::{Fault, FaultPlan};
pub use fixture::{PemFiles, SimulatedApple};
pub use mock::{MockOptions, RunningMock, start_mock};
pub use server::{APNS_MAX_CONCURRENT_STREAMS, ApnsStandIn, StandInConfig, StandInTls};
