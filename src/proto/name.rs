//! Lower-cased, uncompressed wire-format names: the key of every index.
//!
//! DNS names compare case-insensitively (RFC 4343). Keying the indexes by the
//! lower-cased wire form means a query name is lower-cased once, and every
//! ancestor of it (needed for the closest encloser and zone cut walks) is a
//! suffix of that byte string starting at a label boundary: no allocation per
//! step.

use hickory_proto::rr::Name;

/// The longest wire-format name (RFC 1035 2.3.4).
pub const MAX_NAME_WIRE_LEN: usize = 255;

/// A name as lower-cased wire bytes (`\x03www\x07example\x03org\x00`).
pub type NameKey = Box<[u8]>;

/// The lower-cased wire form of a name, written into `out` (cleared first).
pub fn write_name_key(name: &Name, out: &mut Vec<u8>) {
    out.clear();
    for label in name.iter() {
        // Labels are at most 63 octets in a valid Name, so the length fits a byte.
        out.push(label.len() as u8);
        out.extend(label.iter().map(u8::to_ascii_lowercase));
    }
    out.push(0);
}

/// The lower-cased wire form of a name.
pub fn name_key(name: &Name) -> NameKey {
    let mut out = Vec::with_capacity(name.len() + 2);
    write_name_key(name, &mut out);
    out.into_boxed_slice()
}

/// The offsets at which each suffix (ancestor) of a wire name starts, from
/// the name itself (offset 0) to the root (the final zero octet).
pub fn label_offsets(key: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut offset = Some(0usize);
    std::iter::from_fn(move || {
        let at = offset?;
        let len = *key.get(at)? as usize;
        offset = if len == 0 { None } else { Some(at + 1 + len) };
        Some(at)
    })
}

/// The key of `*.<parent>`, the wildcard that could synthesise answers below `parent`.
pub fn wildcard_key(parent: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(b"\x01*");
    out.extend_from_slice(parent);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_lowercase_wire_names() {
        let name = Name::from_ascii("WwW.Example.ORG.").unwrap();
        assert_eq!(&*name_key(&name), b"\x03www\x07example\x03org\x00");
    }

    #[test]
    fn label_offsets_walk_up_to_the_root() {
        let key = name_key(&Name::from_ascii("a.bc.").unwrap());
        let suffixes: Vec<&[u8]> = label_offsets(&key).map(|o| &key[o..]).collect();
        assert_eq!(suffixes, [&b"\x01a\x02bc\x00"[..], b"\x02bc\x00", b"\x00"]);
    }
}
