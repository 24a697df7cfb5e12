//! rustls pieces every TLS client of fedns shares: a certificate verifier
//! that records what the server presented and what webpki says of it, and
//! lets the handshake finish either way. The HTTPS client
//! ([`crate::matrix::https`]) judges or refuses the chain afterwards; an
//! opportunistic XoT client ([`crate::xfr::xot`]) accepts any. Handshake
//! signatures are always checked, so the connection is encrypted to
//! whoever holds the certificate's key.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// What the server presented, and what the verifier said about it.
#[derive(Clone, Debug, Default)]
pub struct Presented {
    /// The chain as sent, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The verifier's verdict for the requested name, as text; `None` when valid.
    pub problem: Option<rustls::Error>,
}

/// Records the presented chain and the webpki verdict, and lets the
/// handshake go on.
#[derive(Debug)]
pub struct RecordingVerifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: Mutex<Presented>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let problem = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .err(),
            None => Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        };
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Presented { chain, problem };
        }
        Ok(ServerCertVerified::assertion())
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

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl RecordingVerifier {
    /// Verifies against `roots` (none: every chain is "unknown issuer")
    /// with the algorithms of `provider`.
    pub fn new(roots: Option<&Arc<RootCertStore>>, provider: &Arc<CryptoProvider>) -> Self {
        let inner = roots.and_then(|roots| {
            WebPkiServerVerifier::builder_with_provider(Arc::clone(roots), Arc::clone(provider))
                .build()
                .ok()
        });
        RecordingVerifier {
            inner,
            algorithms: provider.signature_verification_algorithms,
            seen: Mutex::new(Presented::default()),
        }
    }

    /// What the last handshake presented.
    pub fn presented(&self) -> Presented {
        self.seen.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
