//! The secret carried by an invitation link or embedded in a package.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::error::{PackagesError, Result};

/// Shortest token accepted: 22 URL-safe base64 characters carry 132 bits,
/// above the 128 bits of entropy the architecture asks of every secret.
pub const TOKEN_MIN_LEN: usize = 22;
/// Longest token accepted.
pub const TOKEN_MAX_LEN: usize = 128;

/// A one-time enrollment token as it travels in links and packages: 22–128
/// characters of the URL-safe base64 alphabet (`A–Z a–z 0–9 - _`).
///
/// This crate neither draws nor stores tokens: `mdm-model` issues them (from
/// a caller's CSPRNG) and keeps only their hash. Here a token is carried,
/// compared in constant time, and never printed: `Debug` shows its length
/// only.
#[derive(Clone)]
pub struct InvitationToken(String);

impl InvitationToken {
    /// Checks the alphabet and length of a token.
    ///
    /// # Errors
    /// [`PackagesError::ConnectionSetting`] (field `token`) saying what is wrong,
    /// without echoing the token.
    pub fn new(token: &str) -> Result<Self> {
        let bad = |problem: String| PackagesError::ConnectionSetting {
            field: "token",
            problem,
        };
        if token.len() < TOKEN_MIN_LEN || token.len() > TOKEN_MAX_LEN {
            return Err(bad(format!(
                "is {} characters long; a token has {TOKEN_MIN_LEN}–{TOKEN_MAX_LEN}",
                token.chars().count()
            )));
        }
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "has a character outside the URL-safe base64 alphabet".to_owned()
            ));
        }
        Ok(Self(token.to_owned()))
    }

    /// The token text, to hand to the model or write into a link.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl PartialEq for InvitationToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for InvitationToken {}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InvitationToken(<{} characters>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_url_safe_base64_and_hides_itself() {
        let t = InvitationToken::new("AbCdEfGhIjKlMnOpQrStUv-_").unwrap();
        assert_eq!(t.expose(), "AbCdEfGhIjKlMnOpQrStUv-_");
        assert_eq!(format!("{t:?}"), "InvitationToken(<24 characters>)");
        assert_eq!(t, InvitationToken::new("AbCdEfGhIjKlMnOpQrStUv-_").unwrap());
        assert_ne!(t, InvitationToken::new("AbCdEfGhIjKlMnOpQrStUv-A").unwrap());
    }

    #[test]
    fn refuses_short_long_and_foreign_characters() {
        for bad in [
            "",
            "short",
            &"a".repeat(129),
            "AbCdEfGhIjKlMnOpQrStUv+/",
            "AbCdEfGhIjKlMnOpQrStUv==",
            "AbCdEfGhIjKlMnOpQrStUvé",
        ] {
            let err = InvitationToken::new(bad).unwrap_err();
            assert!(!err.to_string().contains(bad) || bad.is_empty(), "{err}");
        }
    }
}
