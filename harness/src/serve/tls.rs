//! TLS for `serve`: rustls (ring) with the server certificate a tenant's
//! CA issued for the connection address, HTTP/2 and HTTP/1.1 by ALPN, and
//! client certificates asked for but never required.
//!
//! A client certificate is accepted at the handshake whatever its issuer
//! (the handshake signature proves the client holds its key) and handed to
//! the routes as [`mdm_apple::http::TlsPeerCertificate`]: the Apple service
//! checks its chain against the tenant's device CA and answers a refusal
//! with a 4xx and an audit fact, which a failed handshake could not do.

use std::sync::Arc;

use mdm_certs::{Certificate, CertifiedKey};
use rustls::DigitallySignedStruct;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};

use super::config::serve_error;
use crate::HarnessError;

/// Accepts any client certificate whose handshake signature verifies.
#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The chain is the Apple service's to check (see the module docs).
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The listener's TLS configuration: `server` (its certificate, then its
/// CA) for every connection.
///
/// # Errors
/// [`HarnessError::Serve`] when rustls refuses the key or certificate.
pub fn server_config(
    server: &CertifiedKey,
    ca: &Certificate,
) -> Result<Arc<rustls::ServerConfig>, HarnessError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyClientCertificate {
        algorithms: provider.signature_verification_algorithms,
    });
    let chain = vec![
        CertificateDer::from(server.certificate.der().to_vec()),
        CertificateDer::from(ca.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        server.key.pkcs8_der_secret().to_vec(),
    ));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(serve_error("TLS versions"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(serve_error("TLS server certificate"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
