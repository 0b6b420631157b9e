//! Virtual time: seconds since the start of a run. No wall clock anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// A point in a run's virtual time: whole seconds since the run started.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u32);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);

    /// `hours` after the start.
    #[must_use]
    pub const fn hours(hours: u32) -> Self {
        SimTime(hours * 3600)
    }

    /// `days` after the start.
    #[must_use]
    pub const fn days(days: u32) -> Self {
        SimTime(days * 86_400)
    }

    /// This time plus `seconds`, saturating.
    #[must_use]
    pub const fn after(self, seconds: u32) -> Self {
        SimTime(self.0.saturating_add(seconds))
    }

    /// Whole hours since the start.
    #[must_use]
    pub const fn hour(self) -> u32 {
        self.0 / 3600
    }

    /// The calendar time this is, for a run that started at `start`.
    #[must_use]
    pub fn at(self, start: OffsetDateTime) -> OffsetDateTime {
        start + Duration::seconds(i64::from(self.0))
    }

    /// The virtual time of a calendar time, clamped to the run (before the
    /// start is the start).
    #[must_use]
    pub fn of(when: OffsetDateTime, start: OffsetDateTime) -> Self {
        let secs = (when - start).whole_seconds().clamp(0, i64::from(u32::MAX));
        SimTime(u32::try_from(secs).unwrap_or(u32::MAX))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(
            f,
            "day {} {:02}:{:02}",
            s / 86_400,
            (s / 3600) % 24,
            (s / 60) % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn converts_both_ways() {
        let start = datetime!(2026-12-01 00:00 UTC);
        let t = SimTime::days(2).after(90);
        assert_eq!(t.at(start), datetime!(2026-12-03 00:01:30 UTC));
        assert_eq!(SimTime::of(t.at(start), start), t);
        assert_eq!(SimTime::of(start - Duration::DAY, start), SimTime::ZERO);
        assert_eq!(t.to_string(), "day 2 00:01");
    }
}
