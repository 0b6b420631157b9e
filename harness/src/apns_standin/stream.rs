//! One HTTP/2 stream of the stand-in: its body read as the DATA frames
//! arrive, the request handed to [`ApnsBook::decide`], the answer written.
//! A connection's streams are answered by the connection's own task as
//! soon as their body is complete (a push's HEADERS and DATA frames
//! usually come in one read); a body still arriving gets a task of its own.

use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use mdm_certs::Certificate;
use time::OffsetDateTime;

use super::decide::{ApnsBook, MAX_PAYLOAD_BYTES, PushAttempt};

const APNS_ID: HeaderName = HeaderName::from_static("apns-id");

/// What the TLS layer learnt of a connection's client certificate, read
/// once per connection.
#[derive(Debug, Clone, Default)]
pub(super) struct Peer {
    /// The certificate's subject UID (its push topic).
    topic: Option<String>,
    /// Its SHA-256; `None` without a client certificate (token-based).
    fingerprint: Option<mdm_model::Sha256Digest>,
}

impl Peer {
    /// The facts of `certificate` (none: a token-based connection).
    pub(super) fn new(certificate: Option<&Certificate>) -> Self {
        certificate.map_or_else(Self::default, |c| Self {
            topic: c.info().uid.clone(),
            fingerprint: Some(c.info().fingerprint),
        })
    }
}

/// The book and the date every stream is decided with.
pub(super) struct Desk<'a> {
    /// The stand-in's book.
    pub(super) book: &'a Mutex<ApnsBook>,
    /// The stand-in's date.
    pub(super) now: &'a Mutex<OffsetDateTime>,
}

/// A request body: the DATA frames joined (without a copy when there is
/// one), kept up to just past [`MAX_PAYLOAD_BYTES`] (the book refuses it).
#[derive(Debug, Default)]
enum Payload {
    #[default]
    Empty,
    One(Bytes),
    Joined(Vec<u8>),
}

impl Payload {
    fn push(&mut self, chunk: Bytes) {
        if self.as_slice().len() > MAX_PAYLOAD_BYTES {
            return;
        }
        *self = match core::mem::take(self) {
            Self::Empty => Self::One(chunk),
            Self::One(first) => Self::Joined([first.as_ref(), chunk.as_ref()].concat()),
            Self::Joined(mut data) => {
                data.extend_from_slice(&chunk);
                Self::Joined(data)
            }
        };
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Empty => &[],
            Self::One(b) => b,
            Self::Joined(v) => v,
        }
    }
}

/// A stream whose request headers arrived.
pub(super) struct Stream {
    head: http::request::Parts,
    body: h2::RecvStream,
    payload: Payload,
    respond: h2::server::SendResponse<Bytes>,
}

impl Stream {
    /// The stream of `request`, answered through `respond`.
    pub(super) fn new(
        request: http::Request<h2::RecvStream>,
        respond: h2::server::SendResponse<Bytes>,
    ) -> Self {
        let (head, body) = request.into_parts();
        Self {
            head,
            body,
            payload: Payload::default(),
            respond,
        }
    }

    /// Takes the DATA frames received so far; ready once the body ended.
    pub(super) fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), h2::Error>> {
        loop {
            match self.body.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Ok(chunk))) => {
                    let _ = self.body.flow_control().release_capacity(chunk.len());
                    self.payload.push(chunk);
                }
            }
        }
    }

    /// Decides the request (its body complete) and writes the answer.
    pub(super) fn answer(mut self, desk: &Desk<'_>, peer: &Peer) -> Result<(), h2::Error> {
        let headers: Vec<(&str, &str)> = self
            .head
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
            .collect();
        let attempt = PushAttempt {
            method: self.head.method.as_str(),
            path: self.head.uri.path(),
            authority: self
                .head
                .uri
                .authority()
                .map_or("", http::uri::Authority::as_str),
            headers: &headers,
            body: self.payload.as_slice(),
            certificate_topic: peer.topic.as_deref(),
            certificate_fingerprint: peer.fingerprint,
        };
        let now = desk.now.lock().map_or(OffsetDateTime::UNIX_EPOCH, |n| *n);
        let decision = match desk.book.lock() {
            Ok(mut book) => book.decide(&attempt, now),
            Err(_) => return Ok(()),
        };
        let mut response = http::Response::new(());
        let Ok(status) = http::StatusCode::from_u16(decision.answer.status) else {
            return Ok(());
        };
        *response.status_mut() = status;
        if let Ok(mut id) = HeaderValue::from_maybe_shared(Bytes::from(decision.apns_id)) {
            // Unique per push: kept out of HPACK's table.
            id.set_sensitive(true);
            response.headers_mut().insert(APNS_ID, id);
        }
        let body = decision.answer.body();
        if body.is_empty() {
            self.respond.send_response(response, true)?;
        } else {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let mut stream = self.respond.send_response(response, false)?;
            stream.send_data(Bytes::from(body), true)?;
        }
        Ok(())
    }
}
