//! Short runs of wire octets held in place, long ones boxed.
//!
//! A big zone is hundreds of thousands of small pieces of wire form: a
//! record's owner and RDATA while it loads, a node's owner name and an
//! RRset's RDATA once it is served. Most are a few dozen octets. A boxed
//! slice for each costs an allocation (with its 8 to 16 bytes of allocator
//! overhead) and a pointer to chase; loading a zone of 200 000 records made
//! about a million of them, a fifth of its instructions (issue 18).
//! [`Octets`] keeps up to `N` octets inside itself and boxes only longer
//! runs. It is `N + 2` bytes rounded up to a multiple of 8, at least 24
//! (the boxed slice's 16 and the tag); `N` is chosen so that there is no
//! padding, e.g. 22, 30 or 46. (`smallvec` would hold 8 fewer octets in the
//! same space: it keeps a capacity word. Nothing here ever grows.)

use std::fmt;
use std::ops::Deref;

/// Immutable wire octets: inline up to `N` (at most 255), boxed beyond.
#[derive(Clone)]
pub enum Octets<const N: usize> {
    /// `octets[..len]` are the octets; the rest are zero.
    Inline { len: u8, octets: [u8; N] },
    /// More than `N` octets.
    Boxed(Box<[u8]>),
}

impl<const N: usize> Octets<N> {
    /// The octets of `parts`, one after another.
    pub fn concat(parts: &[&[u8]]) -> Octets<N> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        match u8::try_from(len) {
            Ok(short) if len <= N => {
                let mut octets = [0; N];
                let mut at = 0;
                for part in parts {
                    octets[at..at + part.len()].copy_from_slice(part);
                    at += part.len();
                }
                Octets::Inline { len: short, octets }
            }
            _ => Octets::Boxed(parts.concat().into_boxed_slice()),
        }
    }

    /// The octets.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Octets::Inline { len, octets } => &octets[..usize::from(*len)],
            Octets::Boxed(octets) => octets,
        }
    }

    /// The octets held on the heap: none when they are inline.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Octets::Inline { .. } => 0,
            Octets::Boxed(octets) => octets.len(),
        }
    }
}

impl<const N: usize> From<&[u8]> for Octets<N> {
    fn from(octets: &[u8]) -> Octets<N> {
        Octets::concat(&[octets])
    }
}

impl<const N: usize> Default for Octets<N> {
    fn default() -> Octets<N> {
        Octets::Inline {
            len: 0,
            octets: [0; N],
        }
    }
}

impl<const N: usize> Deref for Octets<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl<const N: usize> PartialEq for Octets<N> {
    fn eq(&self, other: &Octets<N>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for Octets<N> {}

impl<const N: usize> fmt::Debug for Octets<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sizes_have_no_padding() {
        assert_eq!(std::mem::size_of::<Octets<22>>(), 24);
        assert_eq!(std::mem::size_of::<Octets<30>>(), 32);
        assert_eq!(std::mem::size_of::<Octets<46>>(), 48);
    }

    #[test]
    fn up_to_n_octets_stay_inline_and_every_length_reads_back() {
        let source: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..=source.len() {
            for split in [0, len / 3, len] {
                let octets = Octets::<22>::concat(&[&source[..split], &source[split..len]]);
                assert_eq!(&*octets, &source[..len]);
                assert_eq!(matches!(octets, Octets::Inline { .. }), len <= 22);
                assert_eq!(octets.heap_bytes(), if len <= 22 { 0 } else { len });
                assert_eq!(octets, Octets::from(&source[..len]));
            }
        }
        assert!(Octets::<22>::default().is_empty());
    }
}
