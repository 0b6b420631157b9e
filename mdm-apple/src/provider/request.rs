//! A push as the client sends it: everything that differs between pushes
//! (path, body, `apns-id`) written once into shared buffers, and the
//! headers every push of a client shares, built once. Sending a push (or
//! sending it again after a GOAWAY) copies reference counts, not bytes.

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use rand_core::CryptoRng;

use crate::enrollment_state::PushTarget;
use crate::error::{AppleError, Result};
use crate::ids::CommandUuid;
use crate::push::{PushOptions, push_headers, write_device_path, write_mdm_body};
use mdm_model::PushTopic;

/// The bytes of about a hundred pushes share one allocation.
const CHUNK_BYTES: usize = 16 * 1024;

const APNS_ID: HeaderName = HeaderName::from_static("apns-id");

/// One push, ready to be sent as many times as it takes.
pub(crate) struct Prepared {
    /// Its place in the batch.
    pub(crate) index: usize,
    /// The `apns-id` (lower-case UUID), the same on every try.
    pub(crate) apns_id: HeaderValue,
    /// The seed of its retries' jitter.
    pub(crate) seed: u64,
    path: PathAndQuery,
    body: Bytes,
}

impl Prepared {
    /// The `apns-id` as text.
    pub(crate) fn apns_id(&self) -> &str {
        self.apns_id.to_str().unwrap_or_default()
    }

    /// The body (one DATA frame).
    pub(crate) fn body(&self) -> Bytes {
        self.body.clone()
    }
}

/// What every push of one client shares: the authority and the headers
/// (`apns-topic`, `apns-push-type`, `apns-priority`, `apns-expiration`,
/// `content-type`, and a place for `apns-id`).
pub(crate) struct RequestTemplate {
    authority: Authority,
    headers: HeaderMap,
}

impl RequestTemplate {
    /// The template for `topic` under `options`.
    pub(crate) fn new(topic: &PushTopic, options: &PushOptions) -> Result<Self> {
        let setup = |what: &str, e: &dyn core::fmt::Display| AppleError::ProviderSetup {
            reason: format!("{what}: {e}"),
        };
        let fixed = push_headers(topic, options);
        let mut headers = HeaderMap::with_capacity(fixed.len() + 1);
        for (name, value) in fixed {
            let value = HeaderValue::try_from(value).map_err(|e| setup(name, &e))?;
            headers.insert(HeaderName::from_static(name), value);
        }
        // Replaced by each push's own id (so the map never grows).
        headers.insert(APNS_ID, HeaderValue::from_static(""));
        Ok(Self {
            authority: Authority::from_static(options.environment.host()),
            headers,
        })
    }

    /// The HTTP/2 request of one try of `push`.
    pub(crate) fn request(
        &self,
        push: &Prepared,
    ) -> std::result::Result<http::Request<()>, String> {
        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(Scheme::HTTPS);
        uri.authority = Some(self.authority.clone());
        uri.path_and_query = Some(push.path.clone());
        let uri = http::Uri::from_parts(uri).map_err(|e| format!("push request: {e}"))?;
        let mut request = http::Request::new(());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        *headers = self.headers.clone();
        headers.insert(APNS_ID, push.apns_id.clone());
        Ok(request)
    }
}

/// Writes pushes' bytes into shared chunks, with scratch space reused
/// from push to push.
#[derive(Default)]
pub(crate) struct Preparer {
    chunk: BytesMut,
    /// Scratch for the `apns-id` and the path.
    path: String,
    body: Vec<u8>,
}

impl Preparer {
    /// Push `index` of a batch to `target`, its `apns-id` and jitter seed
    /// drawn from `rng` (in that order).
    pub(crate) fn prepare<R: CryptoRng + ?Sized>(
        &mut self,
        index: usize,
        target: &PushTarget,
        rng: &mut R,
    ) -> std::result::Result<Prepared, String> {
        let id = CommandUuid::random(rng);
        let seed = rng.next_u64();
        self.path.clear();
        self.path.push_str(id.as_str());
        self.path.make_ascii_lowercase();
        let mut apns_id =
            HeaderValue::from_maybe_shared(put(&mut self.chunk, self.path.as_bytes()))
                .map_err(|e| format!("apns-id: {e}"))?;
        // Unique per push: kept out of HPACK's table, which it would only churn.
        apns_id.set_sensitive(true);
        self.path.clear();
        write_device_path(&target.token, &mut self.path);
        let path = PathAndQuery::from_maybe_shared(put(&mut self.chunk, self.path.as_bytes()))
            .map_err(|e| format!("push path: {e}"))?;
        self.body.clear();
        write_mdm_body(&target.push_magic, &mut self.body);
        let body = put(&mut self.chunk, &self.body);
        Ok(Prepared {
            index,
            apns_id,
            seed,
            path,
            body,
        })
    }
}

/// `bytes` as a slice of the current chunk (a new chunk when it is full).
fn put(chunk: &mut BytesMut, bytes: &[u8]) -> Bytes {
    if chunk.capacity() - chunk.len() < bytes.len() {
        *chunk = BytesMut::with_capacity(CHUNK_BYTES.max(bytes.len()));
    }
    chunk.extend_from_slice(bytes);
    chunk.split().freeze()
}
