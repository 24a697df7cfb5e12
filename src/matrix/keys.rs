//! A homeserver's published signing keys (`GET /_matrix/key/v2/server`)
//! judged as a peer judges them, by the Matrix spec's rules:
//!
//! - the response is signed by the server itself: an ed25519 signature
//!   under `signatures[server_name]["ed25519:ID"]`, over the *canonical
//!   JSON* of the response without its `signatures` and `unsigned` members
//!   (appendix "Signing JSON");
//! - every verify key is 32 bytes, unpadded base64 (padded is tolerated:
//!   Synapse decodes both);
//! - `valid_until_ts` (milliseconds) says how long peers may cache the
//!   keys; the spec advises servers to keep it short (a week or less).
//!
//! Canonical JSON (appendix "Canonical JSON"): objects with keys in
//! lexicographic order of their code points, no insignificant whitespace,
//! UTF-8 without escapes beyond those JSON requires, integers only, in
//! [-(2^53)+1, 2^53-1]. `serde_json` writes exactly that for a `Value`
//! built without its `preserve_order` feature (objects are `BTreeMap`s,
//! ordered by their UTF-8 bytes, which is code-point order); floats are
//! refused here, as the spec refuses them.

use serde_json::{Map, Value};

/// The size of an ed25519 public key.
pub const ED25519_KEY_LEN: usize = 32;
/// The largest integer canonical JSON allows (2^53 - 1).
pub const CANONICAL_INT_MAX: i64 = (1 << 53) - 1;

/// `value` in canonical JSON, or why it has none (a float, an integer out
/// of range).
pub fn canonical_json(value: &Value) -> Result<String, String> {
    check_canonical(value)?;
    serde_json::to_string(value).map_err(|e| e.to_string())
}

fn check_canonical(value: &Value) -> Result<(), String> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) if (-CANONICAL_INT_MAX..=CANONICAL_INT_MAX).contains(&i) => Ok(()),
            _ => Err(format!(
                "{n} is not an integer in canonical JSON's range (+/- 2^53-1)"
            )),
        },
        Value::Array(items) => items.iter().try_for_each(check_canonical),
        Value::Object(members) => members.values().try_for_each(check_canonical),
        _ => Ok(()),
    }
}

/// What a key response says about its keys and its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyReport {
    /// `ed25519:*` verify keys that do not decode to 32 bytes: key id and
    /// what they are instead.
    pub bad_keys: Vec<(String, String)>,
    /// The signature by the server itself.
    pub signature: Signature,
}

/// The outcome of checking a key response's self-signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    /// Signed by `key_id`, one of its own verify keys.
    Valid {
        /// The key that signed.
        key_id: String,
    },
    /// No `signatures[server_name]` with an ed25519 signature.
    Missing,
    /// Signatures present, none verifies: why, for the first one.
    Invalid {
        /// The key id of the signature.
        key_id: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Checks the key response `response` of `server_name`.
pub fn check_key_response(response: &Map<String, Value>, server_name: &str) -> KeyReport {
    let mut keys: Vec<(String, Vec<u8>)> = Vec::new();
    let mut bad_keys = Vec::new();
    if let Some(verify_keys) = response.get("verify_keys").and_then(Value::as_object) {
        for (id, entry) in verify_keys
            .iter()
            .filter(|(id, _)| id.starts_with("ed25519:"))
        {
            let text = entry.get("key").and_then(Value::as_str).unwrap_or("");
            match decode_base64(text) {
                Some(bytes) if bytes.len() == ED25519_KEY_LEN => keys.push((id.clone(), bytes)),
                Some(bytes) => bad_keys.push((id.clone(), format!("{} bytes", bytes.len()))),
                None => bad_keys.push((id.clone(), format!("not base64 ({text:?})"))),
            }
        }
    }
    KeyReport {
        bad_keys,
        signature: check_signature(response, server_name, &keys),
    }
}

fn check_signature(
    response: &Map<String, Value>,
    server_name: &str,
    keys: &[(String, Vec<u8>)],
) -> Signature {
    let signatures: Vec<(&String, &Value)> = response
        .get("signatures")
        .and_then(Value::as_object)
        .and_then(|by_server| {
            by_server
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(server_name))
                .map(|(_, sigs)| sigs)
        })
        .and_then(Value::as_object)
        .map(|sigs| {
            sigs.iter()
                .filter(|(id, _)| id.starts_with("ed25519:"))
                .collect()
        })
        .unwrap_or_default();
    if signatures.is_empty() {
        return Signature::Missing;
    }
    let mut unsigned = response.clone();
    unsigned.remove("signatures");
    unsigned.remove("unsigned");
    let message = match canonical_json(&Value::Object(unsigned)) {
        Ok(m) => m,
        Err(reason) => {
            return Signature::Invalid {
                key_id: signatures[0].0.clone(),
                reason: format!("the response has no canonical JSON form: {reason}"),
            };
        }
    };
    let mut first_failure = None;
    for (key_id, signature) in signatures {
        let reason = match (
            keys.iter().find(|(id, _)| id == key_id),
            signature.as_str().and_then(decode_base64),
        ) {
            (None, _) => format!("{key_id} is not one of its verify_keys"),
            (_, None) => "the signature is not base64".to_string(),
            (Some((_, key)), Some(sig)) => {
                let public =
                    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
                if public.verify(message.as_bytes(), &sig).is_ok() {
                    return Signature::Valid {
                        key_id: key_id.clone(),
                    };
                }
                "it does not verify over the canonical JSON of the response".to_string()
            }
        };
        first_failure.get_or_insert(Signature::Invalid {
            key_id: key_id.clone(),
            reason,
        });
    }
    first_failure.unwrap_or(Signature::Missing)
}

/// Unpadded (or padded) standard base64, as Matrix writes keys and
/// signatures. Trailing bits are not checked: the spec's own example seed
/// has some set, and Synapse's decoder ignores them too.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    static LENIENT: std::sync::LazyLock<Option<data_encoding::Encoding>> =
        std::sync::LazyLock::new(|| {
            let mut spec = data_encoding::BASE64_NOPAD.specification();
            spec.check_trailing_bits = false;
            spec.encoding().ok()
        });
    LENIENT
        .as_ref()?
        .decode(text.trim_end_matches('=').as_bytes())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    /// The Matrix spec's signing example key (appendix "Signing JSON",
    /// "Examples"): seed `YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1`.
    fn spec_key() -> Ed25519KeyPair {
        let seed = decode_base64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1").unwrap();
        Ed25519KeyPair::from_seed_unchecked(&seed).unwrap()
    }

    fn sign(key: &Ed25519KeyPair, value: &Value) -> String {
        let text = canonical_json(value).unwrap();
        data_encoding::BASE64_NOPAD.encode(key.sign(text.as_bytes()).as_ref())
    }

    #[test]
    fn the_spec_signing_examples() {
        let key = spec_key();
        assert_eq!(
            sign(&key, &serde_json::json!({})),
            "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
        );
        assert_eq!(
            sign(&key, &serde_json::json!({"one": 1, "two": "Two"})),
            "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
        );
    }

    #[test]
    fn canonical_json_orders_keys_and_refuses_floats() {
        let v = serde_json::json!({"b": 1, "a": {"z": [1, "é"], "y": null}, "\u{1d11e}": 2});
        assert_eq!(
            canonical_json(&v).unwrap(),
            "{\"a\":{\"y\":null,\"z\":[1,\"é\"]},\"b\":1,\"\u{1d11e}\":2}"
        );
        assert!(canonical_json(&serde_json::json!({"x": 1.5})).is_err());
        assert!(canonical_json(&serde_json::json!({"x": 1_i64 << 53})).is_err());
    }

    fn signed_response(key: &Ed25519KeyPair, server: &str, extra: Value) -> Map<String, Value> {
        let public = data_encoding::BASE64_NOPAD.encode(key.public_key().as_ref());
        let mut body = serde_json::json!({
            "server_name": server,
            "valid_until_ts": 1_900_000_000_000_i64,
            "verify_keys": {"ed25519:a": {"key": public}},
            "old_verify_keys": {},
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        let signature = sign(key, &body);
        body["signatures"] = serde_json::json!({server: {"ed25519:a": signature}});
        body["unsigned"] = serde_json::json!({"ignored": true});
        match body {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_self_signed_response_verifies_and_tampering_shows() {
        let key = spec_key();
        let good = signed_response(&key, "example.org", serde_json::json!({}));
        assert_eq!(
            check_key_response(&good, "example.org"),
            KeyReport {
                bad_keys: vec![],
                signature: Signature::Valid {
                    key_id: "ed25519:a".into()
                }
            }
        );
        let mut tampered = good.clone();
        tampered.insert("valid_until_ts".into(), serde_json::json!(1));
        assert!(matches!(
            check_key_response(&tampered, "example.org").signature,
            Signature::Invalid { .. }
        ));
        // Signed by another server name only.
        assert_eq!(
            check_key_response(&good, "example.net").signature,
            Signature::Missing
        );
        // A short key.
        let mut short = good.clone();
        short.insert(
            "verify_keys".into(),
            serde_json::json!({"ed25519:a": {"key": "AAAA"}}),
        );
        let report = check_key_response(&short, "example.org");
        assert_eq!(
            report.bad_keys,
            vec![("ed25519:a".into(), "3 bytes".into())]
        );
        assert!(matches!(report.signature, Signature::Invalid { .. }));
    }
}
