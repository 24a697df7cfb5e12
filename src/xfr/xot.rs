//! Zone transfers over TLS as a secondary (XoT, RFC 9103): how the
//! secondary authenticates its primary (section 9.3).
//!
//! - **strict**: the primary's certificate must chain to a CA the
//!   configuration names and carry the name it names (the usual web PKI
//!   checks, by rustls with webpki); anything else fails the connection;
//! - **opportunistic**: encrypted, the certificate not checked (the
//!   handshake signature still is). Protects the zone from eavesdroppers
//!   on the path, not from an active attacker; TSIG still authenticates
//!   the transfer itself.
//!
//! SOA queries go over the same TLS channel as the transfers, so nothing
//! about the zone travels in the clear. ALPN `dot` is offered (RFC 9103
//! section 7.1).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How a secondary zone reaches its primaries over TLS.
#[derive(Clone)]
pub struct XotClient {
    connector: tokio_rustls::TlsConnector,
    /// The name the certificate must carry (strict); `None`: opportunistic.
    name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for XotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "XotClient(strict, {name:?})"),
            None => write!(f, "XotClient(opportunistic)"),
        }
    }
}

impl XotClient {
    /// Strict authentication: the certificate chains to a CA in the PEM file
    /// `ca` and is valid for `name`. With `client`, the certificate chain and
    /// key (PEM files) shown to the primary (mutual TLS). Errors name the file.
    pub fn strict(
        ca: &Path,
        name: &str,
        client: Option<(&Path, &Path)>,
    ) -> Result<XotClient, String> {
        let roots = crate::proto::pem::read_roots(ca).map_err(|e| e.to_string())?;
        let server_name = ServerName::try_from(name.to_string())
            .map_err(|e| format!("tls_name {name:?} is not a DNS name: {e}"))?;
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let mut config = with_client_certificate(builder, client)?;
        config.alpn_protocols = vec![crate::proto::ALPN_DOT.to_vec()];
        Ok(XotClient {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            name: Some(server_name),
        })
    }

    /// Opportunistic: encrypted, any certificate accepted; `client` as for
    /// [`XotClient::strict`].
    pub fn opportunistic(client: Option<(&Path, &Path)>) -> Result<XotClient, String> {
        let provider = provider();
        // Any certificate; the handshake signatures are still checked.
        let verifier = Arc::new(crate::proto::tls::RecordingVerifier::new(None, &provider));
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = with_client_certificate(builder, client)?;
        config.alpn_protocols = vec![crate::proto::ALPN_DOT.to_vec()];
        Ok(XotClient {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            name: None,
        })
    }

    /// TLS over the connected `tcp` to `primary`.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        primary: SocketAddr,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| ServerName::IpAddress(primary.ip().into()));
        self.connector.connect(name, tcp).await
    }
}

/// Finishes a client configuration, with a client certificate when given.
fn with_client_certificate(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    client: Option<(&Path, &Path)>,
) -> Result<rustls::ClientConfig, String> {
    let Some((chain_path, key_path)) = client else {
        return Ok(builder.with_no_client_auth());
    };
    let chain = crate::proto::pem::read_chain(chain_path).map_err(|e| e.to_string())?;
    let key = crate::proto::pem::read_key(key_path).map_err(|e| e.to_string())?;
    builder
        .with_client_auth_cert(chain, key)
        .map_err(|e| format!("{} with {}: {e}", chain_path.display(), key_path.display()))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
