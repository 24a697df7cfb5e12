//! The zone-style TOML format: a zone a person can read and write by hand.
//!
//! ```toml
//! origin = "example.org."        # optional: defaults to the file name
//! ttl = "1h"                     # default TTL of every record
//! [soa]
//! mname = "ns1"                  # names are relative to the origin unless they end in "."
//! rname = "hostmaster"           # "hostmaster@example.org" is accepted too
//! serial = 2026112601
//! refresh = "2h"                 # refresh, retry, expire, minimum: seconds or "2h", "14d"...
//! [[record]]
//! name = "@"
//! NS = ["ns1", "ns2.example.net."]
//! MX = ["10 mail"]               # any type: RDATA in master-file (presentation) syntax
//! TXT = ["v=spf1 -all"]          # TXT: the text itself; over 255 bytes it is split (RFC 1035)
//! [[matrix]]
//! server_name = "@"
//! target = "synapse"
//! port = 443
//! ```
//!
//! The walk is by hand over toml's span-preserving tree ([`DeTable`]) so that
//! every error names the `file:line:column` of the key or value at fault.
//! A big zone of plain lines (what `fedns zone import` writes) has its
//! `[[record]]` tables read by [`toml_lines`] instead, line by line, and
//! walked by the same record code; only the rest goes to `toml`. Big zones
//! of any other shape are parsed in batches ([`toml_sections`]).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::rr::rdata::{SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::duration::parse_duration;
use super::error::{ZoneError, ZoneErrors};
use super::matrix::{DEFAULT_FEDERATION_PORT, MatrixDelegation, SrvTarget};
use super::place::Place;
use super::rdata_text::Token;
use super::rdata_text::{
    append_rdata_text_wire, emit_rdata, parse_name, parse_record_type, push_name_text,
};
use super::toml_lines::{PlainTable, PlainValue};
use super::{MAX_TTL, SourcedRecord, Zone, toml_lines, toml_sections};

/// The TTL used when a zone sets none.
pub const DEFAULT_TTL: u32 = 3_600;

/// Parses a TOML zone. `default_origin` (from the file name) is used when the
/// file has no `origin` key. The result is not yet validated: see
/// [`super::validate::validate_zone`].
pub fn parse_toml_zone(
    text: &str,
    file: &Arc<str>,
    default_origin: Option<&Name>,
) -> Result<Zone, ZoneErrors> {
    let batching = (text.len() > BATCHED_ABOVE_BYTES).then_some(RECORDS_PER_BATCH);
    parse_toml_zone_with(text, file, default_origin, batching)
}

/// [`parse_toml_zone`], reading a document of plain lines in one pass
/// ([`toml_lines`]) or else parsing `[[record]]` tables `batching` at a
/// time, when that is given (and the document allows it).
fn parse_toml_zone_with(
    text: &str,
    file: &Arc<str>,
    default_origin: Option<&Name>,
    batching: Option<usize>,
) -> Result<Zone, ZoneErrors> {
    let walker = Walker::new(text, file);
    if batching.is_some()
        && let Some(zone) = walker.zone_plain(default_origin)
    {
        return zone;
    }
    if let Some(per_batch) = batching
        && let Some(plan) = toml_sections::plan(text, per_batch)
        && !plan.batches.is_empty()
        && let Some(zone) = walker.zone_in_batches(&plan, default_origin)
    {
        return zone;
    }
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let place = walker.place(e.span().unwrap_or(0..0));
            return Err(ZoneErrors::one(
                place,
                format!("TOML syntax: {}", e.message().trim()),
            ));
        }
    };
    walker.zone(doc.get_ref(), default_origin, &mut |_, _, _| {})
}

/// TOML zones larger than this are parsed in batches of [`RECORDS_PER_BATCH`]
/// `[[record]]` tables ([`toml_sections`]): the `toml` crate holds about 35
/// bytes per byte of text while it parses a document.
const BATCHED_ABOVE_BYTES: usize = 256 * 1024;

/// `[[record]]` tables parsed at a time in a batched zone.
const RECORDS_PER_BATCH: usize = 1_000;

/// Places a walker finds by counting line breaks before it makes its
/// index of lines.
const PLACES_BEFORE_INDEX: u32 = 32;

/// Adds the records of the batched `[[record]]` tables to the list.
type RecordBatches<'a> = dyn FnMut(&mut Vec<SourcedRecord>, &Name, u32) + 'a;

/// Walks one document, turning byte spans into places and collecting errors.
struct Walker<'t> {
    text: &'t str,
    file: &'t Arc<str>,
    errors: std::cell::RefCell<Vec<ZoneError>>,
    /// Byte offsets where each line starts: places are a binary search, so
    /// loading stays linear in the file size (a scan per record was
    /// quadratic). Made when first needed: a document read in one pass
    /// knows its records' lines, and may need it for a few places only.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// Places found without the index so far.
    places_counted: std::cell::Cell<u32>,
    /// Where in `text` the document being walked starts, when it is a
    /// batch of a batched zone (which starts inside the file).
    batch_base: std::cell::Cell<Option<usize>>,
    /// Where the rest of a batched zone (the document walked when no batch
    /// is) came from in `text`: its offsets are not the text's.
    rest: std::cell::RefCell<Option<toml_sections::RestOffsets>>,
    /// Buffers the record walk reuses record after record: a record's
    /// wire form, and the words of its RDATA.
    scratch: std::cell::RefCell<(Vec<u8>, Vec<Token<'static>>)>,
}

type Value<'i> = Spanned<DeValue<'i>>;

impl<'t> Walker<'t> {
    fn new(text: &'t str, file: &'t Arc<str>) -> Self {
        Walker {
            text,
            file,
            errors: Default::default(),
            line_starts: std::cell::OnceCell::new(),
            places_counted: std::cell::Cell::new(0),
            batch_base: std::cell::Cell::new(None),
            rest: std::cell::RefCell::new(None),
            scratch: Default::default(),
        }
    }

    /// The place of the first byte of `span`.
    fn place(&self, span: Range<usize>) -> Place {
        let offset = match (self.batch_base.get(), &*self.rest.borrow()) {
            (Some(base), _) => base + span.start,
            (None, Some(rest)) => rest.text_offset(span.start),
            (None, None) => span.start,
        }
        .min(self.text.len());
        // The first few places (a document read in one pass asks for
        // those of its SOA and Matrix records only) count line breaks; from
        // then on the index answers.
        let (line, line_start) = match self.line_starts.get() {
            None if self.places_counted.get() < PLACES_BEFORE_INDEX => {
                self.places_counted.set(self.places_counted.get() + 1);
                let before = &self.text.as_bytes()[..offset];
                let line = memchr::memchr_iter(b'\n', before).count() + 1;
                (line, memchr::memrchr(b'\n', before).map_or(0, |i| i + 1))
            }
            _ => {
                let line_starts = self.line_starts.get_or_init(|| {
                    std::iter::once(0)
                        .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                        .collect()
                });
                let line = line_starts.partition_point(|&start| start <= offset);
                let start = line_starts.get(line.saturating_sub(1)).copied();
                (line, start.unwrap_or(0))
            }
        };
        let column = self
            .text
            .get(line_start..offset)
            .map_or(1, |t| t.chars().count() + 1);
        Place::new(self.file, line as u32, column as u32)
    }

    /// The place of a value: from its line when the reader knew it.
    fn field_place(&self, field: &Field<'_, '_>) -> Place {
        let Some((line, start)) = field.line() else {
            return self.place(field.span());
        };
        let column = self
            .text
            .get(start..field.span().start)
            .map_or(1, |t| t.chars().count() + 1);
        Place::new(self.file, line, column as u32)
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) {
        let place = self.place(span);
        self.errors
            .borrow_mut()
            .push(ZoneError::new(place, message));
    }

    /// The zone of a document read in one pass by [`toml_lines::read_plain`],
    /// or `None` when it cannot be (nothing it reported is kept then): a line
    /// that is not plain, a rest that does not parse or that `toml` reads
    /// another origin or TTL from than the lines before the first table.
    fn zone_plain(&self, default_origin: Option<&Name>) -> Option<Result<Zone, ZoneErrors>> {
        let mut records = Vec::new();
        // The origin and default TTL, from the lines before the first table
        // (None: they are not as plain as the tables need them).
        let mut context: Option<Option<(Name, u32)>> = None;
        let document = toml_lines::read_plain(self.text, |prefix, table| {
            let context = context.get_or_insert_with(|| plain_context(prefix, default_origin));
            if let Some((origin, ttl)) = context {
                self.record(&RecordTable::plain(table), origin, *ttl, &mut records);
            }
        });
        let unusable = || {
            self.errors.take();
            None
        };
        let Some(document) = document else {
            return unusable();
        };
        if matches!(context, Some(None)) {
            return unusable();
        }
        let Ok(rest) = DeTable::parse(&document.rest) else {
            return unusable();
        };
        if get(rest.get_ref(), "record").is_some() {
            return unusable();
        }
        *self.rest.borrow_mut() = Some(toml_sections::RestOffsets::new(document.cut));
        let mut agreed = true;
        let mut tables = |out: &mut Vec<SourcedRecord>, origin: &Name, ttl: u32| match &context {
            Some(Some((ours, our_ttl))) if ours != origin || *our_ttl != ttl => agreed = false,
            // The tables' records become the list, and what came before
            // them (the records of [[matrix]] tables) goes in front: no
            // copy of the zone into a new list.
            _ => {
                let before = std::mem::replace(out, std::mem::take(&mut records));
                out.splice(0..0, before);
            }
        };
        let zone = self.zone(rest.get_ref(), default_origin, &mut tables);
        if !agreed {
            *self.rest.borrow_mut() = None;
            return unusable();
        }
        Some(zone)
    }

    /// The zone of a document parsed in batches, or `None` when the rest of
    /// the document (what is not batched) does not parse or holds `record`
    /// itself: then the whole document is parsed, and judged, at once.
    fn zone_in_batches(
        &self,
        plan: &toml_sections::BatchPlan,
        default_origin: Option<&Name>,
    ) -> Option<Result<Zone, ZoneErrors>> {
        let rest = DeTable::parse(&plan.rest).ok()?;
        if get(rest.get_ref(), "record").is_some() {
            return None;
        }
        *self.rest.borrow_mut() = Some(plan.rest_offsets());
        let mut batches = |records: &mut Vec<SourcedRecord>, origin: &Name, default_ttl: u32| {
            for batch in &plan.batches {
                let Some(text) = self.text.get(batch.clone()) else {
                    continue;
                };
                self.batch_base.set(Some(batch.start));
                // The plain shape is read directly; anything else by `toml`.
                if let Some(tables) = toml_lines::record_tables(text) {
                    for table in &tables {
                        self.record(&RecordTable::plain(table), origin, default_ttl, records);
                    }
                    self.batch_base.set(None);
                    continue;
                }
                match DeTable::parse(text) {
                    Ok(doc) => {
                        for (key, value) in doc.get_ref().iter() {
                            match key.get_ref().as_ref() {
                                "record" => {
                                    for entry in self.tables(value, "record") {
                                        let table = RecordTable::toml(&entry);
                                        self.record(&table, origin, default_ttl, records);
                                    }
                                }
                                other => self.error(key.span(), format!("unknown key `{other}`")),
                            }
                        }
                    }
                    Err(e) => self.error(
                        e.span().unwrap_or(0..0),
                        format!("TOML syntax: {}", e.message().trim()),
                    ),
                }
                self.batch_base.set(None);
            }
        };
        Some(self.zone(rest.get_ref(), default_origin, &mut batches))
    }

    /// The zone of `doc`; `batches` adds the records of `[[record]]` tables
    /// parsed apart from it, where `doc`'s own would come (keys are walked
    /// in sorted order).
    fn zone(
        &self,
        doc: &DeTable<'_>,
        default_origin: Option<&Name>,
        batches: &mut RecordBatches<'_>,
    ) -> Result<Zone, ZoneErrors> {
        let mut origin = default_origin.cloned();
        if let Some(value) = get(doc, "origin")
            && let Some(text) = self.string(value, "origin")
        {
            match Name::from_ascii(text) {
                Ok(mut name) => {
                    name.set_fqdn(true);
                    origin = Some(name);
                }
                Err(e) => self.error(value.span(), format!("bad origin {text:?}: {e}")),
            }
        }
        let Some(origin) = origin else {
            return Err(ZoneErrors::one(
                Place::file(self.file),
                "no origin: add `origin = \"example.org.\"` or name the file after the zone",
            ));
        };
        let default_ttl = get(doc, "ttl")
            .and_then(|v| self.duration(v, "ttl"))
            .unwrap_or(DEFAULT_TTL);

        let mut records = Vec::new();
        let mut matrix = Vec::new();
        let mut batched = false;
        for (key, value) in doc.iter() {
            if !batched && key.get_ref().as_ref() > "record" {
                batches(&mut records, &origin, default_ttl);
                batched = true;
            }
            match key.get_ref().as_ref() {
                "origin" | "ttl" => {}
                "soa" => records.extend(self.soa(value, &origin, default_ttl)),
                "record" => {
                    for entry in self.tables(value, "record") {
                        let table = RecordTable::toml(&entry);
                        self.record(&table, &origin, default_ttl, &mut records);
                    }
                }
                "matrix" => {
                    for entry in self.tables(value, "matrix") {
                        if let Some(d) = self.matrix(&entry, &origin) {
                            records.extend(d.srv_records(default_ttl));
                            matrix.push(d);
                        }
                    }
                }
                other => self.error(
                    key.span(),
                    format!("unknown key `{other}` (expected origin, ttl, soa, record or matrix)"),
                ),
            }
        }
        if !batched {
            batches(&mut records, &origin, default_ttl);
        }
        let errors = self.errors.take();
        if !errors.is_empty() {
            return Err(ZoneErrors(errors));
        }
        Ok(Zone {
            origin,
            records,
            matrix,
            source: Some(PathBuf::from(self.file.as_ref())),
        })
    }

    fn soa(&self, value: &Value<'_>, origin: &Name, default_ttl: u32) -> Option<SourcedRecord> {
        let table = self.table(value, "soa")?;
        self.only_keys(
            table,
            &[
                "mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl",
            ],
            "soa",
        );
        let name_of = |key: &str| -> Option<Name> {
            let Some(v) = get(table, key) else {
                self.error(value.span(), format!("[soa] needs `{key}`"));
                return None;
            };
            let text = self.string(v, key)?;
            // "hostmaster@example.org" is how people write a mailbox; RNAME wants a name.
            let text = match text.split_once('@') {
                Some((local, domain)) if key == "rname" => {
                    format!("{local}.{}.", domain.trim_end_matches('.'))
                }
                _ => text.to_owned(),
            };
            self.name_at(v, &text, origin)
        };
        let mname = name_of("mname");
        let rname = name_of("rname");
        let serial = match get(table, "serial") {
            Some(v) => self
                .integer(v, "serial", u64::from(u32::MAX))
                .map(|n| n as u32),
            None => {
                self.error(
                    value.span(),
                    "[soa] needs `serial` (for example 2026112601)",
                );
                None
            }
        };
        let timer = |key: &str, default: u32| match get(table, key) {
            Some(v) => self.duration(v, key),
            None => Some(default),
        };
        let refresh = timer("refresh", 7_200);
        let retry = timer("retry", 900);
        let expire = timer("expire", 1_209_600);
        let minimum = timer("minimum", 300);
        let ttl = get(table, "ttl").map_or(Some(default_ttl), |v| self.ttl(v));
        let soa = SOA::new(
            mname?,
            rname?,
            serial?,
            i32::try_from(refresh?).ok()?,
            i32::try_from(retry?).ok()?,
            i32::try_from(expire?).ok()?,
            minimum?,
        );
        let record = Record::from_rdata(origin.clone(), ttl?, RData::SOA(soa));
        SourcedRecord::new(&record, self.place(value.span()))
            .map_err(|e| self.error(value.span(), e))
            .ok()
    }

    /// Adds the records of one `[[record]]` table to `out`.
    fn record(
        &self,
        table: &RecordTable<'_, '_>,
        origin: &Name,
        default_ttl: u32,
        out: &mut Vec<SourcedRecord>,
    ) {
        let Some(name_value) = table.get("name") else {
            self.error(
                table.span.clone(),
                "[[record]] needs `name` (\"@\" for the zone apex)",
            );
            return;
        };
        let Some(owner) = self.field_string(&name_value, &"name") else {
            return;
        };
        // Straight to the wire form a record keeps: no hickory Name. The
        // RDATA of each record is written after the owner, in one buffer.
        let (mut wire, mut tokens) = self.scratch.take();
        wire.clear();
        if let Err(e) = push_name_text(&mut wire, owner, origin) {
            self.error(name_value.span(), format!("bad name {owner:?}: {e}"));
            return;
        }
        let owner_len = wire.len();
        let ttl = match table.get("ttl") {
            Some(v) => match self.field_ttl(&v) {
                Some(ttl) => ttl,
                None => return,
            },
            None => default_ttl,
        };
        let mut per_key = |key_text: &str, key_span: Range<usize>, value: Field<'_, '_>| {
            if key_text == "name" || key_text == "ttl" {
                return;
            }
            let Some(rtype) = parse_record_type(key_text).filter(|t| is_zone_data_type(*t)) else {
                self.error(
                    key_span,
                    format!("unknown record type `{key_text}` (keys of a [[record]] are name, ttl and record types such as A, AAAA, MX)"),
                );
                return;
            };
            if rtype == RecordType::SOA {
                self.error(
                    key_span,
                    "write the SOA in the [soa] table, not in a [[record]]",
                );
                return;
            }
            for item in value.items() {
                wire.truncate(owner_len);
                if !self.rdata(rtype, &item, origin, &mut wire, &mut tokens) {
                    continue;
                }
                let (owner_wire, rdata) = wire.split_at(owner_len);
                let place = self.field_place(&item);
                match SourcedRecord::from_wire(owner_wire, rtype, ttl, rdata, place) {
                    Ok(sourced) => out.push(sourced),
                    Err(e) => self.error(item.span(), format!("{rtype} record at {owner}: {e}")),
                }
            }
        };
        match table.source {
            TableSource::Plain(plain) => {
                for e in &plain.entries {
                    let value = Field::Plain(&e.value, e.value_span.clone(), e.line);
                    per_key(e.key, e.key_span.clone(), value);
                }
            }
            TableSource::Toml(toml) => {
                for (key, value) in toml.iter() {
                    per_key(key.get_ref().as_ref(), key.span(), Field::Toml(value));
                }
            }
        }
        *self.scratch.borrow_mut() = (wire, tokens);
    }

    /// Appends the RDATA of one value of a `TYPE = ...` key to `wire`, in
    /// the wire form a [`SourcedRecord`] keeps: straight from the text for
    /// the zone's bulk types, through hickory's `RData` for the rest. False
    /// (the error reported) when the value is not such RDATA.
    fn rdata(
        &self,
        rtype: RecordType,
        item: &Field<'_, '_>,
        origin: &Name,
        wire: &mut Vec<u8>,
        tokens: &mut Vec<Token<'static>>,
    ) -> bool {
        if rtype == RecordType::TXT {
            let Some(txt) = self.txt(item) else {
                return false;
            };
            return match emit_rdata(&RData::TXT(txt)) {
                Ok(encoded) => {
                    wire.extend_from_slice(&encoded);
                    true
                }
                Err(e) => {
                    self.error(item.span(), format!("TXT data cannot be encoded: {e}"));
                    false
                }
            };
        }
        let Some(text) = self.field_string(item, &rtype) else {
            return false;
        };
        match append_rdata_text_wire(rtype, text, origin, wire, tokens) {
            Ok(()) => true,
            Err(e) => {
                // +1 skips the opening quote of a basic or literal string.
                let start = item.span().start + 1 + byte_offset(text, e.offset);
                self.error(
                    start..start,
                    format!("bad {rtype} data {text:?}: {}", e.message),
                );
                false
            }
        }
    }

    /// A TXT record from a string (split into 255-byte character-strings as
    /// RFC 1035 3.3.14 requires) or an array of strings (one character-string each).
    fn txt(&self, item: &Field<'_, '_>) -> Option<TXT> {
        if let Some(text) = item.as_str() {
            return Some(TXT::from_bytes(split_character_strings(text.as_bytes())));
        }
        let Field::Toml(value) = item else {
            self.error(
                item.span(),
                format!(
                    "TXT takes a string or an array of strings, not {}",
                    item.type_str()
                ),
            );
            return None;
        };
        match value.get_ref() {
            DeValue::Array(parts) => {
                let mut strings = Vec::new();
                for part in parts.iter() {
                    let text = self.string(part, "TXT")?;
                    if text.len() > 255 {
                        self.error(
                            part.span(),
                            format!(
                                "a TXT character-string holds at most 255 bytes; this one has {}",
                                text.len()
                            ),
                        );
                        return None;
                    }
                    strings.push(text.as_bytes());
                }
                Some(TXT::from_bytes(strings))
            }
            other => {
                self.error(
                    item.span(),
                    format!(
                        "TXT takes a string or an array of strings, not {}",
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    fn matrix(&self, entry: &Spanned<&DeTable<'_>>, origin: &Name) -> Option<MatrixDelegation> {
        let table = entry.get_ref();
        self.only_keys(
            table,
            &[
                "server_name",
                "target",
                "port",
                "priority",
                "weight",
                "legacy_srv",
                "ttl",
                "well_known",
                "certificate",
            ],
            "matrix",
        );
        let Some(server_value) = get(table, "server_name") else {
            self.error(
                entry.span(),
                "[[matrix]] needs `server_name` (\"@\" for the zone apex)",
            );
            return None;
        };
        let server_name = self.name_at(
            server_value,
            self.string(server_value, "server_name")?,
            origin,
        )?;
        let number = |key: &str, default: u16| match get(table, key) {
            Some(v) => self.integer(v, key, u64::from(u16::MAX)).map(|n| n as u16),
            None => Some(default),
        };
        let port = number("port", DEFAULT_FEDERATION_PORT)?;
        let priority = number("priority", 10)?;
        let weight = number("weight", 0)?;
        let mut targets = Vec::new();
        if let Some(v) = get(table, "target") {
            let target = self.name_at(v, self.string(v, "target")?, origin)?;
            targets.push(SrvTarget {
                priority,
                weight,
                port,
                target,
            });
        }
        let legacy_srv = match get(table, "legacy_srv") {
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => *b,
                other => {
                    self.error(
                        v.span(),
                        format!(
                            "`legacy_srv` must be true or false, not {}",
                            other.type_str()
                        ),
                    );
                    return None;
                }
            },
            None => true,
        };
        let ttl = match get(table, "ttl") {
            Some(v) => Some(self.ttl(v)?),
            None => None,
        };
        let well_known = match get(table, "well_known") {
            Some(v) => Some(self.string(v, "well_known")?.to_owned()),
            None => None,
        };
        let certificate = match get(table, "certificate") {
            Some(v) => Some(PathBuf::from(self.string(v, "certificate")?)),
            None => None,
        };
        // A delegation by A/AAAA alone (peers connect to S:8448) declares
        // only the certificate served there; otherwise a target or a
        // .well-known says where peers go.
        if targets.is_empty() && well_known.is_none() && certificate.is_none() {
            self.error(
                entry.span(),
                "[[matrix]] needs a `target` (SRV records), a `well_known` delegation, or for a server found by its A/AAAA records the `certificate` it serves",
            );
            return None;
        }
        Some(MatrixDelegation {
            server_name,
            targets,
            legacy_srv,
            ttl,
            well_known,
            certificate,
            place: self.place(entry.span()),
        })
    }

    // ---- typed accessors: each reports its own error and returns None ----

    fn string<'v>(&self, value: &'v Value<'_>, key: &str) -> Option<&'v str> {
        self.field_string(&Field::Toml(value), &key)
    }

    fn field_string<'v>(
        &self,
        value: &Field<'v, '_>,
        key: &dyn std::fmt::Display,
    ) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.error(
                value.span(),
                format!("`{key}` must be a string, not {}", value.type_str()),
            );
        }
        text
    }

    fn integer(&self, value: &Value<'_>, key: &str, max: u64) -> Option<u64> {
        self.field_integer(&Field::Toml(value), key, max)
    }

    fn field_integer(&self, value: &Field<'_, '_>, key: &str, max: u64) -> Option<u64> {
        let parsed = match value {
            Field::Toml(v) => match v.get_ref() {
                DeValue::Integer(i) => u64::from_str_radix(
                    i.as_str().replace('_', "").trim_start_matches('+'),
                    i.radix(),
                )
                .ok(),
                other => {
                    self.error(
                        value.span(),
                        format!("`{key}` must be a number, not {}", other.type_str()),
                    );
                    return None;
                }
            },
            Field::Plain(PlainValue::Int(n), ..) => Some(*n),
            Field::Plain(..) | Field::PlainStr(..) => {
                self.error(
                    value.span(),
                    format!("`{key}` must be a number, not {}", value.type_str()),
                );
                return None;
            }
        };
        match parsed {
            Some(n) if n <= max => Some(n),
            _ => {
                self.error(value.span(), format!("`{key}` must be between 0 and {max}"));
                None
            }
        }
    }

    fn duration(&self, value: &Value<'_>, key: &str) -> Option<u32> {
        self.field_duration(&Field::Toml(value), key)
    }

    fn field_duration(&self, value: &Field<'_, '_>, key: &str) -> Option<u32> {
        if let Some(text) = value.as_str() {
            return match parse_duration(text) {
                Ok(seconds) => Some(seconds),
                Err(e) => {
                    self.error(value.span(), format!("`{key}`: {e}"));
                    None
                }
            };
        }
        if value.type_str() == "integer" {
            return self
                .field_integer(value, key, u64::from(u32::MAX))
                .map(|n| n as u32);
        }
        self.error(
            value.span(),
            format!(
                "`{key}` must be seconds or a duration like \"1h\", not {}",
                value.type_str()
            ),
        );
        None
    }

    fn ttl(&self, value: &Value<'_>) -> Option<u32> {
        self.field_ttl(&Field::Toml(value))
    }

    fn field_ttl(&self, value: &Field<'_, '_>) -> Option<u32> {
        let ttl = self.field_duration(value, "ttl")?;
        if ttl > MAX_TTL {
            self.error(
                value.span(),
                format!("TTL {ttl} is out of range (at most {MAX_TTL}, RFC 2181 section 8)"),
            );
            return None;
        }
        Some(ttl)
    }

    fn name_at(&self, value: &Value<'_>, text: &str, origin: &Name) -> Option<Name> {
        match parse_name(text, origin) {
            Ok(name) => Some(name),
            Err(e) => {
                self.error(value.span(), format!("bad name {text:?}: {e}"));
                None
            }
        }
    }

    fn table<'v, 'i>(&self, value: &'v Value<'i>, key: &str) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.error(
                    value.span(),
                    format!("`{key}` must be a table, not {}", other.type_str()),
                );
                None
            }
        }
    }

    /// The tables of an array of tables (`[[record]]`).
    fn tables<'v, 'i>(&self, value: &'v Value<'i>, key: &str) -> Vec<Spanned<&'v DeTable<'i>>> {
        let DeValue::Array(array) = value.get_ref() else {
            self.error(
                value.span(),
                format!("`{key}` must be written as [[{key}]] tables"),
            );
            return Vec::new();
        };
        table_items(array)
            .filter_map(|item| match item.get_ref() {
                DeValue::Table(t) => Some(Spanned::new(item.span(), t)),
                other => {
                    self.error(
                        item.span(),
                        format!("each `{key}` must be a table, not {}", other.type_str()),
                    );
                    None
                }
            })
            .collect()
    }

    fn only_keys(&self, table: &DeTable<'_>, allowed: &[&str], section: &str) {
        for key in table.keys() {
            let k = key.get_ref().as_ref();
            if !allowed.contains(&k) {
                self.error(
                    key.span(),
                    format!(
                        "unknown key `{k}` in [{section}] (expected one of {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }
}

/// A value of a `[[record]]` table: from `toml`'s tree, or from the plain
/// reader ([`toml_lines`]) with its span and, when the reader knew it, its
/// line's number and start.
#[derive(Clone)]
enum Field<'v, 'i> {
    Toml(&'v Value<'i>),
    Plain(&'v PlainValue<'i>, Range<usize>, Option<(u32, usize)>),
    /// One string of a plain array.
    PlainStr(&'i str, Range<usize>, Option<(u32, usize)>),
}

impl<'v, 'i: 'v> Field<'v, 'i> {
    fn span(&self) -> Range<usize> {
        match self {
            Field::Toml(value) => value.span(),
            Field::Plain(_, span, _) | Field::PlainStr(_, span, _) => span.clone(),
        }
    }

    /// The number and start of the value's line, when known.
    fn line(&self) -> Option<(u32, usize)> {
        match self {
            Field::Toml(_) => None,
            Field::Plain(_, _, line) | Field::PlainStr(_, _, line) => *line,
        }
    }

    /// The TOML type name, as `toml` names it in messages.
    fn type_str(&self) -> &'static str {
        match self {
            Field::Toml(value) => value.get_ref().type_str(),
            Field::Plain(value, ..) => value.type_str(),
            Field::PlainStr(..) => "string",
        }
    }

    fn as_str(&self) -> Option<&'v str> {
        match self {
            Field::Toml(value) => match value.get_ref() {
                DeValue::String(s) => Some(s.as_ref()),
                _ => None,
            },
            Field::Plain(PlainValue::Str(s), ..) | Field::PlainStr(s, ..) => Some(s),
            Field::Plain(..) => None,
        }
    }

    /// The items of an array, or the value itself.
    fn items(&self) -> impl Iterator<Item = Field<'v, 'i>> + use<'v, 'i> {
        let (one, toml, plain) = match self {
            Field::Toml(value) => match value.get_ref() {
                DeValue::Array(array) => (None, Some(array.iter()), None),
                _ => (Some(self.clone()), None, None),
            },
            Field::Plain(array @ PlainValue::Array(..), _, line) => {
                (None, None, Some((array.items(), *line)))
            }
            _ => (Some(self.clone()), None, None),
        };
        let toml = toml.into_iter().flatten().map(Field::Toml);
        let plain = plain.into_iter().flat_map(|(items, line)| {
            items.map(move |(text, span)| Field::PlainStr(text, span, line))
        });
        one.into_iter().chain(toml).chain(plain)
    }
}

/// A `[[record]]` table as the record walk reads it: the span of the
/// table, and its keys with their spans and values, in key order.
struct RecordTable<'v, 'i> {
    span: Range<usize>,
    source: TableSource<'v, 'i>,
}

enum TableSource<'v, 'i> {
    Toml(&'v DeTable<'i>),
    Plain(&'v PlainTable<'i>),
}

impl<'v, 'i: 'v> RecordTable<'v, 'i> {
    fn toml(entry: &Spanned<&'v DeTable<'i>>) -> RecordTable<'v, 'i> {
        RecordTable {
            span: entry.span(),
            source: TableSource::Toml(entry.get_ref()),
        }
    }

    fn plain(table: &'v PlainTable<'i>) -> RecordTable<'v, 'i> {
        RecordTable {
            span: table.span.clone(),
            source: TableSource::Plain(table),
        }
    }

    fn get(&self, key: &str) -> Option<Field<'v, 'i>> {
        match self.source {
            TableSource::Toml(table) => get(table, key).map(Field::Toml),
            TableSource::Plain(table) => table
                .entries
                .iter()
                .find(|e| e.key == key)
                .map(|e| Field::Plain(&e.value, e.value_span.clone(), e.line)),
        }
    }
}

/// The origin and default TTL a plain document's prefix gives, as
/// [`Walker::zone`] reads them from the parsed document; `None` when they
/// are missing without a default, or not what a zone accepts (the full
/// parse then says why).
fn plain_context(
    prefix: &[toml_lines::PlainEntry<'_>],
    default_origin: Option<&Name>,
) -> Option<(Name, u32)> {
    let value = |key: &str| prefix.iter().find(|e| e.key == key).map(|e| &e.value);
    let origin = match value("origin") {
        Some(PlainValue::Str(text)) => {
            let mut name = Name::from_ascii(text).ok()?;
            name.set_fqdn(true);
            name
        }
        Some(_) => return None,
        None => default_origin?.clone(),
    };
    let ttl = match value("ttl") {
        Some(PlainValue::Str(text)) => parse_duration(text).ok()?,
        Some(PlainValue::Int(seconds)) => u32::try_from(*seconds).ok()?,
        Some(PlainValue::Array(..)) => return None,
        None => DEFAULT_TTL,
    };
    Some((origin, ttl))
}

fn table_items<'a, 'i>(array: &'a DeArray<'i>) -> impl Iterator<Item = &'a Value<'i>> {
    array.iter()
}

fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Value<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// Types that may appear as zone data (not meta types such as OPT, ANY, AXFR).
fn is_zone_data_type(rtype: RecordType) -> bool {
    !matches!(
        rtype,
        RecordType::OPT
            | RecordType::ANY
            | RecordType::AXFR
            | RecordType::IXFR
            | RecordType::TSIG
            | RecordType::ZERO
    )
}

/// Splits text into RFC 1035 character-strings of at most 255 bytes each.
pub fn split_character_strings(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.is_empty() {
        return vec![bytes];
    }
    bytes.chunks(255).collect()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line as u32, column as u32)
}

/// The byte offset of the `chars`-th character of `text` (clamped to its end).
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::validate::validate_zone;

    const HEAD: &str = "origin = \"example.org.\"\nttl = \"1h\"\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster@example.org\"\nserial = 2026112601\nrefresh = \"2h\"\nretry = \"15m\"\nexpire = \"14d\"\nminimum = \"5m\"\n[[record]]\nname = \"@\"\nNS = [\"ns1\", \"ns2.example.net.\"]\n";

    fn file() -> Arc<str> {
        Arc::from("z.toml")
    }

    /// The zone parsed whole and in batches of `per_batch` record tables:
    /// both must give the same records, places included, or the same errors.
    fn same_batched(text: &str, per_batch: usize) -> Result<Zone, ZoneErrors> {
        let whole = parse_toml_zone_with(text, &file(), None, None);
        let batched = parse_toml_zone_with(text, &file(), None, Some(per_batch));
        match (&whole, &batched) {
            (Ok(w), Ok(b)) => {
                assert_eq!(w.records, b.records, "{text}");
                assert_eq!(w.matrix.len(), b.matrix.len());
            }
            (Err(w), Err(b)) => assert_eq!(w.to_string(), b.to_string(), "{text}"),
            _ => panic!("whole {whole:?}\nbatched {batched:?}\n{text}"),
        }
        batched
    }

    fn many_hosts(hosts: usize, tail: &str) -> String {
        let mut text = String::from(
            "origin = \"example.org.\"\nttl = 300\n[soa]\nmname = \"ns1\"\nrname = \"hostmaster\"\nserial = 1\n\
             [[record]]\nname = \"@\"\nNS = [\"ns1\"]\n[[record]]\nname = \"ns1\"\nA = [\"192.0.2.53\"]\n",
        );
        for i in 0..hosts {
            text.push_str(&format!(
                "[[record]]\nname = \"host{i}\"\nA = [\"198.18.{}.{}\"]\nAAAA = [\"2001:db8::{i:x}\"]\n",
                i / 256,
                i % 256
            ));
        }
        text.push_str(tail);
        text
    }

    #[test]
    fn batched_parsing_gives_what_whole_parsing_gives() {
        let matrix = "[[matrix]]\nserver_name = \"@\"\ntarget = \"host1\"\n";
        for per_batch in [1, 3, 50] {
            let zone = same_batched(&many_hosts(120, matrix), per_batch).unwrap();
            // SOA, NS, ns1, 120 hosts, and the [[matrix]] pair of SRV records.
            assert_eq!(zone.records.len(), 1 + 1 + 1 + 240 + 2);
        }
        // Errors inside a batch keep their file:line:column.
        let bad = many_hosts(40, "[[record]]\nname = \"x\"\nA = [\"not-an-address\"]\n");
        let errors = same_batched(&bad, 7).unwrap_err();
        assert!(
            errors
                .to_string()
                .contains(&format!("z.toml:{}:", bad.lines().count())),
            "{errors}"
        );
        // A TOML syntax error inside a batch, and one in the rest.
        same_batched(&many_hosts(30, "[[record]]\nname = \"y\nA = 1\n"), 4).unwrap_err();
        same_batched(&many_hosts(30, "[soa]\nserial = 2\n"), 4).unwrap_err();
        // `record` also written as a plain key: judged whole.
        same_batched(&format!("record = 1\n{}", many_hosts(5, "")), 2).unwrap_err();
    }

    #[test]
    fn plain_documents_are_read_in_one_pass_to_the_same_records_and_errors() {
        for tail in [
            "",
            "[[matrix]]\nserver_name = \"@\"\ntarget = \"host1\"\n",
            "[[record]]\nname = \"x\"\nA = [\"not-an-address\"]\n",
            "[[record]]\nA = [\"192.0.2.1\"]\n",
            "[[record]]\nname = \"x\"\nBOGUS = [\"1\"]\n",
            "[[record]]\nname = \"x\"\nttl = 99999999999\n",
            "[[record]]\nname = \"x\"\nttl = \"1y\"\nA = [\"192.0.2.1\"]\n",
            "[[record]]\nname = \"x\"\nSOA = [\"ns1 hostmaster 1 2 3 4 5\"]\n",
            "[[record]]\nname = \"x\"\nA = \"192.0.2.1\"\nTXT = [\"hello world\", \"\"]\n",
            "[[record]]\nname = 7\n",
            "[[record]]\nname = \"bad..name\"\nA = [\"192.0.2.1\"]\n",
            "  [[record]] # indented\n  name = \"y\" # with comments\n  MX = [ \"10 mail\" , ]\n",
        ] {
            let text = many_hosts(20, tail);
            let file = file();
            let walker = Walker::new(&text, &file);
            assert!(
                walker.zone_plain(None).is_some(),
                "read in one pass: {tail:?}"
            );
            same_batched(&text, 5).ok();
        }
        // Not plain: the batched path reads it, to the same zone.
        let text = many_hosts(20, "[[record]]\nname = 'literal'\nA = [\"192.0.2.1\"]\n");
        let file = file();
        assert!(Walker::new(&text, &file).zone_plain(None).is_none());
        same_batched(&text, 5).unwrap();
    }

    fn load(body: &str) -> Result<Zone, ZoneErrors> {
        let zone = parse_toml_zone(&format!("{HEAD}{body}"), &file(), None)?;
        validate_zone(&zone)?;
        Ok(zone)
    }

    /// The first error, as `line:column: message`.
    fn first_error(body: &str) -> String {
        let e = load(body).expect_err("the zone should not load");
        let first = &e.0[0];
        format!(
            "{}:{}: {}",
            first.place.line, first.place.column, first.message
        )
    }

    #[test]
    fn loads_the_documented_shape() {
        let zone = load("[[record]]\nname = \"synapse\"\nA = [\"203.0.113.20\"]\nAAAA = [\"2001:db8::20\"]\nttl = 300\n[[matrix]]\nserver_name = \"@\"\ntarget = \"synapse\"\nport = 443\n").unwrap();
        assert_eq!(zone.origin.to_string(), "example.org.");
        assert_eq!(zone.serial(), Some(2026112601));
        let soa = zone.soa().unwrap();
        match &soa.data {
            RData::SOA(s) => {
                assert_eq!(s.rname.to_string(), "hostmaster.example.org.");
                assert_eq!(
                    (s.refresh, s.retry, s.expire, s.minimum),
                    (7200, 900, 1_209_600, 300)
                );
            }
            other => panic!("{other:?}"),
        }
        let synapse: Vec<_> = zone
            .records
            .iter()
            .filter(|r| r.name().to_string() == "synapse.example.org.")
            .collect();
        assert_eq!(synapse.len(), 2);
        assert!(synapse.iter().all(|r| r.ttl() == 300));
        assert_eq!(synapse[0].place.line, 16);
        let srv: Vec<String> = zone
            .records
            .iter()
            .filter(|r| r.record_type() == RecordType::SRV)
            .map(|r| r.name().to_string())
            .collect();
        assert_eq!(
            srv,
            ["_matrix-fed._tcp.example.org.", "_matrix._tcp.example.org."]
        );
        assert_eq!(zone.matrix.len(), 1);
    }

    #[test]
    fn origin_defaults_to_the_file_name() {
        let text = HEAD.replacen("origin = \"example.org.\"\n", "", 1);
        let origin = Name::from_ascii("example.org.").unwrap();
        let zone = parse_toml_zone(&text, &file(), Some(&origin)).unwrap();
        assert_eq!(zone.origin, origin);
    }

    #[test]
    fn long_txt_is_split_into_255_byte_strings() {
        let long = "a".repeat(600);
        let zone = load(&format!("[[record]]\nname = \"t\"\nTXT = [\"{long}\"]\n")).unwrap();
        let txt = zone.records.iter().find_map(|r| match &r.data() {
            RData::TXT(t) => Some(t.clone()),
            _ => None,
        });
        let lens: Vec<usize> = txt.unwrap().txt_data.iter().map(|s| s.len()).collect();
        assert_eq!(lens, [255, 255, 90]);
    }

    #[test]
    fn toml_syntax_error_names_its_place() {
        let e = first_error("[[record]]\nname = \"x\nA = []\n");
        assert!(
            e.starts_with("15:10: TOML syntax: invalid basic string"),
            "{e}"
        );
    }

    #[test]
    fn unknown_record_type_names_the_key() {
        assert_eq!(
            first_error("[[record]]\nname = \"x\"\nAA = [\"192.0.2.1\"]\n")
                .split(": ")
                .next(),
            Some("16:1")
        );
        assert!(
            first_error("[[record]]\nname = \"x\"\nAA = [\"192.0.2.1\"]\n")
                .contains("unknown record type `AA`")
        );
    }

    #[test]
    fn bad_address_names_the_value() {
        let e = first_error("[[record]]\nname = \"x\"\nA = [\"192.0.2.300\"]\n");
        assert!(e.starts_with("16:"), "{e}");
        assert!(e.contains("bad A data"), "{e}");
    }

    #[test]
    fn name_outside_the_origin_is_an_error() {
        let e = first_error("[[record]]\nname = \"www.example.net.\"\nA = [\"192.0.2.1\"]\n");
        assert!(e.starts_with("16:"), "{e}");
        assert!(e.contains("outside the zone"), "{e}");
    }

    #[test]
    fn cname_beside_other_data_is_an_error() {
        let e = first_error("[[record]]\nname = \"x\"\nA = [\"192.0.2.1\"]\nCNAME = \"y\"\n");
        assert!(e.contains("CNAME"), "{e}");
        assert!(e.contains("RFC 1034"), "{e}");
    }

    #[test]
    fn duplicate_record_is_an_error_naming_the_first() {
        let e = first_error(
            "[[record]]\nname = \"x\"\nA = [\"192.0.2.1\"]\n[[record]]\nname = \"X\"\nA = [\"192.0.2.1\"]\n",
        );
        assert!(e.starts_with("19:"), "{e}");
        assert!(
            e.contains("duplicate record") && e.contains("z.toml:16"),
            "{e}"
        );
    }

    #[test]
    fn ttl_out_of_range_is_an_error() {
        let e = first_error("[[record]]\nname = \"x\"\nttl = 2147483648\nA = [\"192.0.2.1\"]\n");
        assert!(e.starts_with("16:7"), "{e}");
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn rdata_too_long_for_the_wire_is_an_error_at_its_value() {
        // 70 000 octets of text: 275 strings, more RDATA than 65 535 octets.
        let text = format!(
            "[[record]]\nname = \"x\"\nTXT = [\"{}\"]\n",
            "t".repeat(70_000)
        );
        let e = first_error(&text);
        assert!(e.starts_with("16:8"), "{e}");
        assert!(e.contains("cannot be encoded"), "{e}");
    }

    #[test]
    fn missing_soa_and_ns_are_errors() {
        let text = "origin = \"example.org.\"\n[[record]]\nname = \"x\"\nA = [\"192.0.2.1\"]\n";
        let zone = parse_toml_zone(text, &file(), None).unwrap();
        let e = validate_zone(&zone).unwrap_err().to_string();
        assert!(
            e.contains("no SOA record") && e.contains("no NS record"),
            "{e}"
        );
    }

    #[test]
    fn broken_matrix_sections_are_errors() {
        assert!(first_error("[[matrix]]\ntarget = \"synapse\"\n").contains("needs `server_name`"));
        assert!(first_error("[[matrix]]\nserver_name = \"@\"\n").contains("needs a `target`"));
        assert!(
            first_error("[[matrix]]\nserver_name = \"@\"\ntarget = \"s\"\nport = 70000\n")
                .contains("`port` must be between 0 and 65535")
        );
        assert!(
            first_error("[[matrix]]\nserver_name = \"@\"\ntarget = \"s\"\nlegacy_srv = \"no\"\n")
                .contains("true or false")
        );
        assert!(
            first_error("[[matrix]]\nserver_name = \"@\"\ntargt = \"s\"\n")
                .contains("unknown key `targt`")
        );
    }

    #[test]
    fn unknown_top_level_key_is_an_error() {
        let e = parse_toml_zone(&format!("zone = 1\n{HEAD}"), &file(), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("z.toml:1:1: unknown key `zone`"), "{e}");
    }

    #[test]
    fn every_error_is_reported_not_only_the_first() {
        let e = load(
            "[[record]]\nname = \"a\"\nA = [\"x\"]\n[[record]]\nname = \"b\"\nAAAA = [\"y\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.0.len(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, ..Default::default() })]

        /// No text, however broken, makes the TOML loader panic.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
            let _ = parse_toml_zone(&text, &file(), None).map(|z| validate_zone(&z));
        }

        /// Nor do mutations of a valid zone (keys, values and brackets shuffled).
        #[test]
        fn mutated_zones_never_panic(cuts in proptest::collection::vec((0usize..400, proptest::prelude::any::<char>()), 0..6)) {
            let mut text: Vec<char> = format!("{HEAD}[[record]]\nname = \"x\"\nMX = [\"10 mail\"]\nTXT = [[\"a\", \"b\"]]\n[[matrix]]\nserver_name = \"@\"\ntarget = \"x\"\n").chars().collect();
            for (at, c) in cuts {
                let i = at % text.len();
                text[i] = c;
            }
            let text: String = text.into_iter().collect();
            let _ = parse_toml_zone(&text, &file(), None).map(|z| validate_zone(&z));
        }

        /// Batched parsing never panics on mutated zones either, and accepts
        /// exactly what whole parsing accepts, with the same records.
        #[test]
        fn batched_parsing_agrees_on_mutated_zones(cuts in proptest::collection::vec((0usize..400, proptest::prelude::any::<char>()), 0..4)) {
            let cuts_were_none = cuts.is_empty();
            let mut text: Vec<char> = format!("{HEAD}[[record]]\nname = \"x\"\nMX = [\"10 mail\"]\n[[record]]\nname = \"y\"\nA = [\"192.0.2.1\"]\n[[matrix]]\nserver_name = \"@\"\ntarget = \"x\"\n[[record]]\nname = \"w\"\nTXT = [\"t\"]\n").chars().collect();
            for (at, c) in cuts {
                let i = at % text.len();
                text[i] = c;
            }
            let text: String = text.into_iter().collect();
            let whole = parse_toml_zone_with(&text, &file(), None, None);
            let batched = parse_toml_zone_with(&text, &file(), None, Some(1));
            if cuts_were_none {
                proptest::prop_assert!(whole.is_ok(), "the unmutated zone loads: {:?}", whole);
            }
            proptest::prop_assert_eq!(whole.is_ok(), batched.is_ok(), "{}", text);
            if let (Ok(w), Ok(b)) = (whole, batched) {
                proptest::prop_assert_eq!(w.records, b.records);
            }
        }
    }

    #[test]
    fn places_are_the_same_counted_or_from_the_index() {
        let text = "a = 1\n\nb = \"é\" # x\n[soa]\nserial = 2\n".repeat(20);
        let file = file();
        let walker = Walker::new(&text, &file);
        // The first PLACES_BEFORE_INDEX are counted, the rest indexed.
        for offset in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let place = walker.place(offset..offset);
            assert_eq!(
                (place.line, place.column),
                line_column(&text, offset),
                "{offset}"
            );
        }
        assert!(walker.line_starts.get().is_some());
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("", 10), (1, 1));
    }
}
