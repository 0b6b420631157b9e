//! The token check-ins: `SetBootstrapToken` and `GetBootstrapToken`
//! (the device escrows, and later asks back, its bootstrap token), and
//! `GetToken` (a token for a service such as `com.apple.maid`).

use std::fmt;

use subtle::ConstantTimeEq;

use super::AppleDeviceId;
use crate::error::Result;
use crate::fields::{DictWriter, Fields};
use crate::ids::read_topic;
use crate::value::dictionary_to_xml;
use mdm_model::PushTopic;

/// A device's bootstrap token: a secret (it unlocks the Secure Token of a
/// Mac's first user). `Debug` shows its length; equality is constant-time.
#[derive(Clone)]
pub struct BootstrapToken(Vec<u8>);

impl BootstrapToken {
    /// Wraps token bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for BootstrapToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for BootstrapToken {}

impl fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BootstrapToken(<{} bytes redacted>)", self.0.len())
    }
}

fn opt_topic(f: &Fields<'_>) -> Result<Option<PushTopic>> {
    f.opt_str("Topic")?.map(read_topic).transpose()
}

/// `SetBootstrapToken`: the device escrows its bootstrap token; a message
/// without `BootstrapToken` clears the escrowed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetBootstrapToken {
    /// `Topic`, when sent.
    pub topic: Option<PushTopic>,
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// `BootstrapToken`; `None` clears.
    pub token: Option<BootstrapToken>,
    /// `AwaitingConfiguration`.
    pub awaiting_configuration: Option<bool>,
}

impl SetBootstrapToken {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            topic: opt_topic(f)?,
            device: AppleDeviceId::read(f)?,
            token: f
                .opt_data("BootstrapToken")?
                .map(|b| BootstrapToken::new(b.to_vec())),
            awaiting_configuration: f.opt_bool("AwaitingConfiguration")?,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`crate::AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "SetBootstrapToken")
            .opt("Topic", self.topic.as_ref().map(PushTopic::as_str));
        self.device.write(&mut w);
        if let Some(t) = &self.token {
            w.data("BootstrapToken", t.as_bytes());
        }
        w.opt("AwaitingConfiguration", self.awaiting_configuration);
        dictionary_to_xml(&w.finish())
    }
}

/// `GetBootstrapToken`: the device asks for the token it escrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetBootstrapToken {
    /// `Topic`, when sent.
    pub topic: Option<PushTopic>,
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
}

impl GetBootstrapToken {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            topic: opt_topic(f)?,
            device: AppleDeviceId::read(f)?,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`crate::AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "GetBootstrapToken")
            .opt("Topic", self.topic.as_ref().map(PushTopic::as_str));
        self.device.write(&mut w);
        dictionary_to_xml(&w.finish())
    }
}

/// `GetToken`: the device asks for a token of a service
/// (`TokenServiceType`, e.g. `com.apple.maid` for Managed Apple IDs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetToken {
    /// `Topic`, when sent.
    pub topic: Option<PushTopic>,
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// `TokenServiceType`.
    pub token_service_type: String,
}

impl GetToken {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            topic: opt_topic(f)?,
            device: AppleDeviceId::read(f)?,
            token_service_type: f.req_str("TokenServiceType")?.to_owned(),
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`crate::AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "GetToken")
            .opt("Topic", self.topic.as_ref().map(PushTopic::as_str));
        self.device.write(&mut w);
        w.put("TokenServiceType", self.token_service_type.as_str());
        dictionary_to_xml(&w.finish())
    }
}
