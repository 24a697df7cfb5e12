//! The engine against the RFC behaviours it promises, one test per behaviour.

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};

use super::{Answer, Transport, answer};
use crate::snapshot::ZoneSet;
use crate::testing::zones_from_toml;

const ZONE: &str = r#"
origin = "example.org."
ttl = 3600
[soa]
mname = "ns1"
rname = "hostmaster"
serial = 7
minimum = 300
[[record]]
name = "@"
NS = ["ns1", "ns2"]
A = ["192.0.2.1"]
MX = ["10 mail", "20 mail2", "30 mx.example.net."]
[[record]]
name = "ns1"
A = ["192.0.2.53"]
[[record]]
name = "ns2"
AAAA = ["2001:db8::54"]
[[record]]
name = "mail"
A = ["192.0.2.25"]
[[record]]
name = "mail2"
AAAA = ["2001:db8::26"]
[[record]]
name = "a"
CNAME = "b"
[[record]]
name = "b"
CNAME = "c"
[[record]]
name = "c"
A = ["192.0.2.3"]
[[record]]
name = "out"
CNAME = "www.example.net."
[[record]]
name = "dangling"
CNAME = "nowhere"
[[record]]
name = "loop1"
CNAME = "loop2"
[[record]]
name = "loop2"
CNAME = "loop1"
[[record]]
name = "child"
NS = ["ns.child", "ns.example.net."]
[[record]]
name = "ns.child"
A = ["192.0.2.99"]
AAAA = ["2001:db8::99"]
[[record]]
name = "*.wild"
A = ["192.0.2.200"]
TXT = ["wildcard"]
[[record]]
name = "host.wild"
AAAA = ["2001:db8::1"]
[[record]]
name = "*.cwild"
CNAME = "c"
[[record]]
name = "synapse1"
A = ["192.0.2.10"]
[[record]]
name = "synapse2"
A = ["192.0.2.11"]
AAAA = ["2001:db8::11"]
[[record]]
name = "_matrix-fed._tcp"
SRV = ["10 0 443 synapse1", "20 0 8448 synapse2", "30 0 443 elsewhere.example.net."]
[[record]]
name = "deep.ent.chain"
TXT = ["x"]
[[record]]
name = "_matrix-fed._tcp.below.child"
SRV = ["10 0 443 synapse1"]
"#;

const CHILD_ZONE: &str = r#"
origin = "sub.example.org."
[soa]
mname = "ns1"
rname = "hostmaster"
serial = 1
[[record]]
name = "@"
NS = ["ns1"]
[[record]]
name = "ns1"
A = ["192.0.2.77"]
"#;

fn zones() -> ZoneSet {
    zones_from_toml(&[ZONE, CHILD_ZONE])
}

fn ask(zones: &ZoneSet, qname: &str, qtype: RecordType) -> Answer {
    answer(
        zones,
        &Name::from_ascii(qname).unwrap(),
        qtype,
        Transport::Udp,
    )
}

/// (owner, type) of each record, owners as sent (case kept).
fn summary(records: &[Record]) -> Vec<(String, RecordType)> {
    records
        .iter()
        .map(|r| (r.name.to_string(), r.record_type()))
        .collect()
}

fn soa_only(records: &[Record]) -> bool {
    records.len() == 1 && records[0].record_type() == RecordType::SOA
}

#[test]
fn positive_answer_is_authoritative_and_echoes_the_owner_as_sent() {
    let a = ask(&zones(), "NS1.Example.ORG.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.authoritative);
    assert_eq!(
        summary(&a.answers),
        [("NS1.Example.ORG.".to_string(), RecordType::A)]
    );
    assert!(a.authorities.is_empty() && a.additionals.is_empty());
}

#[test]
fn nxdomain_carries_the_soa_with_the_negative_ttl_of_rfc2308() {
    let a = ask(&zones(), "nope.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
    assert!(a.authoritative && a.answers.is_empty());
    assert!(soa_only(&a.authorities));
    assert_eq!(a.authorities[0].ttl, 300, "min(SOA TTL 3600, MINIMUM 300)");
}

#[test]
fn nodata_is_noerror_with_the_soa() {
    let a = ask(&zones(), "ns1.example.org.", RecordType::TXT);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.authoritative && a.answers.is_empty() && soa_only(&a.authorities));
}

#[test]
fn empty_non_terminals_are_nodata_not_nxdomain() {
    for name in [
        "_tcp.example.org.",
        "chain.example.org.",
        "ent.chain.example.org.",
    ] {
        let a = ask(&zones(), name, RecordType::SRV);
        assert_eq!(a.rcode, ResponseCode::NoError, "{name}");
        assert!(a.answers.is_empty() && soa_only(&a.authorities), "{name}");
    }
}

#[test]
fn cname_chain_is_followed_inside_the_zone() {
    let a = ask(&zones(), "a.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert_eq!(
        summary(&a.answers),
        [
            ("a.example.org.".to_string(), RecordType::CNAME),
            ("b.example.org.".to_string(), RecordType::CNAME),
            ("c.example.org.".to_string(), RecordType::A)
        ]
    );
}

#[test]
fn cname_query_returns_the_cname_itself() {
    let a = ask(&zones(), "a.example.org.", RecordType::CNAME);
    assert_eq!(
        summary(&a.answers),
        [("a.example.org.".to_string(), RecordType::CNAME)]
    );
}

#[test]
fn cname_leaving_the_zone_stops_there() {
    let a = ask(&zones(), "out.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert_eq!(
        summary(&a.answers),
        [("out.example.org.".to_string(), RecordType::CNAME)]
    );
    assert!(a.authorities.is_empty());
}

#[test]
fn cname_to_a_missing_name_is_nxdomain_with_the_cname_rfc6604() {
    let a = ask(&zones(), "dangling.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
    assert_eq!(
        summary(&a.answers),
        [("dangling.example.org.".to_string(), RecordType::CNAME)]
    );
    assert!(soa_only(&a.authorities));
}

#[test]
fn cname_loop_terminates() {
    let a = ask(&zones(), "loop1.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert_eq!(
        a.answers.len(),
        2,
        "loop1 -> loop2, then loop2 -> loop1 is a loop"
    );
}

#[test]
fn referral_clears_aa_and_carries_ns_and_glue() {
    for name in [
        "child.example.org.",
        "www.child.example.org.",
        "a.b.child.example.org.",
    ] {
        let a = ask(&zones(), name, RecordType::A);
        assert_eq!(a.rcode, ResponseCode::NoError, "{name}");
        assert!(!a.authoritative, "{name}: referrals are not authoritative");
        assert!(a.answers.is_empty(), "{name}");
        assert_eq!(a.authorities.len(), 2, "{name}: the whole NS set");
        assert!(
            a.authorities
                .iter()
                .all(|r| r.record_type() == RecordType::NS)
        );
        assert_eq!(
            summary(&a.additionals),
            [
                ("ns.child.example.org.".to_string(), RecordType::A),
                ("ns.child.example.org.".to_string(), RecordType::AAAA)
            ],
            "{name}: in-bailiwick glue only"
        );
        assert!(a.referral);
    }
}

#[test]
fn ds_at_a_zone_cut_is_answered_by_the_parent() {
    let a = ask(&zones(), "child.example.org.", RecordType::DS);
    assert!(a.authoritative, "the parent is authoritative for DS");
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty() && soa_only(&a.authorities));
}

#[test]
fn data_below_a_cut_is_never_answered() {
    let a = ask(
        &zones(),
        "_matrix-fed._tcp.below.child.example.org.",
        RecordType::SRV,
    );
    assert!(!a.authoritative && a.answers.is_empty());
}

#[test]
fn wildcard_synthesises_with_the_query_name_as_owner() {
    let a = ask(&zones(), "Anything.wild.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.authoritative);
    assert_eq!(
        summary(&a.answers),
        [("Anything.wild.example.org.".to_string(), RecordType::A)]
    );
}

#[test]
fn wildcard_without_the_type_is_nodata() {
    let a = ask(&zones(), "x.wild.example.org.", RecordType::SRV);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty() && soa_only(&a.authorities));
}

#[test]
fn an_existing_name_blocks_the_wildcard_rfc4592() {
    let a = ask(&zones(), "host.wild.example.org.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(
        a.answers.is_empty(),
        "host.wild exists: NODATA, not the wildcard's A"
    );
}

#[test]
fn names_below_an_existing_name_are_not_covered_by_the_wildcard() {
    let a = ask(&zones(), "sub.host.wild.example.org.", RecordType::A);
    assert_eq!(
        a.rcode,
        ResponseCode::NXDomain,
        "closest encloser is host.wild; *.host.wild does not exist"
    );
}

#[test]
fn wildcard_cname_is_synthesised_and_followed() {
    let a = ask(&zones(), "x.cwild.example.org.", RecordType::A);
    assert_eq!(
        summary(&a.answers),
        [
            ("x.cwild.example.org.".to_string(), RecordType::CNAME),
            ("c.example.org.".to_string(), RecordType::A)
        ]
    );
}

#[test]
fn srv_gets_the_addresses_of_every_in_zone_target() {
    let a = ask(&zones(), "_matrix-fed._tcp.example.org.", RecordType::SRV);
    assert_eq!(a.answers.len(), 3);
    assert_eq!(
        summary(&a.additionals),
        [
            ("synapse1.example.org.".to_string(), RecordType::A),
            ("synapse2.example.org.".to_string(), RecordType::A),
            ("synapse2.example.org.".to_string(), RecordType::AAAA)
        ]
    );
}

#[test]
fn mx_and_ns_answers_get_target_addresses() {
    let mx = ask(&zones(), "example.org.", RecordType::MX);
    assert_eq!(
        summary(&mx.additionals),
        [
            ("mail.example.org.".to_string(), RecordType::A),
            ("mail2.example.org.".to_string(), RecordType::AAAA)
        ]
    );
    let ns = ask(&zones(), "example.org.", RecordType::NS);
    assert_eq!(
        summary(&ns.additionals),
        [
            ("ns1.example.org.".to_string(), RecordType::A),
            ("ns2.example.org.".to_string(), RecordType::AAAA)
        ]
    );
}

#[test]
fn any_is_minimal_over_udp_and_full_over_tcp_rfc8482() {
    let name = Name::from_ascii("example.org.").unwrap();
    let udp = answer(&zones(), &name, RecordType::ANY, Transport::Udp);
    let tcp = answer(&zones(), &name, RecordType::ANY, Transport::Tcp);
    assert_eq!(udp.rcode, ResponseCode::NoError);
    let udp_types: std::collections::BTreeSet<_> =
        udp.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(udp_types.len(), 1, "one RRset over UDP");
    let tcp_types: std::collections::BTreeSet<_> =
        tcp.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(tcp_types.len(), 4, "A, NS, SOA, MX over TCP");
}

#[test]
fn names_outside_our_zones_are_refused() {
    for name in ["example.com.", "org.", "."] {
        let a = ask(&zones(), name, RecordType::A);
        assert_eq!(a.rcode, ResponseCode::Refused, "{name}");
        assert!(!a.authoritative && a.answers.is_empty() && a.authorities.is_empty());
    }
}

#[test]
fn the_most_specific_zone_answers() {
    let a = ask(&zones(), "ns1.sub.example.org.", RecordType::A);
    assert!(a.authoritative);
    assert_eq!(a.answers.len(), 1);
    let nx = ask(&zones(), "nope.sub.example.org.", RecordType::A);
    assert_eq!(nx.rcode, ResponseCode::NXDomain);
    assert_eq!(
        nx.authorities[0].name.to_string(),
        "sub.example.org.",
        "the child's SOA"
    );
}

#[test]
fn a_zone_without_usable_data_answers_servfail() {
    let mut zones = zones();
    zones.insert_unavailable(&Name::from_ascii("sub.example.org.").unwrap());
    let a = ask(&zones, "ns1.sub.example.org.", RecordType::A);
    assert_eq!(
        a.rcode,
        ResponseCode::ServFail,
        "not the parent's referral or NXDOMAIN"
    );
    assert!(!a.authoritative);
    let parent = ask(&zones, "ns1.example.org.", RecordType::A);
    assert_eq!(parent.rcode, ResponseCode::NoError);
}

#[test]
fn targets_known_through_a_wildcard_or_as_glue_get_their_addresses() {
    let zone = ZONE.to_string()
        + "[[record]]\nname = \"_wild._tcp\"\nSRV = [\"10 0 443 x.wild\"]\n[[record]]\nname = \"_glue._tcp\"\nSRV = [\"10 0 443 ns.child\"]\n";
    let zones = zones_from_toml(&[&zone]);
    let wild = ask(&zones, "_wild._tcp.example.org.", RecordType::SRV);
    assert_eq!(
        summary(&wild.additionals),
        [("x.wild.example.org.".to_string(), RecordType::A)],
        "synthesised owner"
    );
    let glue = ask(&zones, "_glue._tcp.example.org.", RecordType::SRV);
    assert_eq!(glue.additionals.len(), 2, "A and AAAA glue of ns.child");
}

const DNAME_ZONE: &str = r#"
origin = "dname.test."
ttl = 3600
[soa]
mname = "ns1"
rname = "hostmaster"
serial = 1
minimum = 300
[[record]]
name = "@"
NS = ["ns1"]
[[record]]
name = "ns1"
A = ["192.0.2.53"]
[[record]]
name = "old"
ttl = 600
DNAME = "new.dname.test."
A = ["192.0.2.7"]
[[record]]
name = "www.new"
A = ["192.0.2.80"]
[[record]]
name = "alias.new"
CNAME = "www.new"
[[record]]
name = "chain"
DNAME = "old.dname.test."
[[record]]
name = "away"
DNAME = "example.net."
[[record]]
name = "grow"
DNAME = "a123456789012345678901234567890123456789012345678901234567890.b123456789012345678901234567890123456789012345678901234567890.c123456789012345678901234567890123456789012345678901234567890.dname.test."
"#;

fn dname_zones() -> ZoneSet {
    zones_from_toml(&[DNAME_ZONE])
}

#[test]
fn a_name_below_a_dname_gets_the_dname_a_synthesised_cname_and_the_target_rfc6672() {
    let zones = dname_zones();
    let a = ask(&zones, "WWW.old.dname.test.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.authoritative);
    assert_eq!(
        summary(&a.answers),
        [
            ("old.dname.test.".into(), RecordType::DNAME),
            ("WWW.old.dname.test.".into(), RecordType::CNAME),
            ("WWW.new.dname.test.".into(), RecordType::A),
        ]
    );
    let cname = &a.answers[1];
    assert_eq!(cname.ttl, 600, "the synthesised CNAME has the DNAME's TTL");
    assert_eq!(
        cname.data.to_string(),
        "WWW.new.dname.test.",
        "the query's own labels, then the DNAME's target"
    );
}

#[test]
fn the_dname_owner_answers_from_its_own_data() {
    let zones = dname_zones();
    let a = ask(&zones, "old.dname.test.", RecordType::A);
    assert_eq!(
        summary(&a.answers),
        [("old.dname.test.".into(), RecordType::A)]
    );
    let d = ask(&zones, "old.dname.test.", RecordType::DNAME);
    assert_eq!(
        summary(&d.answers),
        [("old.dname.test.".into(), RecordType::DNAME)]
    );
    let none = ask(&zones, "old.dname.test.", RecordType::TXT);
    assert!(none.answers.is_empty() && soa_only(&none.authorities));
}

#[test]
fn dname_chains_with_cnames_and_dnames_and_stops_where_the_zone_ends() {
    let zones = dname_zones();
    // DNAME -> DNAME -> CNAME -> data.
    let a = ask(&zones, "alias.chain.dname.test.", RecordType::A);
    let types: Vec<RecordType> = a.answers.iter().map(Record::record_type).collect();
    assert_eq!(
        types,
        [
            RecordType::DNAME,
            RecordType::CNAME,
            RecordType::DNAME,
            RecordType::CNAME,
            RecordType::CNAME,
            RecordType::A
        ]
    );
    // A target nobody holds: NXDOMAIN for the end of the chain (RFC 6604).
    let nx = ask(&zones, "nothing.old.dname.test.", RecordType::A);
    assert_eq!(nx.rcode, ResponseCode::NXDomain);
    assert_eq!(nx.answers.len(), 2);
    // Out of the zone: the DNAME and the CNAME, nothing more.
    let out = ask(&zones, "www.away.dname.test.", RecordType::A);
    assert_eq!(out.rcode, ResponseCode::NoError);
    assert_eq!(
        out.answers[1].data.to_string(),
        "www.example.net.",
        "{:?}",
        out.answers
    );
    assert_eq!(out.answers.len(), 2);
    // Asked for the CNAME: the chain stops at the synthesised one.
    let c = ask(&zones, "www.old.dname.test.", RecordType::CNAME);
    assert_eq!(c.answers.len(), 2);
}

#[test]
fn a_synthesised_name_too_long_is_yxdomain_with_the_dname() {
    let zones = dname_zones();
    let label = "x".repeat(63);
    let long = format!("{label}.{label}.grow.dname.test.");
    let a = ask(&zones, &long, RecordType::A);
    assert_eq!(a.rcode, ResponseCode::YXDomain);
    assert_eq!(
        summary(&a.answers),
        [("grow.dname.test.".into(), RecordType::DNAME)]
    );
}

#[test]
fn a_dname_at_the_apex_redirects_every_name_below_it() {
    let apex = r#"
origin = "moved.test."
[soa]
mname = "ns1.dname.test."
rname = "hostmaster"
serial = 1
[[record]]
name = "@"
NS = ["ns1.dname.test."]
DNAME = "new.dname.test."
"#;
    let zones = zones_from_toml(&[apex, DNAME_ZONE]);
    let a = ask(&zones, "www.moved.test.", RecordType::A);
    assert_eq!(
        summary(&a.answers),
        [
            ("moved.test.".into(), RecordType::DNAME),
            ("www.moved.test.".into(), RecordType::CNAME),
        ],
        "the target is in another zone: the resolver follows it"
    );
    let soa = ask(&zones, "moved.test.", RecordType::SOA);
    assert_eq!(
        summary(&soa.answers),
        [("moved.test.".into(), RecordType::SOA)]
    );
}
