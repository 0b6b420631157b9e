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

impl PasscodePolicy {
    pub(crate) const PAYLOAD_TYPE: &'static str = "com.apple.mobiledevice.passwordpolicy";

    pub(crate) fn validate(&self) -> Result<()> {
        let ranges: [(&'static str, Option<u32>, u32, u32); 6] = [
            ("minLength", self.min_length, 0, 16),
            ("minComplexChars", self.min_complex_chars, 0, 4),
            ("maxFailedAttempts", self.max_failed_attempts, 2, 11),
            ("maxInactivity", self.max_inactivity, 0, 15),
            ("maxPINAgeInDays", self.max_pin_age_days, 0, 730),
            ("pinHistory", self.pin_history, 1, 50),
        ];
        for (key, value, min, max) in ranges {
            if let Some(v) = value
                && !(min..=max).contains(&v)
            {
                return Err(AppleError::InvalidValue {
                    payload: Self::PAYLOAD_TYPE.into(),
                    key,
                    value: v.to_string(),
                    reason: "outside the schema's range",
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
}
