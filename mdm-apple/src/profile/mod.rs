//! Configuration profiles (`.mobileconfig`, R-IO-1): a plain parameters
//! struct holding typed payloads, and [`ProfileParams::build`], which checks
//! the protocol's rules and returns a [`Profile`] that can only be valid.

pub(crate) mod certificate;
mod enrollment;
mod identity;
mod mdm;
mod passcode;
mod read;
mod restrictions;
mod webclip;
mod wifi;

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use time::OffsetDateTime;

use crate::cms::ProfileSigner;
use crate::error::{AppleError, Result};
use crate::fields::DictWriter;
use crate::ids::PayloadUuid;
use crate::value::{PlistDictionary, PlistValue, dictionary_to_xml};

pub use certificate::{CertificateFormat, CertificatePayload};
pub use enrollment::{EnrollmentIdentity, EnrollmentParams, enrollment_profile};
pub use identity::{Pkcs12Identity, ScepIdentity, ScepKeySize, ScepKeyUsage, ScepSubjectAltName};
pub use mdm::{AccessRights, MdmPayload, ServerCapability};
pub use passcode::PasscodePolicy;
pub use read::{OtherPayload, ReadProfile, read_profile};
pub use restrictions::Restrictions;
pub use webclip::WebClip;
pub use wifi::{WifiEncryption, WifiPayload};

/// What a payload configures.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PayloadContent {
    /// `com.apple.mdm`.
    Mdm(MdmPayload),
    /// `com.apple.security.pkcs12`.
    Pkcs12(Pkcs12Identity),
    /// `com.apple.security.scep`.
    Scep(ScepIdentity),
    /// `com.apple.security.root`, `.pkcs1` or `.pem`.
    Certificate(CertificatePayload),
    /// `com.apple.mobiledevice.passwordpolicy`.
    Passcode(PasscodePolicy),
    /// `com.apple.applicationaccess`.
    Restrictions(Restrictions),
    /// `com.apple.wifi.managed`.
    Wifi(WifiPayload),
    /// `com.apple.webClip.managed`.
    WebClip(WebClip),
    /// Any other payload type, with its keys as read by [`read_profile`]
    /// (or given to [`OtherPayload::new`]), written back as they are.
    Other(OtherPayload),
}

impl PayloadContent {
    /// The `PayloadType` string.
    pub fn payload_type(&self) -> &str {
        match self {
            Self::Mdm(_) => MdmPayload::PAYLOAD_TYPE,
            Self::Pkcs12(_) => Pkcs12Identity::PAYLOAD_TYPE,
            Self::Scep(_) => ScepIdentity::PAYLOAD_TYPE,
            Self::Certificate(c) => c.format().payload_type(),
            Self::Passcode(_) => PasscodePolicy::PAYLOAD_TYPE,
            Self::Restrictions(_) => Restrictions::PAYLOAD_TYPE,
            Self::Wifi(_) => WifiPayload::PAYLOAD_TYPE,
            Self::WebClip(_) => WebClip::PAYLOAD_TYPE,
            Self::Other(p) => p.payload_type(),
        }
    }

    fn is_identity(&self) -> bool {
        matches!(self, Self::Pkcs12(_) | Self::Scep(_))
    }

    fn validate(&self) -> Result<()> {
        match self {
            Self::Mdm(p) => p.validate(),
            Self::Scep(p) => p.validate(),
            Self::Passcode(p) => p.validate(),
            Self::Wifi(p) => p.validate(),
            Self::WebClip(p) => p.validate(),
            Self::Pkcs12(_) | Self::Certificate(_) | Self::Restrictions(_) | Self::Other(_) => {
                Ok(())
            }
        }
    }

    fn write(&self, w: &mut DictWriter) {
        match self {
            Self::Mdm(p) => p.write(w),
            Self::Pkcs12(p) => p.write(w),
            Self::Scep(p) => p.write(w),
            Self::Certificate(p) => p.write(w),
            Self::Passcode(p) => p.write(w),
            Self::Restrictions(p) => p.write(w),
            Self::Wifi(p) => p.write(w),
            Self::WebClip(p) => p.write(w),
            Self::Other(p) => p.write(w),
        }
    }
}

/// One payload of a profile: the common keys plus what it configures.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// `PayloadIdentifier` (reverse-DNS, unique within the profile).
    pub identifier: String,
    /// `PayloadUUID`.
    pub uuid: PayloadUuid,
    /// `PayloadDisplayName`.
    pub display_name: Option<String>,
    /// `PayloadDescription`.
    pub description: Option<String>,
    /// `PayloadOrganization`.
    pub organization: Option<String>,
    /// The payload's own keys.
    pub content: PayloadContent,
}

impl Payload {
    /// A payload with only the required common keys.
    pub fn new(identifier: impl Into<String>, uuid: PayloadUuid, content: PayloadContent) -> Self {
        Self {
            identifier: identifier.into(),
            uuid,
            display_name: None,
            description: None,
            organization: None,
            content,
        }
    }

    /// This payload as a plist dictionary (keys sorted).
    pub fn to_dictionary(&self) -> PlistDictionary {
        let mut w = DictWriter::new();
        w.put("PayloadIdentifier", self.identifier.as_str())
            .put("PayloadUUID", self.uuid.as_str())
            .put("PayloadType", self.content.payload_type())
            .put("PayloadVersion", 1u64)
            .opt("PayloadDisplayName", self.display_name.clone())
            .opt("PayloadDescription", self.description.clone())
            .opt("PayloadOrganization", self.organization.clone());
        self.content.write(&mut w);
        w.finish()
    }
}

/// `PayloadScope` (macOS): where the profile installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadScope {
    /// `System`.
    System,
    /// `User`.
    User,
}

/// How and when the profile may go away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovalRules {
    /// `PayloadRemovalDisallowed`: the user cannot remove it (supervised only).
    pub removal_disallowed: Option<bool>,
    /// `HasRemovalPasscode`: removing needs a passcode.
    pub has_removal_passcode: Option<bool>,
    /// `RemovalDate`: the device removes the profile at this time.
    pub removal_date: Option<OffsetDateTime>,
    /// `DurationUntilRemoval`: seconds after installation until removal.
    pub duration_until_removal: Option<time::Duration>,
}

/// Everything a configuration profile says, before its rules are checked.
/// Fill it in, then call [`ProfileParams::build`]; [`read_profile`] gives
/// one back from a `.mobileconfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileParams {
    /// `PayloadIdentifier` of the profile (same identifier ⇒ replaces an installed profile).
    pub identifier: String,
    /// `PayloadUUID` of the profile.
    pub uuid: PayloadUuid,
    /// `PayloadDisplayName`.
    pub display_name: String,
    /// `PayloadOrganization`.
    pub organization: Option<String>,
    /// `PayloadDescription`.
    pub description: Option<String>,
    /// Removal rules.
    pub removal: RemovalRules,
    /// `PayloadExpirationDate`.
    pub expiration_date: Option<OffsetDateTime>,
    /// `ConsentText`: BCP-47 language (or `default`) → text shown before install.
    pub consent_text: BTreeMap<String, String>,
    /// `PayloadScope`.
    pub scope: Option<PayloadScope>,
    /// `PayloadContent`: the payloads, in order.
    pub payloads: Vec<Payload>,
}

impl ProfileParams {
    /// A profile with no payloads yet.
    pub fn new(
        identifier: impl Into<String>,
        uuid: PayloadUuid,
        display_name: impl Into<String>,
    ) -> Self {
        Self {
            identifier: identifier.into(),
            uuid,
            display_name: display_name.into(),
            organization: None,
            description: None,
            removal: RemovalRules::default(),
            expiration_date: None,
            consent_text: BTreeMap::new(),
            scope: None,
            payloads: Vec::new(),
        }
    }

    /// Checks every rule and returns the profile.
    ///
    /// Rules: required keys present and non-empty; `PayloadIdentifier`s and
    /// `PayloadUUID`s unique; at most one MDM payload, whose
    /// `IdentityCertificateUUID` names a PKCS#12 or SCEP payload of this
    /// profile and whose `AccessRights` follow the bit rules; each payload's
    /// own ranges and formats (topic and https URLs are checked by their types).
    ///
    /// # Errors
    /// The first broken rule, as an [`AppleError`] naming the key.
    pub fn build(self) -> Result<Profile> {
        let missing = |payload: &str, key| AppleError::MissingKey {
            payload: payload.to_owned(),
            key,
        };
        if self.identifier.trim().is_empty() {
            return Err(missing("Configuration", "PayloadIdentifier"));
        }
        if self.display_name.trim().is_empty() {
            return Err(missing("Configuration", "PayloadDisplayName"));
        }
        if self.payloads.is_empty() {
            return Err(missing("Configuration", "PayloadContent"));
        }
        if let Some(d) = self.removal.duration_until_removal
            && !d.is_positive()
        {
            return Err(AppleError::InvalidValue {
                payload: "Configuration".into(),
                key: "DurationUntilRemoval",
                value: d.to_string(),
                reason: "must be positive",
            });
        }
        let mut identifiers = HashSet::new();
        let mut uuids = HashSet::from([self.uuid.as_str()]);
        for p in &self.payloads {
            if p.identifier.trim().is_empty() {
                return Err(missing(p.content.payload_type(), "PayloadIdentifier"));
            }
            if !identifiers.insert(p.identifier.as_str()) {
                return Err(AppleError::DuplicatePayload {
                    key: "PayloadIdentifier",
                    value: p.identifier.clone(),
                });
            }
            if !uuids.insert(p.uuid.as_str()) {
                return Err(AppleError::DuplicatePayload {
                    key: "PayloadUUID",
                    value: p.uuid.to_string(),
                });
            }
            p.content.validate()?;
        }
        let mdm: Vec<&MdmPayload> = self
            .payloads
            .iter()
            .filter_map(|p| match &p.content {
                PayloadContent::Mdm(m) => Some(m),
                _ => None,
            })
            .collect();
        if mdm.len() > 1 {
            return Err(AppleError::SeveralMdmPayloads { count: mdm.len() });
        }
        if let Some(m) = mdm.first() {
            let target = &m.identity_certificate_uuid;
            let found = self
                .payloads
                .iter()
                .any(|p| &p.uuid == target && p.content.is_identity());
            if !found {
                return Err(AppleError::IdentityNotInProfile {
                    uuid: target.to_string(),
                });
            }
        }
        Ok(Profile { params: self })
    }
}

/// A configuration profile whose rules hold. Write it as XML with
/// [`Profile::to_xml`] or sign it with [`Profile::sign`].
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    params: ProfileParams,
}

fn plist_date(t: OffsetDateTime) -> PlistValue {
    PlistValue::from(SystemTime::from(t))
}

impl Profile {
    /// What the profile was built from.
    pub fn params(&self) -> &ProfileParams {
        &self.params
    }

    /// The `PayloadIdentifier`.
    pub fn identifier(&self) -> &str {
        &self.params.identifier
    }

    /// The payloads.
    pub fn payloads(&self) -> &[Payload] {
        &self.params.payloads
    }

    /// The top-level dictionary (keys sorted; deterministic).
    pub fn to_dictionary(&self) -> PlistDictionary {
        let p = &self.params;
        let mut w = DictWriter::new();
        w.put("PayloadType", "Configuration")
            .put("PayloadVersion", 1u64)
            .put("PayloadIdentifier", p.identifier.as_str())
            .put("PayloadUUID", p.uuid.as_str())
            .put("PayloadDisplayName", p.display_name.as_str())
            .opt("PayloadOrganization", p.organization.clone())
            .opt("PayloadDescription", p.description.clone())
            .opt("PayloadRemovalDisallowed", p.removal.removal_disallowed)
            .opt("HasRemovalPasscode", p.removal.has_removal_passcode)
            .opt("RemovalDate", p.removal.removal_date.map(plist_date))
            .opt(
                "DurationUntilRemoval",
                p.removal
                    .duration_until_removal
                    .map(time::Duration::as_seconds_f64),
            )
            .opt("PayloadExpirationDate", p.expiration_date.map(plist_date))
            .opt(
                "PayloadScope",
                p.scope.map(|s| match s {
                    PayloadScope::System => "System",
                    PayloadScope::User => "User",
                }),
            );
        if !p.consent_text.is_empty() {
            let mut consent = PlistDictionary::new();
            for (lang, text) in &p.consent_text {
                consent.insert(lang.as_str(), text.as_str());
            }
            w.put("ConsentText", consent);
        }
        let content: Vec<PlistValue> = p
            .payloads
            .iter()
            .map(|pl| pl.to_dictionary().into())
            .collect();
        w.put("PayloadContent", content);
        w.finish()
    }

    /// The profile as an XML plist (an unsigned `.mobileconfig`).
    ///
    /// # Errors
    /// [`AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        dictionary_to_xml(&self.to_dictionary())
    }

    /// The profile signed as CMS SignedData (attached, SHA-256, chain
    /// included), DER — a signed `.mobileconfig`.
    ///
    /// # Errors
    /// Serialisation or signing failures.
    pub fn sign(&self, signer: &ProfileSigner, now: OffsetDateTime) -> Result<Vec<u8>> {
        signer.sign(&self.to_xml()?, now)
    }
}
