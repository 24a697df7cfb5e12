//! DNS over TLS (RFC 7858) and zone transfers over TLS (XoT, RFC 9103):
//! the TLS side of the front end.
//!
//! DoT is the TCP protocol (RFC 7766 framing, several messages per
//! connection) inside TLS, so a TLS connection is served by the TCP
//! front end's own connection handler, under the same limits (connection
//! cap, per-client cap, idle timeout, lifetime) and from the same answer
//! cache; only the accept step differs: a TLS handshake, bounded by the
//! idle timeout, with ALPN `dot` (RFC 9103 section 7.1). Transfers over
//! such a connection are XoT, and a transfer `allow` rule can require
//! them (`tls:NET`, `tls+key:NAME`).
//!
//! Why not hickory-server's TLS listener: it would bring a second
//! connection model with its own limits and no answer cache, for a
//! protocol that differs from TCP only by the handshake.
//!
//! The certificate chain and key come from PEM files; a file that cannot
//! be read, holds no certificate or key, or a key that does not match the
//! certificate is an error naming the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use crate::proto::ALPN_DOT;

/// A TLS certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the pair (the key does not match the certificate...).
    #[error("{chain} with {key}: {message}")]
    Pair {
        /// The chain file.
        chain: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        message: String,
    },
}

/// The certificate DoT and XoT are served with, re-read from its files on
/// SIGHUP ([`TlsCertificate::reload`]) without closing the listeners: each
/// new connection takes the configuration current at its accept, open
/// connections keep theirs. A reload that fails keeps the previous one.
#[derive(Debug)]
pub struct TlsCertificate {
    current: arc_swap::ArcSwap<LoadedCertificate>,
    chain: PathBuf,
    key: PathBuf,
}

impl TlsCertificate {
    /// Loads the chain and key (see [`load_certificate`]).
    pub fn load(chain: &Path, key: &Path) -> Result<TlsCertificate, TlsSetupError> {
        Ok(TlsCertificate {
            current: arc_swap::ArcSwap::from_pointee(load_certificate(chain, key)?),
            chain: chain.to_path_buf(),
            key: key.to_path_buf(),
        })
    }

    /// Reads the files again; on success new connections use the new
    /// certificate, on failure nothing changes.
    pub fn reload(&self) -> Result<(), TlsSetupError> {
        let loaded = load_certificate(&self.chain, &self.key)?;
        self.current.store(Arc::new(loaded));
        Ok(())
    }

    /// The certificate now served.
    pub fn current(&self) -> Arc<LoadedCertificate> {
        self.current.load_full()
    }

    /// A warning when the certificate now served has expired at `now`
    /// (Unix seconds).
    pub fn expiry_warning(&self, now: i64) -> Option<String> {
        let current = self.current();
        (current.not_after < now).then(|| {
            format!(
                "{}: the TLS certificate expired {} day(s) ago; DNS over TLS clients that check it refuse it",
                current.chain_path.display(),
                (now - current.not_after) / 86_400
            )
        })
    }
}

/// A loaded certificate: the server configuration, and when the leaf
/// expires (Unix seconds), for the start-up warning and `fedns ctl status`.
#[derive(Clone, Debug)]
pub struct LoadedCertificate {
    /// The rustls configuration serving it, with ALPN `dot`.
    pub config: Arc<rustls::ServerConfig>,
    /// The leaf's notAfter, in Unix seconds.
    pub not_after: i64,
    /// The chain file, for messages.
    pub chain_path: PathBuf,
}

/// Loads the chain (leaf first) and private key, both PEM.
pub fn load_certificate(
    chain_path: &Path,
    key_path: &Path,
) -> Result<LoadedCertificate, TlsSetupError> {
    let file_error = |path: &Path, message: String| TlsSetupError::File {
        path: path.to_path_buf(),
        message,
    };
    let chain_pem = std::fs::read(chain_path)
        .map_err(|e| file_error(chain_path, format!("cannot read: {e}")))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(chain_path, format!("not a PEM certificate chain: {e}")))?;
    let Some(leaf) = chain.first() else {
        return Err(file_error(chain_path, "holds no CERTIFICATE block".into()));
    };
    let not_after = x509_parser::parse_x509_certificate(leaf)
        .map(|(_, cert)| cert.validity().not_after.timestamp())
        .map_err(|e| {
            file_error(
                chain_path,
                format!("the first certificate does not parse: {e}"),
            )
        })?;
    let key_pem =
        std::fs::read(key_path).map_err(|e| file_error(key_path, format!("cannot read: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| file_error(key_path, format!("holds no usable PEM private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pair_error = |message: String| TlsSetupError::Pair {
        chain: chain_path.to_path_buf(),
        key: key_path.to_path_buf(),
        message,
    };
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| pair_error(e.to_string()))?;
    let certified = rustls::sign::CertifiedKey::new(chain.clone(), signing_key);
    certified
        .keys_match()
        .map_err(|e| pair_error(format!("the key does not belong to the certificate ({e})")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| pair_error(e.to_string()))?;
    config.alpn_protocols = vec![ALPN_DOT.to_vec()];
    Ok(LoadedCertificate {
        config: Arc::new(config),
        not_after,
        chain_path: chain_path.to_path_buf(),
    })
}
