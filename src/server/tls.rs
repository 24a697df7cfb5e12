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

use hickory_proto::op::Message;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};

pub use crate::proto::ALPN_DOT;

/// Responses over TLS are padded to a multiple of this (RFC 8467 section
/// 4.1, the block-length strategy: 468 octets for responses).
pub const RESPONSE_PADDING_BLOCK: usize = 468;

/// True when `request` carries the EDNS Padding option (RFC 7830): only
/// then is the response padded (section 3 of that RFC).
pub fn asks_for_padding(request: &[u8]) -> bool {
    Message::from_vec(request).is_ok_and(|m| {
        m.edns.as_ref().is_some_and(|e| {
            e.options()
                .as_ref()
                .iter()
                .any(|(code, _)| *code == EdnsCode::Padding)
        })
    })
}

/// `response` padded with an EDNS Padding option (RFC 7830) to a multiple
/// of `block` octets, so that the length of an encrypted answer says less
/// about what it holds. Unchanged when it has no OPT record to carry the
/// option, or is TSIG-signed (padding after signing would break the MAC).
pub fn pad_response(response: Vec<u8>, block: usize) -> Vec<u8> {
    let Ok(mut message) = Message::from_vec(&response) else {
        return response;
    };
    if message.signature.is_some() || message.edns.is_none() || block == 0 {
        return response;
    }
    // The option costs 4 octets (code, length) plus its padding.
    let Ok(unpadded) = message.to_vec() else {
        return response;
    };
    let padding = (block - (unpadded.len() + 4) % block) % block;
    if let Some(edns) = message.edns.as_mut() {
        edns.options_mut().insert(EdnsOption::Unknown(
            u16::from(EdnsCode::Padding),
            vec![0; padding],
        ));
    }
    match message.to_vec() {
        Ok(padded) if padded.len() <= usize::from(u16::MAX) => padded,
        _ => response,
    }
}

impl From<crate::proto::pem::PemError> for TlsSetupError {
    fn from(e: crate::proto::pem::PemError) -> TlsSetupError {
        TlsSetupError::File {
            path: e.path,
            message: e.message,
        }
    }
}

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
    client_ca: Option<PathBuf>,
    /// The DNS-over-QUIC endpoints serving it (a reload hands them the new one).
    quic_endpoints: std::sync::Mutex<Vec<(quinn::Endpoint, std::time::Duration)>>,
}

impl TlsCertificate {
    /// Loads the chain and key, and the client CA when there is one (see
    /// [`load_certificate`]).
    pub fn load(
        chain: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> Result<TlsCertificate, TlsSetupError> {
        Ok(TlsCertificate {
            current: arc_swap::ArcSwap::from_pointee(load_certificate(chain, key, client_ca)?),
            chain: chain.to_path_buf(),
            key: key.to_path_buf(),
            client_ca: client_ca.map(Path::to_path_buf),
            quic_endpoints: Default::default(),
        })
    }

    /// Reads the files again; on success new connections use the new
    /// certificate (over TLS and QUIC), on failure nothing changes.
    pub fn reload(&self) -> Result<(), TlsSetupError> {
        let loaded = load_certificate(&self.chain, &self.key, self.client_ca.as_deref())?;
        let endpoints = self
            .quic_endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (endpoint, idle) in endpoints.iter() {
            if let Ok(config) = super::quic::server_config(&loaded, *idle) {
                endpoint.set_server_config(Some(config));
            }
        }
        self.current.store(Arc::new(loaded));
        Ok(())
    }

    /// Registers a DoQ endpoint to be given the certificate on reload.
    pub(super) fn serve_quic(&self, endpoint: quinn::Endpoint, idle: std::time::Duration) {
        self.quic_endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((endpoint, idle));
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
    /// The same certificate for QUIC: TLS 1.3 only, ALPN `doq` (RFC 9250).
    pub quic: Arc<rustls::ServerConfig>,
    /// The leaf's notAfter, in Unix seconds.
    pub not_after: i64,
    /// The chain file, for messages.
    pub chain_path: PathBuf,
}

/// Loads the chain (leaf first) and private key, both PEM. With
/// `client_ca`, clients may present a certificate (mutual TLS), which must
/// chain to a CA in that file; clients without one are served as before.
pub fn load_certificate(
    chain_path: &Path,
    key_path: &Path,
    client_ca: Option<&Path>,
) -> Result<LoadedCertificate, TlsSetupError> {
    let file_error = |path: &Path, message: String| TlsSetupError::File {
        path: path.to_path_buf(),
        message,
    };
    let chain = crate::proto::pem::read_chain(chain_path)?;
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
    let key = crate::proto::pem::read_key(key_path)?;
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
    let mut quic = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| pair_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain.clone(), key.clone_key())
        .map_err(|e| pair_error(e.to_string()))?;
    quic.alpn_protocols = vec![crate::proto::ALPN_DOQ.to_vec()];
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_error(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let roots = crate::proto::pem::read_roots(ca)?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::clone(&provider),
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| file_error(ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| pair_error(e.to_string()))?;
    config.alpn_protocols = vec![ALPN_DOT.to_vec()];
    Ok(LoadedCertificate {
        config: Arc::new(config),
        quic: Arc::new(quic),
        not_after,
        chain_path: chain_path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{Name, RData, Record, RecordType};

    fn response(edns: bool) -> Vec<u8> {
        let mut m = Message::new(7, MessageType::Response, OpCode::Query);
        let name = Name::from_ascii("www.example.org.").unwrap();
        m.add_query(Query::query(name.clone(), RecordType::A));
        m.answers.push(Record::from_rdata(
            name,
            300,
            RData::A(A::new(192, 0, 2, 1)),
        ));
        if edns {
            m.edns = Some(Edns::new());
        }
        m.to_vec().unwrap()
    }

    #[test]
    fn responses_are_padded_to_the_block_and_keep_their_records() {
        let padded = pad_response(response(true), RESPONSE_PADDING_BLOCK);
        assert_eq!(padded.len(), RESPONSE_PADDING_BLOCK);
        let m = Message::from_vec(&padded).unwrap();
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.metadata.id, 7);
        // No OPT to carry the option: unchanged.
        let plain = response(false);
        assert_eq!(pad_response(plain.clone(), RESPONSE_PADDING_BLOCK), plain);
    }

    #[test]
    fn only_a_padded_query_asks_for_padding() {
        let mut q = Message::new(1, MessageType::Query, OpCode::Query);
        q.add_query(Query::query(Name::root(), RecordType::NS));
        let mut edns = Edns::new();
        assert!(!asks_for_padding(&{
            q.edns = Some(edns.clone());
            q.to_vec().unwrap()
        }));
        edns.options_mut()
            .insert(EdnsOption::Unknown(12, vec![0; 20]));
        q.edns = Some(edns);
        assert!(asks_for_padding(&q.to_vec().unwrap()));
    }
}
