//! The APNs request that wakes an enrolled device (built only; sending it
//! over HTTP/2 with the push certificate is the caller's job).

use time::OffsetDateTime;

use crate::fields::RedactedBytes;
use crate::message::{PushMagic, PushToken};
use mdm_model::PushTopic;

/// Which APNs service the topic lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApnsEnvironment {
    /// `api.push.apple.com` (every certificate from the Push Certificates Portal).
    #[default]
    Production,
    /// `api.sandbox.push.apple.com`.
    Development,
}

impl ApnsEnvironment {
    /// The HTTP/2 authority.
    pub const fn host(self) -> &'static str {
        match self {
            Self::Production => "api.push.apple.com",
            Self::Development => "api.sandbox.push.apple.com",
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

/// An HTTP/2 request to APNs. `Debug` hides the device token in the path
/// and the body (which carries the `PushMagic`).
#[derive(Clone, PartialEq, Eq)]
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

impl std::fmt::Debug for PushRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.starts_with(DEVICE_PATH) {
            "/3/device/<redacted>"
        } else {
            "<redacted>"
        };
        f.debug_struct("PushRequest")
            .field("method", &self.method)
            .field("authority", &self.authority)
            .field("path", &path)
            .field("headers", &self.headers)
            .field("body", &RedactedBytes(self.body.len()))
            .finish()
    }
}

impl PushRequest {
    /// `https://<authority><path>`.
    pub fn url(&self) -> String {
        format!("https://{}{}", self.authority, self.path)
    }
}

/// Where a push's path starts; the device token's hex follows.
const DEVICE_PATH: &str = "/3/device/";

/// Builds the MDM push for a device.
pub fn push_request(
    topic: &PushTopic,
    token: &PushToken,
    magic: &PushMagic,
    options: &PushOptions,
) -> PushRequest {
    let mut body = Vec::with_capacity(magic.as_str().len() + 10);
    write_mdm_body(magic, &mut body);
    let mut path = String::with_capacity(11 + 2 * token.as_bytes().len());
    write_device_path(token, &mut path);
    PushRequest {
        method: "POST",
        authority: options.environment.host(),
        path,
        headers: push_headers(topic, options),
        body,
    }
}

/// The headers of every push for `topic` under `options` (they do not
/// depend on the device): `apns-topic`, `apns-push-type: mdm`,
/// `apns-priority`, `apns-expiration`, `content-type`.
pub(crate) fn push_headers(
    topic: &PushTopic,
    options: &PushOptions,
) -> Vec<(&'static str, String)> {
    let priority = match options.priority {
        PushPriority::Immediate => "10",
        PushPriority::PowerConsiderate => "5",
    };
    let expiration = options
        .expiration
        .map_or(0, OffsetDateTime::unix_timestamp)
        .max(0);
    vec![
        ("apns-topic", topic.as_str().to_owned()),
        ("apns-push-type", "mdm".to_owned()),
        ("apns-priority", priority.to_owned()),
        ("apns-expiration", expiration.to_string()),
        ("content-type", "application/json".to_owned()),
    ]
}

/// Appends `/3/device/<hex token>` to `out` (the provider client writes
/// each push's path into a shared buffer).
pub(crate) fn write_device_path(token: &PushToken, out: &mut String) {
    out.push_str(DEVICE_PATH);
    token.write_hex(out);
}

/// Appends exactly `{"mdm":"<PushMagic>"}` to `out`.
pub(crate) fn write_mdm_body(magic: &PushMagic, out: &mut Vec<u8>) {
    // serde_json escapes the magic exactly as JSON requires; the shape is fixed.
    out.extend_from_slice(b"{\"mdm\":");
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, magic.as_str());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_push_path_is_the_tokens_lower_case_hex(bytes in proptest::collection::vec(proptest::num::u8::ANY, 1..64)) {
            let token = PushToken::new(bytes.clone()).unwrap();
            proptest::prop_assert_eq!(token.to_hex(), hex::encode(&bytes));
            let r = push_request(
                &PushTopic::parse("com.apple.mgmt.External.1").unwrap(),
                &token,
                &PushMagic::new("magic").unwrap(),
                &PushOptions::default(),
            );
            proptest::prop_assert_eq!(r.path, format!("/3/device/{}", hex::encode(&bytes)));
        }
    }

    #[test]
    fn push_request_shape() {
        let topic = PushTopic::parse("com.apple.mgmt.External.1").unwrap();
        let token = PushToken::new(vec![0xab, 0x01]).unwrap();
        let magic = PushMagic::new("CEFDF0BD-\"quoted\"").unwrap();
        let opts = PushOptions {
            environment: ApnsEnvironment::Development,
            priority: PushPriority::PowerConsiderate,
            expiration: Some(time::macros::datetime!(2026-11-29 00:00 UTC)),
        };
        let r = push_request(&topic, &token, &magic, &opts);
        assert_eq!(r.url(), "https://api.sandbox.push.apple.com/3/device/ab01");
        assert_eq!(r.method, "POST");
        assert_eq!(r.body, br#"{"mdm":"CEFDF0BD-\"quoted\""}"#);
        let h = |k: &str| {
            r.headers
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(h("apns-topic"), Some("com.apple.mgmt.External.1"));
        assert_eq!(h("apns-push-type"), Some("mdm"));
        assert_eq!(h("apns-priority"), Some("5"));
        assert_eq!(h("apns-expiration"), Some("1795910400"));
        let d = push_request(&topic, &token, &magic, &PushOptions::default());
        assert_eq!(d.authority, "api.push.apple.com");
        assert_eq!(
            d.headers
                .iter()
                .find(|(n, _)| *n == "apns-expiration")
                .map(|(_, v)| v.as_str()),
            Some("0")
        );
        let json: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!(json, serde_json::json!({"mdm": "CEFDF0BD-\"quoted\""}));
    }
}
