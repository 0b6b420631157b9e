//! The APNs request that wakes an enrolled device (built only; sending it
//! over HTTP/2 with the push certificate is the caller's job).

use time::OffsetDateTime;

use crate::ids::ApnsTopic;
use crate::message::{PushMagic, PushToken};

/// Which APNs service the topic lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApnsEnvironment {
    /// `api.push.apple.com` (every certificate from the Push Certificates Portal).
    #[default]
    Production,
    /// `api.development.push.apple.com`.
    Development,
}

impl ApnsEnvironment {
    /// The HTTP/2 authority.
    pub const fn host(self) -> &'static str {
        match self {
            Self::Production => "api.push.apple.com",
            Self::Development => "api.development.push.apple.com",
        }
    }
}

/// `apns-priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushPriority {
    /// 10: deliver now.
    #[default]
    Immediate,
    /// 5: deliver when power allows.
    PowerConsiderate,
}

/// Options of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushOptions {
    /// Production or sandbox.
    pub environment: ApnsEnvironment,
    /// `apns-priority`.
    pub priority: PushPriority,
    /// `apns-expiration`: keep retrying until then; `None` sends `0`
    /// (deliver once, do not store).
    pub expiration: Option<OffsetDateTime>,
}

/// An HTTP/2 request to APNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    /// Always `POST`.
    pub method: &'static str,
    /// `api.push.apple.com` or the sandbox host.
    pub authority: &'static str,
    /// `/3/device/<hex token>`.
    pub path: String,
    /// `apns-topic`, `apns-push-type: mdm`, `apns-priority`, `apns-expiration`, `content-type`.
    pub headers: Vec<(&'static str, String)>,
    /// Exactly `{"mdm":"<PushMagic>"}`.
    pub body: Vec<u8>,
}

impl PushRequest {
    /// `https://<authority><path>`.
    pub fn url(&self) -> String {
        format!("https://{}{}", self.authority, self.path)
    }
}

/// Builds the MDM push for a device.
pub fn push_request(topic: &ApnsTopic, token: &PushToken, magic: &PushMagic, options: &PushOptions) -> PushRequest {
    let priority = match options.priority {
        PushPriority::Immediate => "10",
        PushPriority::PowerConsiderate => "5",
    };
    let expiration = options.expiration.map_or(0, OffsetDateTime::unix_timestamp).max(0);
    // serde_json escapes the magic exactly as JSON requires; the shape is fixed.
    let magic_json = serde_json::Value::String(magic.as_str().to_owned()).to_string();
    PushRequest {
        method: "POST",
        authority: options.environment.host(),
        path: format!("/3/device/{}", token.to_hex()),
        headers: vec![
            ("apns-topic", topic.as_str().to_owned()),
            ("apns-push-type", "mdm".to_owned()),
            ("apns-priority", priority.to_owned()),
            ("apns-expiration", expiration.to_string()),
            ("content-type", "application/json".to_owned()),
        ],
        body: format!("{{\"mdm\":{magic_json}}}").into_bytes(),
    }
}
