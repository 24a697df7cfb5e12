//! One record of a zone as a source produced it, in wire form.
//!
//! Loaders produce every record of a zone before it is validated, checked
//! and indexed, so this is the form a whole zone sits in while it loads. A
//! hickory [`Record`] is 280 bytes whatever it holds; here a record is its
//! place, type and TTL and the owner name and the RDATA in uncompressed
//! wire form, 88 bytes in all when those octets fit in 46 (an address
//! record of a typical owner does), and one allocation more when they do
//! not. Readers decode what they look at: [`SourcedRecord::record`] gives
//! the hickory `Record` back.

use std::fmt;

use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, Restrict};

use super::place::Place;
use super::rdata_text::{emit_rdata, push_name};
use crate::proto::octets::Octets;

/// One resource record (class IN) and where it was written.
///
/// Invariant: `wire` is the owner name in uncompressed wire form, case as
/// written, `owner_len` octets, then RDATA of type `rtype` as hickory-proto
/// emits it, uncompressed; both decode back to what they were made from.
#[derive(Clone, PartialEq, Eq)]
pub struct SourcedRecord {
    /// Where it came from (for errors and lint findings).
    pub place: Place,
    rtype: RecordType,
    ttl: u32,
    owner_len: u16,
    wire: RecordOctets,
}

/// A record's owner and RDATA octets, in place when they fit in 46 (an
/// address record of a typical owner does): a loading zone holds every
/// record in this form until its snapshot is built.
type RecordOctets = Octets<46>;

impl SourcedRecord {
    /// `record` (owner absolute, class IN) written at `place`. Fails when its
    /// RDATA cannot be put on the wire (longer than 65535 octets, or a value
    /// hickory cannot encode); the message names the record, not the place.
    pub fn new(record: &Record, place: Place) -> Result<SourcedRecord, String> {
        SourcedRecord::from_record(record, place, &mut Vec::new())
    }

    /// [`SourcedRecord::new`], writing the wire form in `scratch` first (a
    /// transfer reuses one buffer for all its records: an address record
    /// then costs no allocation but its own, if that).
    pub fn from_record(
        record: &Record,
        place: Place,
        scratch: &mut Vec<u8>,
    ) -> Result<SourcedRecord, String> {
        let cannot = |e: &dyn fmt::Display| {
            format!(
                "{} record at {} cannot be encoded: {e}",
                record.record_type(),
                record.name
            )
        };
        scratch.clear();
        push_name(scratch, &record.name);
        let owner_len = scratch.len();
        match &record.data {
            RData::A(a) => scratch.extend_from_slice(&a.0.octets()),
            RData::AAAA(aaaa) => scratch.extend_from_slice(&aaaa.0.octets()),
            data => {
                let rdata = emit_rdata(data).map_err(|e| cannot(&e))?;
                scratch.extend_from_slice(&rdata);
            }
        }
        let (owner, rdata) = scratch.split_at(owner_len);
        SourcedRecord::from_wire(owner, record.record_type(), record.ttl, rdata, place)
            .map_err(|e| cannot(&e))
    }

    /// A record from its parts in wire form: `owner` an uncompressed
    /// absolute name, `rdata` the RDATA as hickory-proto would emit it for
    /// `rtype` (the zone parsers' direct path writes only such bytes).
    /// Fails, naming neither record nor place, when the RDATA is over 65535
    /// octets.
    pub(crate) fn from_wire(
        owner: &[u8],
        rtype: RecordType,
        ttl: u32,
        rdata: &[u8],
        place: Place,
    ) -> Result<SourcedRecord, String> {
        if rdata.len() > usize::from(u16::MAX) {
            return Err("RDATA over 65535 octets".to_owned());
        }
        let owner_len = u16::try_from(owner.len())
            .map_err(|_| format!("owner name of {} octets", owner.len()))?;
        Ok(SourcedRecord {
            place,
            rtype,
            ttl,
            owner_len,
            wire: RecordOctets::concat(&[owner, rdata]),
        })
    }

    /// The record, decoded.
    pub fn record(&self) -> Record {
        Record::from_rdata(self.name(), self.ttl, self.data())
    }

    /// The owner name, as written.
    pub fn name(&self) -> Name {
        decode_name(self.owner_wire())
    }

    /// The RDATA, decoded.
    pub fn data(&self) -> RData {
        decode_rdata(self.rtype, self.rdata_wire())
    }

    /// The record type.
    pub fn record_type(&self) -> RecordType {
        self.rtype
    }

    /// The TTL.
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// Sets the TTL.
    pub fn set_ttl(&mut self, ttl: u32) {
        self.ttl = ttl;
    }

    /// The owner name in uncompressed wire form, case as written.
    pub fn owner_wire(&self) -> &[u8] {
        &self.wire[..usize::from(self.owner_len)]
    }

    /// The RDATA in uncompressed wire form, as hickory-proto emits it.
    pub fn rdata_wire(&self) -> &[u8] {
        &self.wire[usize::from(self.owner_len)..]
    }
}

impl fmt::Debug for SourcedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourcedRecord")
            .field("record", &self.record().to_string())
            .field("place", &self.place)
            .finish()
    }
}

/// Decodes an uncompressed wire name that was written from a valid `Name`
/// (by [`SourcedRecord::new`] or the snapshot), keeping its case. Such bytes
/// always read back; the root stands in should that ever not hold.
pub fn decode_name(wire: &[u8]) -> Name {
    let mut decoder = BinDecoder::new(wire);
    Name::read(&mut decoder).unwrap_or_else(|_| Name::root())
}

/// Decodes RDATA of type `rtype` from its wire form. Bytes that do not
/// decode (which the invariants of the callers rule out) come back as
/// opaque RDATA of that type, so nothing is lost or garbled.
pub fn decode_rdata(rtype: RecordType, wire: &[u8]) -> RData {
    let decoded = u16::try_from(wire.len()).ok().and_then(|len| {
        let mut decoder = BinDecoder::new(wire);
        RData::read(&mut decoder, rtype, Restrict::new(len)).ok()
    });
    decoded.unwrap_or_else(|| RData::Unknown {
        code: rtype,
        rdata: NULL::with(wire.to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::rdata_text::parse_rdata;
    use std::sync::Arc;

    #[test]
    fn records_come_back_as_written_case_and_all() {
        let origin: Name = "example.org.".parse().unwrap();
        let file: Arc<str> = Arc::from("z.zone");
        for (rtype, text) in [
            (RecordType::A, "192.0.2.1"),
            (RecordType::AAAA, "2001:db8::1"),
            (RecordType::MX, "10 Mail.Example.org."),
            (RecordType::SRV, "10 5 8448 Matrix.example.org."),
            (RecordType::TXT, "\"v=spf1 -all\" \"second\""),
            (RecordType::SOA, "ns1 hostmaster 7 3600 900 1209600 300"),
        ] {
            let data = parse_rdata(rtype, text, &origin).unwrap();
            let owner = Name::from_ascii("Www.Example.org.").unwrap();
            let record = Record::from_rdata(owner, 77, data);
            let sourced = SourcedRecord::new(&record, Place::new(&file, 3, 1)).unwrap();
            assert_eq!(sourced.record(), record, "{rtype}");
            assert_eq!(sourced.name().to_string(), "Www.Example.org.");
            assert_eq!(sourced.record_type(), rtype);
            assert_eq!(sourced.ttl(), 77);
            assert_eq!(sourced.owner_wire(), b"\x03Www\x07Example\x03org\x00");
        }
    }

    #[test]
    fn short_records_hold_their_octets_in_place_and_long_ones_box_them() {
        let file: Arc<str> = Arc::from("f");
        let a = Record::from_rdata(
            "a.example.".parse().unwrap(),
            60,
            RData::A("192.0.2.7".parse().unwrap()),
        );
        let sourced = SourcedRecord::new(&a, Place::file(&file)).unwrap();
        assert_eq!(sourced.rdata_wire(), [192, 0, 2, 7]);
        assert!(matches!(sourced.wire, Octets::Inline { len: 15, .. }));
        // 46 octets fit; 47 do not, and both read back the same way.
        for (label, inline) in [("x".repeat(20), true), ("x".repeat(21), false)] {
            let owner = Name::from_ascii(format!("{label}.example.")).unwrap();
            let aaaa = Record::from_rdata(owner, 60, RData::AAAA("2001:db8::1".parse().unwrap()));
            let sourced = SourcedRecord::new(&aaaa, Place::file(&file)).unwrap();
            assert_eq!(matches!(sourced.wire, Octets::Inline { .. }), inline);
            assert_eq!(sourced.record(), aaaa);
            assert_eq!(sourced, sourced.clone());
        }
    }

    #[test]
    fn bytes_that_do_not_decode_stay_opaque() {
        let data = decode_rdata(RecordType::A, &[1, 2, 3]);
        assert!(matches!(
            data,
            RData::Unknown {
                code: RecordType::A,
                ..
            }
        ));
    }
}
