//! A device's own work, off the workspace: what it sees while it makes its
//! keys and CSR, gets its certificate and writes its check-in messages — on
//! the other cores, while the world goes on — and the steps before and after.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use time::OffsetDateTime;

use crate::draw::{self, Purpose, Salt};
use crate::pki::AdminPki;
use crate::world::World;
use crate::{HarnessError, SimTime};

/// A device's generator for `purpose` in its `attempts`-th enrollment: a
/// device that enrolls again draws new keys and serials.
pub(crate) fn enrollment_stream(seed: u64, i: u32, attempts: u8, purpose: Purpose) -> ChaCha20Rng {
    draw::stream(seed.wrapping_add(u64::from(attempts) << 48), i, purpose)
}

/// What a device sees while it works on its own, off the workspace: the CA
/// it gets its certificate from, virtual time, the seed and the faults.
/// Owned (the PKI is shared), so that work can run on the other cores while
/// the world goes on.
pub(crate) struct DeviceView {
    pub(crate) pki: Arc<AdminPki>,
    start: OffsetDateTime,
    seed: u64,
    pub(crate) faults: crate::Faults,
}

impl DeviceView {
    pub(crate) fn new(
        pki: Arc<AdminPki>,
        start: OffsetDateTime,
        seed: u64,
        faults: crate::Faults,
    ) -> Self {
        Self {
            pki,
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

    /// The same coin as `World::coin`.
    pub(crate) fn coin(&self, i: u32, t: SimTime, salt: impl Into<Salt>, p: f64) -> bool {
        draw::coin(self.seed, i, t.0, salt, p)
    }
}

/// A device between routing and recording: its own work still to do.
pub(crate) enum Enrolling {
    Android(crate::device_android::Routed),
    Apple(crate::device_apple::Routed),
}

/// A device's own work, done.
pub(crate) enum Enrolled {
    Android(crate::device_android::Prepared),
    Apple(crate::device_apple::Prepared),
}

impl Enrolling {
    pub(crate) fn prepare(self, view: &DeviceView) -> Result<Enrolled, HarnessError> {
        match self {
            Self::Android(r) => crate::device_android::prepare(view, r).map(Enrolled::Android),
            Self::Apple(r) => crate::device_apple::prepare(view, r).map(Enrolled::Apple),
        }
    }
}

impl Enrolled {
    pub(crate) fn apply(self, w: &mut World) -> Result<(), HarnessError> {
        match self {
            Self::Android(p) => crate::device_android::apply(w, p),
            Self::Apple(p) => crate::device_apple::apply(w, p),
        }
    }
}
