//! Deterministic draws: every random choice of a run comes from the run's
//! seed through ChaCha streams, one stream per (device, purpose), so a
//! device's behaviour does not depend on the order devices are handled in —
//! nor on how work is spread over threads.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// Why a stream is drawn from; each purpose gets its own stream per device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// The device's plan: platform, install path, delays, faults.
    Plan = 1,
    /// Keys and serials of the device's certificates.
    Keys = 2,
    /// Per-event coin flips (online or not, message lost or not).
    Events = 3,
    /// The administrator's secrets (tokens, one-time passwords, CA keys).
    Admin = 4,
    /// Device-side keys and the certificates issued for them.
    Device = 5,
    /// The server's secrets (the agents' credentials).
    Server = 6,
    /// The SCEP endpoint's secrets (challenges, labels) and, per device
    /// and enrollment, the randomness of its answer to a `PKCSReq`.
    Scep = 7,
}

/// A generator for one (device, purpose) of a run seeded with `seed`.
#[must_use]
pub fn stream(seed: u64, device: u32, purpose: Purpose) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream((u64::from(device) << 8) | purpose as u64);
    rng
}

/// A uniform number in `[0, 1)`.
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 53 random bits: exactly representable.
    #[allow(clippy::cast_precision_loss)]
    let x = (rng.next_u64() >> 11) as f64;
    x / (1u64 << 53) as f64
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of a 64-bit value.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a coin is flipped for. Each purpose is its own salt, so two
/// purposes asked at the same moment give independent flips. The
/// discriminant *is* the salt hashed into the flip: renumbering a variant
/// changes every run's report, so the values are pinned by a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CoinPurpose {
    /// An enrolled or installing device is offline when it would connect.
    Offline = 1,
    /// An Apple device's first `Authenticate` check-in arrives cut in half.
    MalformedCheckIn = 2,
    /// The push that wakes an Apple device for its commands is lost.
    PushLost = 3,
    /// An Android agent's sync request is lost on the wire.
    SyncRequestLost = 4,
    /// An Android agent's sync request arrives twice.
    SyncRequestDuplicated = 5,
    /// The SCEP endpoint's CertRep to a device is lost; the device sends
    /// its `PKCSReq` again.
    CertRepLost = 6,
    /// The administrator's wipe of a share of the fleet picks this device.
    Wipe = 900,
}

/// What a coin is flipped for about the `nth` command (counting from 1) an
/// Apple device answers in one connection: the salt is the base below plus
/// `nth`, so each command of the connection gets its own flip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CommandCoin {
    /// The device answers `NotNow`.
    NotNow = 10,
    /// The device answers `Error`.
    Error = 110,
    /// The device's report arrives twice.
    ReportDuplicated = 210,
}

impl CommandCoin {
    /// The salt for the `nth` command of a connection (counting from 1).
    #[must_use]
    pub const fn nth(self, nth: u32) -> Salt {
        Salt((self as u32).wrapping_add(nth))
    }
}

/// The salt a coin flip hashes in: made only from a [`CoinPurpose`] or a
/// [`CommandCoin::nth`], never from a bare number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Salt(u32);

impl From<CoinPurpose> for Salt {
    fn from(purpose: CoinPurpose) -> Self {
        Self(purpose as u32)
    }
}

/// A coin flip for (device, moment, purpose) of a run: `true` with
/// probability `p`. A hash of its inputs rather than a generator, so it costs
/// nothing to ask and does not depend on the order events are handled in.
#[must_use]
pub fn coin(seed: u64, device: u32, at: u32, salt: impl Into<Salt>, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    let Salt(salt) = salt.into();
    let h = mix(mix(mix(seed) ^ u64::from(device)) ^ (u64::from(at) << 16 | u64::from(salt)));
    // 53 random bits: exactly representable.
    #[allow(clippy::cast_precision_loss)]
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    u < p
}

/// `true` with probability `p`.
pub fn chance<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    p > 0.0 && unit(rng) < p
}

/// A whole number in `[lo, hi)`; `lo` when the range is empty.
pub fn between<R: Rng + ?Sized>(rng: &mut R, lo: u32, hi: u32) -> u32 {
    if hi <= lo {
        return lo;
    }
    lo + u32::try_from(rng.next_u64() % u64::from(hi - lo)).unwrap_or(0)
}

/// An exponentially distributed number of seconds with the given mean, capped.
pub fn exponential_secs<R: Rng + ?Sized>(rng: &mut R, mean: f64, cap: u32) -> u32 {
    let u = unit(rng);
    let x = -mean * (1.0 - u).ln();
    if x.is_finite() && x < f64::from(cap) {
        // Non-negative and below `cap`, so the cast is exact enough.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let secs = x as u32;
        secs
    } else {
        cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = stream(7, 3, Purpose::Plan).next_u64();
        assert_eq!(a, stream(7, 3, Purpose::Plan).next_u64());
        assert_ne!(a, stream(7, 4, Purpose::Plan).next_u64());
        assert_ne!(a, stream(7, 3, Purpose::Keys).next_u64());
        assert_ne!(a, stream(8, 3, Purpose::Plan).next_u64());
    }

    #[test]
    fn coins_are_reproducible_and_fair() {
        assert_eq!(coin(1, 2, 3, Salt(4), 0.5), coin(1, 2, 3, Salt(4), 0.5));
        assert!(!coin(1, 2, 3, Salt(4), 0.0));
        let hits = (0..20_000u32)
            .filter(|&t| coin(9, 7, t, Salt(1), 0.25))
            .count();
        assert!((4_600..5_400).contains(&hits), "{hits}");
        let other = (0..2_000u32)
            .filter(|&t| coin(9, 7, t, Salt(1), 0.5) != coin(9, 7, t, Salt(2), 0.5))
            .count();
        assert!(other > 800, "salts give independent flips: {other}");
    }

    /// The salts every run's coins were flipped with before they had names:
    /// a renumbered purpose would silently change every report.
    #[test]
    fn coin_purposes_keep_their_salts() {
        let fixed = [
            (CoinPurpose::Offline, 1),
            (CoinPurpose::MalformedCheckIn, 2),
            (CoinPurpose::PushLost, 3),
            (CoinPurpose::SyncRequestLost, 4),
            (CoinPurpose::SyncRequestDuplicated, 5),
            (CoinPurpose::Wipe, 900),
        ];
        for (purpose, salt) in fixed {
            assert_eq!(Salt::from(purpose), Salt(salt), "{purpose:?}");
        }
        // The k-th command of a connection: 10 + k, 110 + k, 210 + k.
        let per_command = [
            (CommandCoin::NotNow, 10),
            (CommandCoin::Error, 110),
            (CommandCoin::ReportDuplicated, 210),
        ];
        for (purpose, base) in per_command {
            for nth in [1, 2, 7] {
                assert_eq!(purpose.nth(nth), Salt(base + nth), "{purpose:?} {nth}");
            }
        }
        // And the flip itself is the hash of the bare salt, as before.
        assert_eq!(
            coin(7, 3, 86_400, CoinPurpose::Wipe, 0.5),
            coin(7, 3, 86_400, Salt(900), 0.5)
        );
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = stream(1, 1, Purpose::Events);
        for _ in 0..1000 {
            let u = unit(&mut rng);
            assert!((0.0..1.0).contains(&u));
            assert!((5..9).contains(&between(&mut rng, 5, 9)));
            assert!(exponential_secs(&mut rng, 3600.0, 7200) <= 7200);
        }
        assert!(!chance(&mut rng, 0.0));
        assert_eq!(between(&mut rng, 4, 4), 4);
        let hits = (0..10_000).filter(|_| chance(&mut rng, 0.3)).count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }
}
