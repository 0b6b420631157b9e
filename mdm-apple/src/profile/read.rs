//! Reading a `.mobileconfig` back (R-IO-1): profiles a vendor already has
//! — made by Apple Configurator or another MDM, or by this crate — become
//! [`ProfileParams`] again, every payload type this crate builds in its
//! typed form, any other kept as its keys ([`OtherPayload`]).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use time::OffsetDateTime;

use super::{
    CertificateFormat, CertificatePayload, MdmPayload, PasscodePolicy, Payload, PayloadContent,
    PayloadScope, Pkcs12Identity, ProfileParams, Restrictions, ScepIdentity, ScepKeySize,
    ScepKeyUsage, ServerCapability, WebClip, WifiEncryption, WifiPayload,
};
use crate::cms::{cms_content_type, signed_content};
use crate::error::{AppleError, Result};
use crate::fields::{DictWriter, Fields};
use crate::ids::{HttpsUrl, PayloadUuid, read_topic};
use crate::value::{PlistDictionary, parse_value};

/// A payload of a type this crate does not model (a VPN, an ACME
/// identity, a font…): its `PayloadType` and its own keys (every key but
/// the common ones, which [`Payload`] holds), written back as they are.
/// `Debug` shows the key names, never their values (they may be passwords).
#[derive(Clone, PartialEq)]
pub struct OtherPayload {
    payload_type: String,
    keys: PlistDictionary,
}

impl OtherPayload {
    /// A payload of type `payload_type` with `keys`.
    ///
    /// # Errors
    /// [`AppleError::MissingKey`] for an empty type;
    /// [`AppleError::InvalidValue`] for a type this crate models (build
    /// it typed, so that its rules are checked) or for `keys` holding
    /// `PayloadType`, `PayloadIdentifier` or `PayloadUUID` (the
    /// [`Payload`] holds those).
    pub fn new(payload_type: impl Into<String>, keys: PlistDictionary) -> Result<Self> {
        let payload_type = payload_type.into();
        let invalid = |key, value: String, reason| AppleError::InvalidValue {
            payload: "payload".into(),
            key,
            value,
            reason,
        };
        if payload_type.trim().is_empty() {
            return Err(AppleError::MissingKey {
                payload: "payload".into(),
                key: "PayloadType",
            });
        }
        if is_modelled(&payload_type) {
            return Err(invalid(
                "PayloadType",
                payload_type,
                "this crate models this payload type; use its typed payload",
            ));
        }
        for key in ["PayloadType", "PayloadIdentifier", "PayloadUUID"] {
            if keys.contains_key(key) {
                return Err(invalid(
                    key,
                    payload_type,
                    "the Payload holds this key, not its content",
                ));
            }
        }
        Ok(Self { payload_type, keys })
    }

    /// The `PayloadType`.
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The payload's own keys, in the order read.
    pub fn keys(&self) -> &PlistDictionary {
        &self.keys
    }

    pub(crate) fn write(&self, w: &mut DictWriter) {
        for (key, value) in &self.keys {
            w.put(key, value.clone());
        }
    }
}

impl fmt::Debug for OtherPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtherPayload")
            .field("payload_type", &self.payload_type)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A profile read back by [`read_profile`]: what it says as
/// [`ProfileParams`], the keys those do not hold, and whether it came
/// signed. `Debug` names the unread keys without their values.
#[derive(Clone, PartialEq)]
pub struct ReadProfile {
    params: ProfileParams,
    unread: PlistDictionary,
    unread_in_payloads: Vec<PlistDictionary>,
    signed: bool,
}

impl ReadProfile {
    /// The profile's top-level keys and payloads, as
    /// [`ProfileParams::build`] takes them (reading checks types, not the
    /// build's rules: call `build` to check those).
    pub fn params(&self) -> &ProfileParams {
        &self.params
    }

    /// The parameters, to change and build again.
    pub fn into_params(self) -> ProfileParams {
        self.params
    }

    /// Top-level keys [`ProfileParams`] does not hold (`TargetDeviceType`,
    /// `IsEncrypted`, `EncryptedPayloadContent`, a `PayloadVersion` other
    /// than 1…), as read.
    pub fn unread(&self) -> &PlistDictionary {
        &self.unread
    }

    /// The keys of payload `index` (of [`ProfileParams::payloads`]) that
    /// its typed form does not hold — a Wi-Fi payload's `ProxyType`, a
    /// SCEP payload's `KeyIsExtractable` (under `PayloadContent`) — or
    /// whose value it cannot hold exactly; empty for an
    /// [`OtherPayload`], which holds them all.
    pub fn unread_in_payload(&self, index: usize) -> Option<&PlistDictionary> {
        self.unread_in_payloads.get(index)
    }

    /// Whether every key read is held by [`ReadProfile::params`]:
    /// building them writes the same profile again.
    pub fn is_complete(&self) -> bool {
        self.unread.is_empty()
            && self
                .unread_in_payloads
                .iter()
                .all(PlistDictionary::is_empty)
    }

    /// Whether the bytes were CMS SignedData. The signature was **not**
    /// checked: see [`read_profile`].
    pub fn was_signed(&self) -> bool {
        self.signed
    }
}

impl fmt::Debug for ReadProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |d: &PlistDictionary| d.keys().map(str::to_owned).collect::<Vec<_>>();
        f.debug_struct("ReadProfile")
            .field("params", &self.params)
            .field("unread", &names(&self.unread))
            .field(
                "unread_in_payloads",
                &self
                    .unread_in_payloads
                    .iter()
                    .map(names)
                    .collect::<Vec<_>>(),
            )
            .field("signed", &self.signed)
            .finish()
    }
}

/// Reads a configuration profile: an unsigned `.mobileconfig` (XML or
/// binary plist), or a signed one (CMS SignedData, DER or OpenSSL's
/// streaming BER) whose embedded content is read the same way — within
/// [`crate::MAX_PLIST_BYTES`] and [`crate::MAX_PLIST_NODES`].
///
/// Every payload type this crate builds becomes its typed
/// [`PayloadContent`] (SCEP, PKCS#12, root/PKCS#1/PEM certificates —
/// whose content may be DER or PEM in any of the three —, MDM, passcode,
/// restrictions, Wi-Fi, web clip); any other becomes
/// [`PayloadContent::Other`]. Keys a typed form does not hold are kept in
/// [`ReadProfile::unread_in_payload`], so nothing read is lost. What
/// [`crate::Profile::to_xml`] writes reads back to the parameters it was
/// built from.
///
/// **Signatures.** Reading a signed profile does not check its
/// signature: it tells what a profile says, not who said it. To trust a
/// signed profile, call [`crate::verify_signed_profile`] with your trust
/// anchors and read its [`crate::VerifiedProfile::content`] with this
/// function.
///
/// # Errors
/// [`AppleError::NotAProfile`] when the bytes are neither a plist nor CMS
/// SignedData (or are CMS of another kind, e.g. an encrypted profile), or
/// are a plist that is not a `Configuration` dictionary;
/// [`AppleError::MalformedCms`] for a broken SignedData; the plist bounds;
/// [`AppleError::MissingField`] and [`AppleError::WrongType`] for a key a
/// payload requires or a key of the wrong type; the typed values' own
/// errors ([`AppleError::InvalidUuid`], [`AppleError::NotHttps`],
/// [`AppleError::InvalidTopic`], [`AppleError::InvalidCertificate`],
/// [`AppleError::InvalidPkcs12`], [`AppleError::InvalidValue`]).
pub fn read_profile(bytes: &[u8]) -> Result<ReadProfile> {
    let (plist, signed) = match cms_content_type(bytes) {
        Some(oid) if oid == const_oid::db::rfc5911::ID_SIGNED_DATA => {
            (Cow::Owned(signed_content(bytes)?), true)
        }
        Some(oid) if oid == const_oid::db::rfc5911::ID_ENVELOPED_DATA => {
            return Err(not_a_profile(
                "CMS EnvelopedData: an encrypted profile, which only its device can open",
            ));
        }
        Some(oid) => {
            return Err(not_a_profile(format!(
                "CMS of content type {oid}, not SignedData"
            )));
        }
        None if looks_like_plist(bytes) => (Cow::Borrowed(bytes), false),
        None => {
            return Err(not_a_profile(
                "neither an XML or binary plist nor CMS SignedData",
            ));
        }
    };
    let root = parse_value(&plist).map_err(|e| match e {
        AppleError::MalformedPlist { reason } => not_a_profile(format!("not a plist: {reason}")),
        other => other,
    })?;
    let root = root
        .into_dictionary()
        .ok_or_else(|| not_a_profile("the plist is not a dictionary"))?;
    let mut read = read_top_level(&root)?;
    read.signed = signed;
    Ok(read)
}

fn not_a_profile(reason: impl Into<String>) -> AppleError {
    AppleError::NotAProfile {
        reason: reason.into(),
    }
}

fn looks_like_plist(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    bytes.starts_with(b"bplist") || start.and_then(|i| text.get(i)) == Some(&b'<')
}

/// Every payload type this crate builds, and reads typed.
const MODELLED: [&str; 10] = [
    MdmPayload::PAYLOAD_TYPE,
    Pkcs12Identity::PAYLOAD_TYPE,
    ScepIdentity::PAYLOAD_TYPE,
    CertificateFormat::Root.payload_type(),
    CertificateFormat::Pkcs1.payload_type(),
    CertificateFormat::Pem.payload_type(),
    PasscodePolicy::PAYLOAD_TYPE,
    Restrictions::PAYLOAD_TYPE,
    WifiPayload::PAYLOAD_TYPE,
    WebClip::PAYLOAD_TYPE,
];

fn is_modelled(payload_type: &str) -> bool {
    MODELLED.contains(&payload_type)
}

/// Reads one dictionary's keys through [`Fields`], remembering which it
/// took: what is left is what the typed form does not hold.
struct Reader<'a> {
    fields: Fields<'a>,
    taken: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    fn new(dict: &'a PlistDictionary, what: &'static str) -> Self {
        Self {
            fields: Fields::new(dict, what),
            taken: Vec::new(),
        }
    }

    /// Reads `key` with one of [`Fields`]' accessors and takes it.
    fn take<T>(
        &mut self,
        key: &'static str,
        get: impl FnOnce(&Fields<'a>, &'static str) -> Result<T>,
    ) -> Result<T> {
        self.taken.push(key);
        get(&self.fields, key)
    }

    fn what(&self) -> &'static str {
        self.fields.message
    }

    fn invalid(
        &self,
        key: &'static str,
        value: impl fmt::Display,
        reason: &'static str,
    ) -> AppleError {
        AppleError::InvalidValue {
            payload: self.what().to_owned(),
            key,
            value: value.to_string(),
            reason,
        }
    }

    fn missing(&self, key: &'static str) -> AppleError {
        AppleError::MissingField {
            message: self.what(),
            key,
        }
    }

    /// A required non-empty string.
    fn string(&mut self, key: &'static str) -> Result<String> {
        match self.take(key, Fields::req_str)? {
            "" => Err(self.missing(key)),
            s => Ok(s.to_owned()),
        }
    }

    /// A boolean the device defaults to `default` when absent.
    fn flag(&mut self, key: &'static str, default: bool) -> Result<bool> {
        Ok(self.take(key, Fields::opt_bool)?.unwrap_or(default))
    }

    /// The keys not taken, in the order read.
    fn rest(&self) -> PlistDictionary {
        let mut rest = PlistDictionary::new();
        for (key, value) in self.fields.dict {
            if !self.taken.contains(&key) {
                rest.insert(key, value.clone());
            }
        }
        rest
    }
}

fn date(t: Option<SystemTime>) -> Option<OffsetDateTime> {
    t.map(OffsetDateTime::from)
}

fn read_top_level(root: &PlistDictionary) -> Result<ReadProfile> {
    let mut r = Reader::new(root, "Configuration");
    match r.take("PayloadType", Fields::opt_str) {
        Ok(Some("Configuration")) => {}
        Ok(Some(other)) => {
            return Err(not_a_profile(format!(
                "PayloadType is {other:?}, not Configuration"
            )));
        }
        Ok(None) | Err(_) => {
            return Err(not_a_profile("no PayloadType Configuration"));
        }
    }
    if r.fields.opt_int("PayloadVersion") == Ok(Some(1)) {
        r.taken.push("PayloadVersion");
    }
    let identifier = r.string("PayloadIdentifier")?;
    let uuid = PayloadUuid::new(r.string("PayloadUUID")?)?;
    let display_name = r
        .take("PayloadDisplayName", Fields::opt_string)?
        .unwrap_or_default();
    let mut params = ProfileParams::new(identifier, uuid, display_name);
    params.organization = r.take("PayloadOrganization", Fields::opt_string)?;
    params.description = r.take("PayloadDescription", Fields::opt_string)?;
    params.removal.removal_disallowed = r.take("PayloadRemovalDisallowed", Fields::opt_bool)?;
    params.removal.has_removal_passcode = r.take("HasRemovalPasscode", Fields::opt_bool)?;
    params.removal.removal_date = date(r.take("RemovalDate", Fields::opt_date)?);
    params.expiration_date = date(r.take("PayloadExpirationDate", Fields::opt_date)?);
    if let Some(seconds) = r.take("DurationUntilRemoval", Fields::opt_number)? {
        params.removal.duration_until_removal =
            Some(time::Duration::checked_seconds_f64(seconds).ok_or_else(|| {
                r.invalid(
                    "DurationUntilRemoval",
                    seconds,
                    "must be a finite number of seconds",
                )
            })?);
    }
    params.scope = match r.take("PayloadScope", Fields::opt_str)? {
        None => None,
        Some("System") => Some(PayloadScope::System),
        Some("User") => Some(PayloadScope::User),
        Some(other) => return Err(r.invalid("PayloadScope", other, "must be System or User")),
    };
    if let Some(consent) = r.take("ConsentText", Fields::opt_dict)? {
        for (lang, text) in consent {
            let text = text.as_string().ok_or(AppleError::WrongType {
                message: "Configuration",
                key: format!("ConsentText.{lang}"),
                expected: "a string",
            })?;
            params.consent_text.insert(lang.to_owned(), text.to_owned());
        }
    }
    let mut unread_in_payloads = Vec::new();
    for payload in r.take("PayloadContent", Fields::opt_dict_array)? {
        let (payload, unread) = read_payload(payload)?;
        params.payloads.push(payload);
        unread_in_payloads.push(unread);
    }
    Ok(ReadProfile {
        params,
        unread: r.rest(),
        unread_in_payloads,
        signed: false,
    })
}

/// One payload: its common keys, its typed content, and what is unread.
fn read_payload(d: &PlistDictionary) -> Result<(Payload, PlistDictionary)> {
    let payload_type = Fields::new(d, "payload").req_str("PayloadType")?;
    let what = MODELLED.into_iter().find(|t| *t == payload_type);
    let mut r = Reader::new(d, what.unwrap_or("payload"));
    r.taken.push("PayloadType");
    if r.fields.opt_int("PayloadVersion") == Ok(Some(1)) {
        r.taken.push("PayloadVersion");
    }
    let identifier = r.string("PayloadIdentifier")?;
    let uuid = PayloadUuid::new(r.string("PayloadUUID")?)?;
    let display_name = r.take("PayloadDisplayName", Fields::opt_string)?;
    let description = r.take("PayloadDescription", Fields::opt_string)?;
    let organization = r.take("PayloadOrganization", Fields::opt_string)?;
    let mut unread = PlistDictionary::new();
    let content = match what {
        Some(MdmPayload::PAYLOAD_TYPE) => PayloadContent::Mdm(read_mdm(&mut r)?),
        Some(Pkcs12Identity::PAYLOAD_TYPE) => PayloadContent::Pkcs12(read_pkcs12(&mut r)?),
        Some(ScepIdentity::PAYLOAD_TYPE) => {
            let (scep, inner) = read_scep(&mut r)?;
            if !inner.is_empty() {
                unread.insert("PayloadContent", inner);
            }
            PayloadContent::Scep(scep)
        }
        Some(PasscodePolicy::PAYLOAD_TYPE) => PayloadContent::Passcode(read_passcode(&mut r)?),
        Some(Restrictions::PAYLOAD_TYPE) => {
            PayloadContent::Restrictions(read_restrictions(&mut r)?)
        }
        Some(WifiPayload::PAYLOAD_TYPE) => PayloadContent::Wifi(read_wifi(&mut r)?),
        Some(WebClip::PAYLOAD_TYPE) => PayloadContent::WebClip(read_webclip(&mut r)?),
        Some(t) => PayloadContent::Certificate(read_certificate(&mut r, t)?),
        // Every key but the common ones (a PayloadVersion other than 1
        // included: it is written back with the keys).
        None => PayloadContent::Other(OtherPayload {
            payload_type: payload_type.to_owned(),
            keys: r.rest(),
        }),
    };
    if what.is_some() {
        for (key, value) in &r.rest() {
            unread.insert(key, value.clone());
        }
    }
    let payload = Payload {
        identifier,
        uuid,
        display_name,
        description,
        organization,
        content,
    };
    Ok((payload, unread))
}

fn read_mdm(r: &mut Reader<'_>) -> Result<MdmPayload> {
    let server_url = HttpsUrl::new("ServerURL", r.string("ServerURL")?)?;
    let check_in_url = r
        .take("CheckInURL", Fields::opt_str)?
        .map(|u| HttpsUrl::new("CheckInURL", u))
        .transpose()?;
    let topic = read_topic(&r.string("Topic")?)?;
    let identity = PayloadUuid::new(r.string("IdentityCertificateUUID")?)?;
    let rights = r
        .take("AccessRights", Fields::opt_u32)?
        .ok_or_else(|| r.missing("AccessRights"))?;
    let mut mdm = MdmPayload::new(server_url, topic, identity);
    mdm.check_in_url = check_in_url;
    mdm.access_rights = super::AccessRights::from_bits(rights);
    mdm.sign_message = r.flag("SignMessage", false)?;
    mdm.check_out_when_removed = r.flag("CheckOutWhenRemoved", false)?;
    mdm.use_development_apns = r.flag("UseDevelopmentAPNS", false)?;
    let caps = r
        .fields
        .opt_strings("ServerCapabilities")?
        .unwrap_or_default();
    let known: Vec<ServerCapability> = caps
        .iter()
        .filter_map(|c| {
            [
                ServerCapability::PerUserConnections,
                ServerCapability::BootstrapToken,
                ServerCapability::Token,
            ]
            .into_iter()
            .find(|k| k.as_str() == c)
        })
        .collect();
    // A capability this crate does not know leaves the key unread.
    if known.len() == caps.len() {
        r.taken.push("ServerCapabilities");
        mdm.server_capabilities = known;
    }
    Ok(mdm)
}

fn read_pkcs12(r: &mut Reader<'_>) -> Result<Pkcs12Identity> {
    let der = r.take("PayloadContent", Fields::req_data)?.to_vec();
    let password = r.take("Password", Fields::opt_string)?;
    let mut p = Pkcs12Identity::new(der, password)?;
    p.file_name = r.take("PayloadCertificateFileName", Fields::opt_string)?;
    p.key_is_extractable = r.take("KeyIsExtractable", Fields::opt_bool)?;
    p.allow_all_apps_access = r.take("AllowAllAppsAccess", Fields::opt_bool)?;
    Ok(p)
}

/// A SCEP payload and the keys of its inner `PayloadContent` left unread.
fn read_scep(outer: &mut Reader<'_>) -> Result<(ScepIdentity, PlistDictionary)> {
    let inner = outer
        .take("PayloadContent", Fields::opt_dict)?
        .ok_or_else(|| outer.missing("PayloadContent"))?;
    let mut r = Reader::new(inner, ScepIdentity::PAYLOAD_TYPE);
    let mut s = ScepIdentity::new(r.string("URL")?);
    s.name = r.take("Name", Fields::opt_string)?;
    s.challenge = r.take("Challenge", Fields::opt_string)?;
    s.key_size = match r.take("Keysize", Fields::opt_int)? {
        None | Some(1024) => ScepKeySize::Rsa1024,
        Some(2048) => ScepKeySize::Rsa2048,
        Some(4096) => ScepKeySize::Rsa4096,
        Some(other) => return Err(r.invalid("Keysize", other, "must be 1024, 2048 or 4096")),
    };
    match r.take("Key Type", Fields::opt_str)? {
        None | Some("RSA") => {}
        Some(other) => return Err(r.invalid("Key Type", other, "must be RSA")),
    }
    s.key_usage = match r.take("Key Usage", Fields::opt_int)? {
        Some(1) => ScepKeyUsage::Signing,
        Some(4) => ScepKeyUsage::Encryption,
        Some(5) => ScepKeyUsage::SigningAndEncryption,
        other => {
            return Err(r.invalid(
                "Key Usage",
                other.map_or_else(|| "absent (0)".to_owned(), |u| u.to_string()),
                "this crate models 1 (signing), 4 (encryption) and 5 (both)",
            ));
        }
    };
    s.retries = r.take("Retries", Fields::opt_u32)?;
    s.retry_delay = r.take("RetryDelay", Fields::opt_u32)?;
    s.ca_fingerprint = r
        .take("CAFingerprint", Fields::opt_data)?
        .map(<[u8]>::to_vec);
    // Each RDN of one attribute, as ScepIdentity holds them; a
    // multi-valued RDN leaves `Subject` unread.
    if let Some(subject) = scep_subject(r.fields)? {
        r.taken.push("Subject");
        s.subject = subject;
    }
    if let Some(san) = r.take("SubjectAltName", Fields::opt_dict)? {
        let mut sr = Reader::new(san, "com.apple.security.scep SubjectAltName");
        s.subject_alt_name.rfc822_name = sr.take("rfc822Name", Fields::opt_string)?;
        s.subject_alt_name.dns_name = sr.take("dNSName", Fields::opt_string)?;
        s.subject_alt_name.uri = sr.take("uniformResourceIdentifier", Fields::opt_string)?;
        s.subject_alt_name.nt_principal_name = sr.take("ntPrincipalName", Fields::opt_string)?;
        let san_unread = sr.rest();
        if !san_unread.is_empty() {
            let mut unread = r.rest();
            unread.insert("SubjectAltName", san_unread);
            return Ok((s, unread));
        }
    }
    Ok((s, r.rest()))
}

/// `Subject` as `(attribute, value)` pairs, `None` when some RDN holds
/// several attributes.
fn scep_subject(f: Fields<'_>) -> Result<Option<Vec<(String, String)>>> {
    let wrong = || AppleError::WrongType {
        message: ScepIdentity::PAYLOAD_TYPE,
        key: "Subject".into(),
        expected: "an array of arrays of [attribute, value] string pairs",
    };
    let Some(rdns) = f.opt_array("Subject")? else {
        return Ok(Some(Vec::new()));
    };
    let mut out = Vec::new();
    let mut single = true;
    for rdn in rdns {
        let pairs = rdn.as_array().ok_or_else(wrong)?;
        single &= pairs.len() == 1;
        for pair in pairs {
            match pair.as_array().ok_or_else(wrong)? {
                [a, v] => out.push((
                    a.as_string().ok_or_else(wrong)?.to_owned(),
                    v.as_string().ok_or_else(wrong)?.to_owned(),
                )),
                _ => return Err(wrong()),
            }
        }
    }
    Ok(single.then_some(out))
}

fn read_certificate(r: &mut Reader<'_>, payload_type: &'static str) -> Result<CertificatePayload> {
    let format = [
        CertificateFormat::Root,
        CertificateFormat::Pkcs1,
        CertificateFormat::Pem,
    ]
    .into_iter()
    .find(|f| f.payload_type() == payload_type)
    .unwrap_or(CertificateFormat::Pkcs1);
    let content = r.take("PayloadContent", Fields::req_data)?;
    let der = match pem_text(content) {
        Some(pem) => mdm_certs::Certificate::from_pem(pem)
            .map_err(|e| AppleError::InvalidCertificate {
                what: payload_type.into(),
                reason: format!("PEM content: {e}"),
            })?
            .der()
            .to_vec(),
        None => content.to_vec(),
    };
    let mut c = CertificatePayload::from_der(der, format)?;
    c.file_name = r.take("PayloadCertificateFileName", Fields::opt_string)?;
    Ok(c)
}

/// The content as PEM text, when it is (whatever the payload type says).
fn pem_text(content: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(content).ok()?;
    text.trim_start().starts_with("-----BEGIN").then_some(text)
}

fn read_passcode(r: &mut Reader<'_>) -> Result<PasscodePolicy> {
    Ok(PasscodePolicy {
        force_pin: r.take("forcePIN", Fields::opt_bool)?,
        allow_simple: r.take("allowSimple", Fields::opt_bool)?,
        require_alphanumeric: r.take("requireAlphanumeric", Fields::opt_bool)?,
        min_length: r.take("minLength", Fields::opt_u32)?,
        min_complex_chars: r.take("minComplexChars", Fields::opt_u32)?,
        max_failed_attempts: r.take("maxFailedAttempts", Fields::opt_u32)?,
        max_inactivity: r.take("maxInactivity", Fields::opt_u32)?,
        max_pin_age_days: r.take("maxPINAgeInDays", Fields::opt_u32)?,
        pin_history: r.take("pinHistory", Fields::opt_u32)?,
        max_grace_period: r.take("maxGracePeriod", Fields::opt_u32)?,
        change_at_next_auth: r.take("changeAtNextAuth", Fields::opt_bool)?,
    })
}

fn read_restrictions(r: &mut Reader<'_>) -> Result<Restrictions> {
    let mut out = Restrictions::default();
    for (key, slot) in out.switches_mut() {
        *slot = r.take(key, Fields::opt_bool)?;
    }
    Ok(out)
}

fn read_wifi(r: &mut Reader<'_>) -> Result<WifiPayload> {
    let ssid = r.string("SSID_STR")?;
    let encryption = match r.take("EncryptionType", Fields::opt_str)? {
        None | Some("Any") => WifiEncryption::Any,
        Some("None") => WifiEncryption::None,
        Some("WEP") => WifiEncryption::Wep,
        Some("WPA") => WifiEncryption::Wpa,
        Some("WPA2") => WifiEncryption::Wpa2,
        Some("WPA3") => WifiEncryption::Wpa3,
        Some(other) => {
            return Err(r.invalid(
                "EncryptionType",
                other,
                "must be None, WEP, WPA, WPA2, WPA3 or Any",
            ));
        }
    };
    Ok(WifiPayload {
        ssid,
        hidden_network: r.flag("HIDDEN_NETWORK", false)?,
        auto_join: r.flag("AutoJoin", true)?,
        encryption,
        password: r.take("Password", Fields::opt_string)?,
    })
}

fn read_webclip(r: &mut Reader<'_>) -> Result<WebClip> {
    let url = HttpsUrl::new("URL", r.string("URL")?)?;
    let mut clip = WebClip::new(url, r.string("Label")?);
    clip.icon = r.take("Icon", Fields::opt_data)?.map(<[u8]>::to_vec);
    clip.is_removable = r.take("IsRemovable", Fields::opt_bool)?;
    clip.full_screen = r.take("FullScreen", Fields::opt_bool)?;
    clip.precomposed = r.take("Precomposed", Fields::opt_bool)?;
    Ok(clip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_profile_says_so() {
        for bytes in [
            &b"PK\x03\x04zip"[..],
            b"",
            b"hello",
            b"\x30\x03\x02\x01\x00",
        ] {
            assert!(
                matches!(read_profile(bytes), Err(AppleError::NotAProfile { .. })),
                "{bytes:?}"
            );
        }
        let not_config = br#"<plist version="1.0"><dict><key>PayloadType</key><string>com.apple.mdm</string></dict></plist>"#;
        let err = read_profile(not_config).unwrap_err();
        assert!(
            err.to_string().contains("not a configuration profile"),
            "{err}"
        );
        let html = b"<html><body>404</body></html>";
        assert!(matches!(
            read_profile(html),
            Err(AppleError::NotAProfile { .. })
        ));
    }

    #[test]
    fn other_payloads_refuse_modelled_types_and_common_keys() {
        assert!(OtherPayload::new("com.apple.mdm", PlistDictionary::new()).is_err());
        assert!(OtherPayload::new(" ", PlistDictionary::new()).is_err());
        let mut keys = PlistDictionary::new();
        keys.insert("PayloadUUID", "x");
        assert!(OtherPayload::new("com.apple.vpn.managed", keys).is_err());
        let mut keys = PlistDictionary::new();
        keys.insert("Password", "hunter2");
        let p = OtherPayload::new("com.apple.vpn.managed", keys).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
