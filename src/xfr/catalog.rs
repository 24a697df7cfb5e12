//! Catalog zones (RFC 9432): a zone whose records list other zones, so
//! that secondaries learn which zones to serve from the primary's data.
//!
//! A catalog zone `C` of schema version 2 holds, besides its SOA and NS:
//!
//! ```text
//! version.C          TXT "2"
//! ID.zones.C         PTR member.example.      ; one member zone per unique ID
//! group.ID.zones.C   TXT "name"               ; properties of that member
//! coo.ID.zones.C     PTR other-catalog.       ; change of ownership
//! ```
//!
//! This module is pure: [`parse`] reads a catalog from a snapshot (a
//! consumer), [`produce`] builds one from a list of zones (a producer).
//! The daemon applies the members: adds them as secondary zones of the
//! catalog's primaries, removes those that left.
//!
//! What a consumer may choose (RFC 9432 section 5), and what fedns chose:
//!
//! - a catalog that breaks the rules (no or another version, two PTRs at
//!   one member node, one zone listed under two IDs) is *broken*: the whole
//!   new version is ignored and the members stay as they were (4.1, 4.3);
//! - `group` is read and reported, but applies no settings: every member
//!   gets the catalog's own primaries and key (5.2.2 lets a consumer ignore
//!   groups it does not know);
//! - `coo` is reported; a member that moves to another catalog is removed
//!   when the new catalog no longer lists it, and added by the catalog that
//!   lists it next (5.2.3 is only needed when both catalogs are consumed);
//! - a member whose unique ID changes is *reset* (5.5): transferred afresh
//!   by AXFR;
//! - unknown properties and `ext` are ignored (4.4).

use std::collections::BTreeMap;
use std::sync::Arc;

use hickory_proto::rr::rdata::{NS, PTR, SOA, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record};

use crate::proto::name::{NameKey, name_key};
use crate::snapshot::ZoneSnapshot;
use crate::zone::{Place, SourcedRecord, Zone};

/// The schema version fedns reads and writes.
pub const CATALOG_VERSION: &str = "2";

/// The role of a catalog zone in `[[zone]] catalog = "..."`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogRole {
    /// A secondary zone whose members become secondary zones here.
    Consumer,
    /// A zone fedns writes, listing its primary zones.
    Producer,
}

/// One member zone of a catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member zone's apex.
    pub zone: Name,
    /// Its unique ID label, lower-cased.
    pub id: String,
    /// The `group` property, if any.
    pub group: Option<String>,
    /// The `coo` property (the catalog it is moving to), if any.
    pub coo: Option<Name>,
}

/// The members of a catalog, by the lower-cased wire name of each zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Every member.
    pub members: BTreeMap<NameKey, Member>,
}

/// What one member node (`ID.zones.C`) holds: its PTRs, its group, its coo.
type MemberNode = (Vec<Name>, Option<String>, Option<Name>);

/// Reads the catalog in `zone`, or says why it is broken.
pub fn parse(zone: &ZoneSnapshot) -> Result<Catalog, String> {
    let origin = zone.origin();
    let zones_label = Name::from_ascii("zones")
        .and_then(|z| z.append_domain(origin))
        .map_err(|e| format!("catalog {origin}: {e}"))?;
    let version_name = Name::from_ascii("version")
        .and_then(|z| z.append_domain(origin))
        .map_err(|e| format!("catalog {origin}: {e}"))?;
    let mut versions = Vec::new();
    let mut nodes: BTreeMap<String, MemberNode> = BTreeMap::new();
    for record in zone.records() {
        let name = &record.name;
        if name.eq_ignore_root(&version_name) {
            if let RData::TXT(txt) = &record.data {
                versions.push(txt_text(txt));
            }
            continue;
        }
        if !zones_label.zone_of(name) || name.num_labels() <= zones_label.num_labels() {
            continue;
        }
        let below = name.num_labels() - zones_label.num_labels();
        let labels: Vec<String> = name
            .iter()
            .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
            .collect();
        match below {
            1 => {
                if let RData::PTR(PTR(target)) = &record.data {
                    let entry = nodes.entry(labels[0].clone()).or_default();
                    entry.0.push(target.clone());
                }
            }
            2 => {
                let id = labels[1].clone();
                match (labels[0].as_str(), &record.data) {
                    ("group", RData::TXT(txt)) => {
                        nodes.entry(id).or_default().1 = Some(txt_text(txt));
                    }
                    ("coo", RData::PTR(PTR(target))) => {
                        nodes.entry(id).or_default().2 = Some(target.clone());
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    match versions.as_slice() {
        [v] if v == CATALOG_VERSION => {}
        [] => {
            return Err(format!(
                "catalog {origin} has no version.{origin} TXT record"
            ));
        }
        [v] => {
            return Err(format!(
                "catalog {origin} has schema version {v:?}; fedns reads version {CATALOG_VERSION:?}"
            ));
        }
        _ => return Err(format!("catalog {origin} has more than one version record")),
    }
    let mut catalog = Catalog::default();
    for (id, (ptrs, group, coo)) in nodes {
        let target = match ptrs.as_slice() {
            [] => continue, // properties without a member: nothing to serve
            [one] => one,
            _ => {
                return Err(format!(
                    "catalog {origin}: member node {id} has {} PTR records (exactly one allowed)",
                    ptrs.len()
                ));
            }
        };
        let mut zone = target.clone();
        zone.set_fqdn(true);
        let key = name_key(&zone);
        if let Some(first) = catalog.members.get(&key) {
            return Err(format!(
                "catalog {origin}: zone {zone} is listed twice (IDs {} and {id})",
                first.id
            ));
        }
        catalog.members.insert(
            key,
            Member {
                zone,
                id,
                group,
                coo,
            },
        );
    }
    Ok(catalog)
}

fn txt_text(txt: &TXT) -> String {
    txt.txt_data
        .iter()
        .map(|s| String::from_utf8_lossy(s))
        .collect::<Vec<_>>()
        .concat()
}

/// The unique ID fedns gives a member: stable across restarts and the same
/// on every producer (a digest of the zone's lower-cased wire name), so a
/// restarted producer never resets its consumers' members.
pub fn member_id(zone: &Name) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, &name_key(zone));
    data_encoding::HEXLOWER.encode(&digest.as_ref()[..8])
}

/// Builds the catalog zone `origin` at `serial` listing `members`.
pub fn produce(origin: &Name, members: &[Name], serial: u32) -> Result<ZoneSnapshot, String> {
    let invalid = Name::from_ascii("invalid.").map_err(|e| e.to_string())?;
    let at = |label: &str| {
        Name::from_ascii(label)
            .and_then(|n| n.append_domain(origin))
            .map_err(|e| format!("catalog {origin}: {e}"))
    };
    // RFC 9432 4.1: SOA and NS are formalities; TTL 0, NS "invalid.".
    let mut records = vec![
        Record::from_rdata(
            origin.clone(),
            0,
            RData::SOA(SOA::new(
                invalid.clone(),
                invalid.clone(),
                serial,
                3600,
                600,
                2_147_483_646,
                0,
            )),
        ),
        Record::from_rdata(origin.clone(), 0, RData::NS(NS(invalid))),
        Record::from_rdata(
            at("version")?,
            0,
            RData::TXT(TXT::new(vec![CATALOG_VERSION.to_string()])),
        ),
    ];
    let zones = at("zones")?;
    for member in members {
        let owner = Name::from_ascii(member_id(member))
            .and_then(|n| n.append_domain(&zones))
            .map_err(|e| format!("catalog {origin}: member {member}: {e}"))?;
        records.push(Record::from_rdata(
            owner,
            0,
            RData::PTR(PTR(member.clone())),
        ));
    }
    let file: Arc<str> = Arc::from(format!("<catalog {origin}>"));
    let records = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.dns_class = DNSClass::IN;
            SourcedRecord::new(&r, Place::file(&file))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let zone = Zone {
        origin: origin.clone(),
        records,
        ..Zone::default()
    };
    crate::zone::validate::validate_zone(&zone).map_err(|e| e.to_string())?;
    ZoneSnapshot::build(zone)
}

/// The member zones of a produced catalog, sorted: what [`produce`] was
/// given (for deciding whether membership changed).
pub fn member_names(catalog: &Catalog) -> Vec<Name> {
    let mut names: Vec<Name> = catalog.members.values().map(|m| m.zone.clone()).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::master::parse_master;

    fn catalog(text: &str) -> ZoneSnapshot {
        let file: Arc<str> = Arc::from("catalog.zone");
        let origin: Name = "catalog.test.".parse().unwrap();
        let records = parse_master(text, &file, &origin).unwrap();
        ZoneSnapshot::build(Zone {
            origin,
            records,
            ..Zone::default()
        })
        .unwrap()
    }

    const HEAD: &str = "$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2147483646 0\n@ NS invalid.\n";

    #[test]
    fn members_and_their_properties_are_read() {
        let c = parse(&catalog(&format!(
            "{HEAD}version TXT \"2\"\nA1.zones PTR example.com.\ngroup.a1.zones TXT \"blue\"\n\
             b2.zones PTR Example.NET.\ncoo.b2.zones PTR other.catalog.\next.zones TXT \"x\"\n\
             c3.zones TXT \"a property-less node with no PTR\"\n"
        )))
        .unwrap();
        let members: Vec<_> = c.members.values().cloned().collect();
        assert_eq!(members.len(), 2);
        let com = c
            .members
            .get(&name_key(&"example.com.".parse().unwrap()))
            .unwrap();
        assert_eq!(
            (com.id.as_str(), com.group.as_deref()),
            ("a1", Some("blue"))
        );
        let net = c
            .members
            .get(&name_key(&"example.net.".parse().unwrap()))
            .unwrap();
        assert_eq!(net.coo, Some("other.catalog.".parse().unwrap()));
    }

    #[test]
    fn broken_catalogs_say_why() {
        for (text, expected) in [
            ("a.zones PTR example.com.\n", "has no version"),
            (
                "version TXT \"1\"\na.zones PTR example.com.\n",
                "schema version \"1\"",
            ),
            (
                "version TXT \"2\"\nversion TXT \"3\"\n",
                "more than one version",
            ),
            (
                "version TXT \"2\"\na.zones PTR example.com.\na.zones PTR example.net.\n",
                "member node a has 2 PTR records",
            ),
            (
                "version TXT \"2\"\na.zones PTR example.com.\nb.zones PTR EXAMPLE.com.\n",
                "zone EXAMPLE.com. is listed twice (IDs a and b)",
            ),
        ] {
            let e = parse(&catalog(&format!("{HEAD}{text}"))).unwrap_err();
            assert!(e.contains(expected), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_produced_catalog_reads_back_with_stable_ids() {
        let origin: Name = "catalog.fedns.".parse().unwrap();
        let members: Vec<Name> = vec![
            "example.com.".parse().unwrap(),
            "example.org.".parse().unwrap(),
        ];
        let zone = produce(&origin, &members, 7).unwrap();
        assert_eq!(zone.serial(), 7);
        let back = parse(&zone).unwrap();
        assert_eq!(member_names(&back), members);
        let again = parse(&produce(&origin, &members, 8).unwrap()).unwrap();
        assert_eq!(back.members, again.members, "the same IDs every time");
        let id = member_id(&"EXAMPLE.com.".parse().unwrap());
        assert_eq!(id, member_id(&members[0]), "case-insensitive");
        assert_eq!(id.len(), 16);
    }
}
