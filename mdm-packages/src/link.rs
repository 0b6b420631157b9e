//! Invitation links (R-IN-2): the HTTPS address a message carries, with the
//! invitation's one-time token in it.
//!
//! A link is `<base>/enroll/<token>`, where `<base>` is the server's public
//! HTTPS origin with an optional path prefix (a portal mounted under
//! `/mdm`, a tenant path …), e.g.
//! `https://mdm.example.com/enroll/q0dJ4o7xL3mVt9Zs2bWn-A_k`. The token is the
//! last path segment — not a query parameter — so that mail clients and QR
//! readers that drop or rewrite queries keep it intact.
//!
//! The same link works in the agent's *Server* field when a first connection
//! fails (R-IN-4): [`InvitationLink::server`] gives the host and port from it.

use std::fmt;

use mdm_model::InvitationToken;
use url::{Host, Url};

use crate::error::{PackagesError, Result};
use crate::qr::InvitationQr;
use mdm_model::{ServerAddress, ServerHost};

/// The path segment before the token.
pub const ENROLL_SEGMENT: &str = "enroll";

/// Longest link text accepted by the parser.
const MAX_LINK_LEN: usize = 2048;

/// Where invitation links point: an `https` origin and optional path prefix,
/// without query, fragment or credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase {
    /// Normalised, always ending in `/`.
    url: Url,
}

impl LinkBase {
    /// Checks a base such as `https://mdm.example.com` or
    /// `https://portal.example.com:8443/mdm/`.
    ///
    /// A parsed base is known to fit: every link of it, with any token, fits
    /// a QR code (all tokens have the same length), so composing a message
    /// never fails on the QR after an invitation was issued.
    ///
    /// # Errors
    /// [`PackagesError::InvitationLink`] when the scheme is not `https`, or
    /// the base has credentials, a query or a fragment;
    /// [`PackagesError::QrCode`] when its links are too long for a QR code.
    pub fn parse(base: &str) -> Result<Self> {
        let url =
            Url::parse(base.trim()).map_err(|e| link_error(base, &format!("not a URL: {e}")))?;
        if url.scheme() != "https" {
            return Err(link_error(base, "links must use https"));
        }
        if url.host().is_none() {
            return Err(link_error(base, "has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(link_error(base, "must not carry credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(link_error(base, "must not have a query or fragment"));
        }
        let mut url = url;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let base = Self { url };
        let probe = InvitationToken::parse(&"A".repeat(43))
            .map_err(|_| link_error(base.as_str(), "cannot form a probe link"))?;
        InvitationQr::check_fits(&base.link(probe).to_string())?;
        Ok(base)
    }

    /// The base as text, ending in `/`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The token of a request path under this base (`/prefix/enroll/<token>`,
    /// one trailing `/` tolerated), as a web front end receives it; `None`
    /// for any other path. The token is not checked here: hand it to
    /// [`crate::open_link`], which refuses a malformed one as unknown.
    #[must_use]
    pub fn token_in_path<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.url.path())?;
        let token = rest.strip_prefix(ENROLL_SEGMENT)?.strip_prefix('/')?;
        let token = token.strip_suffix('/').unwrap_or(token);
        (!token.is_empty() && !token.contains('/')).then_some(token)
    }

    /// The link for one invitation token.
    #[must_use]
    pub fn link(&self, token: InvitationToken) -> InvitationLink {
        InvitationLink {
            base: self.clone(),
            token,
        }
    }
}

/// An HTTPS invitation link carrying one invitation's token.
///
/// `Display` writes the link (token included: it is meant to be sent);
/// `Debug` redacts the token.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationLink {
    base: LinkBase,
    token: InvitationToken,
}

impl InvitationLink {
    /// The link's QR code (the invitation message's picture).
    ///
    /// # Errors
    /// [`PackagesError::QrCode`] when the link does not fit a QR code.
    pub fn qr_code(&self) -> Result<InvitationQr> {
        InvitationQr::from_text(&self.to_string())
    }

    /// Parses a link that must belong to `base` (same origin, under its
    /// path): what the server does with a request or a pasted link.
    ///
    /// # Errors
    /// [`PackagesError::InvitationLink`] when it is not a link of `base`
    /// or its token is malformed.
    pub fn parse_for(text: &str, base: &LinkBase) -> Result<Self> {
        let link = Self::parse(text)?;
        let url = link.to_url()?;
        let origin_matches = url.origin() == base.url.origin();
        let expected = format!("{}{ENROLL_SEGMENT}/", base.url.path());
        if !origin_matches || !url.path().starts_with(&expected) {
            return Err(link_error(
                text,
                &format!(
                    "is not an invitation link of {}",
                    base.url.origin().ascii_serialization()
                ),
            ));
        }
        Ok(Self {
            base: base.clone(),
            token: link.token,
        })
    }

    /// Parses any invitation link: `https://host[:port][/prefix]/enroll/<token>`,
    /// surrounding whitespace and one trailing `/` tolerated. What the agent
    /// does with a link pasted into its *Server* field.
    ///
    /// # Errors
    /// [`PackagesError::InvitationLink`] saying what is wrong.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_LINK_LEN {
            return Err(link_error(
                text,
                &format!("is longer than {MAX_LINK_LEN} bytes"),
            ));
        }
        let trimmed = text.trim();
        let url = Url::parse(trimmed).map_err(|e| link_error(text, &format!("not a URL: {e}")))?;
        if url.scheme() != "https" {
            return Err(link_error(text, "links must use https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(link_error(
                text,
                "an invitation link has no query or fragment",
            ));
        }
        let path = url.path();
        let path = path.strip_suffix('/').unwrap_or(path);
        let (prefix, token) = path
            .rsplit_once('/')
            .ok_or_else(|| link_error(text, "has no token"))?;
        let prefix = prefix
            .strip_suffix(ENROLL_SEGMENT)
            .filter(|p| p.ends_with('/'))
            .ok_or_else(|| link_error(text, "the path does not end in /enroll/<token>"))?;
        let token = InvitationToken::parse(token)
            .map_err(|_| link_error(text, "its token is not 43 characters of URL-safe base64"))?;
        let mut base_url = url.clone();
        base_url.set_path(prefix);
        let base = LinkBase::parse(base_url.as_str())?;
        Ok(Self { base, token })
    }

    /// The invitation token.
    #[must_use]
    pub fn token(&self) -> &InvitationToken {
        &self.token
    }

    /// The base the link belongs to.
    #[must_use]
    pub fn base(&self) -> &LinkBase {
        &self.base
    }

    /// The server's host and port as the agent's *Server* field wants them.
    ///
    /// # Errors
    /// [`PackagesError::InvitationLink`] if the host is not a valid server
    /// name (e.g. an internationalised name the URL kept in punycode is fine,
    /// an empty host is not).
    pub fn server(&self) -> Result<ServerAddress> {
        let url = &self.base.url;
        let port = std::num::NonZeroU16::new(url.port_or_known_default().unwrap_or(443))
            .ok_or_else(|| link_error(url.as_str(), "port 0 is not a port a server listens on"))?;
        let host = match url.host() {
            Some(Host::Domain(d)) => {
                ServerHost::parse(d).map_err(|e| link_error(url.as_str(), &e.to_string()))?
            }
            Some(Host::Ipv4(ip)) => ServerHost::Ipv4(ip),
            Some(Host::Ipv6(ip)) => ServerHost::Ipv6(ip),
            None => return Err(link_error(url.as_str(), "has no host")),
        };
        Ok(ServerAddress::new(host, Some(port)))
    }

    fn to_url(&self) -> Result<Url> {
        Url::parse(&self.to_string()).map_err(|e| link_error(self.base.as_str(), &e.to_string()))
    }
}

impl fmt::Display for InvitationLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{ENROLL_SEGMENT}/{}",
            self.base.as_str(),
            self.token.expose()
        )
    }
}

impl fmt::Debug for InvitationLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InvitationLink({}{ENROLL_SEGMENT}/<token>)",
            self.base.as_str()
        )
    }
}

/// An error that names the link without its token: only the origin when the
/// text parses as a URL, else its length.
fn link_error(input: &str, problem: &str) -> PackagesError {
    let shown = match Url::parse(input.trim()) {
        Ok(url) if url.has_host() => format!(
            "{}://{}/…",
            url.scheme(),
            url.host_str().unwrap_or_default()
        ),
        _ => format!("<{} bytes>", input.len()),
    };
    PackagesError::InvitationLink {
        input: shown,
        problem: problem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn r_in_2_a_base_whose_links_cannot_fit_a_qr_code_is_refused() {
        let long = format!("https://mdm.example.com/{}", "p".repeat(3000));
        assert!(matches!(
            LinkBase::parse(&long),
            Err(PackagesError::QrCode { .. })
        ));
        assert!(LinkBase::parse("https://mdm.example.com/portal").is_ok());
    }

    const TOKEN: &str = "owE8CCx17ckTWYw7qsGvoY92M_6PAUiWqy8acv-D2Lo";

    fn token() -> InvitationToken {
        InvitationToken::parse(TOKEN).unwrap()
    }

    #[test]
    fn builds_and_parses_links() {
        let base = LinkBase::parse("https://MDM.Example.com").unwrap();
        let link = base.link(token());
        assert_eq!(
            link.to_string(),
            format!("https://mdm.example.com/enroll/{TOKEN}")
        );
        assert_eq!(InvitationLink::parse(&link.to_string()).unwrap(), link);
        assert_eq!(
            InvitationLink::parse_for(&link.to_string(), &base).unwrap(),
            link
        );
        assert_eq!(link.server().unwrap().to_string(), "mdm.example.com:443");

        let prefixed = LinkBase::parse("https://portal.example.com:8443/tenants/acme").unwrap();
        let link = prefixed.link(token());
        assert_eq!(
            link.to_string(),
            format!("https://portal.example.com:8443/tenants/acme/enroll/{TOKEN}")
        );
        assert_eq!(
            InvitationLink::parse_for(&format!(" {link}/\n"), &prefixed).unwrap(),
            link
        );
        assert_eq!(
            link.server().unwrap().to_string(),
            "portal.example.com:8443"
        );

        let v6 = LinkBase::parse("https://[2001:db8::1]:9443/")
            .unwrap()
            .link(token());
        assert_eq!(
            InvitationLink::parse(&v6.to_string())
                .unwrap()
                .server()
                .unwrap()
                .to_string(),
            "[2001:db8::1]:9443"
        );
    }

    #[test]
    fn tokens_are_found_in_request_paths() {
        let root = LinkBase::parse("https://mdm.example.com").unwrap();
        assert_eq!(root.token_in_path(&format!("/enroll/{TOKEN}")), Some(TOKEN));
        assert_eq!(
            root.token_in_path(&format!("/enroll/{TOKEN}/")),
            Some(TOKEN)
        );
        let prefixed = LinkBase::parse("https://mdm.example.com/portal").unwrap();
        assert_eq!(
            prefixed.token_in_path(&format!("/portal/enroll/{TOKEN}")),
            Some(TOKEN)
        );
        for other in [
            "/enroll/",
            "/enroll",
            "/portal/enroll/a/b",
            "/portal/enrol/x",
            "/other/enroll/x",
            "",
        ] {
            assert_eq!(prefixed.token_in_path(other), None, "{other}");
        }
        let link = prefixed.link(token());
        let url = url::Url::parse(&link.to_string()).unwrap();
        assert_eq!(prefixed.token_in_path(url.path()), Some(TOKEN));
    }

    #[test]
    fn debug_and_errors_never_show_the_token() {
        let link = LinkBase::parse("https://mdm.example.com")
            .unwrap()
            .link(token());
        assert!(!format!("{link:?}").contains(TOKEN));
        let other = LinkBase::parse("https://evil.example.net").unwrap();
        let err = InvitationLink::parse_for(&link.to_string(), &other).unwrap_err();
        assert!(!err.to_string().contains(TOKEN), "{err}");
        let err =
            InvitationLink::parse(&format!("http://mdm.example.com/enroll/{TOKEN}")).unwrap_err();
        assert!(!err.to_string().contains(TOKEN), "{err}");
    }

    #[test]
    fn refuses_links_that_are_not_ours() {
        let base = LinkBase::parse("https://mdm.example.com/portal").unwrap();
        for bad in [
            format!("http://mdm.example.com/portal/enroll/{TOKEN}"),
            format!("https://mdm.example.com/enroll/{TOKEN}"),
            format!("https://mdm.example.com:444/portal/enroll/{TOKEN}"),
            format!("https://mdm.example.org/portal/enroll/{TOKEN}"),
            format!("https://mdm.example.com/portal/enroll/{TOKEN}?x=1"),
            format!("https://mdm.example.com/portal/enroll/{TOKEN}#x"),
            format!("https://mdm.example.com/portal/enrol/{TOKEN}"),
            format!("https://mdm.example.com/portal/xenroll/{TOKEN}"),
            "https://mdm.example.com/portal/enroll/short".to_owned(),
            "https://mdm.example.com/portal/enroll/".to_owned(),
            format!("https://mdm.example.com/portal/enroll/{TOKEN}%2B"),
            "mdm.example.com".to_owned(),
            String::new(),
        ] {
            assert!(
                InvitationLink::parse_for(&bad, &base).is_err(),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn bases_must_be_plain_https() {
        for bad in [
            "http://mdm.example.com",
            "https://u:p@mdm.example.com",
            "https://mdm.example.com/?a",
            "https://mdm.example.com/#a",
            "mailto:a@b.c",
            "nope",
        ] {
            assert!(LinkBase::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in ".{0,300}") {
            let _ = InvitationLink::parse(&text);
        }

        #[test]
        fn parser_never_panics_on_url_like_text(
            host in "[a-zA-Z0-9.\\-\\[\\]:]{0,30}",
            path in "[a-zA-Z0-9/_%.\\-?#]{0,80}",
        ) {
            let _ = InvitationLink::parse(&format!("https://{host}/{path}"));
            let _ = InvitationLink::parse_for(&format!("https://{host}/{path}"), &LinkBase::parse("https://a.example").unwrap());
        }

        #[test]
        fn every_valid_token_round_trips(bytes in proptest::array::uniform32(proptest::prelude::any::<u8>()), prefix in "(/[a-z]{1,8}){0,3}") {
            use base64::Engine as _;
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            let base = LinkBase::parse(&format!("https://mdm.example.com{prefix}")).unwrap();
            let link = base.link(InvitationToken::parse(&text).unwrap());
            prop_assert_eq!(InvitationLink::parse_for(&link.to_string(), &base).unwrap(), link);
        }
    }
}
