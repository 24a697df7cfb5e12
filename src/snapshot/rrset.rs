//! One RRset as the snapshot keeps it: RDATA in wire form.
//!
//! A hickory [`Record`] is 280 bytes whatever it holds, plus its owner name
//! again in every record; a zone of 100 000 hosts kept as `Record`s costs
//! over 100 MB. Here an RRset is its type, its TTL and its RDATA in
//! uncompressed wire form, in place when short (an A record costs 6 bytes:
//! a length and the address) and one allocation when not. Records are decoded back, with the owner the caller gives,
//! only when the slow answer path, a transfer or a tool needs them; hot
//! answers come from the answer cache and never decode.

use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::proto::octets::Octets;
use crate::zone::SourcedRecord;
use crate::zone::record::decode_rdata;

/// All the records of one owner name and type, with one TTL (RFC 2181 5.2).
///
/// Invariant: `rdata` is a sequence of entries, each a big-endian `u16`
/// length followed by that many octets of RDATA that hickory-proto emitted,
/// uncompressed and with names in the case the zone wrote them, for a record
/// of type `rtype`; so every entry decodes back to the RDATA it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct RRset {
    /// The type of every record in the set.
    pub rtype: RecordType,
    /// The TTL of the set (the first record's, as Knot and BIND do when they differ).
    pub ttl: u32,
    /// Length-prefixed wire RDATA, one entry per record, in zone order
    /// (in place up to 22 octets: a set of one address, one short name).
    rdata: Octets<22>,
    /// The RRSIGs covering this set (empty in unsigned zones), owners as written.
    rrsigs: Box<[Record]>,
}

impl RRset {
    /// The octets this set holds on the heap: its RDATA and its RRSIG
    /// records (their own heap parts, names and signatures, not counted).
    pub fn heap_bytes(&self) -> usize {
        self.rdata.heap_bytes()
            + self.rrsigs.len() * std::mem::size_of::<hickory_proto::rr::Record>()
    }

    /// The set of `records` (one owner and type, at least one record): the
    /// first record's TTL becomes the set's. The RDATA is gathered in
    /// `scratch` first, so the set allocates at most once, at its final size.
    pub(super) fn from_records(
        records: &[SourcedRecord],
        scratch: &mut Vec<u8>,
    ) -> Result<RRset, String> {
        let Some(first) = records.first() else {
            return Err("an RRset needs a record".to_owned());
        };
        scratch.clear();
        for record in records {
            let rdata = record.rdata_wire();
            // SourcedRecord holds at most 65535 octets of RDATA.
            let len = u16::try_from(rdata.len())
                .map_err(|_| format!("{}: RDATA over 65535 octets", record.place))?;
            scratch.extend_from_slice(&len.to_be_bytes());
            scratch.extend_from_slice(rdata);
        }
        Ok(RRset {
            rtype: first.record_type(),
            ttl: first.ttl(),
            rdata: Octets::from(scratch.as_slice()),
            rrsigs: Box::default(),
        })
    }

    /// Adds an RRSIG covering this set. (Sets have a signature or two, one
    /// per key algorithm: the reallocation per signature is no cost.)
    pub(super) fn push_rrsig(&mut self, rrsig: Record) {
        let mut rrsigs = std::mem::take(&mut self.rrsigs).into_vec();
        rrsigs.push(rrsig);
        self.rrsigs = rrsigs.into_boxed_slice();
    }

    /// Each record's RDATA in wire form (uncompressed, case as written).
    pub fn rdata_wire(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut rest = &self.rdata[..];
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<2>()?;
            let len = usize::from(u16::from_be_bytes(*len));
            // The invariant makes every entry whole; a short tail ends the walk.
            let entry = tail.get(..len)?;
            rest = &tail[len..];
            Some(entry)
        })
    }

    /// How many records the set holds.
    pub fn len(&self) -> usize {
        self.rdata_wire().count()
    }

    /// True when the set holds no record (only RRSIGs whose RRset is absent).
    pub fn is_empty(&self) -> bool {
        self.rdata.is_empty()
    }

    /// Each record's RDATA, decoded.
    pub fn rdatas(&self) -> impl Iterator<Item = RData> + '_ {
        let rtype = self.rtype;
        self.rdata_wire().map(move |wire| decode_rdata(rtype, wire))
    }

    /// The first record's RDATA.
    pub fn first_rdata(&self) -> Option<RData> {
        self.rdatas().next()
    }

    /// The records, owned by `owner`, with the set's TTL.
    pub fn records(&self, owner: &Name) -> impl Iterator<Item = Record> + use<'_> {
        let owner = owner.clone();
        self.rdatas()
            .map(move |rdata| Record::from_rdata(owner.clone(), self.ttl, rdata))
    }

    /// The first record, owned by `owner`.
    pub fn first_record(&self, owner: &Name) -> Option<Record> {
        self.records(owner).next()
    }

    /// The RRSIGs covering this set, with their owners and TTLs as written.
    pub fn rrsigs(&self) -> &[Record] {
        &self.rrsigs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::rdata_text::parse_rdata;
    use std::str::FromStr;

    fn record(owner: &str, rtype: RecordType, text: &str) -> Record {
        let origin = Name::from_str("example.org.").unwrap();
        let data = parse_rdata(rtype, text, &origin).unwrap();
        Record::from_rdata(Name::from_str(owner).unwrap(), 300, data)
    }

    fn sourced(record: &Record) -> SourcedRecord {
        let file: std::sync::Arc<str> = std::sync::Arc::from("t.zone");
        SourcedRecord::new(record, crate::zone::Place::file(&file)).unwrap()
    }

    #[test]
    fn records_decode_back_to_what_was_stored_with_case_kept() {
        let cases = [
            (RecordType::A, "192.0.2.1"),
            (RecordType::AAAA, "2001:db8::1"),
            (RecordType::NS, "NS1.Example.ORG."),
            (RecordType::MX, "10 Mail.example.org."),
            (RecordType::SRV, "10 5 8448 Matrix.example.org."),
            (RecordType::TXT, "\"v=spf1 -all\" \"two strings\""),
            (RecordType::CAA, "0 issue \"letsencrypt.org\""),
            (RecordType::SOA, "ns1 hostmaster 7 3600 900 1209600 300"),
            (RecordType::CNAME, "Target.example.org."),
        ];
        for (rtype, text) in cases {
            let original = record("Www.example.org.", rtype, text);
            let set = RRset::from_records(&[sourced(&original)], &mut Vec::new()).unwrap();
            let owner = Name::from_str("Www.example.org.").unwrap();
            let back: Vec<Record> = set.records(&owner).collect();
            assert_eq!(back, vec![original], "{rtype} {text}");
        }
    }

    #[test]
    fn several_records_keep_their_order_and_the_first_ttl() {
        let mut first = record("a.example.org.", RecordType::A, "192.0.2.1");
        first.ttl = 60;
        let second = record("a.example.org.", RecordType::A, "192.0.2.2");
        let (first, second) = (sourced(&first), sourced(&second));
        let set = RRset::from_records(&[first, second], &mut Vec::new()).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.ttl, 60);
        let owner = Name::from_str("a.example.org.").unwrap();
        let addresses: Vec<String> = set.rdatas().map(|r| r.to_string()).collect();
        assert_eq!(addresses, ["192.0.2.1", "192.0.2.2"]);
        assert!(set.records(&owner).all(|r| r.ttl == 60));
        assert_eq!(
            set.rdata_wire().map(<[u8]>::len).collect::<Vec<_>>(),
            [4, 4]
        );
    }

    #[test]
    fn an_a_record_costs_its_address_and_a_length() {
        let a = record("a.example.org.", RecordType::A, "192.0.2.1");
        let set = RRset::from_records(&[sourced(&a)], &mut Vec::new()).unwrap();
        assert_eq!(&*set.rdata, [0, 4, 192, 0, 2, 1]);
    }
}
