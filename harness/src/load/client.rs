//! The HTTP client of one simulated connection: HTTP/1.1 with keep-alive
//! over TCP, or over TLS (rustls on ring) trusting the CA the caller gives.
//! One [`Connection`] per worker, reused request after request as a device's
//! `NSURLSession` reuses its socket; it reconnects when the server closed it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::HarnessError;

/// The largest response body read (a signed profile or a CertRep is a few KiB).
pub const MAX_RESPONSE_BYTES: usize = 8 << 20;

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// TCP connect failed.
    Connect(String),
    /// The TLS handshake failed.
    Tls(String),
    /// The HTTP exchange failed (reset, closed, malformed).
    Http(String),
    /// No answer within the timeout.
    Timeout,
}

impl WireError {
    /// The kind, for the report's errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect(_) => "connect",
            Self::Tls(_) => "tls",
            Self::Http(_) => "http",
            Self::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "connect: {e}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Http(e) => write!(f, "HTTP: {e}"),
            Self::Timeout => f.write_str("timed out"),
        }
    }
}

/// Where connections go: host, port, and TLS if the target is HTTPS.
#[derive(Clone)]
pub struct Endpoint {
    host: String,
    port: u16,
    authority: HeaderValue,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Plain HTTP to `host:port`.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for a host that is no header value.
    pub fn http(host: &str, port: u16, timeout: Duration) -> Result<Self, HarnessError> {
        Ok(Self {
            host: host.to_owned(),
            port,
            authority: authority(host, port)?,
            tls: None,
            timeout,
        })
    }

    /// HTTPS to `host:port`, trusting only the certificates in `ca_pem`.
    ///
    /// # Errors
    /// [`HarnessError::InvalidOption`] for a CA file without a certificate
    /// or a host that is neither a DNS name nor an IP address.
    pub fn https(
        host: &str,
        port: u16,
        ca_pem: &str,
        timeout: Duration,
    ) -> Result<Self, HarnessError> {
        let invalid = |reason: String| HarnessError::InvalidOption {
            option: "target-ca",
            reason,
        };
        let mut roots = rustls::RootCertStore::empty();
        let certificates = mdm_certs::Certificate::all_from_pem(ca_pem)
            .map_err(|e| invalid(format!("not a PEM certificate: {e}")))?;
        if certificates.is_empty() {
            return Err(invalid("no certificate in the file".into()));
        }
        for c in &certificates {
            roots
                .add(rustls_pki_types::CertificateDer::from(c.der().to_vec()))
                .map_err(|e| invalid(format!("not a trust anchor: {e}")))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name =
            ServerName::try_from(host.to_owned()).map_err(|e| HarnessError::InvalidOption {
                option: "target",
                reason: format!("host {host:?}: {e}"),
            })?;
        Ok(Self {
            host: host.to_owned(),
            port,
            authority: authority(host, port)?,
            tls: Some((TlsConnector::from(Arc::new(config)), name)),
            timeout,
        })
    }

    /// A connection that connects on its first request.
    pub fn connection(self: &Arc<Self>) -> Connection {
        Connection {
            endpoint: Arc::clone(self),
            sender: None,
            connects: 0,
        }
    }

    async fn connect(&self) -> Result<http1::SendRequest<Full<Bytes>>, WireError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| WireError::Connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => handshake(TokioIo::new(tcp)).await,
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| WireError::Tls(e.to_string()))?;
                handshake(TokioIo::new(tls)).await
            }
        }
    }
}

fn authority(host: &str, port: u16) -> Result<HeaderValue, HarnessError> {
    let text = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    HeaderValue::from_str(&text).map_err(|e| HarnessError::InvalidOption {
        option: "target",
        reason: format!("host {host:?}: {e}"),
    })
}

async fn handshake<T>(io: TokioIo<T>) -> Result<http1::SendRequest<Full<Bytes>>, WireError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(io)
        .await
        .map_err(|e| WireError::Http(e.to_string()))?;
    tokio::spawn(async move {
        // Ends when the server closes the connection or the sender is dropped;
        // the next request notices and reconnects.
        let _ = connection.await;
    });
    Ok(sender)
}

/// An answer: status, headers and the whole body.
pub type Answer = Response<Bytes>;

/// One keep-alive connection, reconnected as needed.
pub struct Connection {
    endpoint: Arc<Endpoint>,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
    connects: u64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connects", &self.connects)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// TCP (and TLS) connections opened so far.
    pub fn connects(&self) -> u64 {
        self.connects
    }

    /// Sends `request` (its URI a path and query; the `Host` is set here)
    /// and reads the whole answer. A request that fails on a reused
    /// connection (the server closed it while idle) is sent once more on a
    /// fresh one.
    ///
    /// # Errors
    /// [`WireError`] when no HTTP answer came.
    pub async fn send(&mut self, request: Request<Bytes>) -> Result<Answer, WireError> {
        let timeout = self.endpoint.timeout;
        match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => {
                // The connection may be mid-answer: never reuse it.
                self.sender = None;
                Err(WireError::Timeout)
            }
        }
    }

    async fn exchange(&mut self, request: Request<Bytes>) -> Result<Answer, WireError> {
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .insert(header::HOST, self.endpoint.authority.clone());
        let reused = self.ready().await?;
        let first = Request::from_parts(parts.clone(), Full::new(body.clone()));
        match self.round_trip(first).await {
            Ok(answer) => Ok(answer),
            Err(e) if reused => {
                self.sender = None;
                let _ = e;
                self.ready().await?;
                self.round_trip(Request::from_parts(parts, Full::new(body)))
                    .await
            }
            Err(e) => Err(e),
        }
    }

    /// Makes sure a ready sender is there; true when it was already open.
    async fn ready(&mut self) -> Result<bool, WireError> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_ok()
        {
            return Ok(true);
        }
        self.sender = None;
        let sender = self.endpoint.connect().await?;
        self.connects += 1;
        self.sender = Some(sender);
        Ok(false)
    }

    async fn round_trip(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, WireError> {
        let Some(sender) = &mut self.sender else {
            return Err(WireError::Http("no connection".into()));
        };
        let response = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => {
                self.sender = None;
                return Err(WireError::Http(e.to_string()));
            }
        };
        let (parts, body) = response.into_parts();
        let body = match Limited::new(body, MAX_RESPONSE_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                self.sender = None;
                return Err(WireError::Http(format!("reading the body: {e}")));
            }
        };
        if parts
            .headers
            .get(header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
        {
            self.sender = None;
        }
        Ok(Response::from_parts(parts, body))
    }
}
