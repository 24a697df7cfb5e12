//! Certificates and keys from PEM files, for the TLS listeners and the XoT
//! client alike: every error names the file and says what is wrong with it.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A PEM file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct PemError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

fn error(path: &Path, message: String) -> PemError {
    PemError {
        path: path.to_path_buf(),
        message,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|e| error(path, format!("cannot read: {e}")))
}

/// The certificates of a PEM file, in order (leaf first for a chain); at
/// least one.
pub fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let chain = CertificateDer::pem_slice_iter(&read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(path, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(error(path, "holds no CERTIFICATE block".into()));
    }
    Ok(chain)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    PrivateKeyDer::from_pem_slice(&read(path)?)
        .map_err(|e| error(path, format!("holds no usable PEM private key: {e}")))
}

/// The CA certificates of a PEM file, as trust anchors; at least one.
pub fn read_roots(path: &Path) -> Result<rustls::RootCertStore, PemError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_chain(path)? {
        roots
            .add(cert)
            .map_err(|e| error(path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = std::env::temp_dir().join(format!("fedns-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = read_chain(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read", missing.display())),
            "{e}"
        );
        let text = dir.join("text.pem");
        std::fs::write(&text, "hello").unwrap();
        assert!(
            read_chain(&text)
                .unwrap_err()
                .to_string()
                .ends_with("holds no CERTIFICATE block")
        );
        assert!(read_roots(&text).is_err());
        assert!(
            read_key(&text)
                .unwrap_err()
                .to_string()
                .contains("holds no usable PEM private key")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
