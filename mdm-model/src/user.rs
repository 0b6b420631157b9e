//! Users and their e-mail addresses (R-US-1, R-US-2).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DeviceId, ModelError, UserId};

/// An e-mail address, checked to have the form `local@domain.tld`.
///
/// Parsing is deliberately modest: one `@`, a non-empty local part, a domain
/// with a dot and no spaces. Delivery is the mail system's business.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(Box<str>);

impl EmailAddress {
    /// Parses an e-mail address.
    ///
    /// # Errors
    /// [`ModelError::InvalidEmail`] when the text is not of the form `local@domain.tld`.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let invalid = || ModelError::InvalidEmail(text.to_owned());
        let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
        let ok = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && text.len() <= 254
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Self(text.into()))
        } else {
            Err(invalid())
        }
    }

    /// The address as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0.into()
    }
}

/// A person of the workspace who owns devices (R-US-1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub(crate) id: UserId,
    pub(crate) account: Box<str>,
    pub(crate) email: Option<EmailAddress>,
    /// Devices enrolled by this user, in enrollment order (the index of R-US-2).
    pub(crate) devices: Vec<DeviceId>,
}

impl User {
    /// The user's id.
    #[must_use]
    pub fn id(&self) -> UserId {
        self.id
    }

    /// The account name, unique in the workspace.
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The e-mail address, if the user has one; only then can instructions be sent (R-US-1).
    #[must_use]
    pub fn email(&self) -> Option<&EmailAddress> {
        self.email.as_ref()
    }

    /// Every device this user enrolled, including wiped and retired ones (R-US-2).
    #[must_use]
    pub fn devices(&self) -> &[DeviceId] {
        &self.devices
    }
}

pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), ModelError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ModelError::InvalidName {
            what,
            reason: "it is empty",
        });
    }
    if name.len() > 256 {
        return Err(ModelError::InvalidName {
            what,
            reason: "it is longer than 256 bytes",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(ModelError::InvalidName {
            what,
            reason: "it contains control characters",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_us_1_email_addresses_are_parsed() {
        assert!(EmailAddress::parse("alice@example.com").is_ok());
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_must_not_be_empty_or_control() {
        assert!(check_name("account name", "alice").is_ok());
        assert!(check_name("account name", "  ").is_err());
        assert!(check_name("account name", "a\u{7}").is_err());
    }
}
