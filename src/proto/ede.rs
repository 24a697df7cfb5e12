//! Extended DNS Errors (RFC 8914) on responses built outside the answer
//! engine (transfers, NOTIFY, UPDATE): an OPT record carrying one EDE
//! option, appended to an encoded message.

/// Appends an OPT record with the EDE option `info_code` and `text` to the
/// encoded `message` and counts it in ARCOUNT. Only for a response to a
/// request that had EDNS (RFC 6891: OPT only then); the caller checks.
/// The OPT must be the last record unless a TSIG follows, so sign after.
pub fn append_ede(message: &mut Vec<u8>, info_code: u16, text: &str) {
    let option_len = 2 + text.len();
    let Ok(rdlength) = u16::try_from(4 + option_len) else {
        return;
    };
    if message.len() < 12 {
        return;
    }
    message.extend_from_slice(&[0, 0, 41]); // root owner, type OPT
    message.extend_from_slice(&1232u16.to_be_bytes()); // UDP payload
    message.extend_from_slice(&[0, 0, 0, 0]); // extended rcode, version, flags
    message.extend_from_slice(&rdlength.to_be_bytes());
    message.extend_from_slice(&15u16.to_be_bytes()); // EDE
    message.extend_from_slice(&(option_len as u16).to_be_bytes());
    message.extend_from_slice(&info_code.to_be_bytes());
    message.extend_from_slice(text.as_bytes());
    let arcount = u16::from_be_bytes([message[10], message[11]]).saturating_add(1);
    message[10..12].copy_from_slice(&arcount.to_be_bytes());
}
