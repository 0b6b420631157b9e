//! What became of a push: APNs's answer read into a typed outcome, and the
//! counts a report shows.

use time::OffsetDateTime;

use super::reason::ApnsReason;

/// One HTTP/2 answer from APNs: the status, and for errors the body's
/// `reason` (and, for 410, its `timestamp`). Also what the harness's
/// stand-in writes, so both sides share one form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApnsAnswer {
    /// The `:status`.
    pub status: u16,
    /// The body's `reason`; `None` on success or an unreadable body.
    pub reason: Option<ApnsReason>,
    /// The body's `timestamp`: milliseconds since the epoch at which APNs
    /// confirmed the token was no longer valid for the topic (410 only).
    pub timestamp_ms: Option<i64>,
}

impl ApnsAnswer {
    /// 200, no body.
    pub const OK: Self = Self {
        status: 200,
        reason: None,
        timestamp_ms: None,
    };

    /// An error answer with `reason`, at the status Apple documents for it
    /// (500 for an unknown reason).
    pub fn error(reason: ApnsReason) -> Self {
        Self {
            status: reason.status().unwrap_or(500),
            reason: Some(reason),
            timestamp_ms: None,
        }
    }

    /// 410 `Unregistered` since `since`.
    pub fn unregistered(since: OffsetDateTime) -> Self {
        Self {
            status: 410,
            reason: Some(ApnsReason::Unregistered),
            timestamp_ms: Some(unix_ms(since)),
        }
    }

    /// Reads a response's status and body. A body that is not the documented
    /// JSON leaves `reason` empty (the status still decides the outcome).
    pub fn read(status: u16, body: &[u8]) -> Self {
        let json: Option<serde_json::Value> = if body.is_empty() {
            None
        } else {
            serde_json::from_slice(body).ok()
        };
        let reason = json
            .as_ref()
            .and_then(|v| v.get("reason"))
            .and_then(serde_json::Value::as_str)
            .map(ApnsReason::parse);
        let timestamp_ms = json
            .as_ref()
            .and_then(|v| v.get("timestamp"))
            .and_then(serde_json::Value::as_i64);
        Self {
            status,
            reason,
            timestamp_ms,
        }
    }

    /// The documented body: empty for 200, else
    /// `{"reason":"…"}` or `{"reason":"Unregistered","timestamp":…}`.
    pub fn body(&self) -> Vec<u8> {
        let Some(reason) = &self.reason else {
            return Vec::new();
        };
        let mut map = serde_json::Map::new();
        map.insert("reason".into(), reason.as_str().into());
        if let Some(ts) = self.timestamp_ms {
            map.insert("timestamp".into(), ts.into());
        }
        serde_json::Value::Object(map).to_string().into_bytes()
    }

    /// Whether the provider should try again later (429 and 5xx).
    pub fn is_retryable(&self) -> bool {
        self.status == 429 || (500..600).contains(&self.status)
    }

    /// The final outcome this answer means (for a retryable answer: what
    /// it means once the retries are spent).
    pub fn outcome(&self) -> PushOutcome {
        match self.status {
            200 => PushOutcome::Delivered,
            410 if matches!(self.reason, None | Some(ApnsReason::Unregistered)) => {
                PushOutcome::Unregistered {
                    since: self.timestamp_ms.and_then(from_unix_ms),
                }
            }
            _ if self.is_retryable() => PushOutcome::GaveUp {
                last: Failure::Answer {
                    status: self.status,
                    reason: self.reason.clone(),
                },
            },
            status => PushOutcome::Rejected {
                status,
                reason: self
                    .reason
                    .clone()
                    .unwrap_or_else(|| ApnsReason::Other(String::new())),
            },
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_unix_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// Why the last try of a push that was given up failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// APNs answered 429 or 5xx every time.
    Answer {
        /// The last status.
        status: u16,
        /// The last reason.
        reason: Option<ApnsReason>,
    },
    /// No answer: the connection could not be made or broke.
    Transport(String),
}

/// What became of one push; each push of a batch ends in exactly one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// 200: APNs accepted the push.
    Delivered,
    /// 410: the token is no longer valid for the topic; stop pushing to it
    /// (`since` is APNs's timestamp). Record it with
    /// `mdm_model::Workspace::record_push_unregistered`.
    Unregistered {
        /// When APNs confirmed the token invalid, if it said.
        since: Option<OffsetDateTime>,
    },
    /// 4xx other than 410 (or 410 `ExpiredToken`): APNs refused this push;
    /// retrying the same request would not help.
    Rejected {
        /// The status.
        status: u16,
        /// The reason.
        reason: ApnsReason,
    },
    /// Retries spent on 429, 5xx or transport failures.
    GaveUp {
        /// The last failure.
        last: Failure,
    },
}

/// Counts of outcomes, per batch and over a client's life (for reports).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// Pushes sent in all (each counted once, however many tries).
    pub pushes: u64,
    /// 200.
    pub delivered: u64,
    /// 410.
    pub unregistered: u64,
    /// 400 `BadDeviceToken`.
    pub bad_device_token: u64,
    /// 400 `DeviceTokenNotForTopic`.
    pub device_token_not_for_topic: u64,
    /// 400 `TopicDisallowed`.
    pub topic_disallowed: u64,
    /// 403 `BadCertificate`.
    pub bad_certificate: u64,
    /// 403 `BadCertificateEnvironment`.
    pub bad_certificate_environment: u64,
    /// 403 `ExpiredProviderToken`.
    pub expired_provider_token: u64,
    /// Any other refusal.
    pub other_rejected: u64,
    /// Given up after retries.
    pub gave_up: u64,
    /// Tries beyond the first (429, 5xx, broken connections).
    pub retries: u64,
    /// Tries that never reached APNs's processing (refused by GOAWAY or a
    /// closing connection) and were sent again on a fresh connection.
    pub resent_after_goaway: u64,
}

impl OutcomeCounts {
    /// Counts one finished push.
    pub fn record(&mut self, outcome: &PushOutcome) {
        self.pushes += 1;
        let slot = match outcome {
            PushOutcome::Delivered => &mut self.delivered,
            PushOutcome::Unregistered { .. } => &mut self.unregistered,
            PushOutcome::GaveUp { .. } => &mut self.gave_up,
            PushOutcome::Rejected { reason, .. } => match reason {
                ApnsReason::BadDeviceToken => &mut self.bad_device_token,
                ApnsReason::DeviceTokenNotForTopic => &mut self.device_token_not_for_topic,
                ApnsReason::TopicDisallowed => &mut self.topic_disallowed,
                ApnsReason::BadCertificate => &mut self.bad_certificate,
                ApnsReason::BadCertificateEnvironment => &mut self.bad_certificate_environment,
                ApnsReason::ExpiredProviderToken => &mut self.expired_provider_token,
                _ => &mut self.other_rejected,
            },
        };
        *slot += 1;
    }

    /// Adds another set of counts.
    pub fn add(&mut self, other: &Self) {
        self.pushes += other.pushes;
        self.delivered += other.delivered;
        self.unregistered += other.unregistered;
        self.bad_device_token += other.bad_device_token;
        self.device_token_not_for_topic += other.device_token_not_for_topic;
        self.topic_disallowed += other.topic_disallowed;
        self.bad_certificate += other.bad_certificate;
        self.bad_certificate_environment += other.bad_certificate_environment;
        self.expired_provider_token += other.expired_provider_token;
        self.other_rejected += other.other_rejected;
        self.gave_up += other.gave_up;
        self.retries += other.retries;
        self.resent_after_goaway += other.resent_after_goaway;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_into_outcomes() {
        let at = time::macros::datetime!(2026-11-29 10:00 UTC);
        let gone = ApnsAnswer::unregistered(at);
        assert_eq!(
            gone.body(),
            format!(r#"{{"reason":"Unregistered","timestamp":{}}}"#, unix_ms(at)).into_bytes()
        );
        let back = ApnsAnswer::read(410, &gone.body());
        assert_eq!(back, gone);
        assert_eq!(
            back.outcome(),
            PushOutcome::Unregistered { since: Some(at) }
        );
        assert_eq!(ApnsAnswer::read(200, b"").outcome(), PushOutcome::Delivered);
        let bad = ApnsAnswer::read(400, br#"{"reason":"BadDeviceToken"}"#);
        assert_eq!(
            bad.outcome(),
            PushOutcome::Rejected {
                status: 400,
                reason: ApnsReason::BadDeviceToken
            }
        );
        assert!(!bad.is_retryable());
        assert!(ApnsAnswer::error(ApnsReason::TooManyRequests).is_retryable());
        assert!(ApnsAnswer::read(503, b"garbage").is_retryable());
        assert_eq!(ApnsAnswer::read(503, b"garbage").reason, None);
        let mut counts = OutcomeCounts::default();
        counts.record(&bad.outcome());
        counts.record(&PushOutcome::Delivered);
        assert_eq!(
            (counts.pushes, counts.bad_device_token, counts.delivered),
            (2, 1, 1)
        );
    }
}
