//! Check-ins beyond the enrollment: `UserAuthenticate` (a macOS user
//! channel asks to be let in) and `DeclarativeManagement` (a declarative
//! device management request).

use super::{AppleDeviceId, UserChannel};
use crate::error::Result;
use crate::fields::{DictWriter, Fields, RedactedBytes};
use crate::value::dictionary_to_xml;

/// `UserAuthenticate`: a user of a macOS device asks for a user channel.
/// The first one carries no `DigestResponse`; a server that wants a digest
/// challenge answers with one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAuthenticate {
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// The user-channel keys (`UserID`, `UserShortName`, `UserLongName`).
    pub user: Option<UserChannel>,
    /// `DigestResponse`, on the second message of a digest challenge.
    pub digest_response: Option<String>,
}

impl UserAuthenticate {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            device: AppleDeviceId::read(f)?,
            user: UserChannel::read(f)?,
            digest_response: f.opt_string("DigestResponse")?,
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`crate::AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "UserAuthenticate");
        self.device.write(&mut w);
        if let Some(u) = &self.user {
            u.write(&mut w);
        }
        w.opt("DigestResponse", self.digest_response.clone());
        dictionary_to_xml(&w.finish())
    }
}

/// `DeclarativeManagement`: a declarative device management request for
/// `Endpoint` (`tokens`, `declaration-items`, `status`, …) with its `Data`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeclarativeManagement {
    /// `UDID` or `EnrollmentID`.
    pub device: AppleDeviceId,
    /// `Endpoint`.
    pub endpoint: String,
    /// `Data` (JSON, for `status`), when sent.
    pub data: Option<Vec<u8>>,
}

impl std::fmt::Debug for DeclarativeManagement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeclarativeManagement")
            .field("device", &self.device)
            .field("endpoint", &self.endpoint)
            .field("data", &self.data.as_ref().map(|d| RedactedBytes(d.len())))
            .finish()
    }
}

impl DeclarativeManagement {
    pub(crate) fn read(f: &Fields<'_>) -> Result<Self> {
        Ok(Self {
            device: AppleDeviceId::read(f)?,
            endpoint: f.req_str("Endpoint")?.to_owned(),
            data: f.opt_data("Data")?.map(<[u8]>::to_vec),
        })
    }

    /// The XML plist a device would PUT.
    ///
    /// # Errors
    /// [`crate::AppleError::PlistWrite`] if serialisation fails.
    pub fn to_xml(&self) -> Result<Vec<u8>> {
        let mut w = DictWriter::new();
        w.put("MessageType", "DeclarativeManagement");
        self.device.write(&mut w);
        w.put("Endpoint", self.endpoint.as_str());
        if let Some(d) = &self.data {
            w.data("Data", d);
        }
        dictionary_to_xml(&w.finish())
    }
}
