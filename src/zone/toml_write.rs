//! Writing a [`Zone`] in the TOML zone format that [`super::toml_zone`]
//! reads: the writer behind `fedns zone import` and `fedns zone fmt`.
//!
//! The output is normalised so that writing is idempotent:
//!
//! - `origin`, then `ttl` (the most common TTL of the records written), then
//!   the `[soa]` table with every timer, then one `[[record]]` table per
//!   owner and TTL (a table has one TTL for all its types, so an owner whose
//!   RRsets differ in TTL gets several tables), owners in DNSSEC canonical
//!   order (RFC 4034 6.1) with the apex first, then the `[[matrix]]` sections;
//! - names relative to the origin where they are below it, `@` for the apex;
//! - types in a fixed order (NS, A, AAAA, CNAME, MX, TXT, SRV, CAA, then by
//!   type code), the records of one RRset in source order;
//! - RDATA in presentation format ([`format_rdata`]), TXT as its text (an
//!   array of strings when the record holds several character-strings that
//!   are not simply a long text split every 255 bytes).
//!
//! SRV records that a `[[matrix]]` section expanded into (recognised by the
//! section's [`Place`](super::Place)) are written as that section, not as
//! records. [`toml_problems`] lists what the TOML format cannot express
//! (TXT that is not UTF-8, SOA timers above 2^31-1, ...): callers refuse to
//! write a zone that has any, since the result would not read back the same.
//!
//! [`write_toml_zone_with_comments`] also carries the comments of a TOML
//! source over: the block at the top of the file and the block above each
//! table header. Comments beside or inside a table's keys are not kept.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::error::ZoneError;
use super::matrix::MatrixDelegation;
use super::place::Place;
use super::rdata_text::{format_name, format_rdata, type_mnemonic};
use super::{SourcedRecord, Zone};

/// Output lines longer than this put each array item on its own line.
const MAX_LINE: usize = 100;

/// Writes `zone` as a TOML zone (see the module documentation).
pub fn write_toml_zone(zone: &Zone) -> String {
    write_toml_zone_with_comments(zone, "")
}

/// [`write_toml_zone`], keeping the comments of `source`, the TOML text the
/// zone was parsed from: the block at the top and the block above each
/// `[soa]`, `[[record]]` and `[[matrix]]` header go above the table that
/// holds that table's data; blocks whose table wrote nothing go at the end.
pub fn write_toml_zone_with_comments(zone: &Zone, source: &str) -> String {
    let comments = Comments::parse(source);
    let mut used: HashSet<u32> = HashSet::new();
    let parts = Parts::of(zone);
    // The apex as the SOA spells it (the origin may differ in case).
    let origin = &parts
        .soa
        .map_or_else(|| zone.origin.clone(), |soa| soa.name());
    let mut out = String::new();

    if !comments.top.is_empty() {
        push_block(&mut out, &comments.top);
        out.push('\n');
    }
    let _ = writeln!(out, "origin = {}", toml_string(&format_name(origin)));
    let _ = writeln!(out, "ttl = {}", duration_value(parts.default_ttl));

    if let Some(soa) = parts.soa {
        out.push('\n');
        comments.emit_for(&mut out, &mut used, [&soa.place]);
        out.push_str(&soa_table(soa, origin, parts.default_ttl));
    }
    for table in &parts.tables {
        out.push('\n');
        comments.emit_for(&mut out, &mut used, table.records.iter().map(|r| &r.place));
        out.push_str(&table.write(origin, parts.default_ttl));
    }
    for (delegation, ttl) in &parts.matrix {
        out.push('\n');
        comments.emit_for(&mut out, &mut used, [&delegation.place]);
        out.push_str(&matrix_table(delegation, *ttl, origin, parts.default_ttl));
    }
    let mut left: Vec<(&u32, &Vec<String>)> = comments
        .above
        .iter()
        .filter(|(line, _)| !used.contains(line))
        .collect();
    left.sort();
    for (_, block) in left {
        out.push('\n');
        push_block(&mut out, block);
    }
    if !comments.bottom.is_empty() {
        out.push('\n');
        push_block(&mut out, &comments.bottom);
    }
    out
}

/// What the TOML format cannot express in `zone`, each at the place of the
/// record or section concerned. Empty when [`write_toml_zone`] is lossless.
pub fn toml_problems(zone: &Zone) -> Vec<ZoneError> {
    let mut problems = Vec::new();
    let apex_soa = apex_soa_index(zone);
    for (i, sourced) in zone.records.iter().enumerate() {
        let record = &sourced.record();
        let mut problem = |message: String| {
            problems.push(ZoneError::new(sourced.place.clone(), message));
        };
        match &record.data {
            RData::TXT(txt) if txt.txt_data.iter().any(|s| std::str::from_utf8(s).is_err()) => {
                problem(format!(
                    "TXT at {} holds bytes that are not UTF-8 text: the TOML format writes TXT as text, so keep this zone as a master file",
                    record.name
                ));
            }
            RData::SOA(soa) if Some(i) == apex_soa => {
                for (what, value) in [
                    ("refresh", soa.refresh),
                    ("retry", soa.retry),
                    ("expire", soa.expire),
                ] {
                    if value < 0 {
                        problem(format!(
                            "SOA {what} {} is above 2147483647, which the TOML [soa] table cannot hold",
                            value as u32
                        ));
                    }
                }
            }
            RData::SOA(_) => problem(format!(
                "SOA at {}: a TOML zone holds exactly one SOA, at the apex {}",
                record.name, zone.origin
            )),
            _ => {}
        }
    }
    for delegation in &zone.matrix {
        if delegation.targets.len() > 1 {
            problems.push(ZoneError::new(
                delegation.place.clone(),
                format!(
                    "the Matrix delegation of {} has {} SRV targets; a [[matrix]] section holds one",
                    delegation.server_name,
                    delegation.targets.len()
                ),
            ));
        }
        if let Some(path) = &delegation.certificate
            && path.to_str().is_none()
        {
            problems.push(ZoneError::new(
                delegation.place.clone(),
                format!("the certificate path {} is not UTF-8", path.display()),
            ));
        }
    }
    problems
}

/// The records of a zone as sorted master-file lines (exact case, TTL,
/// type and RDATA): two zones hold the same records when these are equal.
pub fn record_lines(origin: &Name, records: &[SourcedRecord]) -> Vec<String> {
    let records: Vec<Record> = records.iter().map(|r| r.record().clone()).collect();
    let mut lines: Vec<String> = super::master::write_master(origin, &records)
        .lines()
        .skip(1) // $ORIGIN
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// The records in the order `fedns zone export` writes them: the apex SOA
/// first, then by owner in DNSSEC canonical order (RFC 4034 6.1) and type
/// as in a TOML table, each RRset in source order.
pub fn canonical_order(zone: &Zone) -> Vec<Record> {
    let apex_soa = apex_soa_index(zone);
    let mut order: Vec<(usize, &SourcedRecord)> = zone.records.iter().enumerate().collect();
    order.sort_by(|(i, a), (j, b)| {
        (Some(*i) != apex_soa)
            .cmp(&(Some(*j) != apex_soa))
            .then_with(|| a.name().cmp(&b.name()))
            .then_with(|| a.name().cmp_case(&b.name()))
            .then_with(|| type_rank(a.record_type()).cmp(&type_rank(b.record_type())))
    });
    order.into_iter().map(|(_, r)| r.record().clone()).collect()
}

// ---------------------------------------------------------------------------
// Splitting the zone into what gets written
// ---------------------------------------------------------------------------

/// The zone, sorted into the tables of the output.
struct Parts<'z> {
    default_ttl: u32,
    soa: Option<&'z SourcedRecord>,
    tables: Vec<Table<'z>>,
    /// Each section, with the TTL its SRV records have now (if it has any).
    matrix: Vec<(&'z MatrixDelegation, Option<u32>)>,
}

impl<'z> Parts<'z> {
    fn of(zone: &'z Zone) -> Parts<'z> {
        let (from_matrix, matrix) = matrix_records(zone);
        let apex_soa = apex_soa_index(zone);
        let soa = apex_soa.and_then(|i| zone.records.get(i));
        let plain: Vec<&SourcedRecord> = zone
            .records
            .iter()
            .enumerate()
            .filter(|(i, _)| !from_matrix.contains(i) && Some(*i) != apex_soa)
            .map(|(_, r)| r)
            .collect();
        let default_ttl = most_common_ttl(soa.into_iter().chain(plain.iter().copied()))
            .unwrap_or(super::toml_zone::DEFAULT_TTL);
        Parts {
            default_ttl,
            soa,
            tables: tables(&plain, default_ttl),
            matrix,
        }
    }
}

/// The index of the SOA at the apex (the first, if there are several).
fn apex_soa_index(zone: &Zone) -> Option<usize> {
    zone.records
        .iter()
        .position(|r| r.record_type() == RecordType::SOA && r.name() == zone.origin)
}

/// The indices of the records that `[[matrix]]` sections expanded into, and
/// each section with the TTL of its SRV records.
fn matrix_records(zone: &Zone) -> (HashSet<usize>, Vec<(&MatrixDelegation, Option<u32>)>) {
    let mut taken = HashSet::new();
    let mut sections = Vec::new();
    for delegation in &zone.matrix {
        let mut ttl = None;
        for expected in delegation.srv_records(0) {
            let found = zone.records.iter().enumerate().position(|(i, r)| {
                !taken.contains(&i)
                    && r.place == delegation.place
                    && r.name().cmp_case(&expected.name()).is_eq()
                    && r.data() == expected.data()
            });
            if let Some(i) = found {
                taken.insert(i);
                ttl = ttl.or(zone.records.get(i).map(|r| r.ttl()));
            }
        }
        sections.push((delegation, ttl));
    }
    (taken, sections)
}

/// The most common TTL; the smallest of equally common ones.
fn most_common_ttl<'r>(records: impl Iterator<Item = &'r SourcedRecord>) -> Option<u32> {
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for r in records {
        *counts.entry(r.ttl()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|(ttl_a, n_a), (ttl_b, n_b)| n_a.cmp(n_b).then(ttl_b.cmp(ttl_a)))
        .map(|(ttl, _)| ttl)
}

/// One `[[record]]` table: one owner, one TTL.
struct Table<'z> {
    owner: Name,
    ttl: u32,
    records: Vec<&'z SourcedRecord>,
}

/// Groups records by exact owner and TTL, in output order.
fn tables<'z>(records: &[&'z SourcedRecord], default_ttl: u32) -> Vec<Table<'z>> {
    let mut index: HashMap<(String, u32), usize> = HashMap::new();
    let mut out: Vec<Table<'z>> = Vec::new();
    for &sourced in records {
        let key = (format_name(&sourced.name()), sourced.ttl());
        let i = *index.entry(key).or_insert_with(|| {
            out.push(Table {
                owner: sourced.name(),
                ttl: sourced.ttl(),
                records: Vec::new(),
            });
            out.len() - 1
        });
        if let Some(table) = out.get_mut(i) {
            table.records.push(sourced);
        }
    }
    out.sort_by(|a, b| {
        a.owner
            .cmp(&b.owner)
            .then_with(|| a.owner.cmp_case(&b.owner))
            .then_with(|| (a.ttl != default_ttl).cmp(&(b.ttl != default_ttl)))
            .then_with(|| a.ttl.cmp(&b.ttl))
    });
    for table in &mut out {
        // Stable: the records of one type keep their source order.
        table.records.sort_by_key(|r| type_rank(r.record_type()));
    }
    out
}

/// The order types are written in within a table.
fn type_rank(rtype: RecordType) -> (u8, u16) {
    const FIRST: [RecordType; 8] = [
        RecordType::NS,
        RecordType::A,
        RecordType::AAAA,
        RecordType::CNAME,
        RecordType::MX,
        RecordType::TXT,
        RecordType::SRV,
        RecordType::CAA,
    ];
    match FIRST.iter().position(|t| *t == rtype) {
        Some(i) => (0, i as u16),
        None => (1, u16::from(rtype)),
    }
}

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

impl Table<'_> {
    fn write(&self, origin: &Name, default_ttl: u32) -> String {
        let mut out = String::from("[[record]]\n");
        let _ = writeln!(
            out,
            "name = {}",
            toml_string(&relative_name(&self.owner, origin))
        );
        if self.ttl != default_ttl {
            let _ = writeln!(out, "ttl = {}", duration_value(self.ttl));
        }
        let mut i = 0;
        while let Some(first) = self.records.get(i) {
            let rtype = first.record_type();
            let values: Vec<String> = self.records[i..]
                .iter()
                .take_while(|r| r.record_type() == rtype)
                .map(|r| rdata_value(&r.data(), origin))
                .collect();
            i += values.len();
            let key = type_mnemonic(rtype);
            let single =
                matches!(rtype, RecordType::CNAME | RecordType::DNAME) && values.len() == 1;
            let value = if single {
                values.concat()
            } else {
                toml_array(&key, &values)
            };
            let _ = writeln!(out, "{key} = {value}");
        }
        out
    }
}

fn soa_table(soa: &SourcedRecord, origin: &Name, default_ttl: u32) -> String {
    let mut out = String::from("[soa]\n");
    let RData::SOA(data) = &soa.data() else {
        return out;
    };
    let rname = rname_text(&data.rname, origin);
    let _ = writeln!(
        out,
        "mname = {}",
        toml_string(&relative_name(&data.mname, origin))
    );
    let _ = writeln!(out, "rname = {}", toml_string(&rname));
    let _ = writeln!(out, "serial = {}", data.serial);
    for (key, value) in [
        ("refresh", data.refresh as u32),
        ("retry", data.retry as u32),
        ("expire", data.expire as u32),
        ("minimum", data.minimum),
    ] {
        let _ = writeln!(out, "{key} = {}", duration_value(value));
    }
    if soa.ttl() != default_ttl {
        let _ = writeln!(out, "ttl = {}", duration_value(soa.ttl()));
    }
    out
}

/// RNAME as a person writes it: relative under the origin, else
/// `local@domain` when the mailbox's first label is plain, else absolute.
/// A '@' inside a label is written `\064`, as the loader reads '@' as the
/// mailbox separator.
fn rname_text(rname: &Name, origin: &Name) -> String {
    let relative = relative_name(rname, origin);
    if !relative.ends_with('.') || rname.num_labels() < 2 {
        return relative.replace("\\@", "\\064");
    }
    let mut labels = rname.iter();
    let local = labels.next().unwrap_or_default();
    let plain = local
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_');
    match Name::from_labels(labels) {
        Ok(domain) if plain => {
            let domain = format_name(&domain).replace("\\@", "\\064");
            format!(
                "{}@{}",
                String::from_utf8_lossy(local),
                domain.trim_end_matches('.')
            )
        }
        _ => relative.replace("\\@", "\\064"),
    }
}

fn matrix_table(
    d: &MatrixDelegation,
    srv_ttl: Option<u32>,
    origin: &Name,
    default_ttl: u32,
) -> String {
    let mut out = String::from("[[matrix]]\n");
    let _ = writeln!(
        out,
        "server_name = {}",
        toml_string(&relative_name(&d.server_name, origin))
    );
    if let Some(t) = d.targets.first() {
        let _ = writeln!(
            out,
            "target = {}",
            toml_string(&relative_name(&t.target, origin))
        );
        let _ = writeln!(out, "port = {}", t.port);
        if t.priority != 10 {
            let _ = writeln!(out, "priority = {}", t.priority);
        }
        if t.weight != 0 {
            let _ = writeln!(out, "weight = {}", t.weight);
        }
    }
    if !d.legacy_srv {
        out.push_str("legacy_srv = false\n");
    }
    // An explicit TTL stays; an implicit one is written when the zone's
    // default changed under it, so the SRV records keep their TTL.
    match (d.ttl, srv_ttl) {
        (Some(ttl), _) => {
            let _ = writeln!(out, "ttl = {}", duration_value(ttl));
        }
        (None, Some(ttl)) if ttl != default_ttl => {
            let _ = writeln!(out, "ttl = {}", duration_value(ttl));
        }
        _ => {}
    }
    if let Some(well_known) = &d.well_known {
        let _ = writeln!(out, "well_known = {}", toml_string(well_known));
    }
    if let Some(path) = &d.certificate {
        let _ = writeln!(
            out,
            "certificate = {}",
            toml_string(&path.to_string_lossy())
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// `name` relative to `origin` when it is below it (`@` for the origin
/// itself), else absolute; case and escapes as [`format_name`] writes them.
pub fn relative_name(name: &Name, origin: &Name) -> String {
    let name_labels: Vec<&[u8]> = name.iter().collect();
    let origin_labels: Vec<&[u8]> = origin.iter().collect();
    let Some(prefix_len) = name_labels.len().checked_sub(origin_labels.len()) else {
        return format_name(name);
    };
    if name_labels[prefix_len..] != origin_labels[..] {
        return format_name(name);
    }
    if prefix_len == 0 {
        return "@".to_owned();
    }
    match Name::from_labels(name_labels[..prefix_len].iter().copied()) {
        Ok(prefix) => {
            let text = format_name(&prefix);
            text.strip_suffix('.').unwrap_or(&text).to_owned()
        }
        Err(_) => format_name(name),
    }
}

/// One record's data as a TOML value.
fn rdata_value(rdata: &RData, origin: &Name) -> String {
    match rdata {
        RData::TXT(txt) => txt_value(&txt.txt_data),
        _ => toml_string(&rdata_text(rdata, origin)),
    }
}

/// Presentation text of RDATA, with the names of the common types relative
/// to the origin.
fn rdata_text(rdata: &RData, origin: &Name) -> String {
    let rel = |name: &Name| relative_name(name, origin);
    match rdata {
        RData::NS(ns) => rel(&ns.0),
        RData::CNAME(cname) => rel(&cname.0),
        RData::PTR(ptr) => rel(&ptr.0),
        RData::MX(mx) => format!("{} {}", mx.preference, rel(&mx.exchange)),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority,
            srv.weight,
            srv.port,
            rel(&srv.target)
        ),
        other => format_rdata(other),
    }
}

/// TXT as the loader reads it: one string when the character-strings are
/// the text split every 255 bytes (or there is one), else an array.
fn txt_value(strings: &[Box<[u8]>]) -> String {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let is_plain_split = match strings.split_last() {
        None => false,
        Some((_, [])) => true,
        Some((last, init)) => !last.is_empty() && init.iter().all(|s| s.len() == 255),
    };
    if is_plain_split {
        let joined: Vec<u8> = strings.iter().flat_map(|s| s.iter().copied()).collect();
        // Splitting must give the same strings back (a UTF-8 character may
        // straddle a 255-byte boundary: that is fine, the split is by bytes).
        if std::str::from_utf8(&joined).is_ok() {
            return toml_string(&text(&joined));
        }
    }
    let items: Vec<String> = strings.iter().map(|s| toml_string(&text(s))).collect();
    format!("[{}]", items.join(", "))
}

/// A TOML array of already-written values: on one line when it fits, else
/// one value per line.
fn toml_array(key: &str, values: &[String]) -> String {
    let one_line = format!("[{}]", values.join(", "));
    if key.len() + 3 + one_line.len() <= MAX_LINE || values.len() < 2 {
        return one_line;
    }
    let mut out = String::from("[\n");
    for v in values {
        let _ = writeln!(out, "  {v},");
    }
    out.push(']');
    out
}

/// A TOML string: a literal string (`'...'`) when the text has quotes or
/// backslashes and nothing a literal string cannot hold, else a basic string.
pub fn toml_string(text: &str) -> String {
    let has_control = text.chars().any(|c| c.is_control());
    if !has_control && !text.contains('\'') && (text.contains('"') || text.contains('\\')) {
        return format!("'{text}'");
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A duration as the loader reads it: `"1h"`, `"2h30m"`, `"14d"`, `"0"`.
fn duration_value(seconds: u32) -> String {
    toml_string(&format_duration(seconds))
}

/// Seconds in d/h/m/s units, largest first (`90061` -> `1d1h1m1s`).
pub fn format_duration(seconds: u32) -> String {
    if seconds == 0 {
        return "0".to_owned();
    }
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Comments of the source
// ---------------------------------------------------------------------------

/// The comment blocks of a TOML source, by where they stand.
#[derive(Debug, Default)]
struct Comments {
    /// Lines of the source (for finding the header above a line).
    headers: Vec<u32>,
    /// The block before the first key or table.
    top: Vec<String>,
    /// The block above each table header, by the header's 1-based line.
    above: HashMap<u32, Vec<String>>,
    /// The block after the last key or table.
    bottom: Vec<String>,
}

impl Comments {
    fn parse(source: &str) -> Comments {
        let mut comments = Comments::default();
        let mut pending: Vec<String> = Vec::new();
        let mut seen_content = false;
        for (index, line) in source.lines().enumerate() {
            let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let trimmed = line.trim();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                if trimmed.is_empty() && pending.is_empty() {
                    continue;
                }
                pending.push(trimmed.to_owned());
                continue;
            }
            let block = trim_blank(std::mem::take(&mut pending));
            if trimmed.starts_with('[') {
                comments.headers.push(line_no);
                if !block.is_empty() {
                    if seen_content {
                        comments.above.insert(line_no, block);
                    } else {
                        comments.top = block;
                    }
                }
            } else if !seen_content {
                comments.top = block;
            }
            seen_content = true;
        }
        comments.bottom = trim_blank(pending);
        if !seen_content {
            comments.top = std::mem::take(&mut comments.bottom);
        }
        comments
    }

    /// The header line at or above `line`.
    fn header_of(&self, line: u32) -> Option<u32> {
        match self.headers.binary_search(&line) {
            Ok(i) => self.headers.get(i).copied(),
            Err(0) => None,
            Err(i) => self.headers.get(i - 1).copied(),
        }
    }

    /// Writes the blocks above the headers of the tables `places` were
    /// written in, each block once.
    fn emit_for<'p>(
        &self,
        out: &mut String,
        used: &mut HashSet<u32>,
        places: impl IntoIterator<Item = &'p Place>,
    ) {
        let mut headers: Vec<u32> = places
            .into_iter()
            .filter_map(|p| self.header_of(p.line))
            .collect();
        headers.sort_unstable();
        headers.dedup();
        for header in headers {
            if let Some(block) = self.above.get(&header)
                && used.insert(header)
            {
                push_block(out, block);
            }
        }
    }
}

/// Drops blank lines at both ends of a block.
fn trim_blank(mut block: Vec<String>) -> Vec<String> {
    while block.last().is_some_and(String::is_empty) {
        block.pop();
    }
    let first = block
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(block.len());
    block.drain(..first);
    block
}

fn push_block(out: &mut String, block: &[String]) {
    for line in block {
        out.push_str(line);
        out.push('\n');
    }
}

/// Orders two names as [`tables`] does (for tests).
#[cfg(test)]
fn owner_order(a: &Name, b: &Name) -> std::cmp::Ordering {
    a.cmp(b).then_with(|| a.cmp_case(b))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::zone::master::parse_master;
    use crate::zone::toml_zone::parse_toml_zone;
    use crate::zone::validate::validate_zone;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn from_master(text: &str) -> Zone {
        let file: Arc<str> = Arc::from("t.zone");
        let origin = name("example.org.");
        let records = parse_master(text, &file, &origin).unwrap_or_else(|e| panic!("{e}"));
        Zone {
            origin,
            records,
            matrix: Vec::new(),
            source: None,
        }
    }

    fn from_toml(text: &str) -> Zone {
        let file: Arc<str> = Arc::from("t.toml");
        let zone = parse_toml_zone(text, &file, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
        validate_zone(&zone).unwrap_or_else(|e| panic!("{e}\n{text}"));
        zone
    }

    /// Master text -> TOML -> zone: the same records, and fmt is stable.
    fn assert_round_trip(master: &str) -> String {
        let zone = from_master(master);
        assert!(
            toml_problems(&zone).is_empty(),
            "{:?}",
            toml_problems(&zone)
        );
        let toml = write_toml_zone(&zone);
        let back = from_toml(&toml);
        assert_eq!(
            record_lines(&zone.origin, &zone.records),
            record_lines(&back.origin, &back.records),
            "{toml}"
        );
        assert_eq!(write_toml_zone_with_comments(&back, &toml), toml);
        let exported = crate::zone::master::write_master(&back.origin, &canonical_order(&back));
        let file: Arc<str> = Arc::from("e.zone");
        let again = parse_master(&exported, &file, &back.origin).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            record_lines(&zone.origin, &zone.records),
            record_lines(&zone.origin, &again)
        );
        toml
    }

    const HEAD: &str = "$ORIGIN example.org.\n$TTL 3600\n@ SOA ns1 hostmaster 7 2h 15m 14d 5m\n@ NS ns1\n@ NS ns2.example.net.\nns1 A 192.0.2.53\n";

    #[test]
    fn writes_the_documented_shape() {
        let toml = assert_round_trip(&format!(
            "{HEAD}@ MX 10 mail\nmail A 192.0.2.25\nwww 300 CNAME @\n_sip._tcp SRV 0 5 5060 sip.example.net.\n"
        ));
        let expected = "origin = \"example.org.\"\nttl = \"1h\"\n\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = 7\nrefresh = \"2h\"\nretry = \"15m\"\nexpire = \"14d\"\nminimum = \"5m\"\n\n[[record]]\nname = \"@\"\nNS = [\"ns1\", \"ns2.example.net.\"]\nMX = [\"10 mail\"]\n\n[[record]]\nname = \"_sip._tcp\"\nSRV = [\"0 5 5060 sip.example.net.\"]\n\n[[record]]\nname = \"mail\"\nA = [\"192.0.2.25\"]\n\n[[record]]\nname = \"ns1\"\nA = [\"192.0.2.53\"]\n\n[[record]]\nname = \"www\"\nttl = \"5m\"\nCNAME = \"@\"\n";
        assert_eq!(toml, expected);
    }

    #[test]
    fn an_owner_with_rrsets_of_different_ttls_gets_one_table_per_ttl() {
        let toml = assert_round_trip(&format!(
            "{HEAD}host 60 A 192.0.2.1\nhost AAAA 2001:db8::1\nhost 60 TXT \"x\"\nhost 120 A 192.0.2.2\n"
        ));
        assert!(toml.contains("name = \"host\"\nAAAA = [\"2001:db8::1\"]\n\n[[record]]\nname = \"host\"\nttl = \"1m\"\nA = [\"192.0.2.1\"]\nTXT = [\"x\"]\n\n[[record]]\nname = \"host\"\nttl = \"2m\"\nA = [\"192.0.2.2\"]\n"), "{toml}");
    }

    #[test]
    fn default_ttl_is_the_most_common_one() {
        let toml = assert_round_trip(&format!(
            "{HEAD}a 300 A 192.0.2.1\nb 300 A 192.0.2.2\nc 300 A 192.0.2.3\nd 300 A 192.0.2.4\nE 300 A 192.0.2.5\n"
        ));
        assert!(toml.contains("ttl = \"5m\"\n\n[soa]"), "{toml}");
        assert!(toml.contains("ttl = \"1h\"\nNS = "), "{toml}");
        assert!(toml.contains("name = \"E\""), "case is kept: {toml}");
    }

    #[test]
    fn txt_is_written_as_text_and_multi_string_txt_as_arrays() {
        let long = "b".repeat(300);
        let toml = assert_round_trip(&format!(
            "{HEAD}t TXT \"v=spf1 -all\"\nt TXT \"a\" \"b\"\nt TXT \"say \\\"hi\\\" \\\\ ok\"\nt TXT \"\"\nt TXT \"tab\\009é\"\nt TXT \"{}\" \"{}\"\n",
            &long[..255],
            &long[255..]
        ));
        assert!(toml.contains("\"v=spf1 -all\""), "{toml}");
        assert!(toml.contains("[\"a\", \"b\"]"), "{toml}");
        assert!(toml.contains(r#"'say "hi" \ ok'"#), "{toml}");
        assert!(toml.contains("\"tab\\té\""), "{toml}");
        assert!(
            toml.contains(&format!("\"{long}\"")),
            "a long text split every 255 bytes is one string: {toml}"
        );
    }

    #[test]
    fn every_type_the_master_parser_knows_round_trips() {
        assert_round_trip(&format!(
            "{HEAD}{}",
            concat!(
                "x CAA 0 issue \"letsencrypt.org\"\n",
                "x SSHFP 1 1 0123456789abcdef0123456789abcdef01234567\n",
                "_443._tcp.x TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n",
                "x HINFO \"cpu\" \"os\"\n",
                "x NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n",
                "x SPF \"v=spf1 -all\"\n",
                "x RP mbox txt\n",
                "x AFSDB 1 afs\n",
                "x URI 10 1 \"https://example.org/\"\n",
                "x LOC \\# 16 00121313899a0a0c80be9c4b0098a4b0\n",
                "x TYPE65280 \\# 3 abcdef\n",
                "x HTTPS 1 . alpn=h2\n",
                "x OPENPGPKEY AQID\n",
                "sub NS ns.sub\n",
                "ns.sub A 192.0.2.9\n",
                "sub DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n",
                "dn DNAME other.example.net.\n",
                "p PTR host.example.net.\n",
                "k DNSKEY 257 3 13 AQID\n",
                "kx KX 10 kx.example.net.\n",
                "x NSEC next A NS RRSIG NSEC TYPE65280\n",
                "@ NSEC3PARAM 1 0 10 aabbccdd\n",
                "x RRSIG A 13 3 3600 20260101000000 20251201000000 12345 example.org. AQID\n",
                "x CSYNC 1 3 A NS AAAA\n",
                "x CERT PKIX 0 0 AQID\n",
                "x EUI48 \\# 6 001122334455\n",
                "x NULL \\# 2 abcd\n",
                "z TXT \\# 0\n",
                "w\\.x\\032y\\@ TXT \"odd owner\"\n",
                "*.wild 0 A 192.0.2.1\n",
            )
        ));
    }

    #[test]
    fn matrix_sections_survive_and_their_srv_records_are_not_repeated() {
        let source = "# A zone.\n\norigin = \"example.org.\"\nttl = 300\n\n# The SOA.\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster@example.org\"\nserial = 1\n\n[[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[record]]\nname = \"ns1\"\nttl = 3600\nA = [\"192.0.2.1\"]\n[[record]]\nname = \"ns2\"\nttl = 3600\nA = [\"192.0.2.2\"]\n[[record]]\nname = \"ns3\"\nttl = 3600\nA = [\"192.0.2.3\"]\n\n# Delegation.\n[[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = 443\n[[matrix]]\nserver_name = \"other\"\ntarget = \"synapse.example.net.\"\nlegacy_srv = false\npriority = 5\nweight = 7\nttl = \"1m\"\nwell_known = \"synapse.example.net:443\"\ncertificate = \"certs/synapse.pem\"\n";
        let zone = from_toml(source);
        let toml = write_toml_zone_with_comments(&zone, source);
        assert!(!toml.contains("SRV"), "{toml}");
        assert_eq!(toml.matches("[[matrix]]").count(), 2, "{toml}");
        // The default TTL moved to 1h: the first section keeps its 300.
        assert!(toml.contains("ttl = \"1h\"\n"), "{toml}");
        assert!(toml.contains("port = 443\nttl = \"5m\"\n"), "{toml}");
        assert!(toml.contains("priority = 5\nweight = 7\nlegacy_srv = false\nttl = \"1m\"\nwell_known = \"synapse.example.net:443\"\ncertificate = \"certs/synapse.pem\"\n"), "{toml}");
        assert!(toml.starts_with("# A zone.\n\norigin"), "{toml}");
        assert!(toml.contains("# The SOA.\n[soa]"), "{toml}");
        assert!(toml.contains("# Delegation.\n[[matrix]]"), "{toml}");
        let back = from_toml(&toml);
        assert_eq!(
            record_lines(&zone.origin, &zone.records),
            record_lines(&back.origin, &back.records)
        );
        assert_eq!(back.matrix.len(), 2);
        assert_eq!(write_toml_zone_with_comments(&back, &toml), toml);
    }

    #[test]
    fn export_order_puts_the_soa_first_then_owners_canonically() {
        let zone = from_master(&format!(
            "{HEAD}b A 192.0.2.2\na A 192.0.2.1\n@ SOA ns1 h 2 1 1 1 1\n"
        ));
        let owners: Vec<String> = canonical_order(&zone)
            .iter()
            .map(|r| format!("{} {}", r.name, r.record_type()))
            .collect();
        assert_eq!(
            owners,
            [
                "example.org. SOA",
                "example.org. NS",
                "example.org. NS",
                "example.org. SOA",
                "a.example.org. A",
                "b.example.org. A",
                "ns1.example.org. A"
            ]
        );
    }

    #[test]
    fn what_toml_cannot_hold_is_reported_at_its_place() {
        let zone = from_master(&format!("{HEAD}t TXT \"\\255\"\n"));
        let problems = toml_problems(&zone);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].place.to_string(), "t.zone:7:1");
        assert!(problems[0].message.contains("not UTF-8"), "{}", problems[0]);
        let zone = from_master("$TTL 1\n@ SOA ns1 h 1 3000000000 1 1 1\n@ NS ns1\n");
        let problems = toml_problems(&zone);
        assert!(
            problems[0].message.contains("refresh 3000000000"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn an_at_sign_in_rname_is_escaped() {
        assert_round_trip("$TTL 1\n@ SOA ns1 ho\\@st 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n");
    }

    #[test]
    fn rname_is_written_as_a_mailbox_outside_the_origin() {
        let origin = name("example.org.");
        assert_eq!(
            rname_text(&name("hostmaster.example.org."), &origin),
            "hostmaster"
        );
        assert_eq!(
            rname_text(&name("Host-Master.example.net."), &origin),
            "Host-Master@example.net"
        );
        assert_eq!(
            rname_text(&name("a\\.b.example.net."), &origin),
            "a\\.b.example.net."
        );
        let odd = Name::from_labels([&b"a"[..], b"b@c", b"net"]).unwrap();
        assert_eq!(rname_text(&odd, &origin), "a@b\\064c.net");
        assert_eq!(rname_text(&name("root."), &origin), "root.");
        assert_round_trip("$TTL 1\n@ SOA ns1 h.x\\@y.net. 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n");
        assert_round_trip(
            "$TTL 1\n@ SOA ns1 host.example.net. 1 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n",
        );
    }

    #[test]
    fn relative_names() {
        let origin = name("example.org.");
        assert_eq!(relative_name(&name("example.org."), &origin), "@");
        assert_eq!(relative_name(&name("a.b.example.org."), &origin), "a.b");
        assert_eq!(
            relative_name(&name("EXAMPLE.org."), &origin),
            "EXAMPLE.org."
        );
        assert_eq!(
            relative_name(&name("example.net."), &origin),
            "example.net."
        );
        assert_eq!(relative_name(&name("org."), &origin), "org.");
        assert_eq!(relative_name(&name("a\\.b.example.org."), &origin), "a\\.b");
        assert_eq!(relative_name(&name("www."), &Name::root()), "www");
    }

    #[test]
    fn durations_and_strings() {
        assert_eq!(format_duration(0), "0");
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(1_209_600), "14d");
        assert_eq!(format_duration(90_061), "1d1h1m1s");
        assert_eq!(toml_string("plain"), "\"plain\"");
        assert_eq!(toml_string("0 issue \"x\""), "'0 issue \"x\"'");
        assert_eq!(toml_string("it's \"x\""), "\"it's \\\"x\\\"\"");
        assert_eq!(toml_string("a\u{7f}\u{1}"), "\"a\\u007F\\u0001\"");
    }

    #[test]
    fn owners_sort_canonically_with_the_apex_first() {
        let mut names = [
            name("b.example.org."),
            name("example.org."),
            name("a.b.example.org."),
            name("A.example.org."),
            name("a.example.org."),
        ];
        names.sort_by(owner_order);
        let texts: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            texts,
            [
                "example.org.",
                "A.example.org.",
                "a.example.org.",
                "b.example.org.",
                "a.b.example.org."
            ]
        );
    }

    #[test]
    fn comment_blocks_are_found_above_headers() {
        let c = Comments::parse(
            "# top\n\norigin = \"x.\"\n\n# one\n# two\n\n[soa]\nk = 1 # beside\n# inside\nj = 2\n[[record]]\n# end\n",
        );
        assert_eq!(c.top, ["# top"]);
        assert_eq!(
            c.above.get(&8).map(Vec::as_slice),
            Some(&["# one".to_owned(), "# two".to_owned()][..])
        );
        assert_eq!(c.headers, [8, 12]);
        assert_eq!(c.bottom, ["# end"]);
        assert_eq!(c.header_of(10), Some(8));
        assert_eq!(c.header_of(3), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// Generated zones of several shapes read back the same from their TOML.
        #[test]
        fn generated_zones_round_trip(
            owners in proptest::collection::vec("[a-zA-Z0-9_-]{1,8}(\\.[a-z]{1,4})?", 1..12),
            ttls in proptest::collection::vec(proptest::sample::select(vec![60u32, 300, 3600, 86_400, 0]), 12),
            texts in proptest::collection::vec("[ -~]{0,40}", 12),
        ) {
            let mut master = String::from(HEAD);
            for (i, owner) in owners.iter().enumerate() {
                let ttl = ttls[i % ttls.len()];
                let text = texts[i % texts.len()].replace('\\', "\\\\").replace('"', "\\\"");
                master.push_str(&format!("{owner} {ttl} TXT \"{text}\"\n{owner} 300 A 192.0.2.{i}\n{owner} {ttl} MX {i} mail.{owner}\n"));
            }
            let zone = from_master(&master);
            let toml = write_toml_zone(&zone);
            let file: Arc<str> = Arc::from("t.toml");
            let back = parse_toml_zone(&toml, &file, None).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}\n{toml}")))?;
            proptest::prop_assert_eq!(record_lines(&zone.origin, &zone.records), record_lines(&back.origin, &back.records));
            proptest::prop_assert_eq!(write_toml_zone(&back), toml);
        }
    }
}
