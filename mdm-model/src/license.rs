//! Licenses: activated by code, limited by seats and expiry (R-LI-1).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{LicenseId, ModelError};

/// A license activation code: groups of 5 upper-case letters or digits joined
/// by `-`, four groups (e.g. `AB12C-DE34F-GH56J-KL78M`).
///
/// The code is what unlocks a paid seat: `Debug` does not show it (logs and
/// panics print `ActivationCode(<redacted>)`); [`Display`](fmt::Display) and
/// [`ActivationCode::as_str`] do, for the administrator's screens and the
/// agent's configuration.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActivationCode(Box<str>);

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(<redacted>)")
    }
}

impl ActivationCode {
    /// Parses an activation code, accepting lower case.
    ///
    /// # Errors
    /// [`ModelError::InvalidActivationCode`] when it is not four `-`-joined groups of five.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let upper = text.trim().to_ascii_uppercase();
        let groups: Vec<&str> = upper.split('-').collect();
        let ok = groups.len() == 4
            && groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_alphanumeric()));
        if ok {
            Ok(Self(upper.into()))
        } else {
            Err(ModelError::InvalidActivationCode)
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ActivationCode {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ActivationCode> for String {
    fn from(value: ActivationCode) -> Self {
        value.0.into()
    }
}

/// An activated license (R-LI-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    pub(crate) id: LicenseId,
    pub(crate) code: ActivationCode,
    pub(crate) seats: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) deploy_automatically: bool,
    /// Devices holding a seat (rebuilt on load).
    #[serde(skip)]
    pub(crate) in_use: u32,
}

impl License {
    /// The license's id.
    #[must_use]
    pub fn id(&self) -> LicenseId {
        self.id
    }
    /// The activation code.
    #[must_use]
    pub fn code(&self) -> &ActivationCode {
        &self.code
    }
    /// How many devices it may cover.
    #[must_use]
    pub fn seats(&self) -> u32 {
        self.seats
    }
    /// How many devices hold a seat now.
    #[must_use]
    pub fn seats_in_use(&self) -> u32 {
        self.in_use
    }
    /// When it expires.
    #[must_use]
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
    /// Whether it reaches managed devices on their next sync without a separate deployment step.
    #[must_use]
    pub fn deploys_automatically(&self) -> bool {
        self.deploy_automatically
    }
    /// Whether it has expired at `now`.
    #[must_use]
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_li_1_activation_codes_parse() {
        assert_eq!(
            ActivationCode::parse("ab12c-de34f-gh56j-kl78m")
                .unwrap()
                .as_str(),
            "AB12C-DE34F-GH56J-KL78M"
        );
        for bad in [
            "",
            "AB12C",
            "AB12C-DE34F-GH56J",
            "AB12C-DE34F-GH56J-KL78",
            "AB12C-DE34F-GH56J-KL7_M",
        ] {
            assert!(ActivationCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
