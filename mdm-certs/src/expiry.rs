//! The expiry watch: where a certificate stands on a given day.

use time::{Duration, OffsetDateTime};

/// Where a certificate's validity stands at a moment: the same scale for
/// APNs, server and client certificates.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExpiryStatus {
    /// Valid, and more than 30 days from its end.
    Valid,
    /// Ends within 30 days (but more than 14).
    ExpiresWithin30Days,
    /// Ends within 14 days (but more than 7).
    ExpiresWithin14Days,
    /// Ends within 7 days.
    ExpiresWithin7Days,
    /// Its end has passed.
    Expired,
    /// Its start lies in the future.
    NotYetValid,
}

impl ExpiryStatus {
    /// The status of a validity window `[not_before, not_after]` at `now`.
    pub fn at(not_before: OffsetDateTime, not_after: OffsetDateTime, now: OffsetDateTime) -> Self {
        if now < not_before {
            return Self::NotYetValid;
        }
        if now > not_after {
            return Self::Expired;
        }
        let left = not_after - now;
        if left <= Duration::days(7) {
            Self::ExpiresWithin7Days
        } else if left <= Duration::days(14) {
            Self::ExpiresWithin14Days
        } else if left <= Duration::days(30) {
            Self::ExpiresWithin30Days
        } else {
            Self::Valid
        }
    }

    /// Whether the certificate can be used at all (valid or expiring, not expired).
    pub fn is_usable(self) -> bool {
        matches!(
            self,
            Self::Valid
                | Self::ExpiresWithin30Days
                | Self::ExpiresWithin14Days
                | Self::ExpiresWithin7Days
        )
    }

    /// Whether the console should warn (expiring within 30 days or expired).
    pub fn needs_attention(self) -> bool {
        !matches!(self, Self::Valid)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn thresholds() {
        let nb = datetime!(2026-01-01 0:00 UTC);
        let na = datetime!(2027-01-01 0:00 UTC);
        let at = |d: OffsetDateTime| ExpiryStatus::at(nb, na, d);
        assert_eq!(
            at(datetime!(2025-12-31 23:59 UTC)),
            ExpiryStatus::NotYetValid
        );
        assert_eq!(at(nb), ExpiryStatus::Valid);
        assert_eq!(at(na - Duration::days(31)), ExpiryStatus::Valid);
        assert_eq!(
            at(na - Duration::days(30)),
            ExpiryStatus::ExpiresWithin30Days
        );
        assert_eq!(
            at(na - Duration::days(15)),
            ExpiryStatus::ExpiresWithin30Days
        );
        assert_eq!(
            at(na - Duration::days(14)),
            ExpiryStatus::ExpiresWithin14Days
        );
        assert_eq!(
            at(na - Duration::days(8)),
            ExpiryStatus::ExpiresWithin14Days
        );
        assert_eq!(at(na - Duration::days(7)), ExpiryStatus::ExpiresWithin7Days);
        assert_eq!(at(na), ExpiryStatus::ExpiresWithin7Days);
        assert_eq!(at(na + Duration::seconds(1)), ExpiryStatus::Expired);
        assert!(!ExpiryStatus::Expired.is_usable());
        assert!(ExpiryStatus::ExpiresWithin7Days.is_usable());
    }
}
