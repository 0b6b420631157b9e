//! Faults the stand-in injects, drawn from a seed: deterministic per token
//! and per push to that token, so a run's faults do not depend on how the
//! client interleaved its streams.

/// What a push meets besides the documented checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing: 200.
    None,
    /// The token turns `Unregistered` now (and stays so).
    Unregister,
    /// 429 `TooManyRequests` (one push of a burst).
    TooManyRequests,
    /// 503 `ServiceUnavailable`.
    ServiceUnavailable,
}

/// Rates are per push, in parts per million; a 429 burst answers the next
/// `burst` pushes to the same token with 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultPlan {
    /// The seed every draw derives from.
    pub seed: u64,
    /// Pushes (ppm) after which the token becomes `Unregistered`.
    pub unregister_ppm: u32,
    /// Pushes (ppm) that start a 429 burst.
    pub too_many_requests_ppm: u32,
    /// Pushes to one token a 429 burst lasts (at least 1).
    pub burst: u32,
    /// Pushes (ppm) answered 503.
    pub service_unavailable_ppm: u32,
    /// Streams a connection serves before the stand-in sends GOAWAY and
    /// lets the client reconnect (`None`: never).
    pub goaway_after: Option<u32>,
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// The fault for the `nth` push (from 1) to `token`.
    pub fn draw(&self, token: &[u8], nth: u32) -> Fault {
        let burst = self.burst.max(1);
        // A burst starting at any of the last `burst` pushes covers this one.
        for start in nth.saturating_sub(burst - 1).max(1)..=nth {
            if self.roll(token, start, 1) < self.too_many_requests_ppm {
                return Fault::TooManyRequests;
            }
        }
        if self.roll(token, nth, 2) < self.service_unavailable_ppm {
            return Fault::ServiceUnavailable;
        }
        if self.roll(token, nth, 3) < self.unregister_ppm {
            return Fault::Unregister;
        }
        Fault::None
    }

    /// A uniform draw in `0..1_000_000` for (token, push, purpose).
    fn roll(&self, token: &[u8], nth: u32, purpose: u64) -> u32 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ self.seed;
        for &b in token {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h ^= u64::from(nth) << 8 | purpose;
        // splitmix64 finaliser.
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 31;
        u32::try_from(h % 1_000_000).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_near_their_rates() {
        let plan = FaultPlan {
            seed: 9,
            too_many_requests_ppm: 50_000,
            burst: 3,
            service_unavailable_ppm: 20_000,
            unregister_ppm: 10_000,
            goaway_after: None,
        };
        let mut counts = [0u32; 4];
        for t in 0u32..20_000 {
            let token = t.to_be_bytes();
            let f = plan.draw(&token, 1);
            assert_eq!(f, plan.draw(&token, 1));
            counts[match f {
                Fault::None => 0,
                Fault::TooManyRequests => 1,
                Fault::ServiceUnavailable => 2,
                Fault::Unregister => 3,
            }] += 1;
        }
        // 5 % start a burst at push 1 (a burst at push 1 only covers push 1).
        assert!((800..1200).contains(&counts[1]), "{counts:?}");
        assert!((250..550).contains(&counts[2]), "{counts:?}");
        assert!((120..300).contains(&counts[3]), "{counts:?}");
        // A burst covers the following pushes to the same token.
        let token = (0u32..)
            .map(u32::to_be_bytes)
            .find(|t| plan.roll(t, 5, 1) < plan.too_many_requests_ppm)
            .unwrap_or_default();
        for nth in 5..8 {
            assert_eq!(plan.draw(&token, nth), Fault::TooManyRequests);
        }
        assert_eq!(FaultPlan::none().draw(&token, 5), Fault::None);
    }
}
