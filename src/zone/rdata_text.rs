//! Presentation format of domain names and RDATA (RFC 1035 section 5.1,
//! RFC 3597 section 5), shared by the master-file parser and writer.
//!
//! Parsing goes text -> wire -> [`RData`]: every type with a presentation
//! format here has a small table of fields (`schema`) that says how to read
//! each token; the fields are encoded into the RDATA wire form and hickory
//! decodes that, so the result is exactly what a zone transfer of the same
//! record would produce. Formatting runs the same table backwards over the
//! wire form, which keeps [`parse_rdata`] and [`format_rdata`] inverse to
//! each other. Types without a table (and data a table cannot express) use
//! the RFC 3597 generic form `\# <length> <hex>`, which every type accepts.
//!
//! SVCB and HTTPS are the exception: their key=value parameters are parsed
//! by hickory (the target name here, against the origin) and they are
//! written in the generic form, as hickory has no standard text for them.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use hickory_proto::rr::rdata::{HTTPS, SVCB};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{
    BinDecoder, BinEncodable, BinEncoder, NameEncoding, Restrict,
};

/// RFC 1035 section 2.3.4: a label is at most 63 octets.
const MAX_LABEL_LEN: usize = 63;
/// RFC 1035 section 2.3.4: a name is at most 255 octets in wire form.
const MAX_NAME_LEN: usize = 255;
/// RFC 1035 section 3.3: a `<character-string>` holds at most 255 octets.
const MAX_CHARACTER_STRING_LEN: usize = 255;
/// RDLENGTH is 16 bits.
const MAX_RDATA_LEN: usize = 65_535;

/// Where in `text` a problem is: a 0-based character offset, plus the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {offset})")]
pub struct RdataError {
    /// 0-based offset, in characters, of the token the problem is in (or of
    /// the end of the text when something is missing).
    pub offset: usize,
    /// What is wrong, in words a zone author can act on.
    pub message: String,
}

impl RdataError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        RdataError {
            offset,
            message: message.into(),
        }
    }
}

/// One word of presentation text. Borrowed from the text read when that
/// is ASCII and the word has no quotes or escapes (the bulk of a zone file),
/// so tokenizing such text allocates nothing per word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// 0-based character offset of the token's first character.
    pub offset: usize,
    /// The token with quotes removed and escapes (`\X`, `\DDD`) resolved.
    pub text: Cow<'a, [u8]>,
    /// Whether the token started with a double quote.
    pub quoted: bool,
    /// The token exactly as written, quotes and escapes included.
    pub raw: Cow<'a, str>,
    /// The offset just past the token's last character.
    end: usize,
}

impl<'a> Token<'a> {
    /// The plain word `raw` (ASCII, no quote or escape), at `offset`.
    fn plain(raw: &'a str, offset: usize) -> Token<'a> {
        Token {
            offset,
            text: Cow::Borrowed(raw.as_bytes()),
            quoted: false,
            raw: Cow::Borrowed(raw),
            end: offset + raw.len(),
        }
    }

    /// The offset just past the token's last character.
    pub(crate) fn end(&self) -> usize {
        self.end
    }

    /// The unescaped text as a string (lossy for bytes that are not UTF-8).
    fn text_str(&self) -> Cow<'_, str> {
        // A plain word's text is its raw form, the very same octets.
        if std::ptr::eq(self.text.as_ptr(), self.raw.as_ptr()) && self.text.len() == self.raw.len()
        {
            return Cow::Borrowed(&self.raw);
        }
        match std::str::from_utf8(&self.text) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&self.text),
        }
    }
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// Splits presentation text into tokens (whitespace-separated words and
/// "quoted strings" with `\"` `\\` `\DDD` escapes), each with its 0-based
/// character offset; quoted tokens are returned unquoted and unescaped as
/// bytes. Unquoted `(` and `)` separate tokens like blanks do and an unquoted
/// `;` starts a comment that runs to the end of the line, so text still
/// holding master-file punctuation reads the same as text without it.
/// Used by [`parse_rdata`] and by the master-file parser.
pub fn tokenize(text: &str) -> Result<Vec<Token<'_>>, RdataError> {
    let mut tokens = Vec::with_capacity(8);
    tokenize_into(text, &mut tokens)?;
    Ok(tokens)
}

/// [`tokenize`], appending to `tokens` (a master file reuses one vector
/// for all its entries: see [`recycle_tokens`]).
pub(crate) fn tokenize_into<'a>(
    text: &'a str,
    tokens: &mut Vec<Token<'a>>,
) -> Result<(), RdataError> {
    // Zone files are ASCII but for the odd comment or TXT: walk the bytes
    // themselves then, each one a character, and lend tokens from the text;
    // decode to characters only when there is something to decode (offsets
    // stay character offsets).
    if text.is_ascii() {
        tokenize_ascii(text, tokens)
    } else {
        tokens.extend(tokenize_in(&text.chars().collect::<Vec<char>>(), None)?);
        Ok(())
    }
}

/// An emptied token vector, its allocation kept, that may borrow from
/// another text: a parser that tokenizes entry after entry into one buffer
/// cannot keep a `Vec<Token<'entry>>` across the entry's reuse, so it
/// passes the buffer through here. The collect runs in place (the element
/// types differ only in lifetime), which a test checks.
pub(crate) fn recycle_tokens<'b>(mut tokens: Vec<Token<'_>>) -> Vec<Token<'b>> {
    tokens.clear();
    tokens
        .into_iter()
        .map(|_| -> Token<'b> { unreachable!("the vector was emptied") })
        .collect()
}

/// What a byte of ASCII presentation text is to the tokenizer.
const PLAIN: u8 = 0;
/// ASCII whitespace as `char::is_whitespace` has it, and the parentheses.
const SEPARATOR: u8 = 1;
/// `;`, `"` and `\`: a comment, a quote, an escape.
const SPECIAL: u8 = 2;

/// [`PLAIN`], [`SEPARATOR`] or [`SPECIAL`] for every byte value (bytes
/// above 127 never reach the ASCII paths).
static BYTE_CLASS: [u8; 256] = {
    let mut class = [PLAIN; 256];
    let mut b = 0;
    while b < 256 {
        class[b] = match b as u8 {
            b' ' | b'\t'..=b'\r' | b'(' | b')' => SEPARATOR,
            b';' | b'"' | b'\\' => SPECIAL,
            _ => PLAIN,
        };
        b += 1;
    }
    class
};

/// [`tokenize`] of ASCII text: plain words (no quote, no escape) are cut
/// out of the text byte by byte, the rest goes through [`scan_token`]. The
/// tests hold it to [`tokenize_in`] over the same text's characters.
fn tokenize_ascii<'a>(text: &'a str, tokens: &mut Vec<Token<'a>>) -> Result<(), RdataError> {
    let separator = |b: u8| BYTE_CLASS[usize::from(b)] == SEPARATOR;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if separator(b) {
            i += 1;
        } else if b == b';' {
            i = bytes[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |n| i + n);
        } else {
            let start = i;
            while bytes
                .get(i)
                .is_some_and(|&b| BYTE_CLASS[usize::from(b)] == PLAIN)
            {
                i += 1;
            }
            if matches!(bytes.get(i), Some(b'"' | b'\\')) {
                let (token, end) = scan_token(bytes, start, Some(text))?;
                i = end;
                tokens.push(token);
            } else {
                tokens.push(Token::plain(&text[start..i], start));
            }
        }
    }
    Ok(())
}

/// An IPv4 address in its plain form (four decimal octets, no leading
/// zeros), read without the standard library's general parser, which costs
/// several hundred instructions an address (issue 18: a third of a big
/// zone's records are addresses). `None` for anything else: the caller
/// then asks `str::parse`, which decides. Whatever this accepts, `parse`
/// reads as the same address (a property test holds it to that).
fn ipv4_plain(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.as_bytes().split(|&b| b == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        let plain = matches!(part.len(), 1..=3)
            && (part.len() == 1 || part[0] != b'0')
            && part.iter().all(u8::is_ascii_digit);
        if !plain {
            return None;
        }
        let value = part.iter().fold(0u16, |v, &d| v * 10 + u16::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// An IPv6 address written as hexadecimal groups with at most one `::`
/// (no embedded IPv4, no zone), read by hand as [`ipv4_plain`] is, with
/// the same promise: `None` leaves the decision to `str::parse`.
fn ipv6_plain(text: &str) -> Option<Ipv6Addr> {
    let s = text.as_bytes();
    let mut groups = [0u16; 8];
    let mut n = 0;
    // How many groups come before the `::`, when there is one.
    let mut gap: Option<usize> = None;
    let mut i = 0;
    if s.starts_with(b"::") {
        gap = Some(0);
        i = 2;
        if i == s.len() {
            return Some(Ipv6Addr::UNSPECIFIED);
        }
    }
    loop {
        let start = i;
        let mut value = 0u16;
        while let Some(digit) = s.get(i).and_then(|&b| char::from(b).to_digit(16)) {
            if i - start == 4 {
                return None;
            }
            value = value << 4 | digit as u16; // a hex digit: below 16
            i += 1;
        }
        if i == start || n == groups.len() {
            return None;
        }
        groups[n] = value;
        n += 1;
        match s.get(i) {
            None => break,
            Some(b':') if s.get(i + 1) == Some(&b':') => {
                if gap.is_some() {
                    return None;
                }
                gap = Some(n);
                i += 2;
                if i == s.len() {
                    break;
                }
            }
            Some(b':') => i += 1,
            Some(_) => return None,
        }
    }
    match gap {
        None if n == 8 => Some(Ipv6Addr::from(groups)),
        Some(before) if n < 8 => {
            let mut out = [0u16; 8];
            out[..before].copy_from_slice(&groups[..before]);
            out[8 - (n - before)..].copy_from_slice(&groups[before..n]);
            Some(Ipv6Addr::from(out))
        }
        _ => None,
    }
}

/// A character of presentation text: a `char`, or a byte of ASCII text.
trait TextUnit: Copy + Into<char> {
    /// A run of them as a string.
    fn text(run: &[Self]) -> String;
}

impl TextUnit for char {
    fn text(run: &[char]) -> String {
        run.iter().collect()
    }
}

impl TextUnit for u8 {
    fn text(run: &[u8]) -> String {
        // Only ASCII text is walked as bytes.
        String::from_utf8_lossy(run).into_owned()
    }
}

/// [`tokenize`] over the characters of the text (bytes when it is ASCII,
/// and then `source` is that text, which the tokens borrow from).
fn tokenize_in<'a, C: TextUnit>(
    chars: &[C],
    source: Option<&'a str>,
) -> Result<Vec<Token<'a>>, RdataError> {
    let at = |i: usize| chars.get(i).map(|&c| c.into());
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        if is_separator(c) {
            i += 1;
        } else if c == ';' {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
        } else {
            let (token, end) = scan_token(chars, i, source)?;
            i = end;
            tokens.push(token);
        }
    }
    Ok(tokens)
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')'
}

/// Reads one token starting at `start`: a run of characters up to an
/// unquoted separator or `;`, in which quoted sections may hold anything.
/// Also returns the offset just past it.
fn scan_token<'a, C: TextUnit>(
    chars: &[C],
    start: usize,
    source: Option<&'a str>,
) -> Result<(Token<'a>, usize), RdataError> {
    // The unquoted, unescaped text; made only once a quote or an escape
    // makes it differ from the raw token.
    let mut text: Option<Vec<u8>> = None;
    let mut quote_open: Option<usize> = None;
    let mut i = start;
    while let Some(c) = chars.get(i).map(|&c| c.into()) {
        let plain = c != '"' && c != '\\';
        if !plain && text.is_none() {
            text = Some(C::text(chars.get(start..i).unwrap_or_default()).into_bytes());
        }
        match c {
            '"' => {
                quote_open = match quote_open {
                    Some(_) => None,
                    None => Some(i),
                };
                i += 1;
            }
            '\\' => {
                let (byte_or_char, used) = unescape(chars, i)?;
                if let Some(text) = &mut text {
                    match byte_or_char {
                        Escaped::Byte(b) => text.push(b),
                        Escaped::Char(c) => push_char(text, c),
                    }
                }
                i += used;
            }
            c if quote_open.is_none() && (is_separator(c) || c == ';') => break,
            c => {
                if let Some(text) = &mut text {
                    push_char(text, c);
                }
                i += 1;
            }
        }
    }
    if let Some(open) = quote_open {
        return Err(RdataError::new(open, "unterminated quoted string"));
    }
    let raw: Cow<'a, str> = match source.and_then(|s| s.get(start..i)) {
        Some(raw) => Cow::Borrowed(raw),
        None => Cow::Owned(C::text(chars.get(start..i).unwrap_or_default())),
    };
    let text = match (text, &raw) {
        (Some(text), _) => Cow::Owned(text),
        (None, Cow::Borrowed(raw)) => Cow::Borrowed(raw.as_bytes()),
        (None, Cow::Owned(raw)) => Cow::Owned(raw.clone().into_bytes()),
    };
    let token = Token {
        offset: start,
        text,
        quoted: chars.get(start).map(|&c| c.into()) == Some('"'),
        raw,
        end: i,
    };
    Ok((token, i))
}

enum Escaped {
    Byte(u8),
    Char(char),
}

/// Resolves the escape starting with the backslash at `at`: `\DDD` (a
/// decimal octet) or `\X` (X itself). Returns what it stands for and how many
/// characters it used.
fn unescape<C: Copy + Into<char>>(chars: &[C], at: usize) -> Result<(Escaped, usize), RdataError> {
    let Some(next) = chars.get(at + 1).map(|&c| c.into()) else {
        return Err(RdataError::new(at, "backslash at the end of the text"));
    };
    if !next.is_ascii_digit() {
        return Ok((Escaped::Char(next), 2));
    }
    let digits: String = chars
        .iter()
        .skip(at + 1)
        .take(3)
        .map(|&c| c.into())
        .collect();
    if digits.len() != 3 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(RdataError::new(
            at,
            "a \\DDD escape needs exactly three decimal digits",
        ));
    }
    match digits.parse::<u8>() {
        Ok(b) => Ok((Escaped::Byte(b), 4)),
        Err(_) => Err(RdataError::new(
            at,
            format!("escape \\{digits} is not an octet (000 to 255)"),
        )),
    }
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// Parses a domain name in presentation format: "@" = origin, absolute
/// names end in ".", others are relative to origin. Handles escapes (`\.`
/// and `\DDD`), checks label <= 63 and name <= 255 octets. Case is kept;
/// bytes outside ASCII are taken literally (no IDNA conversion).
pub fn parse_name(text: &str, origin: &Name) -> Result<Name, String> {
    let mut wire = Vec::with_capacity(text.len() + 2);
    push_name_text(&mut wire, text, origin)?;
    Name::from_labels(wire_labels(&wire)).map_err(|e| format!("invalid domain name '{text}': {e}"))
}

/// The labels of a wire-form name that [`push_name_text`] wrote.
fn wire_labels(mut wire: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (&len, rest) = wire.split_first()?;
        let label = rest.get(..usize::from(len)).filter(|l| !l.is_empty())?;
        wire = &rest[label.len()..];
        Some(label)
    })
}

/// Appends the name `text` (presentation format, as [`parse_name`] reads
/// it) to `wire` in uncompressed wire form, case kept: the one name grammar
/// of the zone parsers, which write names straight to wire this way. On an
/// error, `wire` may hold part of the name.
pub(crate) fn push_name_text(wire: &mut Vec<u8>, text: &str, origin: &Name) -> Result<(), String> {
    let start = wire.len();
    match text {
        "" => return Err("empty domain name".to_owned()),
        "@" => {
            push_name(wire, origin);
            return Ok(());
        }
        "." => {
            wire.push(0);
            return Ok(());
        }
        _ => {}
    }
    let plain = text.bytes().all(|b| b > b' ' && b < 0x7f && b != b'\\');
    let absolute = if plain {
        push_plain_labels(wire, text)?
    } else if text.is_ascii() {
        push_labels_in(wire, text, text.as_bytes())?
    } else {
        push_labels_in(wire, text, &text.chars().collect::<Vec<char>>())?
    };
    if absolute {
        wire.push(0);
    } else {
        push_name(wire, origin);
    }
    let wire_len = wire.len() - start;
    if wire_len > MAX_NAME_LEN {
        return Err(format!(
            "domain name '{text}' is {wire_len} octets long; at most {MAX_NAME_LEN} are allowed"
        ));
    }
    Ok(())
}

/// [`push_labels_in`] for printable ASCII text without escapes (nearly
/// every name of a zone): labels copied whole between the dots, with the
/// same errors. The tests hold the two to the same result.
fn push_plain_labels(wire: &mut Vec<u8>, text: &str) -> Result<bool, String> {
    let bytes = text.as_bytes();
    let absolute = bytes.last() == Some(&b'.');
    let body = if absolute {
        &bytes[..bytes.len() - 1]
    } else {
        bytes
    };
    for label in body.split(|&b| b == b'.') {
        if label.is_empty() {
            return Err(format!("domain name '{text}' has an empty label"));
        }
        let Ok(len) = u8::try_from(label.len()).map_err(drop).and_then(|len| {
            if usize::from(len) > MAX_LABEL_LEN {
                Err(())
            } else {
                Ok(len)
            }
        }) else {
            return Err(format!(
                "a label of '{text}' is longer than {MAX_LABEL_LEN} octets"
            ));
        };
        wire.push(len);
        wire.extend_from_slice(label);
    }
    Ok(absolute)
}

/// Appends the unescaped labels of `text` (walked as `chars`: bytes when it
/// is ASCII), each with its length octet; says whether the name ended in an
/// unescaped dot (is absolute). No terminating root label is written.
fn push_labels_in<C: Copy + Into<char>>(
    wire: &mut Vec<u8>,
    text: &str,
    chars: &[C],
) -> Result<bool, String> {
    // Where the length octet of the label being read is.
    let mut length_at = wire.len();
    wire.push(0);
    let mut i = 0;
    while let Some(c) = chars.get(i).map(|&c| c.into()) {
        match c {
            '.' => {
                if wire.len() == length_at + 1 {
                    return Err(format!("domain name '{text}' has an empty label"));
                }
                length_at = wire.len();
                wire.push(0);
                i += 1;
                continue;
            }
            '\\' => {
                let (escaped, used) = unescape(chars, i).map_err(|e| e.message)?;
                match escaped {
                    Escaped::Byte(b) => wire.push(b),
                    Escaped::Char(c) => push_char(wire, c),
                }
                i += used;
            }
            c if c.is_whitespace() || c.is_control() => {
                return Err(format!(
                    "domain name '{text}' contains unescaped blank or control characters"
                ));
            }
            c => {
                push_char(wire, c);
                i += 1;
            }
        }
        let label_len = wire.len() - length_at - 1;
        if label_len > MAX_LABEL_LEN {
            return Err(format!(
                "a label of '{text}' is longer than {MAX_LABEL_LEN} octets"
            ));
        }
        wire[length_at] = label_len as u8; // at most MAX_LABEL_LEN, checked above
    }
    let absolute = wire.len() == length_at + 1;
    if absolute {
        wire.pop(); // the empty label after the final dot
    }
    Ok(absolute)
}

/// Parses a name token: like [`parse_name`], but quoted names are refused.
pub(crate) fn parse_name_token(token: &Token, origin: &Name) -> Result<Name, String> {
    if token.quoted {
        return Err(format!(
            "expected a domain name, got the quoted string {}",
            token.raw
        ));
    }
    parse_name(&token.raw, origin)
}

/// Appends a name token to `wire` (see [`push_name_text`]); quoted names
/// are refused as by [`parse_name_token`].
pub(crate) fn push_name_token(
    wire: &mut Vec<u8>,
    token: &Token,
    origin: &Name,
) -> Result<(), String> {
    if token.quoted {
        return Err(format!(
            "expected a domain name, got the quoted string {}",
            token.raw
        ));
    }
    push_name_text(wire, &token.raw, origin)
}

/// Writes `name` as an absolute name in presentation format, escaping every
/// octet that is not a printable, non-special ASCII character.
pub(crate) fn format_name(name: &Name) -> String {
    if name.is_root() {
        return ".".to_owned();
    }
    let mut out = String::new();
    for label in name.iter() {
        push_label(&mut out, label);
        out.push('.');
    }
    out
}

fn push_label(out: &mut String, label: &[u8]) {
    for &b in label {
        match b {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x21..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
}

// ---------------------------------------------------------------------------
// Record types
// ---------------------------------------------------------------------------

/// IANA type mnemonics this module reads and writes (RFC 6895 registry).
/// hickory's ANAME is deliberately absent: its code (65305) is private use,
/// so it is written as TYPE65305. In code order, but for AAAA beside A:
/// the lookup walks the list, and addresses are most of a big zone.
const TYPE_MNEMONICS: &[(&str, u16)] = &[
    ("A", 1),
    ("AAAA", 28),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("NULL", 10),
    ("PTR", 12),
    ("HINFO", 13),
    ("MINFO", 14),
    ("MX", 15),
    ("TXT", 16),
    ("RP", 17),
    ("AFSDB", 18),
    ("SIG", 24),
    ("KEY", 25),
    ("LOC", 29),
    ("SRV", 33),
    ("NAPTR", 35),
    ("KX", 36),
    ("CERT", 37),
    ("DNAME", 39),
    ("OPT", 41),
    ("APL", 42),
    ("DS", 43),
    ("SSHFP", 44),
    ("IPSECKEY", 45),
    ("RRSIG", 46),
    ("NSEC", 47),
    ("DNSKEY", 48),
    ("DHCID", 49),
    ("NSEC3", 50),
    ("NSEC3PARAM", 51),
    ("TLSA", 52),
    ("SMIMEA", 53),
    ("HIP", 55),
    ("CDS", 59),
    ("CDNSKEY", 60),
    ("OPENPGPKEY", 61),
    ("CSYNC", 62),
    ("ZONEMD", 63),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("SPF", 99),
    ("EUI48", 108),
    ("EUI64", 109),
    ("TKEY", 249),
    ("TSIG", 250),
    ("IXFR", 251),
    ("AXFR", 252),
    ("ANY", 255),
    ("URI", 256),
    ("CAA", 257),
];

/// Parses a type mnemonic (case-insensitive: "a", "SRV", "nsec3param") or
/// RFC 3597 "TYPE65280".
pub fn parse_record_type(text: &str) -> Option<RecordType> {
    if let Some(&(_, code)) = TYPE_MNEMONICS
        .iter()
        .find(|(mnemonic, _)| mnemonic.eq_ignore_ascii_case(text))
    {
        return Some(RecordType::from(code));
    }
    let digits = text
        .get(..4)
        .filter(|prefix| prefix.eq_ignore_ascii_case("TYPE"))
        .and_then(|_| text.get(4..))?;
    parse_decimal::<u16>(digits).map(RecordType::from)
}

/// The mnemonic of `rtype`, or `TYPEnnn` (RFC 3597) when it has none here.
pub(crate) fn type_mnemonic(rtype: RecordType) -> String {
    let code = u16::from(rtype);
    TYPE_MNEMONICS
        .iter()
        .find(|&&(_, c)| c == code)
        .map_or_else(
            || format!("TYPE{code}"),
            |(mnemonic, _)| (*mnemonic).to_owned(),
        )
}

/// Whether `rtype` is a query or meta type (RFC 6895 section 3.1: 0, OPT and
/// 128-255), which has no place in zone data.
pub(crate) fn is_meta_type(rtype: RecordType) -> bool {
    let code = u16::from(rtype);
    code == 0 || code == 41 || (128..=255).contains(&code)
}

// ---------------------------------------------------------------------------
// Numbers and times
// ---------------------------------------------------------------------------

/// Parses an unsigned decimal number made of ASCII digits only.
fn parse_decimal<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses a time period in seconds: plain digits, or BIND-style units
/// (`1w2d3h4m5s`, case-insensitive), as used for TTLs and SOA timers.
pub(crate) fn parse_period(text: &str) -> Result<u32, String> {
    let invalid =
        || format!("'{text}' is not a time period: use seconds or units like 30m, 2h, 1d, 1w2d");
    if text.is_empty() {
        return Err(invalid());
    }
    if let Some(seconds) = parse_decimal::<u64>(text) {
        return u32::try_from(seconds).map_err(|_| format!("time period {text} is too large"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(invalid()),
        };
        let value: u64 = parse_decimal(&digits).ok_or_else(invalid)?;
        total = value
            .checked_mul(unit)
            .and_then(|v| v.checked_add(total))
            .ok_or_else(|| format!("time period {text} is too large"))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(invalid());
    }
    u32::try_from(total).map_err(|_| format!("time period {text} is too large"))
}

/// Parses an RRSIG time (RFC 4034 section 3.2): `YYYYMMDDHHmmSS` in UTC or
/// seconds since the epoch; dates past 2106 wrap (serial arithmetic).
fn parse_time(text: &str) -> Option<u32> {
    if text.len() != 14 {
        return parse_decimal(text);
    }
    let part = |range: std::ops::Range<usize>| text.get(range).and_then(parse_decimal::<u32>);
    let (year, month, day) = (part(0..4)?, part(4..6)?, part(6..8)?);
    let (hour, minute, second) = (part(8..10)?, part(10..12)?, part(12..14)?);
    let valid = year >= 1970
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds =
        days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second);
    // Serial number arithmetic: only the low 32 bits are kept.
    Some((seconds & 0xffff_ffff) as u32)
}

/// Writes an RRSIG time as `YYYYMMDDHHmmSS` (UTC).
fn format_time(value: u32) -> String {
    let seconds = i64::from(value);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let rest = seconds.rem_euclid(86_400);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn is_leap_year(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

// ---------------------------------------------------------------------------
// Binary-to-text encodings (RFC 4648)
// ---------------------------------------------------------------------------

fn hex_encode(bytes: &[u8]) -> String {
    data_encoding::HEXUPPER.encode(bytes)
}

/// Hex in either case (master files write both).
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .ok()
}

fn base64_encode(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

/// Padded base64 (RFC 4648 4), as DNSKEY, RRSIG and friends are written;
/// non-zero bits after the last whole octet are ignored, as BIND and Knot
/// ignore them.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    static LENIENT: LazyLock<Option<data_encoding::Encoding>> = LazyLock::new(|| {
        let mut spec = data_encoding::BASE64.specification();
        spec.check_trailing_bits = false;
        spec.encoding().ok()
    });
    LENIENT.as_ref()?.decode(text.as_bytes()).ok()
}

/// Base32hex without padding in lower case, as NSEC3 owner hashes and the
/// NSEC3 next-hash field are written (RFC 5155 3.3).
fn base32hex_encode(bytes: &[u8]) -> String {
    data_encoding::BASE32HEX_NOPAD
        .encode(bytes)
        .to_ascii_lowercase()
}

/// Base32hex without padding, in either case.
fn base32hex_decode(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32HEX_NOPAD
        .decode(text.to_ascii_uppercase().as_bytes())
        .ok()
}

// ---------------------------------------------------------------------------
// Field tables
// ---------------------------------------------------------------------------

/// How one RDATA field is written in text and encoded on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    U8,
    U16,
    U32,
    /// A 32-bit number of seconds; text may use units (SOA timers).
    Period,
    Ipv4,
    Ipv6,
    /// An uncompressed domain name.
    Name,
    /// A length-prefixed `<character-string>`.
    CharString,
    /// A single string that fills the rest of the RDATA, without a length
    /// octet (CAA value, URI target).
    Octets,
    /// A CAA property tag: length-prefixed, 1 to 15 letters and digits.
    CaaTag,
    /// A DNSSEC algorithm number; text may use its mnemonic.
    Algorithm,
    /// A CERT type number; text may use its mnemonic (RFC 4398).
    CertType,
    /// A record type (RRSIG type covered).
    Type,
    /// An RRSIG expiration or inception time.
    Time,
    /// An NSEC3 salt: `-` or hex, length-prefixed.
    Salt,
    /// An NSEC3 next hashed owner name: base32hex, length-prefixed.
    Base32Hex,
    /// One or more character-strings to the end (TXT).
    CharStrings,
    /// Hex to the end, possibly split over several tokens.
    Hex,
    /// Base64 to the end, possibly split over several tokens.
    Base64,
    /// A type bitmap (RFC 4034 section 4.1.2) to the end; may be empty.
    TypeBitmap,
}

impl Kind {
    /// Whether the field takes all remaining tokens.
    fn is_rest(self) -> bool {
        matches!(
            self,
            Kind::CharStrings | Kind::Hex | Kind::Base64 | Kind::TypeBitmap
        )
    }

    /// The fewest tokens the field takes.
    fn min_tokens(self) -> usize {
        usize::from(self != Kind::TypeBitmap)
    }
}

/// A named RDATA field; names follow the RFCs.
#[derive(Clone, Copy, Debug)]
struct Field {
    name: &'static str,
    kind: Kind,
}

/// `field!("name", Kind)`: a [`Field`] literal (a macro so that field tables
/// are promoted to `'static`).
macro_rules! field {
    ($name:literal, $kind:expr) => {
        Field {
            name: $name,
            kind: $kind,
        }
    };
}

const NAME_ONLY: &[Field] = &[field!("target", Kind::Name)];
const DS_FIELDS: &[Field] = &[
    field!("key-tag", Kind::U16),
    field!("algorithm", Kind::Algorithm),
    field!("digest-type", Kind::U8),
    field!("digest", Kind::Hex),
];
const DNSKEY_FIELDS: &[Field] = &[
    field!("flags", Kind::U16),
    field!("protocol", Kind::U8),
    field!("algorithm", Kind::Algorithm),
    field!("public-key", Kind::Base64),
];
const TLSA_FIELDS: &[Field] = &[
    field!("usage", Kind::U8),
    field!("selector", Kind::U8),
    field!("matching-type", Kind::U8),
    field!("certificate-association-data", Kind::Hex),
];
const TXT_FIELDS: &[Field] = &[field!("text", Kind::CharStrings)];
const PREFERENCE_NAME: &[Field] = &[
    field!("preference", Kind::U16),
    field!("exchange", Kind::Name),
];

/// The presentation fields of `rtype`, for every type this module reads
/// without RFC 3597 syntax (other than SVCB and HTTPS).
fn schema(rtype: RecordType) -> Option<&'static [Field]> {
    use Kind::*;
    let fields: &'static [Field] = match rtype {
        RecordType::A => &[field!("address", Ipv4)],
        RecordType::AAAA => &[field!("address", Ipv6)],
        RecordType::NS => &[field!("nsdname", Name)],
        RecordType::CNAME => &[field!("cname", Name)],
        RecordType::DNAME => NAME_ONLY,
        RecordType::PTR => &[field!("ptrdname", Name)],
        RecordType::MX => PREFERENCE_NAME,
        RecordType::TXT => TXT_FIELDS,
        RecordType::SRV => &[
            field!("priority", U16),
            field!("weight", U16),
            field!("port", U16),
            field!("target", Name),
        ],
        RecordType::CAA => &[
            field!("flags", U8),
            field!("tag", CaaTag),
            field!("value", Octets),
        ],
        RecordType::SOA => &[
            field!("mname", Name),
            field!("rname", Name),
            field!("serial", U32),
            field!("refresh", Period),
            field!("retry", Period),
            field!("expire", Period),
            field!("minimum", Period),
        ],
        RecordType::NAPTR => &[
            field!("order", U16),
            field!("preference", U16),
            field!("flags", CharString),
            field!("services", CharString),
            field!("regexp", CharString),
            field!("replacement", Name),
        ],
        RecordType::HINFO => &[field!("cpu", CharString), field!("os", CharString)],
        RecordType::DS | RecordType::CDS => DS_FIELDS,
        RecordType::DNSKEY | RecordType::CDNSKEY => DNSKEY_FIELDS,
        RecordType::RRSIG => &[
            field!("type-covered", Type),
            field!("algorithm", Algorithm),
            field!("labels", U8),
            field!("original-ttl", U32),
            field!("signature-expiration", Time),
            field!("signature-inception", Time),
            field!("key-tag", U16),
            field!("signer-name", Name),
            field!("signature", Base64),
        ],
        RecordType::NSEC => &[
            field!("next-domain-name", Name),
            field!("types", TypeBitmap),
        ],
        RecordType::NSEC3 => &[
            field!("hash-algorithm", U8),
            field!("flags", U8),
            field!("iterations", U16),
            field!("salt", Salt),
            field!("next-hashed-owner-name", Base32Hex),
            field!("types", TypeBitmap),
        ],
        RecordType::NSEC3PARAM => &[
            field!("hash-algorithm", U8),
            field!("flags", U8),
            field!("iterations", U16),
            field!("salt", Salt),
        ],
        RecordType::SSHFP => &[
            field!("algorithm", U8),
            field!("fingerprint-type", U8),
            field!("fingerprint", Hex),
        ],
        RecordType::TLSA | RecordType::SMIMEA => TLSA_FIELDS,
        RecordType::CERT => &[
            field!("type", CertType),
            field!("key-tag", U16),
            field!("algorithm", Algorithm),
            field!("certificate", Base64),
        ],
        RecordType::OPENPGPKEY => &[field!("public-key", Base64)],
        RecordType::CSYNC => &[
            field!("soa-serial", U32),
            field!("flags", U16),
            field!("types", TypeBitmap),
        ],
        // Types hickory has no RDATA for: they become RData::Unknown.
        RecordType::Unknown(17) => &[field!("mbox-dname", Name), field!("txt-dname", Name)],
        RecordType::Unknown(18) => &[field!("subtype", U16), field!("hostname", Name)],
        RecordType::Unknown(36) => PREFERENCE_NAME,
        RecordType::Unknown(99) => TXT_FIELDS,
        RecordType::Unknown(256) => &[
            field!("priority", U16),
            field!("weight", U16),
            field!("target", Octets),
        ],
        _ => return None,
    };
    Some(fields)
}

/// DNSSEC algorithm mnemonics (IANA "DNS Security Algorithm Numbers").
const ALGORITHM_MNEMONICS: &[(&str, u8)] = &[
    ("RSAMD5", 1),
    ("DH", 2),
    ("DSA", 3),
    ("RSASHA1", 5),
    ("DSA-NSEC3-SHA1", 6),
    ("RSASHA1-NSEC3-SHA1", 7),
    ("RSASHA256", 8),
    ("RSASHA512", 10),
    ("ECC-GOST", 12),
    ("ECDSAP256SHA256", 13),
    ("ECDSAP384SHA384", 14),
    ("ED25519", 15),
    ("ED448", 16),
    ("INDIRECT", 252),
    ("PRIVATEDNS", 253),
    ("PRIVATEOID", 254),
];

/// CERT type mnemonics (RFC 4398 section 2.1).
const CERT_TYPE_MNEMONICS: &[(&str, u16)] = &[
    ("PKIX", 1),
    ("SPKI", 2),
    ("PGP", 3),
    ("IPKIX", 4),
    ("ISPKI", 5),
    ("IPGP", 6),
    ("ACPKIX", 7),
    ("IACPKIX", 8),
    ("URI", 253),
    ("OID", 254),
];

fn lookup_mnemonic<T: Copy>(table: &[(&str, T)], text: &str) -> Option<T> {
    table
        .iter()
        .find(|(mnemonic, _)| mnemonic.eq_ignore_ascii_case(text))
        .map(|&(_, value)| value)
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Parses the RDATA of one record of type `rtype` from its presentation text
/// (everything after the type on a master-file line, already joined across
/// parentheses, comments removed) with relative names completed by `origin`.
/// Also accepts RFC 3597 generic syntax `\# <len> <hex...>` for every type
/// (known types are decoded from the wire bytes with hickory; unknown ones
/// become [`RData::Unknown`]).
pub fn parse_rdata(rtype: RecordType, text: &str, origin: &Name) -> Result<RData, RdataError> {
    let tokens = tokenize(text)?;
    let start = tokens.first().map_or(0, |t| t.offset);
    let end = tokens.last().map_or(0, Token::end);
    let mnemonic = type_mnemonic(rtype);
    if is_meta_type(rtype) {
        return Err(RdataError::new(
            start,
            format!("{mnemonic} is a query or meta type; it cannot appear in zone data"),
        ));
    }
    if tokens.first().is_some_and(|t| !t.quoted && t.raw == "\\#") {
        let wire = parse_generic(&tokens, end)?;
        return rdata_from_generic(rtype, &wire).map_err(|message| RdataError::new(start, message));
    }
    if matches!(rtype, RecordType::SVCB | RecordType::HTTPS) {
        return parse_svcb(rtype, &tokens, origin, end);
    }
    let Some(fields) = schema(rtype) else {
        let what = if TYPE_MNEMONICS.iter().any(|&(m, _)| m == mnemonic) {
            format!("record type {mnemonic} has no presentation format in fedns")
        } else {
            format!("unknown record type {mnemonic}")
        };
        return Err(RdataError::new(
            start,
            format!("{what}: use RFC 3597 syntax \\# <length> <hex>"),
        ));
    };
    let context = Context { rtype, origin };
    let wire = context.parse_fields(fields, &tokens, end)?;
    decode_wire(rtype, &wire)
        .map_err(|e| RdataError::new(start, format!("invalid {mnemonic} data: {e}")))
}

/// [`append_rdata_wire`] into a vector of its own (the tests' form).
#[cfg(test)]
pub(crate) fn parse_rdata_wire(
    rtype: RecordType,
    tokens: &[Token],
    origin: &Name,
    end: usize,
) -> Option<Result<Vec<u8>, RdataError>> {
    let mut wire = Vec::new();
    let appended = append_rdata_wire(rtype, tokens, origin, end, &mut wire)?;
    Some(appended.map(|()| wire))
}

/// The types [`append_rdata_wire`] takes: their wire form is what the field
/// parsers write, with nothing for hickory to check or reorder.
const WIRE_FROM_FIELDS: [RecordType; 10] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::NS,
    RecordType::CNAME,
    RecordType::DNAME,
    RecordType::PTR,
    RecordType::MX,
    RecordType::SRV,
    RecordType::TXT,
    RecordType::SOA,
];

/// Appends the RDATA of `rtype` read from `tokens` (their offsets kept in
/// errors; `end` is where the record's text ends) to `wire`, straight to
/// uncompressed wire form, for the types whose wire form the field parsers
/// alone decide: no hickory `RData` is made, so a zone's bulk (addresses,
/// names, SRV, TXT) loads without one (issue 18). The bytes are the ones
/// [`parse_rdata`] followed by hickory's encoder would give; the tests hold
/// the two paths to that. `None` for every other type, and for RFC 3597
/// `\#` syntax: the caller takes [`parse_rdata`] then. (The master-file
/// parser writes a record's owner and RDATA into one buffer this way.)
pub(crate) fn append_rdata_wire(
    rtype: RecordType,
    tokens: &[Token],
    origin: &Name,
    end: usize,
    wire: &mut Vec<u8>,
) -> Option<Result<(), RdataError>> {
    if !WIRE_FROM_FIELDS.contains(&rtype)
        || tokens.first().is_some_and(|t| !t.quoted && t.raw == "\\#")
    {
        return None;
    }
    let fields = schema(rtype)?;
    let context = Context { rtype, origin };
    Some(context.append_fields(fields, tokens, end, wire))
}

/// What field parsers need to know besides the token.
struct Context<'a> {
    rtype: RecordType,
    origin: &'a Name,
}

impl Context<'_> {
    /// The type's mnemonic, for error messages (made only when one is).
    fn mnemonic(&self) -> String {
        type_mnemonic(self.rtype)
    }

    /// Encodes `tokens` field by field into RDATA wire form.
    fn parse_fields(
        &self,
        fields: &[Field],
        tokens: &[Token],
        end: usize,
    ) -> Result<Vec<u8>, RdataError> {
        let mut wire = Vec::new();
        self.append_fields(fields, tokens, end, &mut wire)?;
        Ok(wire)
    }

    /// [`Context::parse_fields`], appending the RDATA to `wire`.
    fn append_fields(
        &self,
        fields: &[Field],
        tokens: &[Token],
        end: usize,
        wire: &mut Vec<u8>,
    ) -> Result<(), RdataError> {
        let start = wire.len();
        let min: usize = fields.iter().map(|f| f.kind.min_tokens()).sum();
        if tokens.len() < min {
            return Err(RdataError::new(
                end,
                self.count_message(fields, tokens.len()),
            ));
        }
        let mut rest = tokens;
        for field in fields {
            if field.kind.is_rest() {
                self.parse_rest(field, rest, wire)?;
                rest = &[];
            } else {
                let (token, tail) = rest.split_first().ok_or_else(|| {
                    RdataError::new(end, self.count_message(fields, tokens.len()))
                })?;
                self.parse_one(field, token, wire)?;
                rest = tail;
            }
        }
        if let Some(extra) = rest.first() {
            return Err(RdataError::new(
                extra.offset,
                format!(
                    "unexpected '{}' after the last {} field ({})",
                    extra.raw,
                    self.mnemonic(),
                    self.usage(fields)
                ),
            ));
        }
        if wire.len() - start > MAX_RDATA_LEN {
            return Err(RdataError::new(
                tokens.first().map_or(0, |t| t.offset),
                format!(
                    "{} RDATA is {} octets long; at most {MAX_RDATA_LEN} are allowed",
                    self.mnemonic(),
                    wire.len() - start
                ),
            ));
        }
        Ok(())
    }

    /// "SRV needs 4 fields: priority weight port target; got 3".
    fn count_message(&self, fields: &[Field], got: usize) -> String {
        let min: usize = fields.iter().map(|f| f.kind.min_tokens()).sum();
        let at_least = if fields.iter().any(|f| f.kind.is_rest()) {
            "at least "
        } else {
            ""
        };
        let plural = if min == 1 { "" } else { "s" };
        format!(
            "{} needs {at_least}{min} field{plural}: {}; got {got}",
            self.mnemonic(),
            self.field_names(fields)
        )
    }

    fn usage(&self, fields: &[Field]) -> String {
        format!("{} {}", self.mnemonic(), self.field_names(fields))
    }

    fn field_names(&self, fields: &[Field]) -> String {
        fields
            .iter()
            .map(|f| {
                if f.kind.is_rest() {
                    format!("{}...", f.name)
                } else {
                    f.name.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn error(&self, token: &Token, field: &Field, problem: impl std::fmt::Display) -> RdataError {
        RdataError::new(
            token.offset,
            format!("{} {} {problem}", self.mnemonic(), field.name),
        )
    }

    fn number<T: std::str::FromStr>(
        &self,
        token: &Token,
        field: &Field,
        max: u64,
    ) -> Result<T, RdataError> {
        parse_decimal(&token.text_str()).ok_or_else(|| {
            self.error(
                token,
                field,
                format!("must be a number from 0 to {max}, got '{}'", token.raw),
            )
        })
    }

    /// Encodes one single-token field.
    fn parse_one(
        &self,
        field: &Field,
        token: &Token,
        wire: &mut Vec<u8>,
    ) -> Result<(), RdataError> {
        let text = token.text_str();
        match field.kind {
            Kind::U8 => wire.push(self.number::<u8>(token, field, u8::MAX.into())?),
            Kind::U16 => wire.extend(
                self.number::<u16>(token, field, u16::MAX.into())?
                    .to_be_bytes(),
            ),
            Kind::U32 => wire.extend(
                self.number::<u32>(token, field, u32::MAX.into())?
                    .to_be_bytes(),
            ),
            Kind::Period => {
                let seconds = parse_period(&text).map_err(|e| self.error(token, field, e))?;
                wire.extend(seconds.to_be_bytes());
            }
            Kind::Ipv4 => wire.extend(self.ipv4(token, field, &text)?.octets()),
            Kind::Ipv6 => wire.extend(self.ipv6(token, field, &text)?.octets()),
            Kind::Name => push_name_token(wire, token, self.origin)
                .map_err(|e| self.error(token, field, format!("is invalid: {e}")))?,
            Kind::CharString => {
                self.check_character_string(token, field)?;
                push_prefixed(wire, &token.text);
            }
            Kind::Octets => wire.extend_from_slice(&token.text),
            Kind::CaaTag => {
                let valid = (1..=15).contains(&token.text.len())
                    && token.text.iter().all(u8::is_ascii_alphanumeric);
                if !valid {
                    return Err(self.error(
                        token,
                        field,
                        format!("must be 1 to 15 letters and digits (like issue, issuewild, iodef), got '{}'", token.raw),
                    ));
                }
                push_prefixed(wire, &token.text);
            }
            Kind::Algorithm => {
                let algorithm = match lookup_mnemonic(ALGORITHM_MNEMONICS, &text) {
                    Some(a) => a,
                    None => self.number::<u8>(token, field, u8::MAX.into())?,
                };
                wire.push(algorithm);
            }
            Kind::CertType => {
                let cert_type = match lookup_mnemonic(CERT_TYPE_MNEMONICS, &text) {
                    Some(t) => t,
                    None => self.number::<u16>(token, field, u16::MAX.into())?,
                };
                wire.extend(cert_type.to_be_bytes());
            }
            Kind::Type => {
                let rtype = parse_record_type(&text).ok_or_else(|| {
                    self.error(
                        token,
                        field,
                        format!("is not a record type: '{}'", token.raw),
                    )
                })?;
                wire.extend(u16::from(rtype).to_be_bytes());
            }
            Kind::Time => {
                let time = parse_time(&text).ok_or_else(|| {
                    self.error(
                        token,
                        field,
                        format!(
                            "must be YYYYMMDDHHmmSS or seconds since 1970, got '{}'",
                            token.raw
                        ),
                    )
                })?;
                wire.extend(time.to_be_bytes());
            }
            Kind::Salt => {
                let salt = if text == "-" {
                    Some(Vec::new())
                } else {
                    hex_decode(&text)
                };
                let salt = salt
                    .filter(|s| s.len() <= MAX_CHARACTER_STRING_LEN)
                    .ok_or_else(|| {
                        self.error(
                            token,
                            field,
                            format!(
                                "must be '-' or up to 255 octets in hex, got '{}'",
                                token.raw
                            ),
                        )
                    })?;
                push_prefixed(wire, &salt);
            }
            Kind::Base32Hex => {
                let hash = base32hex_decode(&text)
                    .filter(|h| !h.is_empty() && h.len() <= MAX_CHARACTER_STRING_LEN)
                    .ok_or_else(|| {
                        self.error(
                            token,
                            field,
                            format!("must be base32hex, got '{}'", token.raw),
                        )
                    })?;
                push_prefixed(wire, &hash);
            }
            Kind::CharStrings | Kind::Hex | Kind::Base64 | Kind::TypeBitmap => {
                self.parse_rest(field, std::slice::from_ref(token), wire)?;
            }
        }
        Ok(())
    }

    fn ipv4(&self, token: &Token, field: &Field, text: &str) -> Result<Ipv4Addr, RdataError> {
        if let Some(address) = ipv4_plain(text) {
            return Ok(address);
        }
        text.parse().map_err(|_| {
            let got = if text.parse::<Ipv6Addr>().is_ok() {
                "an IPv6 address"
            } else {
                "something else"
            };
            self.error(
                token,
                field,
                format!("expected an IPv4 address, got {got}: '{}'", token.raw),
            )
        })
    }

    fn ipv6(&self, token: &Token, field: &Field, text: &str) -> Result<Ipv6Addr, RdataError> {
        if let Some(address) = ipv6_plain(text) {
            return Ok(address);
        }
        text.parse().map_err(|_| {
            let got = if text.parse::<Ipv4Addr>().is_ok() {
                "an IPv4 address (use an A record)"
            } else {
                "something else"
            };
            self.error(
                token,
                field,
                format!("expected an IPv6 address, got {got}: '{}'", token.raw),
            )
        })
    }

    fn check_character_string(&self, token: &Token, field: &Field) -> Result<(), RdataError> {
        if token.text.len() > MAX_CHARACTER_STRING_LEN {
            return Err(self.error(
                token,
                field,
                format!(
                    "string is {} octets long; a character-string holds at most {MAX_CHARACTER_STRING_LEN} (split it into several quoted strings)",
                    token.text.len()
                ),
            ));
        }
        Ok(())
    }

    /// Encodes a field that takes all remaining tokens.
    fn parse_rest(
        &self,
        field: &Field,
        tokens: &[Token],
        wire: &mut Vec<u8>,
    ) -> Result<(), RdataError> {
        match field.kind {
            Kind::CharStrings => {
                for token in tokens {
                    self.check_character_string(token, field)?;
                    push_prefixed(wire, &token.text);
                }
            }
            Kind::Hex => wire.extend(self.joined(field, tokens, Encoding::Hex)?),
            Kind::Base64 => wire.extend(self.joined(field, tokens, Encoding::Base64)?),
            Kind::TypeBitmap => {
                let mut types = BTreeSet::new();
                for token in tokens {
                    let rtype = parse_record_type(&token.text_str()).ok_or_else(|| {
                        self.error(
                            token,
                            field,
                            format!("must list record types, got '{}'", token.raw),
                        )
                    })?;
                    types.insert(u16::from(rtype));
                }
                wire.extend(encode_type_bitmap(&types));
            }
            _ => {
                if let Some(token) = tokens.first() {
                    self.parse_one(field, token, wire)?;
                }
            }
        }
        Ok(())
    }

    /// Decodes the concatenation of `tokens` (hex or base64 may be split by
    /// blanks); on failure points at the first token with a character
    /// outside the alphabet, else at the first token.
    fn joined(
        &self,
        field: &Field,
        tokens: &[Token],
        encoding: Encoding,
    ) -> Result<Vec<u8>, RdataError> {
        let text: String = tokens.iter().map(Token::text_str).collect();
        encoding.decode(&text).ok_or_else(|| {
            let culprit = tokens
                .iter()
                .find(|t| !t.text.iter().all(|&b| encoding.is_digit(b)))
                .or_else(|| tokens.first());
            RdataError::new(
                culprit.map_or(0, |t| t.offset),
                format!(
                    "{} {} is not valid {}",
                    self.mnemonic(),
                    field.name,
                    encoding.name()
                ),
            )
        })
    }
}

/// The binary-to-text encodings a field can use for its rest of RDATA.
#[derive(Clone, Copy)]
enum Encoding {
    Hex,
    Base64,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Hex => "hexadecimal",
            Encoding::Base64 => "base64",
        }
    }

    fn is_digit(self, b: u8) -> bool {
        match self {
            Encoding::Hex => b.is_ascii_hexdigit(),
            Encoding::Base64 => b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='),
        }
    }

    fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex_decode(text),
            Encoding::Base64 => base64_decode(text),
        }
    }
}

fn push_prefixed(wire: &mut Vec<u8>, bytes: &[u8]) {
    // Callers have checked that `bytes` fits in a length octet.
    wire.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
    wire.extend_from_slice(bytes);
}

pub(crate) fn push_name(wire: &mut Vec<u8>, name: &Name) {
    for label in name.iter() {
        push_prefixed(wire, label);
    }
    wire.push(0);
}

/// Encodes a set of type codes as an RFC 4034 section 4.1.2 type bitmap.
fn encode_type_bitmap(types: &BTreeSet<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut window: Option<(u8, Vec<u8>)> = None;
    for &code in types {
        let [high, low] = code.to_be_bytes();
        if let Some((w, bits)) = window.take_if(|(w, _)| *w != high) {
            out.push(w);
            push_prefixed(&mut out, &bits);
        }
        let (_, bits) = window.get_or_insert_with(|| (high, Vec::new()));
        let index = usize::from(low / 8);
        if bits.len() <= index {
            bits.resize(index + 1, 0);
        }
        bits[index] |= 0x80 >> (low % 8);
    }
    if let Some((w, bits)) = window {
        out.push(w);
        push_prefixed(&mut out, &bits);
    }
    out
}

/// Reads the RFC 3597 form after `\#`: a length, then hex.
fn parse_generic(tokens: &[Token], end: usize) -> Result<Vec<u8>, RdataError> {
    let Some(length_token) = tokens.get(1) else {
        return Err(RdataError::new(
            end,
            "RFC 3597 data needs a length after \\#, then the data in hex",
        ));
    };
    let length: u16 = parse_decimal(&length_token.text_str()).ok_or_else(|| {
        RdataError::new(
            length_token.offset,
            format!(
                "RFC 3597 length must be a number from 0 to 65535, got '{}'",
                length_token.raw
            ),
        )
    })?;
    let hex_tokens = tokens.get(2..).unwrap_or_default();
    let hex: String = hex_tokens.iter().map(Token::text_str).collect();
    let data = hex_decode(&hex).ok_or_else(|| {
        RdataError::new(
            hex_tokens.first().map_or(end, |t| t.offset),
            "RFC 3597 data is not valid hexadecimal",
        )
    })?;
    if data.len() != usize::from(length) {
        return Err(RdataError::new(
            length_token.offset,
            format!(
                "RFC 3597 length says {length} octets but the data has {}",
                data.len()
            ),
        ));
    }
    Ok(data)
}

/// Decodes generic RDATA; for types with a field table that hickory stores
/// as opaque bytes (DNAME, RP, ...) the bytes must also fit the table.
fn rdata_from_generic(rtype: RecordType, wire: &[u8]) -> Result<RData, String> {
    let mnemonic = type_mnemonic(rtype);
    let rdata = decode_wire(rtype, wire).map_err(|e| format!("invalid {mnemonic} data: {e}"))?;
    let opaque = matches!(rdata, RData::Unknown { .. });
    let fits = schema(rtype).is_none_or(|fields| format_fields(fields, wire).is_some());
    if opaque && !fits {
        return Err(format!("invalid {mnemonic} data in RFC 3597 form"));
    }
    Ok(rdata)
}

/// Decodes RDATA wire bytes with hickory.
fn decode_wire(rtype: RecordType, wire: &[u8]) -> Result<RData, String> {
    let length = u16::try_from(wire.len())
        .map_err(|_| format!("RDATA is longer than {MAX_RDATA_LEN} octets"))?;
    let mut decoder = BinDecoder::new(wire);
    RData::read(&mut decoder, rtype, Restrict::new(length)).map_err(|e| e.to_string())
}

/// SVCB and HTTPS (RFC 9460): the target name is parsed here (hickory's
/// parser has no origin), the parameters by hickory; they are then sorted
/// into key order, which the wire form requires and the text form does not.
fn parse_svcb(
    rtype: RecordType,
    tokens: &[Token],
    origin: &Name,
    end: usize,
) -> Result<RData, RdataError> {
    let mnemonic = type_mnemonic(rtype);
    let [priority, target, params @ ..] = tokens else {
        return Err(RdataError::new(
            end,
            format!(
                "{mnemonic} needs at least 2 fields: priority target params...; got {}",
                tokens.len()
            ),
        ));
    };
    let target_name = parse_name_token(target, origin).map_err(|e| {
        RdataError::new(target.offset, format!("{mnemonic} target is invalid: {e}"))
    })?;
    // The root stands in for the target, which is set afterwards.
    let text = [priority.raw.as_ref(), "."]
        .into_iter()
        .chain(params.iter().map(|t| t.raw.as_ref()))
        .collect::<Vec<_>>()
        .join(" ");
    let invalid =
        |e: String| RdataError::new(priority.offset, format!("invalid {mnemonic} data: {e}"));
    let complete = |mut svcb: SVCB| {
        svcb.target_name = target_name.clone();
        sort_svc_params(svcb).map_err(invalid)
    };
    let rdata = match RData::try_from_str(rtype, &text).map_err(|e| invalid(e.to_string()))? {
        RData::SVCB(svcb) => RData::SVCB(complete(svcb)?),
        RData::HTTPS(HTTPS(svcb)) => RData::HTTPS(HTTPS(complete(svcb)?)),
        other => other,
    };
    // Round-trip through the wire form so that only encodable data passes.
    let wire = emit_rdata(&rdata).map_err(|e| invalid(format!("cannot be encoded: {e}")))?;
    decode_wire(rtype, &wire).map_err(invalid)
}

fn sort_svc_params(mut svcb: SVCB) -> Result<SVCB, String> {
    svcb.svc_params.sort_by_key(|(key, _)| *key);
    if let Some(pair) = svcb.svc_params.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!("key {} appears more than once", pair[0].0));
    }
    Ok(svcb)
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// Formats RDATA in presentation format that [`parse_rdata`] reads back to
/// the same value (absolute names, TXT strings quoted and escaped, unknown
/// types in RFC 3597 form).
pub fn format_rdata(rdata: &RData) -> String {
    let Ok(wire) = emit_rdata(rdata) else {
        // Only RDATA hickory cannot encode gets here; parse_rdata never
        // produces such values.
        let mut text = String::new();
        let _ = std::fmt::Write::write_fmt(&mut text, format_args!("{rdata}"));
        return text;
    };
    schema(rdata.record_type())
        .and_then(|fields| format_fields(fields, &wire))
        .unwrap_or_else(|| format_generic(&wire))
}

/// `\# <length> <hex>` (RFC 3597 section 5).
fn format_generic(wire: &[u8]) -> String {
    if wire.is_empty() {
        "\\# 0".to_owned()
    } else {
        format!("\\# {} {}", wire.len(), hex_encode(wire))
    }
}

/// `rdata` in uncompressed wire form, case kept, as hickory-proto emits
/// it: the form a [`SourcedRecord`](super::SourcedRecord) keeps.
pub(crate) fn emit_rdata(rdata: &RData) -> Result<Vec<u8>, String> {
    // Addresses, the bulk of big zones and transfers, need no encoder.
    match rdata {
        RData::A(a) => return Ok(a.0.octets().to_vec()),
        RData::AAAA(aaaa) => return Ok(aaaa.0.octets().to_vec()),
        _ => {}
    }
    let mut wire = Vec::with_capacity(32);
    let mut encoder = BinEncoder::new(&mut wire);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    rdata.emit(&mut encoder).map_err(|e| e.to_string())?;
    Ok(wire)
}

/// Appends the wire form of RDATA text of `rtype` (errors at character
/// offsets of `text`) to `wire`, which is left as it was on an error:
/// [`append_rdata_wire`] for the types it takes, else [`parse_rdata`] and
/// hickory's encoder. `tokens` is a buffer for the words of `text`, kept
/// from call to call (see [`recycle_tokens`]).
pub(crate) fn append_rdata_text_wire(
    rtype: RecordType,
    text: &str,
    origin: &Name,
    wire: &mut Vec<u8>,
    tokens: &mut Vec<Token<'static>>,
) -> Result<(), RdataError> {
    let start = wire.len();
    // One plain word (an address, a name) is its own token.
    let (direct, first) = if !text.is_empty()
        && text
            .bytes()
            .all(|b| BYTE_CLASS[usize::from(b)] == PLAIN && b.is_ascii())
    {
        let word = Token::plain(text, 0);
        let direct = append_rdata_wire(rtype, std::slice::from_ref(&word), origin, word.end, wire);
        (direct, 0)
    } else {
        let mut words = recycle_tokens(std::mem::take(tokens));
        tokenize_into(text, &mut words)?;
        let end = words.last().map_or(0, Token::end);
        let first = words.first().map_or(0, |t| t.offset);
        let direct = append_rdata_wire(rtype, &words, origin, end, wire);
        *tokens = recycle_tokens(words);
        (direct, first)
    };
    if let Some(appended) = direct {
        if appended.is_err() {
            wire.truncate(start);
        }
        return appended;
    }
    let rdata = parse_rdata(rtype, text, origin)?;
    let encoded = emit_rdata(&rdata)
        .map_err(|e| RdataError::new(first, format!("cannot be encoded: {e}")))?;
    wire.extend_from_slice(&encoded);
    Ok(())
}

/// Writes `wire` field by field; `None` when it does not fit the table (or
/// would not read back), in which case the caller uses the generic form.
fn format_fields(fields: &[Field], wire: &[u8]) -> Option<String> {
    let mut cursor = Cursor { bytes: wire };
    let mut parts = Vec::new();
    for field in fields {
        format_field(field.kind, &mut cursor, &mut parts)?;
    }
    cursor.bytes.is_empty().then(|| parts.join(" "))
}

fn format_field(kind: Kind, cursor: &mut Cursor<'_>, parts: &mut Vec<String>) -> Option<()> {
    let part = match kind {
        Kind::U8 | Kind::Algorithm => cursor.u8()?.to_string(),
        Kind::U16 | Kind::CertType => cursor.u16()?.to_string(),
        Kind::U32 | Kind::Period => cursor.u32()?.to_string(),
        Kind::Ipv4 => Ipv4Addr::from(<[u8; 4]>::try_from(cursor.take(4)?).ok()?).to_string(),
        Kind::Ipv6 => Ipv6Addr::from(<[u8; 16]>::try_from(cursor.take(16)?).ok()?).to_string(),
        Kind::Name => cursor.name()?,
        Kind::CharString => quote(cursor.prefixed()?),
        Kind::Octets => quote(cursor.rest()),
        Kind::CaaTag => {
            let tag = cursor.prefixed()?;
            let valid = (1..=15).contains(&tag.len()) && tag.iter().all(u8::is_ascii_alphanumeric);
            valid.then(|| String::from_utf8_lossy(tag).into_owned())?
        }
        Kind::Type => type_mnemonic(RecordType::from(cursor.u16()?)),
        Kind::Time => format_time(cursor.u32()?),
        Kind::Salt => match cursor.prefixed()? {
            [] => "-".to_owned(),
            salt => hex_encode(salt),
        },
        Kind::Base32Hex => {
            let hash = cursor.prefixed()?;
            (!hash.is_empty()).then(|| base32hex_encode(hash))?
        }
        Kind::CharStrings => {
            if cursor.bytes.is_empty() {
                return None;
            }
            while !cursor.bytes.is_empty() {
                parts.push(quote(cursor.prefixed()?));
            }
            return Some(());
        }
        Kind::Hex => {
            let data = cursor.rest();
            (!data.is_empty()).then(|| hex_encode(data))?
        }
        Kind::Base64 => {
            let data = cursor.rest();
            (!data.is_empty()).then(|| base64_encode(data))?
        }
        Kind::TypeBitmap => {
            parts.extend(
                decode_type_bitmap(cursor.rest())?
                    .into_iter()
                    .map(type_mnemonic),
            );
            return Some(());
        }
    };
    parts.push(part);
    Some(())
}

/// A `"quoted"` character-string: `"` and `\` escaped, bytes outside
/// printable ASCII as `\DDD`.
fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// Decodes an RFC 4034 section 4.1.2 type bitmap; `None` if malformed.
fn decode_type_bitmap(mut bytes: &[u8]) -> Option<Vec<RecordType>> {
    let mut types = Vec::new();
    let mut last_window: Option<u8> = None;
    while let [window, length, rest @ ..] = bytes {
        let length = usize::from(*length);
        if !(1..=32).contains(&length) || last_window.is_some_and(|w| w >= *window) {
            return None;
        }
        let bits = rest.get(..length)?;
        for (index, byte) in bits.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    let code = (u16::from(*window) << 8) | (index * 8 + bit) as u16;
                    types.push(RecordType::from(code));
                }
            }
        }
        last_window = Some(*window);
        bytes = rest.get(length..)?;
    }
    bytes.is_empty().then_some(types)
}

/// Reads RDATA wire fields front to back.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.bytes.split_at_checked(n)?;
        self.bytes = tail;
        Some(head)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn prefixed(&mut self) -> Option<&'a [u8]> {
        let length = self.u8()?;
        self.take(usize::from(length))
    }

    /// An uncompressed name, in presentation format.
    fn name(&mut self) -> Option<String> {
        let mut out = String::new();
        let mut wire_len = 1;
        loop {
            let length = usize::from(self.u8()?);
            if length == 0 {
                break;
            }
            if length > MAX_LABEL_LEN {
                return None;
            }
            wire_len += length + 1;
            push_label(&mut out, self.take(length)?);
            out.push('.');
        }
        if wire_len > MAX_NAME_LEN {
            return None;
        }
        if out.is_empty() {
            out.push('.');
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SRV, TXT};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn recycled_tokens_keep_their_buffer() {
        let text = String::from("a b c");
        let tokens = tokenize(&text).unwrap();
        let (buffer, capacity) = (tokens.as_ptr() as usize, tokens.capacity());
        let recycled: Vec<Token<'static>> = recycle_tokens(tokens);
        drop(text);
        assert!(recycled.is_empty());
        assert_eq!(recycled.as_ptr() as usize, buffer);
        assert_eq!(recycled.capacity(), capacity);
    }

    #[test]
    fn ascii_text_tokenizes_as_characters_would() {
        for text in [
            "host00042 3600 IN A 192.0.2.1 ; a comment",
            "\"quoted \\\"text\\\"\" (\n  plain\\032word\\. ) last",
            "a\\",
            "\"unterminated",
            "\\256 bad",
            "a..b",
            ".a",
            "host.example.",
            "_matrix-fed._tcp",
            "x123456789012345678901234567890123456789012345678901234567890abcd.y",
        ] {
            let chars: Vec<char> = text.chars().collect();
            assert_eq!(tokenize(text), tokenize_in(&chars, None), "{text:?}");
            assert_eq!(
                tokenize(text),
                tokenize_in(text.as_bytes(), Some(text)),
                "{text:?}"
            );
            let printable = text.bytes().all(|b| b > b' ' && b < 0x7f && b != b'\\');
            if printable {
                let (mut plain, mut walked) = (Vec::new(), Vec::new());
                let result = push_plain_labels(&mut plain, text);
                assert_eq!(
                    result,
                    push_labels_in(&mut walked, text, &chars),
                    "{text:?}"
                );
                if result.is_ok() {
                    assert_eq!(plain, walked, "{text:?}");
                }
            }
            let (mut bytes, mut walked) = (Vec::new(), Vec::new());
            assert_eq!(
                push_labels_in(&mut bytes, text, text.as_bytes()),
                push_labels_in(&mut walked, text, &chars),
                "{text:?}"
            );
            assert_eq!(bytes, walked, "{text:?}");
        }
        // Offsets stay character offsets when the text is not ASCII.
        let tokens = tokenize("\"é\" x").expect("tokens");
        assert_eq!((tokens[1].offset, tokens[1].raw.as_ref()), (4, "x"));
    }

    #[test]
    fn plain_address_readers_leave_the_odd_forms_to_the_standard_library() {
        for text in ["01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "", "1..2.3"] {
            assert_eq!(ipv4_plain(text), None, "{text}");
        }
        for text in [
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "12345::",
            "1:",
            ":1",
            "fe80::1%eth0",
            "1:2:3:4:5:6:7:8::",
        ] {
            assert_eq!(ipv6_plain(text), None, "{text}");
        }
        for text in [
            "::",
            "::1",
            "1::",
            "2001:db8::53",
            "1:2:3:4:5:6:7::",
            "0:0:0:0:0:0:0:0",
        ] {
            assert_eq!(ipv6_plain(text), text.parse().ok(), "{text}");
        }
    }

    #[test]
    fn zone_bulk_reads_straight_to_the_wire_hickory_would_write() {
        for (rtype, text) in [
            (RecordType::A, "198.18.0.1"),
            (RecordType::AAAA, "2001:db8:1::1:ffff"),
            (RecordType::NS, "ns1"),
            (RecordType::NS, "Ns1.Example.NET."),
            (RecordType::CNAME, "@"),
            (RecordType::DNAME, "."),
            (RecordType::PTR, "a\\.b.c"),
            (RecordType::MX, "10 mail"),
            (RecordType::SRV, "10 0 8448 host0"),
            (RecordType::TXT, "\"v=spf1 -all\" more \"\" \\065"),
            (RecordType::SOA, "ns1 hostmaster 1 2h 15m 2w 300"),
        ] {
            let tokens = tokenize(text).unwrap();
            let end = tokens.last().map_or(0, Token::end);
            let direct = parse_rdata_wire(rtype, &tokens, &origin(), end)
                .expect("a direct type")
                .unwrap_or_else(|e| panic!("{rtype} {text}: {e}"));
            assert_eq!(
                Some(direct),
                emit_rdata(&parse(rtype, text)).ok(),
                "{rtype} {text}"
            );
        }
        // Other types, and RFC 3597 syntax, take the full path.
        let generic = tokenize("\\# 4 c6120001").unwrap();
        assert!(parse_rdata_wire(RecordType::A, &generic, &origin(), 0).is_none());
        let caa = tokenize("0 issue \"ca.test\"").unwrap();
        assert!(parse_rdata_wire(RecordType::CAA, &caa, &origin(), 0).is_none());
    }

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn origin() -> Name {
        name("example.test.")
    }

    fn parse(rtype: RecordType, text: &str) -> RData {
        parse_rdata(rtype, text, &origin()).unwrap_or_else(|e| panic!("{rtype} {text:?}: {e}"))
    }

    fn error(rtype: RecordType, text: &str) -> RdataError {
        match parse_rdata(rtype, text, &origin()) {
            Ok(rdata) => panic!("{rtype} {text:?} parsed as {rdata:?}"),
            Err(e) => e,
        }
    }

    /// Asserts an error at `offset` whose message contains `needle`.
    fn assert_error(rtype: RecordType, text: &str, offset: usize, needle: &str) {
        let e = error(rtype, text);
        assert_eq!(e.offset, offset, "{rtype} {text:?}: {e}");
        assert!(
            e.message.contains(needle),
            "{rtype} {text:?}: {e} lacks {needle:?}"
        );
    }

    fn wire(rdata: &RData) -> Vec<u8> {
        emit_rdata(rdata).unwrap()
    }

    /// format_rdata then parse_rdata gives the same value and wire form.
    fn assert_round_trip(rdata: &RData) {
        let text = format_rdata(rdata);
        let back = parse_rdata(rdata.record_type(), &text, &Name::root())
            .unwrap_or_else(|e| panic!("{text:?} does not read back: {e}"));
        assert_eq!(&back, rdata, "{text}");
        assert_eq!(wire(&back), wire(rdata), "{text}");
    }

    /// Parses, checks the formatted text and the round trip.
    fn assert_parses_to_text(rtype: RecordType, text: &str, formatted: &str) -> RData {
        let rdata = parse(rtype, text);
        assert_eq!(rdata.record_type(), rtype);
        assert_eq!(format_rdata(&rdata), formatted);
        assert_round_trip(&rdata);
        rdata
    }

    // --- tokens -----------------------------------------------------------

    #[test]
    fn tokenize_splits_words_and_quoted_strings() {
        let tokens = tokenize(r#"a "b c" d\ e \065 "x\"y\\z""#).unwrap();
        let summary: Vec<_> = tokens
            .iter()
            .map(|t| (t.offset, t.text.to_vec(), t.quoted, t.raw.as_ref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (0, b"a".to_vec(), false, "a"),
                (2, b"b c".to_vec(), true, r#""b c""#),
                (8, b"d e".to_vec(), false, r"d\ e"),
                (13, b"A".to_vec(), false, r"\065"),
                (18, br#"x"y\z"#.to_vec(), true, r#""x\"y\\z""#),
            ]
        );
    }

    #[test]
    fn tokenize_counts_offsets_in_characters() {
        let tokens = tokenize("äöü  b").unwrap();
        assert_eq!(tokens[0].text, "äöü".as_bytes());
        assert_eq!(tokens[1].offset, 5);
    }

    #[test]
    fn tokenize_skips_parentheses_and_comments_outside_quotes() {
        let tokens = tokenize("a ( b ; c\n d ) \"; (\"").unwrap();
        let texts: Vec<_> = tokens.iter().map(|t| t.text.to_vec()).collect();
        assert_eq!(
            texts,
            vec![b"a".to_vec(), b"b".to_vec(), b"d".to_vec(), b"; (".to_vec()]
        );
    }

    #[test]
    fn tokenize_keeps_quoted_sections_inside_a_word() {
        let tokens = tokenize(r#"alpn="h2 h3" x"#).unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[0].raw, r#"alpn="h2 h3""#);
        assert_eq!(&*tokens[0].text, b"alpn=h2 h3");
        assert!(!tokens[0].quoted);
    }

    #[test]
    fn tokenize_reports_bad_quotes_and_escapes() {
        assert_eq!(tokenize(r#"a "bc"#).unwrap_err().offset, 2);
        let e = tokenize(r"ab \25x").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(e.message.contains("three decimal digits"));
        assert!(
            tokenize(r"\256")
                .unwrap_err()
                .message
                .contains("not an octet")
        );
        assert_eq!(tokenize(r"abc\").unwrap_err().offset, 3);
    }

    // --- names ------------------------------------------------------------

    #[test]
    fn names_are_relative_to_the_origin_unless_absolute() {
        let o = origin();
        assert_eq!(parse_name("www", &o).unwrap(), name("www.example.test."));
        assert_eq!(parse_name("www.other.", &o).unwrap(), name("www.other."));
        assert_eq!(parse_name("@", &o).unwrap(), o);
        assert_eq!(parse_name(".", &o).unwrap(), Name::root());
        assert!(parse_name("a.b", &o).unwrap().is_fqdn());
        assert_eq!(parse_name("*", &o).unwrap(), name("*.example.test."));
    }

    #[test]
    fn names_keep_case_and_resolve_escapes() {
        let parsed = parse_name(r"A\.b.C\032d.", &Name::root()).unwrap();
        let labels: Vec<_> = parsed.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(labels, vec![b"A.b".to_vec(), b"C d".to_vec()]);
        assert_eq!(format_name(&parsed), r"A\.b.C\032d.");
        let odd = Name::from_labels(vec![&b"x\"y;z@$\x7f"[..]]).unwrap();
        assert_eq!(format_name(&odd), r#"x\"y\;z\@\$\127."#);
        assert_eq!(parse_name(&format_name(&odd), &Name::root()).unwrap(), odd);
    }

    #[test]
    fn names_check_labels_and_length() {
        let o = origin();
        let label63 = "a".repeat(63);
        assert!(parse_name(&label63, &o).is_ok());
        assert!(
            parse_name(&"a".repeat(64), &o)
                .unwrap_err()
                .contains("longer than 63")
        );
        let long = [label63.as_str(); 4].join(".") + ".";
        assert!(parse_name(&long, &o).unwrap_err().contains("at most 255"));
        let fits = [label63.as_str(); 3].join(".") + "." + &"b".repeat(61) + ".";
        let parsed = parse_name(&fits, &o).unwrap();
        assert_eq!(parsed.iter().map(|l| l.len() + 1).sum::<usize>() + 1, 255);
        assert!(parse_name("a..b", &o).unwrap_err().contains("empty label"));
        assert!(parse_name(".a", &o).unwrap_err().contains("empty label"));
        assert!(parse_name("", &o).unwrap_err().contains("empty"));
        assert!(parse_name("a b", &o).unwrap_err().contains("blank"));
    }

    // --- record types and numbers -------------------------------------------

    #[test]
    fn record_types_parse_case_insensitively_and_in_rfc3597_form() {
        assert_eq!(parse_record_type("a"), Some(RecordType::A));
        assert_eq!(parse_record_type("Srv"), Some(RecordType::SRV));
        assert_eq!(
            parse_record_type("nsec3param"),
            Some(RecordType::NSEC3PARAM)
        );
        assert_eq!(
            parse_record_type("TYPE65280"),
            Some(RecordType::Unknown(65280))
        );
        assert_eq!(parse_record_type("type1"), Some(RecordType::A));
        assert_eq!(parse_record_type("LOC"), Some(RecordType::Unknown(29)));
        for bad in [
            "",
            "FOO",
            "TYPE",
            "TYPE65536",
            "TYPE-1",
            "TYPE+1",
            "ANAME",
            "ä",
        ] {
            assert_eq!(parse_record_type(bad), None, "{bad}");
        }
        assert_eq!(type_mnemonic(RecordType::Unknown(65280)), "TYPE65280");
        assert_eq!(type_mnemonic(RecordType::ANAME), "TYPE65305");
        assert_eq!(type_mnemonic(RecordType::NSEC3PARAM), "NSEC3PARAM");
    }

    #[test]
    fn periods_accept_bind_units() {
        assert_eq!(parse_period("3600"), Ok(3600));
        assert_eq!(parse_period("1h"), Ok(3600));
        assert_eq!(parse_period("1H30m"), Ok(5400));
        assert_eq!(parse_period("1w2d"), Ok(777_600));
        assert_eq!(parse_period("4294967295"), Ok(u32::MAX));
        for bad in ["", "h", "1x", "1h30", "-1", "4294967296", "99999999w"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rrsig_times_convert_both_ways() {
        assert_eq!(parse_time("20030322173103"), Some(1_048_354_263));
        assert_eq!(parse_time("1048354263"), Some(1_048_354_263));
        assert_eq!(format_time(1_048_354_263), "20030322173103");
        assert_eq!(format_time(0), "19700101000000");
        assert_eq!(format_time(u32::MAX), "21060207062815");
        assert_eq!(parse_time("21060207062815"), Some(u32::MAX));
        assert_eq!(
            parse_time("20240229000000").map(format_time).as_deref(),
            Some("20240229000000")
        );
        for bad in [
            "20230229000000",
            "20231301000000",
            "20230101240000",
            "19691231235959",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn encodings_round_trip() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xde, 0xad, 0xbe, 0xef, 0x01],
        ] {
            assert_eq!(base64_decode(&base64_encode(bytes)).as_deref(), Some(bytes));
            assert_eq!(
                base32hex_decode(&base32hex_encode(bytes)).as_deref(),
                Some(bytes)
            );
            assert_eq!(hex_decode(&hex_encode(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(
            base32hex_encode(&[0xde, 0xad, 0xbe, 0xef, 0x01]),
            "rqmrtro1"
        );
        assert_eq!(
            base32hex_decode("RQMRTRO1"),
            Some(vec![0xde, 0xad, 0xbe, 0xef, 0x01])
        );
        assert_eq!(base64_decode("Zm9=vYmFy"), None);
        assert_eq!(base64_decode("Zm9"), None);
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    // --- each type ----------------------------------------------------------

    #[test]
    fn address_records() {
        assert_eq!(
            parse(RecordType::A, "192.0.2.1"),
            RData::A(A(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(
            parse(RecordType::AAAA, "2001:db8::1"),
            RData::AAAA(AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)))
        );
        assert_parses_to_text(RecordType::AAAA, "2001:DB8:0:0::1", "2001:db8::1");
        assert_error(
            RecordType::A,
            "2001:db8::1",
            0,
            "expected an IPv4 address, got an IPv6 address",
        );
        assert_error(RecordType::AAAA, "192.0.2.1", 0, "expected an IPv6 address");
        assert_error(RecordType::A, "  192.0.2", 2, "expected an IPv4 address");
        assert_error(RecordType::A, "", 0, "A needs 1 field: address; got 0");
        assert_error(
            RecordType::A,
            "192.0.2.1 192.0.2.2",
            10,
            "unexpected '192.0.2.2'",
        );
    }

    #[test]
    fn name_records_complete_relative_names() {
        assert_eq!(
            parse(RecordType::NS, "ns1"),
            RData::NS(NS(name("ns1.example.test.")))
        );
        assert_eq!(parse(RecordType::CNAME, "@"), RData::CNAME(CNAME(origin())));
        assert_eq!(
            parse(RecordType::PTR, "host.other."),
            RData::PTR(PTR(name("host.other.")))
        );
        assert_parses_to_text(RecordType::NS, "ns1", "ns1.example.test.");
        assert_error(RecordType::NS, "a..b", 0, "NS nsdname is invalid");
        assert_error(RecordType::NS, "\"quoted.\"", 0, "quoted");
    }

    #[test]
    fn dname_is_opaque_to_hickory_but_has_a_text_form() {
        let rdata = assert_parses_to_text(RecordType::DNAME, "new", "new.example.test.");
        let RData::Unknown { code, rdata: data } = &rdata else {
            panic!("{rdata:?}");
        };
        assert_eq!(*code, RecordType::DNAME);
        assert_eq!(data.anything, b"\x03new\x07example\x04test\x00");
        assert_eq!(
            parse(RecordType::DNAME, r"\# 7 036E6577 016100"),
            parse(RecordType::DNAME, "new.a.")
        );
        assert_error(RecordType::DNAME, r"\# 2 0161", 0, "invalid DNAME data");
    }

    #[test]
    fn mx_records() {
        assert_eq!(
            parse(RecordType::MX, "10 mail"),
            RData::MX(MX::new(10, name("mail.example.test.")))
        );
        assert_parses_to_text(RecordType::MX, "0 .", "0 .");
        assert_error(
            RecordType::MX,
            "70000 mail",
            0,
            "MX preference must be a number from 0 to 65535, got '70000'",
        );
        assert_error(
            RecordType::MX,
            "10",
            2,
            "MX needs 2 fields: preference exchange; got 1",
        );
    }

    #[test]
    fn txt_records() {
        let rdata = parse(RecordType::TXT, r#""hello world" bare "q\"uo\\te\059" """#);
        let RData::TXT(txt) = &rdata else {
            panic!("{rdata:?}")
        };
        let strings: Vec<&[u8]> = txt.txt_data.iter().map(|s| &**s).collect();
        assert_eq!(
            strings,
            vec![&b"hello world"[..], b"bare", br#"q"uo\te;"#, b""]
        );
        assert_eq!(
            format_rdata(&rdata),
            r#""hello world" "bare" "q\"uo\\te;" """#
        );
        assert_round_trip(&rdata);
        let binary = RData::TXT(TXT::from_bytes(vec![b"\x00\xff\n", "ä".as_bytes()]));
        assert_eq!(format_rdata(&binary), r#""\000\255\010" "\195\164""#);
        assert_round_trip(&binary);
        let long = format!("\"{}\" \"{}\"", "x".repeat(255), "y".repeat(256));
        assert_error(RecordType::TXT, &long, 258, "256 octets long");
        assert_error(
            RecordType::TXT,
            "",
            0,
            "TXT needs at least 1 field: text...; got 0",
        );
    }

    #[test]
    fn srv_records() {
        assert_eq!(
            parse(RecordType::SRV, "10 0 443 synapse"),
            RData::SRV(SRV::new(10, 0, 443, name("synapse.example.test.")))
        );
        assert_parses_to_text(RecordType::SRV, "10 0 8448 .", "10 0 8448 .");
        assert_error(
            RecordType::SRV,
            "10 0 443",
            8,
            "SRV needs 4 fields: priority weight port target; got 3",
        );
        assert_error(
            RecordType::SRV,
            "10 0 443 a. extra",
            12,
            "unexpected 'extra' after the last SRV field",
        );
        assert_error(
            RecordType::SRV,
            "10 -1 443 a.",
            3,
            "SRV weight must be a number from 0 to 65535",
        );
        assert_error(RecordType::SRV, "10 0 65536 a.", 5, "SRV port");
    }

    #[test]
    fn caa_records() {
        let rdata = assert_parses_to_text(
            RecordType::CAA,
            "0 issue \"letsencrypt.org; accounturi=https://x/1\"",
            "0 issue \"letsencrypt.org; accounturi=https://x/1\"",
        );
        let RData::CAA(caa) = &rdata else {
            panic!("{rdata:?}")
        };
        assert_eq!(caa.tag, "issue");
        assert!(!caa.issuer_critical);
        assert_parses_to_text(
            RecordType::CAA,
            "128 iodef mailto:a@b",
            "128 iodef \"mailto:a@b\"",
        );
        assert_parses_to_text(RecordType::CAA, "0 issue \"\"", "0 issue \"\"");
        assert_error(
            RecordType::CAA,
            "0 is-sue \"x\"",
            2,
            "CAA tag must be 1 to 15 letters and digits",
        );
        assert_error(RecordType::CAA, "256 issue \"x\"", 0, "CAA flags");
        assert_error(
            RecordType::CAA,
            "0 issue",
            7,
            "CAA needs 3 fields: flags tag value; got 2",
        );
    }

    #[test]
    fn soa_records_accept_timer_units() {
        let rdata = parse(RecordType::SOA, "ns1 hostmaster 2024010101 2h 1H 1w2d 300");
        let RData::SOA(soa) = &rdata else {
            panic!("{rdata:?}")
        };
        assert_eq!(soa.mname, name("ns1.example.test."));
        assert_eq!(soa.rname, name("hostmaster.example.test."));
        assert_eq!(soa.serial, 2_024_010_101);
        assert_eq!(
            (soa.refresh, soa.retry, soa.expire, soa.minimum),
            (7200, 3600, 777_600, 300)
        );
        assert_eq!(
            format_rdata(&rdata),
            "ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 777600 300"
        );
        assert_round_trip(&rdata);
        assert_round_trip(&parse(
            RecordType::SOA,
            ". . 4294967295 4294967295 0 0 4294967295",
        ));
        assert_error(
            RecordType::SOA,
            "ns1 hm 1 2x 3 4 5",
            9,
            "SOA refresh '2x' is not a time period",
        );
        assert_error(
            RecordType::SOA,
            "ns1 hm 1h 2 3 4 5",
            7,
            "SOA serial must be a number",
        );
        assert_error(
            RecordType::SOA,
            "ns1 hm 1 2 3 4",
            14,
            "SOA needs 7 fields: mname rname serial refresh retry expire minimum; got 6",
        );
    }

    #[test]
    fn naptr_and_hinfo_records() {
        let naptr = assert_parses_to_text(
            RecordType::NAPTR,
            r#"100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" ."#,
            r#"100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" ."#,
        );
        assert_eq!(naptr.record_type(), RecordType::NAPTR);
        assert_parses_to_text(
            RecordType::NAPTR,
            r#"1 2 "" "" "" sip"#,
            r#"1 2 "" "" "" sip.example.test."#,
        );
        assert_parses_to_text(
            RecordType::HINFO,
            r#""PC Intel" Linux"#,
            r#""PC Intel" "Linux""#,
        );
        assert_error(
            RecordType::HINFO,
            "PC",
            2,
            "HINFO needs 2 fields: cpu os; got 1",
        );
    }

    #[test]
    fn ds_and_cds_records() {
        let ds = assert_parses_to_text(
            RecordType::DS,
            "60485 RSASHA1 1 2BB183AF5F22588179A5 3B0A98631FAD1A292118",
            "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
        );
        let RData::DNSSEC(DNSSECRData::DS(ds)) = &ds else {
            panic!("{ds:?}")
        };
        assert_eq!(ds.key_tag(), 60485);
        assert_eq!(ds.digest().len(), 20);
        assert_parses_to_text(RecordType::CDS, "0 0 0 00", "0 0 0 00");
        assert_error(
            RecordType::DS,
            "1 5 1 2BB1XX",
            6,
            "DS digest is not valid hexadecimal",
        );
        assert_error(RecordType::DS, "1 5 1", 5, "DS needs at least 4 fields");
        assert_error(RecordType::DS, "1 NOPE 1 00", 2, "DS algorithm");
    }

    const RFC4034_KEY: &str = "AQPSKmynfzW4kyBv015MUG2DeIQ3 Cbl+BBZH4b/0PY1kxkmvHjcZc8no \
        kfzj31GajIQKY+5CptLr3buXA10h WqTkF7H6RfoRqXQeogmMHfpftf6z Mv1LyBUgia7za6ZEzOJBOztyvhjL \
        742iU/TpPSEDhm2SNKLijfUppn1U aNvv4w==";

    #[test]
    fn dnskey_and_cdnskey_records() {
        let text = format!("256 3 5 ( {RFC4034_KEY} )");
        let rdata = parse(RecordType::DNSKEY, &text);
        let RData::DNSSEC(DNSSECRData::DNSKEY(key)) = &rdata else {
            panic!("{rdata:?}")
        };
        assert_eq!(key.flags(), 256);
        assert_eq!(
            format_rdata(&rdata),
            format!("256 3 5 {}", RFC4034_KEY.replace(' ', ""))
        );
        assert_round_trip(&rdata);
        assert_parses_to_text(RecordType::CDNSKEY, "0 3 0 AA==", "0 3 0 AA==");
        assert_error(
            RecordType::DNSKEY,
            "256 3 8 AAA*",
            8,
            "DNSKEY public-key is not valid base64",
        );
        assert_error(RecordType::DNSKEY, "256 2 8 AAAA", 0, "invalid DNSKEY data");
    }

    #[test]
    fn nsec_family_records() {
        assert_parses_to_text(
            RecordType::NSEC,
            "host.example.com. ( A MX RRSIG NSEC TYPE1234 )",
            "host.example.com. A MX RRSIG NSEC TYPE1234",
        );
        assert_parses_to_text(RecordType::NSEC, "next", "next.example.test.");
        assert_error(
            RecordType::NSEC,
            "next A BOGUS",
            7,
            "NSEC types must list record types, got 'BOGUS'",
        );
        assert_parses_to_text(
            RecordType::NSEC3,
            "1 1 12 aabbccdd ( 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG )",
            "1 1 12 AABBCCDD 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
        );
        assert_parses_to_text(
            RecordType::NSEC3,
            "1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S",
            "1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s",
        );
        assert_error(
            RecordType::NSEC3,
            "1 0 0 - !!",
            8,
            "NSEC3 next-hashed-owner-name must be base32hex",
        );
        assert_parses_to_text(RecordType::NSEC3PARAM, "1 0 0 -", "1 0 0 -");
        assert_parses_to_text(RecordType::NSEC3PARAM, "1 0 10 aabbccdd", "1 0 10 AABBCCDD");
        assert_error(
            RecordType::NSEC3PARAM,
            "1 0 10 abc",
            7,
            "NSEC3PARAM salt must be '-' or up to 255 octets in hex",
        );
    }

    #[test]
    fn rrsig_records() {
        let text = "A 5 3 86400 20030322173103 ( 20030220173103 2642 example.com. \
            oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr PYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o \
            B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3t GNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkG \
            J5D6fwFm8nN+6pBzeDQfsS3Ap3o= )";
        let rdata = parse(RecordType::RRSIG, text);
        let formatted = format_rdata(&rdata);
        assert!(
            formatted.starts_with(
                "A 5 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+l"
            ),
            "{formatted}"
        );
        assert_round_trip(&rdata);
        assert_error(
            RecordType::RRSIG,
            "A 5 3 86400 20031322173103 1 2642 . AA==",
            12,
            "RRSIG signature-expiration must be YYYYMMDDHHmmSS",
        );
        assert_error(
            RecordType::RRSIG,
            "BOGUS 5 3 86400 1 1 2642 . AA==",
            0,
            "RRSIG type-covered is not a record type",
        );
    }

    #[test]
    fn certificate_and_key_records() {
        let digest = "0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6";
        let tlsa = format!("3 1 1 {digest}");
        assert_parses_to_text(RecordType::TLSA, &tlsa.to_lowercase(), &tlsa);
        assert_parses_to_text(RecordType::SMIMEA, &tlsa, &tlsa);
        assert_parses_to_text(
            RecordType::SSHFP,
            &format!("4 2 {}", &digest[..32]),
            &format!("4 2 {}", &digest[..32]),
        );
        assert_parses_to_text(RecordType::CERT, "PGP 0 0 dGVzdA==", "3 0 0 dGVzdA==");
        assert_parses_to_text(RecordType::OPENPGPKEY, "dGVzdCBr ZXk=", "dGVzdCBrZXk=");
        assert_parses_to_text(RecordType::CSYNC, "66 3 A NS AAAA", "66 3 A NS AAAA");
        assert_error(RecordType::TLSA, "3 1 1", 5, "TLSA needs at least 4 fields");
    }

    #[test]
    fn svcb_and_https_records_delegate_to_hickory() {
        let rdata = parse(RecordType::SVCB, "1 svc port=8443 alpn=h2,h3");
        let RData::SVCB(svcb) = &rdata else {
            panic!("{rdata:?}")
        };
        assert_eq!(svcb.target_name, name("svc.example.test."));
        assert_eq!(svcb.svc_params.len(), 2);
        assert_round_trip(&rdata);
        let https = parse(RecordType::HTTPS, "1 . alpn=\"h2\" ipv6hint=2001:db8::1");
        assert!(format_rdata(&https).starts_with("\\# "));
        assert_round_trip(&https);
        assert_round_trip(&parse(RecordType::HTTPS, "0 @"));
        let odd = parse(RecordType::SVCB, r"1 Odd\032Name port=1");
        let RData::SVCB(odd) = &odd else {
            panic!("{odd:?}")
        };
        assert_eq!(odd.target_name.iter().next(), Some(&b"Odd Name"[..]));
        assert_error(
            RecordType::HTTPS,
            "1 . alpn=h2 alpn=h3",
            0,
            "key alpn appears more than once",
        );
        assert_error(RecordType::HTTPS, "1", 1, "HTTPS needs at least 2 fields");
        assert_error(RecordType::HTTPS, "1 a..b", 2, "HTTPS target is invalid");
    }

    #[test]
    fn types_hickory_does_not_know_use_field_tables() {
        let rp = assert_parses_to_text(
            RecordType::Unknown(17),
            "mbox txt.other.",
            "mbox.example.test. txt.other.",
        );
        assert!(matches!(rp, RData::Unknown { .. }));
        assert_parses_to_text(RecordType::Unknown(18), "1 afs", "1 afs.example.test.");
        assert_parses_to_text(
            RecordType::Unknown(256),
            "10 1 \"https://example.test/\"",
            "10 1 \"https://example.test/\"",
        );
        assert_parses_to_text(
            RecordType::Unknown(99),
            "\"v=spf1 -all\"",
            "\"v=spf1 -all\"",
        );
    }

    #[test]
    fn generic_rdata_is_accepted_for_every_type() {
        assert_eq!(
            parse(RecordType::A, r"\# 4 C0000201"),
            parse(RecordType::A, "192.0.2.1")
        );
        assert_eq!(
            parse(RecordType::TXT, r"\# 4 03616263"),
            parse(RecordType::TXT, "abc")
        );
        let unknown = parse(RecordType::Unknown(65280), r"\# 3 ab CD ef");
        let RData::Unknown { code, rdata } = &unknown else {
            panic!("{unknown:?}")
        };
        assert_eq!(
            (*code, rdata.anything.as_slice()),
            (RecordType::Unknown(65280), &[0xab, 0xcd, 0xef][..])
        );
        assert_eq!(format_rdata(&unknown), r"\# 3 ABCDEF");
        assert_round_trip(&unknown);
        let empty = parse(RecordType::Unknown(65280), r"\# 0");
        assert_eq!(format_rdata(&empty), r"\# 0");
        assert_round_trip(&empty);
        assert_round_trip(&parse(RecordType::Unknown(29), r"\# 2 0102"));
        assert_error(
            RecordType::Unknown(65280),
            r"\# 3 abcd",
            3,
            "length says 3 octets but the data has 2",
        );
        assert_error(
            RecordType::Unknown(65280),
            r"\# 2 zz",
            5,
            "not valid hexadecimal",
        );
        assert_error(RecordType::Unknown(65280), r"\#", 2, "needs a length");
        assert_error(
            RecordType::Unknown(65280),
            r"\# 70000 00",
            3,
            "from 0 to 65535",
        );
        assert_error(RecordType::A, r"\# 3 010203", 0, "invalid A data");
    }

    #[test]
    fn types_without_text_form_ask_for_rfc3597() {
        assert_error(
            RecordType::Unknown(65280),
            "abc",
            0,
            "unknown record type TYPE65280: use RFC 3597 syntax \\# <length> <hex>",
        );
        assert_error(
            RecordType::Unknown(29),
            "52 22 N",
            0,
            "record type LOC has no presentation format",
        );
        assert_error(RecordType::NULL, "abc", 0, "use RFC 3597 syntax");
        assert_error(RecordType::OPT, r"\# 0", 0, "OPT is a query or meta type");
        assert_error(RecordType::AXFR, "", 0, "meta type");
    }

    #[test]
    fn formatting_falls_back_to_rfc3597_for_data_without_text() {
        // An empty TXT (possible on the wire) has no presentation form.
        let empty_txt = parse(RecordType::TXT, r"\# 0");
        assert_eq!(format_rdata(&empty_txt), r"\# 0");
        assert_round_trip(&empty_txt);
        let empty_key = parse(RecordType::DNSKEY, r"\# 4 01000308");
        assert_eq!(format_rdata(&empty_key), r"\# 4 01000308");
        assert_round_trip(&empty_key);
    }

    /// Types whose RDATA hickory decodes, or that have a field table.
    const SAMPLE_TYPES: &[RecordType] = &[
        RecordType::A,
        RecordType::AAAA,
        RecordType::NS,
        RecordType::CNAME,
        RecordType::DNAME,
        RecordType::PTR,
        RecordType::MX,
        RecordType::TXT,
        RecordType::SRV,
        RecordType::CAA,
        RecordType::SOA,
        RecordType::NAPTR,
        RecordType::HINFO,
        RecordType::DS,
        RecordType::CDS,
        RecordType::DNSKEY,
        RecordType::CDNSKEY,
        RecordType::RRSIG,
        RecordType::NSEC,
        RecordType::NSEC3,
        RecordType::NSEC3PARAM,
        RecordType::SSHFP,
        RecordType::TLSA,
        RecordType::SMIMEA,
        RecordType::CERT,
        RecordType::OPENPGPKEY,
        RecordType::CSYNC,
        RecordType::SVCB,
        RecordType::HTTPS,
        RecordType::NULL,
        RecordType::ANAME,
        RecordType::KEY,
        RecordType::SIG,
        RecordType::Unknown(17),
        RecordType::Unknown(18),
        RecordType::Unknown(36),
        RecordType::Unknown(99),
        RecordType::Unknown(256),
        RecordType::Unknown(65280),
    ];

    proptest! {
        /// A single plain word skips the tokenizer; the bytes and errors are
        /// those of the tokenized path.
        #[test]
        fn one_plain_word_reads_as_its_tokens_do(
            index in 0..SAMPLE_TYPES.len(),
            text in "[0-9a-fA-F.:]{0,24}|[a-z0-9-]{1,12}(\\.[a-z0-9-]{0,8}){0,3}\\.?| ?[0-9.]{1,15} ?",
        ) {
            let rtype = SAMPLE_TYPES[index];
            let mut direct = vec![7];
            let got = append_rdata_text_wire(rtype, &text, &origin(), &mut direct, &mut Vec::new());
            let expected = tokenize(&text).and_then(|tokens| {
                let end = tokens.last().map_or(0, Token::end);
                match parse_rdata_wire(rtype, &tokens, &origin(), end) {
                    Some(wire) => wire,
                    None => parse_rdata(rtype, &text, &origin())
                        .and_then(|rdata| emit_rdata(&rdata).map_err(|e| RdataError::new(0, e))),
                }
            });
            match expected {
                Ok(wire) => {
                    prop_assert!(got.is_ok(), "{rtype} {text:?}: {got:?}");
                    prop_assert_eq!(&direct[1..], &wire[..]);
                }
                Err(e) => {
                    let got = got.expect_err("an error");
                    prop_assert_eq!(got.offset, e.offset);
                    prop_assert_eq!(got.message, e.message);
                    prop_assert_eq!(direct, vec![7]);
                }
            }
        }

        #[test]
        fn parse_rdata_never_panics(index in 0..SAMPLE_TYPES.len(), text in "\\PC{0,60}") {
            let _ = parse_rdata(SAMPLE_TYPES[index], &text, &origin());
        }

        #[test]
        fn parse_rdata_never_panics_on_plausible_tokens(
            index in 0..SAMPLE_TYPES.len(),
            words in proptest::collection::vec(
                "[0-9]{1,5}|[a-zA-Z0-9+/=]{1,12}|\"[ -~]{0,10}\"|[a-z]{1,5}\\.|@|\\.|-|A|NS|\\\\# [0-9]",
                0..10,
            ),
        ) {
            let _ = parse_rdata(SAMPLE_TYPES[index], &words.join(" "), &origin());
        }

        /// Whatever generic data hickory accepts formats to text that reads
        /// back to the same value.
        #[test]
        fn generic_data_round_trips(
            index in 0..SAMPLE_TYPES.len(),
            bytes in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let rtype = SAMPLE_TYPES[index];
            let text = format!("\\# {} {}", bytes.len(), hex_encode(&bytes));
            if let Ok(rdata) = parse_rdata(rtype, &text, &origin()) {
                let formatted = format_rdata(&rdata);
                let back = parse_rdata(rtype, &formatted, &Name::root());
                prop_assert_eq!(back.as_ref().ok(), Some(&rdata), "{} -> {}", text, formatted);
                prop_assert_eq!(back.ok().and_then(|b| emit_rdata(&b).ok()), emit_rdata(&rdata).ok());
            }
        }

        /// The direct path gives the bytes, and the errors, of the full one
        /// (hickory `RData`, then its encoder), for every type it takes.
        #[test]
        fn rdata_straight_to_wire_equals_the_rdata_path(
            index in 0..WIRE_FROM_FIELDS.len(),
            words in proptest::collection::vec(
                "[0-9]{1,5}|[a-zA-Z0-9+/=]{1,12}|\"[ -~]{0,10}\"|[a-z]{1,5}\\.|@|\\.|-|10\\.0\\.0\\.[0-9]{1,3}|2001:db8::[0-9a-f]{1,4}|[0-9]{1,3}[smhdw]|a\\\\.b|x\\\\065",
                0..8,
            ),
        ) {
            let rtype = WIRE_FROM_FIELDS[index];
            let text = words.join(" ");
            let Ok(tokens) = tokenize(&text) else {
                // The master-file parser reports this before any RDATA path.
                prop_assert!(parse_rdata(rtype, &text, &origin()).is_err());
                return Ok(());
            };
            let end = tokens.last().map_or(0, Token::end);
            let direct = parse_rdata_wire(rtype, &tokens, &origin(), end).expect("a direct type");
            let full = parse_rdata(rtype, &text, &origin());
            match (direct, full) {
                (Ok(wire), Ok(rdata)) => prop_assert_eq!(Some(wire), emit_rdata(&rdata).ok(), "{} {}", rtype, text),
                (Err(a), Err(b)) => prop_assert_eq!((a.offset, a.message), (b.offset, b.message)),
                (a, b) => prop_assert!(false, "{} {:?}: direct {:?}, full {:?}", rtype, text, a, b),
            }
        }

        #[test]
        fn names_round_trip(labels in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..20), 0..6)) {
            let name = Name::from_labels(labels).unwrap();
            let text = format_name(&name);
            let back = parse_name(&text, &Name::root()).unwrap();
            prop_assert_eq!(back.iter().collect::<Vec<_>>(), name.iter().collect::<Vec<_>>());
        }

        #[test]
        fn character_strings_round_trip(strings in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..4)) {
            let rdata = RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()));
            let back = parse_rdata(RecordType::TXT, &format_rdata(&rdata), &Name::root());
            prop_assert_eq!(back.ok(), Some(rdata));
        }

        /// The byte-wise fast path of ASCII text cuts the tokens (and
        /// reports the errors) the character walk does.
        #[test]
        fn ascii_tokens_are_the_character_walks(text in "[ -~\t\n\x0b\x0c\r]{0,60}") {
            let chars: Vec<char> = text.chars().collect();
            prop_assert_eq!(tokenize(&text), tokenize_in(&chars, None));
        }

        /// The hand-written address readers never disagree with the
        /// standard library, and take the forms zone files use.
        #[test]
        fn plain_addresses_read_as_the_standard_library_reads_them(
            text in "[0-9a-fA-F:.]{0,41}",
            v4 in any::<u32>(),
            v6 in any::<u128>(),
        ) {
            if let Some(a) = ipv4_plain(&text) {
                prop_assert_eq!(text.parse::<Ipv4Addr>().ok(), Some(a));
            }
            if let Some(a) = ipv6_plain(&text) {
                prop_assert_eq!(text.parse::<Ipv6Addr>().ok(), Some(a), "{}", text);
            }
            let v4 = Ipv4Addr::from(v4);
            prop_assert_eq!(ipv4_plain(&v4.to_string()), Some(v4));
            let v6 = Ipv6Addr::from(v6);
            let full = v6.segments().map(|g| format!("{g:x}")).join(":");
            prop_assert_eq!(ipv6_plain(&full), Some(v6));
            if !v6.to_string().contains('.') {
                prop_assert_eq!(ipv6_plain(&v6.to_string()), Some(v6));
            }
        }

        /// Plain names are cut into labels as the general walk cuts them.
        #[test]
        fn plain_names_read_as_the_walk_reads_them(text in "[a-z0-9_*.-]{1,80}") {
            let (mut plain, mut walked) = (Vec::new(), Vec::new());
            let result = push_plain_labels(&mut plain, &text);
            prop_assert_eq!(&result, &push_labels_in(&mut walked, &text, text.as_bytes()));
            if result.is_ok() {
                prop_assert_eq!(plain, walked);
            }
        }

        #[test]
        fn tokenize_and_parse_name_never_panic(text in "\\PC{0,40}") {
            let _ = tokenize(&text);
            let _ = parse_name(&text, &origin());
            let _ = parse_period(&text);
            let _ = parse_record_type(&text);
        }
    }
}
