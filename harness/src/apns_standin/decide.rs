//! The stand-in's answer to one push, as a pure function of the request,
//! the client certificate's facts, the date and the stand-in's book
//! (registered tokens, faults): usable in-process by the simulator and by
//! the HTTP/2 server alike.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use mdm_apple::{ApnsAnswer, ApnsEnvironment, ApnsReason};
use mdm_model::PushTopic;
use time::OffsetDateTime;

use super::faults::{Fault, FaultPlan};
use super::payload::mdm_magic;

/// The largest payload APNs takes for a push (Apple: 4 KB; VoIP 5 KB).
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// Apple's device tokens are 32 bytes today; APNs says they may grow. The
/// stand-in takes 32 to 100 bytes of hex (the limit `mdm-apple` applies).
pub const TOKEN_BYTES: core::ops::RangeInclusive<usize> = 32..=100;
/// The `apns-push-type` values Apple documents.
pub const PUSH_TYPES: &[&str] = &[
    "alert",
    "background",
    "controls",
    "location",
    "voip",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
    "widgets",
];

/// One request as the stand-in sees it: the pseudo-headers, the other
/// headers (lower-case names, in order), the body, and what the TLS layer
/// learnt of the client certificate.
#[derive(Debug, Clone, Copy)]
pub struct PushAttempt<'a> {
    /// `:method`.
    pub method: &'a str,
    /// `:path`.
    pub path: &'a str,
    /// `:authority` (a `:port` suffix is ignored).
    pub authority: &'a str,
    /// The regular headers.
    pub headers: &'a [(&'a str, &'a str)],
    /// The DATA frames, joined.
    pub body: &'a [u8],
    /// The client certificate's subject UID (its push topic), if any.
    pub certificate_topic: Option<&'a str>,
    /// The client certificate's SHA-256; `None` on a connection without a
    /// client certificate (token-based authentication).
    pub certificate_fingerprint: Option<mdm_model::Sha256Digest>,
}

/// A push as the stand-in recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRecord {
    /// The `apns-id` answered (the request's, or one the stand-in made).
    pub apns_id: String,
    /// The topic the push was for (shared between the records of one topic).
    pub topic: Option<Arc<str>>,
    /// The `mdm` value of the body (the device's PushMagic), if present.
    pub push_magic: Option<String>,
    /// The answer given.
    pub answer: ApnsAnswer,
    /// The date it was decided at.
    pub at: OffsetDateTime,
}

/// The stand-in's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The status and body.
    pub answer: ApnsAnswer,
    /// The `apns-id` response header.
    pub apns_id: String,
}

#[derive(Debug, Clone, Default)]
struct TokenState {
    topic: Option<String>,
    unregistered_at: Option<OffsetDateTime>,
    forced: Option<ApnsReason>,
    pushes: u32,
    delivered: u32,
    records: Vec<PushRecord>,
}

/// What the stand-in knows: its environment, the tokens devices registered
/// (with their topic), tokens turned `Unregistered`, topics Apple stopped
/// allowing, revoked certificates, the fault plan, and every push recorded
/// per token.
#[derive(Debug, Clone)]
pub struct ApnsBook {
    environment: ApnsEnvironment,
    tokens: HashMap<Vec<u8>, TokenState>,
    disallowed_topics: HashSet<String>,
    revoked: HashSet<mdm_model::Sha256Digest>,
    faults: FaultPlan,
    provider_tokens: bool,
    served: u64,
    /// The topic last recorded, shared by the records that name it.
    last_topic: Option<Arc<str>>,
    /// Whether every push is kept ([`PushRecord`]s, tests and `serve`) or
    /// only counted per token (the simulator's long runs).
    recording: bool,
}

impl ApnsBook {
    /// An empty book for APNs's `environment`, with `faults`.
    pub fn new(environment: ApnsEnvironment, faults: FaultPlan) -> Self {
        Self {
            environment,
            tokens: HashMap::new(),
            disallowed_topics: HashSet::new(),
            revoked: HashSet::new(),
            faults,
            provider_tokens: false,
            served: 0,
            last_topic: None,
            recording: true,
        }
    }

    /// A book that counts pushes per token instead of recording each one:
    /// [`ApnsBook::pushes_for`] stays empty, [`ApnsBook::delivered`] and
    /// [`ApnsBook::served`] still count. For the simulator, where a
    /// 1,000,000-device, 30-day run must not keep every push.
    pub fn counting(environment: ApnsEnvironment, faults: FaultPlan) -> Self {
        Self {
            recording: false,
            ..Self::new(environment, faults)
        }
    }

    /// Whether each push is recorded (else only counted).
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// The environment this stand-in plays.
    pub fn environment(&self) -> ApnsEnvironment {
        self.environment
    }

    /// Also serve token-based connections (no client certificate; each
    /// request carries `authorization: bearer <JWT>`, refused once its `iat`
    /// is an hour old). The stand-in checks the token's form and age, not
    /// its ES256 signature. Off by default: a client certificate is required.
    pub fn accept_provider_tokens(&mut self, accept: bool) {
        self.provider_tokens = accept;
    }

    /// Whether token-based connections are served.
    pub fn accepts_provider_tokens(&self) -> bool {
        self.provider_tokens
    }

    /// The fault plan.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    /// A device registered `token` for `topic` (as a device's TokenUpdate
    /// tells its MDM server): pushes to it on another topic are refused
    /// with `DeviceTokenNotForTopic`. Registering again clears `Unregistered`.
    pub fn register(&mut self, token: &[u8], topic: &PushTopic) {
        let state = self.tokens.entry(token.to_vec()).or_default();
        state.topic = Some(topic.as_str().to_owned());
        state.unregistered_at = None;
    }

    /// The app was removed (or the device wiped): from `at`, pushes to
    /// `token` answer 410 `Unregistered` with that timestamp.
    pub fn unregister(&mut self, token: &[u8], at: OffsetDateTime) {
        self.tokens
            .entry(token.to_vec())
            .or_default()
            .unregistered_at = Some(at);
    }

    /// Pushes to `token` answer `reason` (at its documented status) until
    /// cleared with `None`: a scripted fault.
    pub fn force(&mut self, token: &[u8], reason: Option<ApnsReason>) {
        self.tokens.entry(token.to_vec()).or_default().forced = reason;
    }

    /// Apple no longer lets anyone push to `topic` (`TopicDisallowed`).
    pub fn disallow_topic(&mut self, topic: &PushTopic) {
        self.disallowed_topics.insert(topic.as_str().to_owned());
    }

    /// Apple revoked the certificate with this SHA-256 (`BadCertificate`).
    pub fn revoke_certificate(&mut self, fingerprint: mdm_model::Sha256Digest) {
        self.revoked.insert(fingerprint);
    }

    /// Every push recorded for `token`, in the order decided.
    pub fn pushes_for(&self, token: &[u8]) -> &[PushRecord] {
        self.tokens.get(token).map_or(&[], |t| t.records.as_slice())
    }

    /// The tokens with at least one push answered 200, and how many.
    pub fn delivered(&self) -> impl Iterator<Item = (&[u8], usize)> {
        self.tokens.iter().filter_map(|(token, state)| {
            let n = state.delivered as usize;
            (n > 0).then_some((token.as_slice(), n))
        })
    }

    /// Requests decided so far.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Answers one request at `now` and records it under its token.
    pub fn decide(&mut self, attempt: &PushAttempt<'_>, now: OffsetDateTime) -> Decision {
        self.served += 1;
        let apns_id =
            header(attempt, "apns-id").map_or_else(|| made_up_id(self.served), str::to_owned);
        let token = attempt
            .path
            .strip_prefix(DEVICE_PATH)
            .and_then(|h| hex::decode(h).ok());
        let checked = self.check(attempt, token.as_deref(), now);
        let Some(token) = token else {
            // No token to record it under (the checks refused it).
            let answer = checked
                .err()
                .unwrap_or_else(|| ApnsAnswer::error(ApnsReason::BadDeviceToken));
            return Decision { answer, apns_id };
        };
        let topic = if self.recording {
            self.shared_topic(header(attempt, "apns-topic").or(attempt.certificate_topic))
        } else {
            None
        };
        let state = match self.tokens.get_mut(token.as_slice()) {
            Some(state) => state,
            None => self.tokens.entry(token.clone()).or_default(),
        };
        let answer = match checked {
            Err(refusal) => refusal,
            Ok(push_topic) => state.answer(push_topic, &self.faults, &token, now),
        };
        if answer.status == 200 {
            state.delivered = state.delivered.saturating_add(1);
        }
        if !self.recording {
            return Decision { answer, apns_id };
        }
        state.records.push(PushRecord {
            apns_id: apns_id.clone(),
            topic,
            push_magic: mdm_magic(attempt.body),
            answer: answer.clone(),
            at: now,
        });
        Decision { answer, apns_id }
    }

    /// `topic` as the records share it: the last one's when it is the same.
    fn shared_topic(&mut self, topic: Option<&str>) -> Option<Arc<str>> {
        let topic = topic?;
        match &self.last_topic {
            Some(last) if **last == *topic => Some(last.clone()),
            _ => {
                let shared: Arc<str> = Arc::from(topic);
                self.last_topic = Some(shared.clone());
                Some(shared)
            }
        }
    }

    /// Every check that does not depend on the token's history, in the
    /// order APNs reports them; `Ok` carries the push's topic.
    fn check<'a>(
        &self,
        a: &PushAttempt<'a>,
        token: Option<&[u8]>,
        now: OffsetDateTime,
    ) -> Result<&'a str, ApnsAnswer> {
        use ApnsReason as R;
        let err = |reason| Err(ApnsAnswer::error(reason));
        if a.method != "POST" {
            return err(R::MethodNotAllowed);
        }
        let Some(token_hex) = a.path.strip_prefix(DEVICE_PATH) else {
            return err(R::BadPath);
        };
        if token_hex.is_empty() {
            return err(R::MissingDeviceToken);
        }
        let bearer = header(a, "authorization");
        let cert_topic = match a.certificate_fingerprint {
            Some(fingerprint) => match a.certificate_topic {
                Some(t) if !self.revoked.contains(&fingerprint) => Some(t),
                _ => return err(R::BadCertificate),
            },
            None => None,
        };
        if cert_topic.is_none() {
            if bearer.is_none() {
                return err(R::MissingProviderToken);
            }
            if !self.provider_tokens {
                return err(R::InvalidProviderToken);
            }
        }
        if let Some(bearer) = bearer {
            match provider_token_issued_at(bearer) {
                Some(iat) if iat + 3600 >= now.unix_timestamp() => {}
                Some(_) => return err(R::ExpiredProviderToken),
                None => return err(R::InvalidProviderToken),
            }
        }
        let host = a.authority.rsplit_once(':').map_or(a.authority, |(h, _)| h);
        let other = match self.environment {
            ApnsEnvironment::Production => ApnsEnvironment::Development,
            ApnsEnvironment::Development => ApnsEnvironment::Production,
        };
        // MDM push certificates are for production only.
        let mdm = cert_topic.is_some_and(|t| t.starts_with("com.apple.mgmt."));
        if host == other.host() || (self.environment == ApnsEnvironment::Development && mdm) {
            return err(R::BadCertificateEnvironment);
        }
        if has_duplicate_apns_header(a.headers) {
            return err(R::DuplicateHeaders);
        }
        let topic = match (header(a, "apns-topic"), cert_topic) {
            (None, Some(c)) => c,
            (None, None) => return err(R::MissingTopic),
            (Some(t), _) if PushTopic::parse(t).is_err() => return err(R::BadTopic),
            (Some(t), Some(c)) if t != c => return err(R::TopicDisallowed),
            (Some(t), _) => t,
        };
        let mdm = topic.starts_with("com.apple.mgmt.");
        if self.disallowed_topics.contains(topic) {
            return err(R::TopicDisallowed);
        }
        match header(a, "apns-push-type") {
            Some(t) if !PUSH_TYPES.contains(&t) => return err(R::InvalidPushType),
            Some(t) if mdm && t != "mdm" => return err(R::InvalidPushType),
            _ => {}
        }
        if header(a, "apns-priority").is_some_and(|p| !matches!(p, "1" | "5" | "10")) {
            return err(R::BadPriority);
        }
        if header(a, "apns-expiration").is_some_and(|e| e.parse::<i64>().is_err()) {
            return err(R::BadExpirationDate);
        }
        if header(a, "apns-id").is_some_and(|id| !is_uuid(id)) {
            return err(R::BadMessageId);
        }
        if a.body.is_empty() {
            return err(R::PayloadEmpty);
        }
        if a.body.len() > MAX_PAYLOAD_BYTES {
            return err(R::PayloadTooLarge);
        }
        if !token.is_some_and(|t| {
            TOKEN_BYTES.contains(&t.len()) && token_hex.bytes().all(|b| b.is_ascii_hexdigit())
        }) {
            return err(R::BadDeviceToken);
        }
        Ok(topic)
    }
}

impl TokenState {
    /// The answer to a push for `topic` that passed the request checks:
    /// the token's own history and the seeded faults decide.
    fn answer(
        &mut self,
        topic: &str,
        faults: &FaultPlan,
        token: &[u8],
        now: OffsetDateTime,
    ) -> ApnsAnswer {
        use ApnsReason as R;
        self.pushes += 1;
        if let Some(reason) = &self.forced {
            return ApnsAnswer::error(reason.clone());
        }
        if let Some(at) = self.unregistered_at {
            return ApnsAnswer::unregistered(at);
        }
        if self.topic.as_deref().is_some_and(|t| t != topic) {
            return ApnsAnswer::error(R::DeviceTokenNotForTopic);
        }
        match faults.draw(token, self.pushes) {
            Fault::None => ApnsAnswer::OK,
            Fault::Unregister => {
                self.unregistered_at = Some(now);
                ApnsAnswer::unregistered(now)
            }
            Fault::TooManyRequests => ApnsAnswer::error(R::TooManyRequests),
            Fault::ServiceUnavailable => ApnsAnswer::error(R::ServiceUnavailable),
        }
    }
}

/// Where a push's path starts; the device token's hex follows.
const DEVICE_PATH: &str = "/3/device/";

/// Whether an `apns-` header is given twice (a few names, sorted: no hashing).
fn has_duplicate_apns_header(headers: &[(&str, &str)]) -> bool {
    let mut names: Vec<&str> = headers
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.starts_with("apns-"))
        .collect();
    names.sort_unstable();
    names.windows(2).any(|w| w.first() == w.get(1))
}

fn header<'a>(a: &PushAttempt<'a>, name: &str) -> Option<&'a str> {
    a.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// `8-4-4-4-12` hexadecimal digits, as `apns-id` must be.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

fn made_up_id(n: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        n >> 48,
        n & 0xffff_ffff_ffff
    )
}

/// The `iat` of a `bearer <JWT>` provider token (its signature is not the
/// stand-in's concern: the connection is already authenticated by its
/// certificate).
fn provider_token_issued_at(authorization: &str) -> Option<i64> {
    use base64::Engine as _;
    let jwt = authorization.strip_prefix("bearer ")?;
    let claims = jwt.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<serde_json::Value>(&json)
        .ok()?
        .get("iat")?
        .as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counting_book_counts_deliveries_without_keeping_records() {
        let topic = PushTopic::parse("com.apple.mgmt.External.count").expect("topic");
        let token = [7u8; 32];
        let path = format!("{DEVICE_PATH}{}", hex::encode(token));
        let headers = [("apns-topic", topic.as_str()), ("apns-push-type", "mdm")];
        let attempt = PushAttempt {
            method: "POST",
            path: &path,
            authority: ApnsEnvironment::Production.host(),
            headers: &headers,
            body: br#"{"mdm":"magic"}"#,
            certificate_topic: Some(topic.as_str()),
            certificate_fingerprint: Some(mdm_model::Sha256Digest::of(b"push certificate")),
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut counting = ApnsBook::counting(ApnsEnvironment::Production, FaultPlan::none());
        let mut recording = ApnsBook::new(ApnsEnvironment::Production, FaultPlan::none());
        assert!(!counting.is_recording() && recording.is_recording());
        for book in [&mut counting, &mut recording] {
            book.register(&token, &topic);
            for _ in 0..3 {
                assert_eq!(book.decide(&attempt, now).answer.status, 200);
            }
        }
        assert!(counting.pushes_for(&token).is_empty());
        assert_eq!(recording.pushes_for(&token).len(), 3);
        for book in [&counting, &recording] {
            assert_eq!(book.served(), 3);
            assert_eq!(
                book.delivered().collect::<Vec<_>>(),
                vec![(token.as_slice(), 3)]
            );
        }
    }
}
