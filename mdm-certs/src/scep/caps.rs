//! GetCACaps (RFC 8894 §3.5.2): what the server tells a client it may use.

use core::fmt;

/// One capability keyword of a GetCACaps answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScepCapability {
    /// `POSTPKIOperation`: PKIOperation may be POSTed (not only GET).
    PostPkiOperation,
    /// `SHA-256`: requests may be signed with SHA-256 (preferred).
    Sha256,
    /// `SHA-512`.
    Sha512,
    /// `AES`: content may be encrypted with AES-CBC (preferred).
    Aes,
    /// `SCEPStandard`: the RFC 8894 set (AES, POSTPKIOperation, SHA-256).
    ScepStandard,
    /// `Renewal`: RenewalReq is served.
    Renewal,
    /// `SHA-1`: for older clients only; SHA-1 signatures are accepted and
    /// answered in kind.
    Sha1,
    /// `DES3`: triple DES, for older clients only.
    Des3,
    /// A keyword this crate does not know, as given.
    Other(String),
}

impl ScepCapability {
    /// The keyword on the wire.
    pub fn keyword(&self) -> &str {
        match self {
            Self::PostPkiOperation => "POSTPKIOperation",
            Self::Sha256 => "SHA-256",
            Self::Sha512 => "SHA-512",
            Self::Aes => "AES",
            Self::ScepStandard => "SCEPStandard",
            Self::Renewal => "Renewal",
            Self::Sha1 => "SHA-1",
            Self::Des3 => "DES3",
            Self::Other(s) => s,
        }
    }

    /// Reads one keyword (case-insensitively, as RFC 8894 §3.5.2 asks).
    pub fn parse(keyword: &str) -> Self {
        let known = [
            Self::PostPkiOperation,
            Self::Sha256,
            Self::Sha512,
            Self::Aes,
            Self::ScepStandard,
            Self::Renewal,
            Self::Sha1,
            Self::Des3,
        ];
        known
            .into_iter()
            .find(|c| c.keyword().eq_ignore_ascii_case(keyword.trim()))
            .unwrap_or_else(|| Self::Other(keyword.trim().to_owned()))
    }
}

/// A GetCACaps answer: one keyword a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScepCapabilities(Vec<ScepCapability>);

impl Default for ScepCapabilities {
    /// What [`super::ScepServer`] serves: the RFC 8894 set and renewal,
    /// then SHA-1 and DES3 for older clients.
    fn default() -> Self {
        Self(vec![
            ScepCapability::PostPkiOperation,
            ScepCapability::Sha256,
            ScepCapability::Sha512,
            ScepCapability::Aes,
            ScepCapability::ScepStandard,
            ScepCapability::Renewal,
            ScepCapability::Sha1,
            ScepCapability::Des3,
        ])
    }
}

impl ScepCapabilities {
    /// Reads a GetCACaps body (blank lines ignored).
    pub fn parse(body: &str) -> Self {
        Self(
            body.lines()
                .filter(|l| !l.trim().is_empty())
                .map(ScepCapability::parse)
                .collect(),
        )
    }

    /// Whether `capability` is offered.
    pub fn contains(&self, capability: &ScepCapability) -> bool {
        self.0.contains(capability)
    }

    /// The capabilities, in order.
    pub fn iter(&self) -> impl Iterator<Item = &ScepCapability> {
        self.0.iter()
    }
}

impl fmt::Display for ScepCapabilities {
    /// The body of the answer (`text/plain`, one keyword a line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for cap in &self.0 {
            writeln!(f, "{}", cap.keyword())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_caps_roundtrip() {
        let caps = ScepCapabilities::default();
        let text = caps.to_string();
        assert!(text.starts_with("POSTPKIOperation\nSHA-256\n"));
        for word in ["AES", "SCEPStandard", "Renewal", "SHA-1", "DES3"] {
            assert!(text.lines().any(|l| l == word), "{word}");
        }
        assert_eq!(ScepCapabilities::parse(&text), caps);
        let odd = ScepCapabilities::parse("aes\r\nGetNextCACert\n\n");
        assert!(odd.contains(&ScepCapability::Aes));
        assert!(odd.contains(&ScepCapability::Other("GetNextCACert".into())));
    }
}
