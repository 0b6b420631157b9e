//! The administration server's connection address (R-SV-2): one type, one
//! parser, one set of rules for everything that names the server — the
//! server certificate's subjectAltName (`mdm-certs`), a standalone package
//! and an invitation link (`mdm-packages`), the agent's configuration and
//! provisioning payloads (`mdm-android`).
//!
//! Seed 003 §5.4 step 9: a plain-APK install asks the user for "the management
//! server's FQDN or IP address"; R-IN-4 adds that the user may instead paste the
//! link from the invitation message. [`ServerAddress::parse`] accepts all three
//! forms and validates them; the standalone package and the QR payload carry the
//! same value, so an agent never sees two spellings of one server.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU16;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ModelError;

/// The host part of a [`ServerAddress`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerHost {
    /// A DNS name (FQDN or an intranet single-label host name), lower-cased,
    /// without a trailing dot.
    Name(String),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets when a port follows).
    Ipv6(Ipv6Addr),
}

impl ServerHost {
    /// Parses a host alone (what a server certificate names): a DNS name, an
    /// IPv4 literal, or an IPv6 literal with or without brackets — with the
    /// rules of [`ServerAddress::parse`], and no port.
    ///
    /// # Errors
    /// [`ModelError::InvalidServerAddress`] with the reason.
    pub fn parse(input: &str) -> Result<Self, ModelError> {
        let address = ServerAddress::parse(input)?;
        if address.port.is_some() {
            return Err(ModelError::InvalidServerAddress {
                input: input.to_owned(),
                reason: "a host alone is expected, without a port",
            });
        }
        Ok(address.host)
    }

    /// The IP address, when the host is an IPv4 or IPv6 literal (what a
    /// certificate's `iPAddress` subjectAltName holds); `None` for a name.
    #[must_use]
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Self::Name(_) => None,
            Self::Ipv4(ip) => Some((*ip).into()),
            Self::Ipv6(ip) => Some((*ip).into()),
        }
    }
}

impl fmt::Display for ServerHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Ipv4(ip) => write!(f, "{ip}"),
            Self::Ipv6(ip) => write!(f, "[{ip}]"),
        }
    }
}

/// Where an agent reaches the administration server: a host and an optional
/// port (R-SV-2, R-AN-1).
///
/// Invariants: the host is a valid DNS name or IP literal; the port, when
/// given, is not zero. Displayed as `host`, `host:port` or `[v6]:port`, which
/// [`ServerAddress::parse`] reads back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerAddress {
    host: ServerHost,
    port: Option<NonZeroU16>,
}

/// Longest DNS name, RFC 1035 (without the trailing dot).
const MAX_NAME_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;

impl ServerAddress {
    /// The port the agent uses when the address names none: HTTPS.
    pub const DEFAULT_PORT: u16 = 443;
    /// [`Self::DEFAULT_PORT`], as [`Self::with_default_port`] takes it.
    pub const HTTPS_PORT: NonZeroU16 = match NonZeroU16::new(Self::DEFAULT_PORT) {
        Some(port) => port,
        None => NonZeroU16::MAX,
    };

    /// An address from already-validated parts.
    pub fn new(host: ServerHost, port: Option<NonZeroU16>) -> Self {
        Self { host, port }
    }

    /// Parses an address as an administrator configures it, or as a package,
    /// a link or a provisioning payload carries it: `mdm.example.com`,
    /// `mdm.example.com:8443`, `192.0.2.10`, `[2001:db8::1]:8443`, or a bare
    /// IPv6 literal.
    ///
    /// Surrounding whitespace is trimmed and names are lower-cased. Refused,
    /// with the reason: a scheme or a path (give the host and port only),
    /// user-info (`user@host`), empty or non-numeric ports and port 0,
    /// non-ASCII names (give the `xn--` form), labels longer than 63 bytes or
    /// names longer than 253, labels starting or ending with `-`, a last
    /// label of digits only, and dotted-number names that are not a valid
    /// IPv4 address.
    ///
    /// # Errors
    /// [`ModelError::InvalidServerAddress`] with the reason.
    pub fn parse(input: &str) -> Result<Self, ModelError> {
        if input.contains("://") || input.contains('/') {
            return Err(ModelError::InvalidServerAddress {
                input: input.to_owned(),
                reason: "give only the host and an optional port, without scheme or path",
            });
        }
        Self::parse_typed(input)
    }

    /// Parses what a user typed into the agent's *Server* field (seed 003
    /// §5.4 step 9, R-IN-4): everything [`ServerAddress::parse`] accepts, or
    /// an `https://` link such as the invitation's (its host and port are
    /// taken; path and query ignored). Plain `http://` and other schemes are
    /// refused.
    ///
    /// # Errors
    /// [`ModelError::InvalidServerAddress`] with the reason.
    pub fn parse_typed(input: &str) -> Result<Self, ModelError> {
        let invalid = |reason: &'static str| ModelError::InvalidServerAddress {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let authority = match trimmed.split_once("://") {
            Some((scheme, rest)) => {
                if !scheme.eq_ignore_ascii_case("https") {
                    return Err(invalid("only https:// links are accepted"));
                }
                let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                rest.get(..end).unwrap_or(rest)
            }
            None => trimmed,
        };
        if authority.is_empty() {
            return Err(invalid("the host is empty"));
        }
        if authority.contains('@') {
            return Err(invalid("user names or passwords are not allowed"));
        }
        if authority.chars().any(char::is_whitespace) {
            return Err(invalid("it contains whitespace"));
        }

        // Bracketed IPv6, with or without a port.
        if let Some(rest) = authority.strip_prefix('[') {
            let (literal, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid("an IPv6 literal lacks its closing ']'"))?;
            let ip =
                Ipv6Addr::from_str(literal).map_err(|_| invalid("not a valid IPv6 address"))?;
            let port = match after {
                "" => None,
                _ => {
                    let digits = after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid("unexpected text after the IPv6 literal"))?;
                    Some(parse_port(digits).map_err(invalid)?)
                }
            };
            return Ok(Self::new(ServerHost::Ipv6(ip), port));
        }

        // More than one colon and no brackets: a bare IPv6 literal.
        if authority.matches(':').count() > 1 {
            let ip =
                Ipv6Addr::from_str(authority).map_err(|_| invalid("not a valid IPv6 address"))?;
            return Ok(Self::new(ServerHost::Ipv6(ip), None));
        }

        let (host, port) = match authority.split_once(':') {
            Some((host, digits)) => (host, Some(parse_port(digits).map_err(invalid)?)),
            None => (authority, None),
        };
        let host = parse_host(host).map_err(invalid)?;
        Ok(Self::new(host, port))
    }

    /// The host.
    pub fn host(&self) -> &ServerHost {
        &self.host
    }

    /// The port as given, if any.
    pub fn port(&self) -> Option<u16> {
        self.port.map(NonZeroU16::get)
    }

    /// The port the agent will use: the given one or [`Self::DEFAULT_PORT`].
    pub fn effective_port(&self) -> u16 {
        self.port().unwrap_or(Self::DEFAULT_PORT)
    }

    /// The host as it goes into a URL or a provisioning extra: a name, an
    /// IPv4 literal, or an IPv6 literal **without** brackets.
    pub fn host_string(&self) -> String {
        match &self.host {
            ServerHost::Name(name) => name.clone(),
            ServerHost::Ipv4(ip) => ip.to_string(),
            ServerHost::Ipv6(ip) => ip.to_string(),
        }
    }

    /// The address with `port` where it names none (a package or link
    /// always carries its port).
    #[must_use]
    pub fn with_default_port(self, port: NonZeroU16) -> Self {
        Self {
            port: self.port.or(Some(port)),
            ..self
        }
    }

    /// The HTTPS base URL the agent talks to, always with the effective port.
    pub fn base_url(&self) -> String {
        format!("https://{}:{}", self.host, self.effective_port())
    }
}

fn parse_port(digits: &str) -> Result<NonZeroU16, &'static str> {
    if digits.is_empty() {
        return Err("the port is empty");
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the port is not a number");
    }
    let value: u16 = digits.parse().map_err(|_| "the port is above 65535")?;
    NonZeroU16::new(value).ok_or("port 0 is not usable")
}

fn parse_host(host: &str) -> Result<ServerHost, &'static str> {
    if host.is_empty() {
        return Err("the host is empty");
    }
    if !host.is_ascii() {
        return Err("the host name is not ASCII; give its punycode (xn--) form");
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err("the host is empty");
    }
    // Dotted digits only: must be an IPv4 address, never a name.
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Ipv4Addr::from_str(name)
            .map(ServerHost::Ipv4)
            .map_err(|_| "not a valid IPv4 address");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("the host name is longer than 253 characters");
    }
    let mut last_label = "";
    for label in name.split('.') {
        if label.is_empty() {
            return Err("the host name has an empty label");
        }
        if label.len() > MAX_LABEL_LEN {
            return Err("a label of the host name is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("the host name holds a character other than letters, digits, '-' and '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label of the host name starts or ends with '-'");
        }
        last_label = label;
    }
    if last_label.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the top-level label of a host name cannot be all digits");
    }
    Ok(ServerHost::Name(name.to_ascii_lowercase()))
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

impl FromStr for ServerAddress {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ServerAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ServerAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_every_documented_form() {
        let rows: &[(&str, &str, Option<u16>)] = &[
            ("mdm.example.com", "mdm.example.com", None),
            ("  MDM.Example.COM.  ", "mdm.example.com", None),
            (
                "mdm.example.com:13292",
                "mdm.example.com:13292",
                Some(13292),
            ),
            ("ksc01", "ksc01", None),
            ("192.0.2.10", "192.0.2.10", None),
            ("192.0.2.10:8443", "192.0.2.10:8443", Some(8443)),
            ("[2001:db8::1]:8443", "[2001:db8::1]:8443", Some(8443)),
            ("[2001:db8::1]", "[2001:db8::1]", None),
            ("2001:db8::1", "[2001:db8::1]", None),
            (
                "https://mdm.example.com:8443/enroll/abc?x=1",
                "mdm.example.com:8443",
                Some(8443),
            ),
            (
                "HTTPS://xn--bcher-kva.example",
                "xn--bcher-kva.example",
                None,
            ),
        ];
        for (input, shown, port) in rows {
            let address = ServerAddress::parse_typed(input).unwrap();
            assert_eq!(address.to_string(), *shown, "{input}");
            assert_eq!(address.port(), *port, "{input}");
            assert_eq!(ServerAddress::parse(shown).unwrap(), address, "{input}");
        }
    }

    #[test]
    fn refuses_with_a_reason() {
        let rows: &[(&str, &str)] = &[
            ("", "empty"),
            ("http://mdm.example.com", "https"),
            ("ftp://mdm.example.com", "https"),
            ("mdm.example.com:", "port is empty"),
            ("mdm.example.com:0", "port 0"),
            ("mdm.example.com:65536", "above 65535"),
            ("mdm.example.com:https", "not a number"),
            ("user@mdm.example.com", "user names"),
            ("mdm..example.com", "empty label"),
            ("-mdm.example.com", "starts or ends"),
            ("mdm_1.example.com", "character other"),
            ("999.1.1.1", "IPv4"),
            ("1.2.3", "IPv4"),
            ("bücher.example", "punycode"),
            ("mdm example.com", "whitespace"),
            ("[2001:db8::1", "closing"),
            ("[2001:db8::1]x", "unexpected"),
            ("2001:db8::zz", "IPv6"),
            ("example.123", "all digits"),
        ];
        for (input, needle) in rows {
            let error = ServerAddress::parse_typed(input).unwrap_err().to_string();
            assert!(error.contains(needle), "{input:?}: {error}");
        }
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(ServerAddress::parse(&long_label).is_err());
        let long_name = vec!["abcdefghi"; 26].join(".");
        assert!(ServerAddress::parse(&long_name).is_err());
    }

    #[test]
    fn configured_addresses_carry_no_scheme_or_path() {
        for input in [
            "https://mdm.example.com",
            "mdm.example.com/enroll",
            "http://x",
        ] {
            let error = ServerAddress::parse(input).unwrap_err().to_string();
            assert!(error.contains("without scheme or path"), "{input}: {error}");
        }
        let port = NonZeroU16::new(13292).unwrap();
        let a = ServerAddress::parse("mdm.example.com")
            .unwrap()
            .with_default_port(port);
        assert_eq!(a.to_string(), "mdm.example.com:13292");
        let b = ServerAddress::parse("mdm.example.com:8443")
            .unwrap()
            .with_default_port(port);
        assert_eq!(b.port(), Some(8443));
        assert_eq!(
            ServerHost::parse("[::1]").unwrap().ip(),
            Some("::1".parse().unwrap())
        );
        assert!(ServerHost::parse("mdm.example.com:8443").is_err());
    }

    #[test]
    fn urls_and_ports() {
        let address = ServerAddress::parse("mdm.example.com").unwrap();
        assert_eq!(address.effective_port(), 443);
        assert_eq!(address.base_url(), "https://mdm.example.com:443");
        let v6 = ServerAddress::parse("[::1]:8443").unwrap();
        assert_eq!(v6.base_url(), "https://[::1]:8443");
        assert_eq!(v6.host_string(), "::1");
    }

    #[test]
    fn serde_uses_the_display_form() {
        let address = ServerAddress::parse("[2001:db8::1]:8443").unwrap();
        let json = serde_json::to_string(&address).unwrap();
        assert_eq!(json, "\"[2001:db8::1]:8443\"");
        let back: ServerAddress = serde_json::from_str(&json).unwrap();
        assert_eq!(back, address);
        assert!(serde_json::from_str::<ServerAddress>("\"http://x\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_display_round_trips(input in ".{0,80}") {
            if let Ok(address) = ServerAddress::parse(&input) {
                prop_assert_eq!(ServerAddress::parse(&address.to_string()).unwrap(), address);
            }
        }
    }
}
