//! Passcode policy payload (`com.apple.mobiledevice.passwordpolicy`).

use crate::error::{AppleError, Result};
use crate::fields::DictWriter;

/// Passcode rules. Every field is optional; `None` leaves the device
/// default. Ranges are those of Apple's schema and are checked when the
/// profile is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasscodePolicy {
    /// `forcePIN`: a passcode is required.
    pub force_pin: Option<bool>,
    /// `allowSimple`: sequential or repeated characters allowed.
    pub allow_simple: Option<bool>,
    /// `requireAlphanumeric`: letters and digits required.
    pub require_alphanumeric: Option<bool>,
    /// `minLength` (0–16).
    pub min_length: Option<u32>,
    /// `minComplexChars` (0–4).
    pub min_complex_chars: Option<u32>,
    /// `maxFailedAttempts` before wipe (2–11).
    pub max_failed_attempts: Option<u32>,
    /// `maxInactivity` in minutes until auto-lock (0–15).
    pub max_inactivity: Option<u32>,
    /// `maxPINAgeInDays` (0–730; 0 = never expires).
    pub max_pin_age_days: Option<u32>,
    /// `pinHistory`: passcodes that may not be reused (1–50).
    pub pin_history: Option<u32>,
    /// `maxGracePeriod` in minutes before the passcode is asked again.
    pub max_grace_period: Option<u32>,
    /// `changeAtNextAuth` (macOS).
    pub change_at_next_auth: Option<bool>,
}

/// The schema's range for `minLength`, `minComplexChars`,
/// `maxFailedAttempts`, `maxInactivity`, `maxPINAgeInDays` and `pinHistory`,
/// each with the error text that states it.
const RANGES: [(u32, u32, &str); 6] = [
    (0, 16, "must be 0 to 16"),
    (0, 4, "must be 0 to 4"),
    (2, 11, "must be 2 to 11"),
    (0, 15, "must be 0 to 15"),
    (0, 730, "must be 0 to 730"),
    (1, 50, "must be 1 to 50"),
];

impl PasscodePolicy {
    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.mobiledevice.passwordpolicy";

    pub(crate) fn validate(&self) -> Result<()> {
        for (key, value, (min, max, reason)) in [
            ("minLength", self.min_length, RANGES[0]),
            ("minComplexChars", self.min_complex_chars, RANGES[1]),
            ("maxFailedAttempts", self.max_failed_attempts, RANGES[2]),
            ("maxInactivity", self.max_inactivity, RANGES[3]),
            ("maxPINAgeInDays", self.max_pin_age_days, RANGES[4]),
            ("pinHistory", self.pin_history, RANGES[5]),
        ] {
            if let Some(v) = value
                && !(min..=max).contains(&v)
            {
                return Err(AppleError::InvalidValue {
                    payload: Self::PAYLOAD_TYPE.into(),
                    key,
                    value: v.to_string(),
                    reason,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        w.opt("forcePIN", self.force_pin)
            .opt("allowSimple", self.allow_simple)
            .opt("requireAlphanumeric", self.require_alphanumeric)
            .opt("minLength", self.min_length.map(u64::from))
            .opt("minComplexChars", self.min_complex_chars.map(u64::from))
            .opt("maxFailedAttempts", self.max_failed_attempts.map(u64::from))
            .opt("maxInactivity", self.max_inactivity.map(u64::from))
            .opt("maxPINAgeInDays", self.max_pin_age_days.map(u64::from))
            .opt("pinHistory", self.pin_history.map(u64::from))
            .opt("maxGracePeriod", self.max_grace_period.map(u64::from))
            .opt("changeAtNextAuth", self.change_at_next_auth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_enforced() {
        let ok = PasscodePolicy {
            min_length: Some(6),
            max_failed_attempts: Some(10),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let bad = PasscodePolicy {
            max_failed_attempts: Some(1),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = PasscodePolicy {
            min_length: Some(17),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn each_range_error_states_its_range() {
        for (min, max, reason) in RANGES {
            assert_eq!(reason, format!("must be {min} to {max}"));
        }
    }
}
