//! TSIG (RFC 8945): shared-secret signatures on transfers and NOTIFY.
//!
//! Keys are configured as BIND's `tsig-keygen` prints them (a name, an
//! algorithm, a base64 secret). The MACs are computed here with ring, over
//! the digest layouts of RFC 8945 section 4.3:
//!
//! - a request: the message, then the full TSIG variables;
//! - the first message of a response: the request MAC, the message, the full
//!   variables;
//! - a later message of a multi-message response (AXFR): the prior MAC, the
//!   messages since it (RFC 8945 5.3.1 lets up to 99 go unsigned), then only
//!   the timers (time signed and fudge).
//!
//! hickory 0.26 has the first two but signs every stream message with the
//! full variables, rejects unsigned intermediate messages, and has no
//! hmac-sha1; so the digests are ours and hickory encodes the records.

use std::sync::Arc;

use hickory_proto::op::{Header, Query};
use hickory_proto::rr::rdata::tsig::{TSIG, TsigAlgorithm, TsigError};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};
use ring::hmac;

/// The fudge fedns puts in its signatures (RFC 8945 10: 300 s recommended).
pub const FUDGE: u16 = 300;
/// How many messages of a stream may go unsigned in a row (RFC 8945 5.3.1).
pub const MAX_UNSIGNED_RUN: usize = 99;

/// A TSIG key.
#[derive(Clone)]
pub struct TsigKey {
    name: Name,
    algorithm: TsigAlgorithm,
    key: hmac::Key,
    mac_len: usize,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl TsigKey {
    /// A key from its configuration: name, algorithm (`hmac-sha256`,
    /// `hmac-sha512`, `hmac-sha384`, `hmac-sha224`? no: see below, or
    /// `hmac-sha1`) and base64 secret.
    pub fn new(name: &str, algorithm: &str, secret_base64: &str) -> Result<TsigKey, String> {
        let mut name = Name::from_ascii(name).map_err(|e| format!("bad key name {name:?}: {e}"))?;
        name.set_fqdn(true);
        let (algorithm, digest) = match algorithm.to_ascii_lowercase().trim_end_matches('.') {
            "hmac-sha256" => (TsigAlgorithm::HmacSha256, hmac::HMAC_SHA256),
            "hmac-sha384" => (TsigAlgorithm::HmacSha384, hmac::HMAC_SHA384),
            "hmac-sha512" => (TsigAlgorithm::HmacSha512, hmac::HMAC_SHA512),
            "hmac-sha1" => (TsigAlgorithm::HmacSha1, hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
            other => {
                return Err(format!(
                    "unsupported TSIG algorithm {other:?} (use hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)"
                ));
            }
        };
        let secret = data_encoding::BASE64
            .decode(secret_base64.trim().as_bytes())
            .map_err(|e| {
                format!("the secret is not base64 ({e}); paste it as tsig-keygen prints it")
            })?;
        if secret.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(TsigKey {
            name: name.to_lowercase(),
            algorithm,
            key: hmac::Key::new(digest, &secret),
            mac_len: digest.digest_algorithm().output_len(),
        })
    }

    /// The key name (lower-cased, absolute).
    pub fn name(&self) -> &Name {
        &self.name
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        hmac::sign(&self.key, data).as_ref().to_vec()
    }

    fn verify(&self, data: &[u8], mac: &[u8]) -> bool {
        // Truncated MACs (RFC 8945 5.2.2.1) are not accepted: full length only.
        mac.len() == self.mac_len && hmac::verify(&self.key, data, mac).is_ok()
    }
}

/// The keys fedns knows, by name.
#[derive(Clone, Debug, Default)]
pub struct KeyRing(Vec<Arc<TsigKey>>);

impl KeyRing {
    /// A ring of `keys`.
    pub fn new(keys: Vec<TsigKey>) -> KeyRing {
        KeyRing(keys.into_iter().map(Arc::new).collect())
    }

    /// The key named `name` (case-insensitive).
    pub fn get(&self, name: &Name) -> Option<&Arc<TsigKey>> {
        self.0
            .iter()
            .find(|k| k.name.eq_ignore_root(&name.to_lowercase()))
    }
}

/// A TSIG record found at the end of a message.
struct Signature {
    /// Where the TSIG record starts: the message before it is what was signed.
    offset: usize,
    key_name: Name,
    tsig: TSIG,
}

/// Finds the TSIG record, which must be the last of the additional section.
fn find_signature(message: &[u8]) -> Result<Option<Signature>, String> {
    let mut decoder = BinDecoder::new(message);
    let header = Header::read(&mut decoder).map_err(|e| format!("header: {e}"))?;
    let counts = header.counts;
    if counts.additionals == 0 {
        return Ok(None);
    }
    for _ in 0..counts.queries {
        Query::read(&mut decoder).map_err(|e| format!("question: {e}"))?;
    }
    let before_last = usize::from(counts.answers)
        + usize::from(counts.authorities)
        + usize::from(counts.additionals)
        - 1;
    for _ in 0..before_last {
        Record::read(&mut decoder).map_err(|e| format!("record: {e}"))?;
    }
    let offset = message.len() - decoder.len();
    let record = Record::read(&mut decoder).map_err(|e| format!("last record: {e}"))?;
    if !decoder.is_empty() {
        return Err("bytes after the last record".into());
    }
    match record.data {
        RData::TSIG(tsig) if record.dns_class == DNSClass::ANY => Ok(Some(Signature {
            offset,
            key_name: record.name,
            tsig,
        })),
        RData::TSIG(_) => Err("TSIG record not of class ANY".into()),
        _ => Ok(None),
    }
}

/// The message as it was before the TSIG record was added: without it,
/// ARCOUNT one less, the original ID (RFC 8945 4.3.1).
fn unsigned_form(message: &[u8], sig: &Signature) -> Vec<u8> {
    let mut m = message[..sig.offset].to_vec();
    m[0..2].copy_from_slice(&sig.tsig.oid.to_be_bytes());
    let arcount = u16::from_be_bytes([m[10], m[11]]).saturating_sub(1);
    m[10..12].copy_from_slice(&arcount.to_be_bytes());
    m
}

/// The full TSIG variables (RFC 8945 4.3.3).
fn variables(key_name: &Name, tsig: &TSIG, out: &mut Vec<u8>) {
    let mut encoder = BinEncoder::new(out);
    encoder.set_offset(encoder.len());
    let _ = tsig.emit_tsig_for_mac(&mut encoder, key_name);
}

fn timers(tsig: &TSIG, out: &mut Vec<u8>) {
    out.extend_from_slice(&((tsig.time >> 32) as u16).to_be_bytes());
    out.extend_from_slice(&(tsig.time as u32).to_be_bytes());
    out.extend_from_slice(&tsig.fudge.to_be_bytes());
}

fn prior_mac(mac: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    out.extend_from_slice(mac);
}

/// Appends a TSIG record to `message` and bumps its ARCOUNT.
fn append_tsig(message: &mut Vec<u8>, key_name: &Name, tsig: TSIG) {
    let record = Record::from_rdata(key_name.clone(), 0, RData::TSIG(tsig));
    let mut record = record;
    record.dns_class = DNSClass::ANY;
    let mut bytes = Vec::new();
    {
        let mut encoder = BinEncoder::new(&mut bytes);
        // Uncompressed: the record must stand alone for the digest layouts.
        let mut encoder = encoder
            .with_name_encoding(hickory_proto::serialize::binary::NameEncoding::Uncompressed);
        if record.emit(&mut encoder).is_err() {
            return;
        }
    }
    message.extend_from_slice(&bytes);
    let arcount = u16::from_be_bytes([message[10], message[11]]).saturating_add(1);
    message[10..12].copy_from_slice(&arcount.to_be_bytes());
}

fn new_tsig(
    key: &TsigKey,
    oid: u16,
    time: u64,
    mac: Vec<u8>,
    error: Option<TsigError>,
    other: Vec<u8>,
) -> TSIG {
    TSIG::new(key.algorithm.clone(), time, FUDGE, mac, oid, error, other)
}

/// Signs a request (query, AXFR, NOTIFY) in place; returns its MAC, which
/// the response's signature covers.
pub fn sign_request(message: &mut Vec<u8>, key: &TsigKey, now: u64) -> Vec<u8> {
    let oid = u16::from_be_bytes([message[0], message[1]]);
    let stub = new_tsig(key, oid, now, Vec::new(), None, Vec::new());
    let mut data = message.clone();
    variables(&key.name, &stub, &mut data);
    let mac = key.mac(&data);
    append_tsig(
        message,
        &key.name,
        new_tsig(key, oid, now, mac.clone(), None, Vec::new()),
    );
    mac
}

/// What checking a request's TSIG found.
#[derive(Clone, Debug)]
pub enum RequestAuth {
    /// No TSIG record.
    Unsigned,
    /// A valid signature by `key`.
    Signed {
        /// The key that signed.
        key: Arc<TsigKey>,
        /// The request's MAC (the response signature covers it).
        request_mac: Vec<u8>,
    },
    /// A signature that failed: answer NOTAUTH with this TSIG error (RFC 8945 5.2).
    Failed {
        /// BADKEY, BADSIG or BADTIME.
        error: TsigError,
        /// The key name the client used.
        key_name: Name,
        /// For BADTIME, the key (the error response is signed).
        key: Option<Arc<TsigKey>>,
        /// The request's MAC, for a signed BADTIME response.
        request_mac: Vec<u8>,
    },
    /// The TSIG record is malformed: FORMERR.
    Malformed(String),
}

impl RequestAuth {
    /// Finishes the NOTAUTH `response` to a request whose TSIG failed (RFC
    /// 8945 5.2): BADTIME is signed with the key (the client can check it),
    /// BADKEY and BADSIG carry an unsigned TSIG with the error. Does
    /// nothing for a request that did not fail.
    pub fn sign_failure(&self, response: &mut Vec<u8>, now: u64) {
        if let RequestAuth::Failed {
            error,
            key_name,
            key,
            request_mac,
        } = self
        {
            match key {
                Some(key) => ResponseSigner::bad_time(Arc::clone(key), request_mac.clone(), now)
                    .sign(response),
                None => append_unsigned_error(response, key_name, *error, now),
            }
        }
    }
}

/// Checks the TSIG of a request against `keys` at time `now` (seconds).
pub fn verify_request(message: &[u8], keys: &KeyRing, now: u64) -> RequestAuth {
    let sig = match find_signature(message) {
        Ok(Some(sig)) => sig,
        Ok(None) => return RequestAuth::Unsigned,
        Err(e) => return RequestAuth::Malformed(e),
    };
    let failed = |error, key: Option<&Arc<TsigKey>>| RequestAuth::Failed {
        error,
        key_name: sig.key_name.clone(),
        key: key.cloned(),
        request_mac: sig.tsig.mac.clone(),
    };
    let Some(key) = keys
        .get(&sig.key_name)
        .filter(|k| k.algorithm == sig.tsig.algorithm)
    else {
        return failed(TsigError::BadKey, None);
    };
    let mut data = unsigned_form(message, &sig);
    variables(&key.name, &sig.tsig, &mut data);
    if !key.verify(&data, &sig.tsig.mac) {
        return failed(TsigError::BadSig, None);
    }
    if now.abs_diff(sig.tsig.time) > u64::from(sig.tsig.fudge) {
        return failed(TsigError::BadTime, Some(key));
    }
    RequestAuth::Signed {
        key: Arc::clone(key),
        request_mac: sig.tsig.mac,
    }
}

/// Signs the messages of a response in order (one for a query or NOTIFY,
/// many for AXFR): the first with the full variables, the rest with timers.
pub struct ResponseSigner {
    key: Arc<TsigKey>,
    prior_mac: Vec<u8>,
    first: bool,
    time: u64,
    error: Option<TsigError>,
    unsigned: Vec<u8>,
}

impl ResponseSigner {
    /// A signer answering a request whose MAC was `request_mac`.
    pub fn new(key: Arc<TsigKey>, request_mac: Vec<u8>, now: u64) -> ResponseSigner {
        ResponseSigner {
            key,
            prior_mac: request_mac,
            first: true,
            time: now,
            error: None,
            unsigned: Vec::new(),
        }
    }

    /// A signer for a BADTIME error response (RFC 8945 5.2.3).
    pub fn bad_time(key: Arc<TsigKey>, request_mac: Vec<u8>, now: u64) -> ResponseSigner {
        ResponseSigner {
            error: Some(TsigError::BadTime),
            ..ResponseSigner::new(key, request_mac, now)
        }
    }

    /// Records a message sent unsigned: the next signature covers it
    /// (RFC 8945 5.3.1; the first message must be signed).
    pub fn pending_unsigned(&mut self, message: &[u8]) {
        self.unsigned.extend_from_slice(message);
    }

    /// Signs `message` in place (it must not carry a TSIG yet).
    pub fn sign(&mut self, message: &mut Vec<u8>) {
        let oid = u16::from_be_bytes([message[0], message[1]]);
        let other = match self.error {
            // BADTIME carries the server's time in Other Data.
            Some(TsigError::BadTime) => self.time.to_be_bytes()[2..].to_vec(),
            _ => Vec::new(),
        };
        let stub = new_tsig(
            &self.key,
            oid,
            self.time,
            Vec::new(),
            self.error,
            other.clone(),
        );
        let mut data = Vec::with_capacity(message.len() + self.unsigned.len() + 128);
        prior_mac(&self.prior_mac, &mut data);
        data.append(&mut self.unsigned);
        data.extend_from_slice(message);
        if self.first {
            variables(&self.key.name, &stub, &mut data);
        } else {
            timers(&stub, &mut data);
        }
        let mac = self.key.mac(&data);
        append_tsig(
            message,
            &self.key.name,
            new_tsig(&self.key, oid, self.time, mac.clone(), self.error, other),
        );
        self.prior_mac = mac;
        self.first = false;
    }
}

/// Appends the unsigned TSIG record of a BADKEY or BADSIG error response.
pub fn append_unsigned_error(message: &mut Vec<u8>, key_name: &Name, error: TsigError, now: u64) {
    let oid = u16::from_be_bytes([message[0], message[1]]);
    let tsig = TSIG::new(
        TsigAlgorithm::HmacSha256,
        now,
        FUDGE,
        Vec::new(),
        oid,
        Some(error),
        Vec::new(),
    );
    append_tsig(message, key_name, tsig);
}

/// Why a signed response (stream) failed verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TsigFailure {
    /// A message that must be signed is not (the first, the last, or the 100th in a row).
    #[error("a response message that must be signed is not (RFC 8945 5.3.1)")]
    Unsigned,
    /// The signature does not verify, or names another key.
    #[error("the response signature does not verify ({0})")]
    BadSignature(String),
    /// The signature carries a TSIG error from the peer.
    #[error("the peer answered with TSIG error {0:?}")]
    PeerError(TsigError),
    /// The time signed is outside the fudge.
    #[error("the response was signed at {signed}, outside {fudge} s of our clock ({now})")]
    BadTime {
        /// Time signed.
        signed: u64,
        /// The fudge.
        fudge: u16,
        /// Our time.
        now: u64,
    },
    /// The message could not be parsed.
    #[error("malformed TSIG: {0}")]
    Malformed(String),
}

/// Verifies the messages of a signed response in order (client side).
pub struct ResponseVerifier {
    key: Arc<TsigKey>,
    prior_mac: Vec<u8>,
    first: bool,
    unsigned: Vec<u8>,
    unsigned_count: usize,
    now: u64,
}

impl ResponseVerifier {
    /// A verifier for the response to a request whose MAC was `request_mac`.
    pub fn new(key: Arc<TsigKey>, request_mac: Vec<u8>, now: u64) -> ResponseVerifier {
        ResponseVerifier {
            key,
            prior_mac: request_mac,
            first: true,
            unsigned: Vec::new(),
            unsigned_count: 0,
            now,
        }
    }

    /// Checks the next message.
    pub fn verify(&mut self, message: &[u8]) -> Result<(), TsigFailure> {
        let sig = find_signature(message).map_err(TsigFailure::Malformed)?;
        let Some(sig) = sig else {
            if self.first || self.unsigned_count >= MAX_UNSIGNED_RUN {
                return Err(TsigFailure::Unsigned);
            }
            self.unsigned.extend_from_slice(message);
            self.unsigned_count += 1;
            return Ok(());
        };
        if !sig.key_name.eq_ignore_root(&self.key.name) || sig.tsig.algorithm != self.key.algorithm
        {
            return Err(TsigFailure::BadSignature(format!(
                "signed with key {}",
                sig.key_name
            )));
        }
        if let Some(error) = sig.tsig.error {
            return Err(TsigFailure::PeerError(error));
        }
        let mut data = Vec::with_capacity(message.len() + self.unsigned.len() + 128);
        prior_mac(&self.prior_mac, &mut data);
        data.append(&mut self.unsigned);
        data.extend_from_slice(&unsigned_form(message, &sig));
        if self.first {
            variables(&self.key.name, &sig.tsig, &mut data);
        } else {
            timers(&sig.tsig, &mut data);
        }
        if !self.key.verify(&data, &sig.tsig.mac) {
            return Err(TsigFailure::BadSignature("MAC mismatch".into()));
        }
        if self.now.abs_diff(sig.tsig.time) > u64::from(sig.tsig.fudge) {
            return Err(TsigFailure::BadTime {
                signed: sig.tsig.time,
                fudge: sig.tsig.fudge,
                now: self.now,
            });
        }
        self.prior_mac = sig.tsig.mac;
        self.first = false;
        self.unsigned_count = 0;
        Ok(())
    }

    /// Call after the last message: it must have been signed.
    pub fn finish(&self) -> Result<(), TsigFailure> {
        if self.first || self.unsigned_count > 0 {
            Err(TsigFailure::Unsigned)
        } else {
            Ok(())
        }
    }
}

/// True if a record type is TSIG (used to strip it before answering).
pub fn is_tsig(rtype: RecordType) -> bool {
    rtype == RecordType::TSIG
}

pub use super::clock::unix_now;

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode};

    const SECRET: &str = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ==";

    fn key(alg: &str) -> TsigKey {
        TsigKey::new("xfr-key", alg, SECRET).unwrap()
    }

    fn query() -> Vec<u8> {
        let mut m = Message::new(4242, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(
            Name::from_ascii("example.org.").unwrap(),
            RecordType::AXFR,
        ));
        m.to_vec().unwrap()
    }

    #[test]
    fn a_signed_request_verifies_with_every_algorithm() {
        for alg in ["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha1"] {
            let k = key(alg);
            let mut m = query();
            let mac = sign_request(&mut m, &k, 1_000_000);
            let ring = KeyRing::new(vec![k]);
            match verify_request(&m, &ring, 1_000_010) {
                RequestAuth::Signed { request_mac, .. } => assert_eq!(request_mac, mac, "{alg}"),
                other => panic!("{alg}: {other:?}"),
            }
        }
    }

    #[test]
    fn our_request_signature_matches_hickorys_signer() {
        use hickory_proto::rr::TSigner;
        let secret = data_encoding::BASE64.decode(SECRET.as_bytes()).unwrap();
        let signer = TSigner::new(
            secret,
            TsigAlgorithm::HmacSha256,
            Name::from_ascii("xfr-key.").unwrap(),
            FUDGE,
        )
        .unwrap();
        let mut m = Message::new(4242, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(
            Name::from_ascii("example.org.").unwrap(),
            RecordType::AXFR,
        ));
        let (record, _) = signer.sign_message(&m, 1_000_000).unwrap();
        let mut ours = m.to_vec().unwrap();
        let mac = sign_request(&mut ours, &key("hmac-sha256"), 1_000_000);
        assert_eq!(mac, record.data.mac);
    }

    #[test]
    fn wrong_secret_is_badsig_unknown_key_is_badkey_old_time_is_badtime() {
        let mut m = query();
        sign_request(&mut m, &key("hmac-sha256"), 1_000_000);
        let other = TsigKey::new("xfr-key", "hmac-sha256", "b3RoZXItc2VjcmV0").unwrap();
        assert!(matches!(
            verify_request(&m, &KeyRing::new(vec![other]), 1_000_000),
            RequestAuth::Failed {
                error: TsigError::BadSig,
                ..
            }
        ));
        let renamed = TsigKey::new("another", "hmac-sha256", SECRET).unwrap();
        assert!(matches!(
            verify_request(&m, &KeyRing::new(vec![renamed]), 1_000_000),
            RequestAuth::Failed {
                error: TsigError::BadKey,
                ..
            }
        ));
        let ring = KeyRing::new(vec![key("hmac-sha256")]);
        assert!(matches!(
            verify_request(&m, &ring, 1_000_000 + 301),
            RequestAuth::Failed {
                error: TsigError::BadTime,
                ..
            }
        ));
        assert!(matches!(
            verify_request(&query(), &ring, 1_000_000),
            RequestAuth::Unsigned
        ));
    }

    #[test]
    fn a_tampered_request_fails() {
        let mut m = query();
        sign_request(&mut m, &key("hmac-sha256"), 1_000_000);
        m[13] ^= 0x20; // the question name's case: covered by the MAC
        let ring = KeyRing::new(vec![key("hmac-sha256")]);
        assert!(matches!(
            verify_request(&m, &ring, 1_000_000),
            RequestAuth::Failed {
                error: TsigError::BadSig,
                ..
            }
        ));
    }

    #[test]
    fn a_response_stream_verifies_including_unsigned_intermediate_messages() {
        let k = Arc::new(key("hmac-sha256"));
        let mut request = query();
        let request_mac = sign_request(&mut request, &k, 1_000_000);
        let mut signer = ResponseSigner::new(Arc::clone(&k), request_mac.clone(), 1_000_001);
        let mut verifier = ResponseVerifier::new(Arc::clone(&k), request_mac, 1_000_002);
        for i in 0..5u16 {
            let mut m = Message::new(4242, MessageType::Response, OpCode::Query);
            m.add_query(Query::query(
                Name::from_ascii("example.org.").unwrap(),
                RecordType::AXFR,
            ));
            m.metadata.authoritative = i % 2 == 0;
            let mut bytes = m.to_vec().unwrap();
            // Messages 1 and 2 go unsigned: the signer never sees them.
            if i == 1 || i == 2 {
                // the next signed message's MAC must cover them
                verifier.verify(&bytes).unwrap();
                signer_skip(&mut signer, &bytes);
                continue;
            }
            signer.sign(&mut bytes);
            verifier.verify(&bytes).unwrap();
        }
        verifier.finish().unwrap();
    }

    /// Test support: make the signer account for an unsigned message.
    fn signer_skip(signer: &mut ResponseSigner, message: &[u8]) {
        // The MAC input of the next signed message starts with these bytes.
        signer.pending_unsigned(message);
    }

    #[test]
    fn an_unsigned_first_or_last_message_fails() {
        let k = Arc::new(key("hmac-sha256"));
        let mut v = ResponseVerifier::new(Arc::clone(&k), vec![1, 2, 3], 0);
        assert_eq!(v.verify(&query()), Err(TsigFailure::Unsigned));
        assert_eq!(v.finish(), Err(TsigFailure::Unsigned));
    }

    #[test]
    fn bad_key_configuration_is_reported() {
        assert!(
            TsigKey::new("k", "hmac-md5", SECRET)
                .unwrap_err()
                .contains("unsupported")
        );
        assert!(
            TsigKey::new("k", "hmac-sha256", "***")
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            TsigKey::new("k", "hmac-sha256", "")
                .unwrap_err()
                .contains("empty")
        );
    }
}
