//! `mdm-harness apns-mock`: the stand-in as a process, for curl, h2load and
//! load runs over the wire.

use std::net::SocketAddr;
use std::path::PathBuf;

use mdm_apple::ApnsEnvironment;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use time::OffsetDateTime;

use super::decide::ApnsBook;
use super::faults::FaultPlan;
use super::fixture::{PemFiles, SimulatedApple};
use super::server::ApnsStandIn;
use crate::HarnessError;

/// What `apns-mock` was asked for.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where to write the push certificate, its key and the server CA (PEM).
    pub out: PathBuf,
    /// The seed of the certificates and of the faults.
    pub seed: u64,
    /// The faults (its `seed` is replaced by `seed`).
    pub faults: FaultPlan,
    /// Serve token-based connections too (h2load has no client certificate).
    pub provider_tokens: bool,
}

/// A started mock: the server, the workspace topic and the files written.
#[derive(Debug)]
pub struct RunningMock {
    /// The server (stopped on drop).
    pub server: ApnsStandIn,
    /// The topic of the push certificate written.
    pub topic: mdm_model::PushTopic,
    /// The PEM files.
    pub files: PemFiles,
}

/// Makes the certificates at `now`, writes the PEM files and starts serving.
///
/// # Errors
/// Any certificate, file or server error.
pub async fn start_mock(
    options: &MockOptions,
    now: OffsetDateTime,
) -> Result<RunningMock, HarnessError> {
    let mut rng = ChaCha20Rng::seed_from_u64(options.seed);
    let apple = SimulatedApple::new(ApnsEnvironment::Production, now, &mut rng)?;
    let files = apple.write_pem_files(&options.out, &mut rng)?;
    let mut book = ApnsBook::new(
        ApnsEnvironment::Production,
        FaultPlan {
            seed: options.seed,
            ..options.faults
        },
    );
    book.accept_provider_tokens(options.provider_tokens);
    let server = ApnsStandIn::start(apple.stand_in_config(options.listen, now, book)?).await?;
    Ok(RunningMock {
        server,
        topic: apple.topic.clone(),
        files,
    })
}
