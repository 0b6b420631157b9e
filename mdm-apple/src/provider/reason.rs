//! APNs's answers as Apple documents them ("Handling notification responses
//! from APNs"): the status codes and the `reason` strings of the JSON body
//! `{"reason": "...", "timestamp": ...}`. One vocabulary for the provider
//! client and for the harness's APNs stand-in.

use core::fmt;

/// The `reason` of an APNs error response. A reason Apple adds later is
/// data ([`ApnsReason::Other`]), not a failure to read the answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApnsReason {
    /// 400: the collapse identifier exceeds the maximum size.
    BadCollapseId,
    /// 400: the device token is malformed (or for another environment).
    BadDeviceToken,
    /// 400: the `apns-expiration` value is invalid.
    BadExpirationDate,
    /// 400: the `apns-id` value is invalid.
    BadMessageId,
    /// 400: the `apns-priority` value is invalid.
    BadPriority,
    /// 400: the `apns-topic` value is invalid.
    BadTopic,
    /// 400: the device token does not match the topic.
    DeviceTokenNotForTopic,
    /// 400: one or more headers are repeated.
    DuplicateHeaders,
    /// 400: idle time-out.
    IdleTimeout,
    /// 400: the `apns-push-type` value is invalid.
    InvalidPushType,
    /// 400: no device token in the path.
    MissingDeviceToken,
    /// 400: no `apns-topic` and the certificate has several topics.
    MissingTopic,
    /// 400: the message payload is empty.
    PayloadEmpty,
    /// 400: pushing to this topic is not allowed.
    TopicDisallowed,
    /// 403: the certificate is invalid.
    BadCertificate,
    /// 403: the client certificate is for the wrong environment.
    BadCertificateEnvironment,
    /// 403: the provider token is stale; a new one is needed.
    ExpiredProviderToken,
    /// 403: the action is not allowed.
    Forbidden,
    /// 403: the provider token is not valid or its signature is wrong.
    InvalidProviderToken,
    /// 403: neither a certificate nor a provider token.
    MissingProviderToken,
    /// 404: the request's `:path` is invalid.
    BadPath,
    /// 405: the method is not `POST`.
    MethodNotAllowed,
    /// 410: the device token has expired.
    ExpiredToken,
    /// 410: the device token is no longer active for the topic.
    Unregistered,
    /// 413: the payload is too large.
    PayloadTooLarge,
    /// 429: the provider token is being updated too often.
    TooManyProviderTokenUpdates,
    /// 429: too many requests to the same device token.
    TooManyRequests,
    /// 500: an internal server error.
    InternalServerError,
    /// 503: the service is unavailable.
    ServiceUnavailable,
    /// 503: the APNs server is shutting down.
    Shutdown,
    /// A reason this crate does not know.
    Other(String),
}

/// Every known reason with its string and the status Apple answers it with.
const KNOWN: &[(ApnsReason, &str, u16)] = &[
    (ApnsReason::BadCollapseId, "BadCollapseId", 400),
    (ApnsReason::BadDeviceToken, "BadDeviceToken", 400),
    (ApnsReason::BadExpirationDate, "BadExpirationDate", 400),
    (ApnsReason::BadMessageId, "BadMessageId", 400),
    (ApnsReason::BadPriority, "BadPriority", 400),
    (ApnsReason::BadTopic, "BadTopic", 400),
    (
        ApnsReason::DeviceTokenNotForTopic,
        "DeviceTokenNotForTopic",
        400,
    ),
    (ApnsReason::DuplicateHeaders, "DuplicateHeaders", 400),
    (ApnsReason::IdleTimeout, "IdleTimeout", 400),
    (ApnsReason::InvalidPushType, "InvalidPushType", 400),
    (ApnsReason::MissingDeviceToken, "MissingDeviceToken", 400),
    (ApnsReason::MissingTopic, "MissingTopic", 400),
    (ApnsReason::PayloadEmpty, "PayloadEmpty", 400),
    (ApnsReason::TopicDisallowed, "TopicDisallowed", 400),
    (ApnsReason::BadCertificate, "BadCertificate", 403),
    (
        ApnsReason::BadCertificateEnvironment,
        "BadCertificateEnvironment",
        403,
    ),
    (
        ApnsReason::ExpiredProviderToken,
        "ExpiredProviderToken",
        403,
    ),
    (ApnsReason::Forbidden, "Forbidden", 403),
    (
        ApnsReason::InvalidProviderToken,
        "InvalidProviderToken",
        403,
    ),
    (
        ApnsReason::MissingProviderToken,
        "MissingProviderToken",
        403,
    ),
    (ApnsReason::BadPath, "BadPath", 404),
    (ApnsReason::MethodNotAllowed, "MethodNotAllowed", 405),
    (ApnsReason::ExpiredToken, "ExpiredToken", 410),
    (ApnsReason::Unregistered, "Unregistered", 410),
    (ApnsReason::PayloadTooLarge, "PayloadTooLarge", 413),
    (
        ApnsReason::TooManyProviderTokenUpdates,
        "TooManyProviderTokenUpdates",
        429,
    ),
    (ApnsReason::TooManyRequests, "TooManyRequests", 429),
    (ApnsReason::InternalServerError, "InternalServerError", 500),
    (ApnsReason::ServiceUnavailable, "ServiceUnavailable", 503),
    (ApnsReason::Shutdown, "Shutdown", 503),
];

impl ApnsReason {
    /// Every reason Apple documents, in the order of its table.
    pub fn all() -> impl Iterator<Item = ApnsReason> {
        KNOWN.iter().map(|(r, _, _)| r.clone())
    }

    /// Reads a `reason` string; unknown strings become [`ApnsReason::Other`].
    pub fn parse(reason: &str) -> Self {
        KNOWN
            .iter()
            .find(|(_, s, _)| *s == reason)
            .map_or_else(|| Self::Other(reason.to_owned()), |(r, _, _)| r.clone())
    }

    /// The string APNs writes.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(r, _, _)| r == known)
                .map_or("", |(_, s, _)| s),
        }
    }

    /// The HTTP status APNs answers this reason with (`None` for unknown reasons).
    pub fn status(&self) -> Option<u16> {
        KNOWN.iter().find(|(r, _, _)| r == self).map(|(_, _, s)| *s)
    }
}

impl fmt::Display for ApnsReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_string() {
        let mut n = 0;
        for r in ApnsReason::all() {
            assert_eq!(ApnsReason::parse(r.as_str()), r);
            assert!(r.status().is_some());
            n += 1;
        }
        assert_eq!(n, KNOWN.len());
        assert_eq!(
            ApnsReason::parse("SomethingNew"),
            ApnsReason::Other("SomethingNew".into())
        );
        assert_eq!(ApnsReason::Other("X".into()).status(), None);
        assert_eq!(ApnsReason::Unregistered.status(), Some(410));
    }
}
