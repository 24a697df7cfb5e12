//! RFC 1035 master files (zone files): parsing into [`SourcedRecord`]s that
//! remember the `file:line:column` they were written at, and writing records
//! back out in a form BIND, NSD and Knot read too.
//!
//! Parsing runs in two steps. `split_entries` turns the file into logical
//! entries: one per line, or several lines joined when parentheses span them,
//! with comments removed and a map from every character back to its line and
//! column. Each entry is then a directive (`$ORIGIN`, `$TTL`, `$INCLUDE`) or a
//! record `[owner] [ttl] [class] type rdata`, whose RDATA goes to
//! [`rdata_text::parse_rdata`]. Errors do not stop the parse: the entry is
//! skipped and the next one read, so a zone author sees every problem (up to
//! 100) in one run.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use hickory_proto::rr::{DNSClass, Name, Record};

use super::error::{ZoneError, ZoneErrors};
use super::place::Place;
use super::rdata_text::{self, Token};
use super::record::decode_name;
use super::{MAX_TTL, SourcedRecord};

/// Parsing stops after this many errors.
const MAX_ERRORS: usize = 100;

/// How deeply `$INCLUDE`s may nest (the top-level file is depth 0).
const MAX_INCLUDE_DEPTH: usize = 8;

/// Parses an RFC 1035 master file. `file` names it in errors; `origin` is the
/// initial `$ORIGIN` (fedns derives it from the file name NAME.zone). Returns
/// every record with its [`Place`] (line, and column of the owner field or,
/// for a record with a blank owner, of its first field), or all errors found
/// (up to 100), each at `file:line:column` of the offending token.
///
/// `$INCLUDE` files are read from disk, relative to the directory of `file`.
pub fn parse_master(
    text: &str,
    file: &Arc<str>,
    origin: &Name,
) -> Result<Vec<SourcedRecord>, ZoneErrors> {
    parse_master_with(text, file, origin, &|path| std::fs::read_to_string(path))
}

/// [`parse_master`] with `$INCLUDE` files read by `read`.
fn parse_master_with(
    text: &str,
    file: &Arc<str>,
    origin: &Name,
    read: &dyn Fn(&Path) -> io::Result<String>,
) -> Result<Vec<SourcedRecord>, ZoneErrors> {
    let mut parser = Parser {
        read,
        records: Vec::new(),
        errors: Vec::new(),
        include_stack: vec![normalize(Path::new(&**file))],
        tokens: Vec::new(),
    };
    parser.parse_file(text, FileState::new(Arc::clone(file), origin.clone()));
    if parser.errors.is_empty() {
        Ok(parser.records)
    } else {
        Err(ZoneErrors(parser.errors))
    }
}

/// Writes records as a master file that [`parse_master`], BIND's
/// named-checkzone, NSD's nsd-checkzone and Knot read back to the same
/// records: a `$ORIGIN origin` line, then one record per line with absolute
/// owner, TTL, class IN, type and RDATA ([`rdata_text::format_rdata`]), in
/// the given order. RDATA in RFC 3597 form gets a `TYPEnnn` type so that
/// servers that do not know the mnemonic read it too.
pub fn write_master(origin: &Name, records: &[Record]) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_master_to(&mut out, origin, records.iter().cloned());
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `records` as [`write_master`] does, one line at a time to `out`
/// (a big zone is never held as text).
pub fn write_master_to(
    out: &mut dyn std::io::Write,
    origin: &Name,
    records: impl Iterator<Item = Record>,
) -> std::io::Result<()> {
    writeln!(out, "$ORIGIN {}", rdata_text::format_name(origin))?;
    for record in records {
        let rdata = rdata_text::format_rdata(&record.data);
        let rtype = record.record_type();
        let type_text = if rdata.starts_with("\\#") {
            format!("TYPE{}", u16::from(rtype))
        } else {
            rdata_text::type_mnemonic(rtype)
        };
        writeln!(
            out,
            "{}\t{}\tIN\t{type_text}\t{rdata}",
            rdata_text::format_name(&record.name),
            record.ttl
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Logical entries
// ---------------------------------------------------------------------------

/// One logical entry of a master file: a line, or lines joined by
/// parentheses, with parentheses turned into blanks and comments removed.
#[derive(Debug)]
struct Entry {
    /// The entry's text; physical lines are joined with a blank.
    text: String,
    /// Where each physical line's part of `text` starts.
    spans: Vec<Span>,
    /// Whether the first line starts with a blank (the owner is omitted).
    indented: bool,
    /// Characters in `text`.
    len: usize,
}

/// Character `offset` of an entry's text is at `line:column`, and the
/// characters after it follow on the same line.
#[derive(Debug, Clone, Copy)]
struct Span {
    offset: usize,
    line: u32,
    column: u32,
}

impl Entry {
    fn new(indented: bool) -> Self {
        Entry {
            text: String::new(),
            spans: Vec::new(),
            indented,
            len: 0,
        }
    }

    /// Empties the entry for the next one, keeping its buffers.
    fn reset(&mut self, indented: bool) {
        self.text.clear();
        self.spans.clear();
        self.indented = indented;
        self.len = 0;
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
        self.len += 1;
    }

    /// The line and column of character `offset` of the text.
    fn position(&self, offset: usize) -> (u32, u32) {
        let span = self
            .spans
            .iter()
            .rev()
            .find(|s| s.offset <= offset)
            .or(self.spans.first());
        span.map_or((0, 0), |s| {
            let delta = u32::try_from(offset.saturating_sub(s.offset)).unwrap_or(u32::MAX);
            (s.line, s.column.saturating_add(delta))
        })
    }
}

/// A problem found while splitting the file into entries.
#[derive(Debug, PartialEq, Eq)]
struct LexError {
    line: u32,
    column: u32,
    message: String,
}

/// Splits a master file into logical entries (RFC 1035 section 5.1):
/// parentheses join lines, `;` starts a comment, and both are ordinary
/// characters inside quotes or after a backslash. A quoted string must end
/// on the line it starts on.
///
/// Lazy: one entry is held at a time, so a zone of a million lines costs
/// one line's worth of memory here, not a copy of the file.
fn split_entries(text: &str) -> Entries<'_> {
    Entries {
        lines: text.lines().enumerate(),
        parens: Parens::default(),
        done: false,
    }
}

/// The iterator of [`split_entries`].
struct Entries<'t> {
    lines: std::iter::Enumerate<std::str::Lines<'t>>,
    parens: Parens,
    /// The end of the text was reached and reported.
    done: bool,
}

impl Entries<'_> {
    /// The next entry, written into `entry` (whatever it held is dropped;
    /// its buffers are reused, so a file of a million lines allocates for
    /// its longest entry, not for every line).
    fn next_into(&mut self, entry: &mut Entry) -> Option<Result<(), LexError>> {
        if self.done {
            return None;
        }
        let mut started = false;
        for (index, line) in self.lines.by_ref() {
            let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if !started {
                entry.reset(line.starts_with([' ', '\t']));
                started = true;
            }
            match scan_line(line, line_no, entry, &mut self.parens) {
                Err(error) => {
                    self.parens = Parens::default();
                    return Some(Err(error));
                }
                Ok(()) if self.parens.depth == 0 => return Some(Ok(())),
                Ok(()) => {}
            }
        }
        self.done = true;
        match (started, self.parens.opened_at) {
            (true, Some((line, column))) => Some(Err(LexError {
                line,
                column,
                message: "'(' is never closed".to_owned(),
            })),
            _ => None,
        }
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut entry = Entry::new(false);
        Some(self.next_into(&mut entry)?.map(|()| entry))
    }
}

/// Open parentheses carried from line to line.
#[derive(Debug, Default)]
struct Parens {
    depth: usize,
    /// Where the outermost open parenthesis is.
    opened_at: Option<(u32, u32)>,
}

/// Appends one physical line to `entry`.
fn scan_line(
    line: &str,
    line_no: u32,
    entry: &mut Entry,
    parens: &mut Parens,
) -> Result<(), LexError> {
    let error = |column: u32, message: &str| LexError {
        line: line_no,
        column,
        message: message.to_owned(),
    };
    entry.spans.push(Span {
        offset: entry.len,
        line: line_no,
        column: 1,
    });
    // Most lines of a zone are ASCII with nothing to interpret: copied
    // whole, the entry is the line itself.
    if line
        .bytes()
        .all(|b| b.is_ascii() && !matches!(b, b'\\' | b'"' | b';' | b'(' | b')'))
    {
        entry.text.push_str(line);
        entry.len += line.len();
        entry.push(' ');
        return Ok(());
    }
    let mut quote_open: Option<u32> = None;
    let mut escaped = false;
    let mut column = 0u32;
    for c in line.chars() {
        column = column.saturating_add(1);
        if escaped {
            escaped = false;
            entry.push(c);
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                entry.push(c);
            }
            '"' => {
                quote_open = match quote_open {
                    Some(_) => None,
                    None => Some(column),
                };
                entry.push(c);
            }
            _ if quote_open.is_some() => entry.push(c),
            ';' => break,
            '(' => {
                if parens.depth == 0 {
                    parens.opened_at = Some((line_no, column));
                }
                parens.depth += 1;
                entry.push(' ');
            }
            ')' => {
                if parens.depth == 0 {
                    return Err(error(column, "')' without a matching '('"));
                }
                parens.depth -= 1;
                entry.push(' ');
            }
            _ => entry.push(c),
        }
    }
    if let Some(open) = quote_open {
        return Err(error(open, "quoted string is not closed on this line"));
    }
    if escaped {
        return Err(error(column, "backslash at the end of a line"));
    }
    entry.push(' ');
    Ok(())
}

// ---------------------------------------------------------------------------
// Entries to records
// ---------------------------------------------------------------------------

/// State shared by a file and the files it includes.
struct Parser<'r> {
    read: &'r dyn Fn(&Path) -> io::Result<String>,
    records: Vec<SourcedRecord>,
    errors: Vec<ZoneError>,
    /// The files being read, outermost first (for loop and depth checks).
    include_stack: Vec<PathBuf>,
    /// The tokens of the entry being parsed, one buffer for all of them.
    tokens: Vec<Token<'static>>,
}

/// State of one file being read.
struct FileState {
    file: Arc<str>,
    /// The current `$ORIGIN`.
    origin: Name,
    /// The owner of the previous record (in wire form; empty before the
    /// first), for records with a blank owner.
    previous_owner: Vec<u8>,
    /// Where records are written in wire form, reused record after record.
    scratch: Vec<u8>,
    /// The `$TTL` value, if one was given.
    default_ttl: Option<u32>,
    /// The last TTL written on a record (RFC 1035 default without `$TTL`).
    last_ttl: Option<u32>,
}

impl FileState {
    fn new(file: Arc<str>, origin: Name) -> Self {
        FileState {
            file,
            origin,
            previous_owner: Vec::new(),
            scratch: Vec::new(),
            default_ttl: None,
            last_ttl: None,
        }
    }

    /// An error at character `offset` of `entry`.
    fn error(&self, entry: &Entry, offset: usize, message: impl Into<String>) -> ZoneError {
        ZoneError::new(self.place(entry, offset), message)
    }

    fn place(&self, entry: &Entry, offset: usize) -> Place {
        let (line, column) = entry.position(offset);
        Place::new(&self.file, line, column)
    }
}

impl Parser<'_> {
    fn push_error(&mut self, error: ZoneError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        }
    }

    fn parse_file(&mut self, text: &str, mut state: FileState) {
        let mut entries = split_entries(text);
        let mut entry = Entry::new(false);
        while let Some(scanned) = entries.next_into(&mut entry) {
            if self.errors.len() >= MAX_ERRORS {
                return;
            }
            let result = match scanned {
                Ok(()) => self.entry(&entry, &mut state),
                Err(e) => Err(ZoneError::new(
                    Place::new(&state.file, e.line, e.column),
                    e.message,
                )),
            };
            if let Err(error) = result {
                self.push_error(error);
            }
        }
    }

    fn entry(&mut self, entry: &Entry, state: &mut FileState) -> Result<(), ZoneError> {
        let mut tokens = rdata_text::recycle_tokens(std::mem::take(&mut self.tokens));
        let result = match rdata_text::tokenize_into(&entry.text, &mut tokens) {
            Ok(()) => self.entry_tokens(entry, &tokens, state),
            Err(e) => Err(state.error(entry, e.offset, e.message)),
        };
        self.tokens = rdata_text::recycle_tokens(tokens);
        result
    }

    fn entry_tokens(
        &mut self,
        entry: &Entry,
        tokens: &[Token],
        state: &mut FileState,
    ) -> Result<(), ZoneError> {
        let Some(first) = tokens.first() else {
            return Ok(());
        };
        if !entry.indented && first.raw.starts_with('$') {
            return self.directive(entry, tokens, state);
        }
        let record = parse_record(entry, tokens, state)?;
        self.records.push(record);
        Ok(())
    }

    /// `$ORIGIN`, `$TTL` and `$INCLUDE` (RFC 1035 section 5.1, RFC 2308).
    fn directive(
        &mut self,
        entry: &Entry,
        tokens: &[Token],
        state: &mut FileState,
    ) -> Result<(), ZoneError> {
        let [directive, args @ ..] = tokens else {
            return Ok(());
        };
        let name = directive.raw.to_ascii_uppercase();
        match name.as_str() {
            "$ORIGIN" => {
                let [arg] = expect_args(entry, state, tokens, 1, "a domain name")? else {
                    return Ok(());
                };
                state.origin = rdata_text::parse_name_token(arg, &state.origin)
                    .map_err(|e| state.error(entry, arg.offset, format!("$ORIGIN: {e}")))?;
            }
            "$TTL" => {
                let [arg] = expect_args(entry, state, tokens, 1, "a TTL")? else {
                    return Ok(());
                };
                state.default_ttl =
                    Some(parse_ttl(arg).map_err(|e| state.error(entry, arg.offset, e))?);
            }
            "$INCLUDE" => {
                let (path, origin) = match args {
                    [path] => (path, None),
                    [path, origin] => (path, Some(origin)),
                    _ => {
                        expect_args(
                            entry,
                            state,
                            tokens,
                            2,
                            "a file name and an optional origin",
                        )?;
                        return Ok(());
                    }
                };
                self.include(entry, state, path, origin)?;
            }
            _ => {
                return Err(state.error(
                    entry,
                    directive.offset,
                    format!(
                        "{} is not supported: fedns understands $ORIGIN, $TTL and $INCLUDE",
                        directive.raw
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Reads an `$INCLUDE`d file into the same record list, with its own
    /// origin and owner; the including file's state is not changed.
    fn include(
        &mut self,
        entry: &Entry,
        state: &FileState,
        path_token: &Token,
        origin_token: Option<&Token>,
    ) -> Result<(), ZoneError> {
        let at = |message: String| state.error(entry, path_token.offset, message);
        let origin = match origin_token {
            Some(token) => rdata_text::parse_name_token(token, &state.origin)
                .map_err(|e| state.error(entry, token.offset, format!("$INCLUDE origin: {e}")))?,
            None => state.origin.clone(),
        };
        let relative = PathBuf::from(String::from_utf8_lossy(&path_token.text).into_owned());
        let directory = Path::new(&*state.file).parent().unwrap_or(Path::new(""));
        let path = normalize(&directory.join(relative));
        if self.include_stack.contains(&path) {
            return Err(at(format!(
                "$INCLUDE loop: {} is already being read",
                path.display()
            )));
        }
        if self.include_stack.len() > MAX_INCLUDE_DEPTH {
            return Err(at(format!(
                "$INCLUDE of {} nests deeper than {MAX_INCLUDE_DEPTH} levels",
                path.display()
            )));
        }
        let text = (self.read)(&path)
            .map_err(|e| at(format!("cannot read $INCLUDE file {}: {e}", path.display())))?;
        let child = FileState {
            file: Arc::from(path.display().to_string()),
            origin,
            previous_owner: Vec::new(),
            scratch: Vec::new(),
            default_ttl: state.default_ttl,
            last_ttl: state.last_ttl,
        };
        self.include_stack.push(path);
        self.parse_file(&text, child);
        self.include_stack.pop();
        Ok(())
    }
}

/// Checks that a directive has exactly `count` arguments and returns them.
fn expect_args<'t, 'a>(
    entry: &Entry,
    state: &FileState,
    tokens: &'t [Token<'a>],
    count: usize,
    what: &str,
) -> Result<&'t [Token<'a>], ZoneError> {
    let [directive, args @ ..] = tokens else {
        return Ok(&[]);
    };
    if let Some(extra) = args.get(count) {
        return Err(state.error(
            entry,
            extra.offset,
            format!("unexpected '{}': {} takes {what}", extra.raw, directive.raw),
        ));
    }
    if args.len() < count {
        let end = tokens.last().map_or(0, Token::end);
        return Err(state.error(entry, end, format!("{} needs {what}", directive.raw)));
    }
    Ok(args)
}

/// Parses `[owner] [ttl] [class] type rdata` (RFC 1035 section 5.1; TTL and
/// class in either order).
fn parse_record(
    entry: &Entry,
    tokens: &[Token],
    state: &mut FileState,
) -> Result<SourcedRecord, ZoneError> {
    let [first, after_owner @ ..] = tokens else {
        return Err(state.error(entry, 0, "empty record"));
    };
    let place = state.place(entry, first.offset);
    // The record is written in wire form, owner then RDATA, into a buffer
    // the file reuses: a record keeps this form, and no hickory Name or
    // RData is made for the bulk of a zone.
    let mut wire = std::mem::take(&mut state.scratch);
    wire.clear();
    let rest = if entry.indented {
        if state.previous_owner.is_empty() {
            return Err(state.error(
                entry,
                first.offset,
                "no owner name: a line starting with a blank repeats the previous record's owner, and there is none",
            ));
        }
        wire.extend_from_slice(&state.previous_owner);
        tokens
    } else {
        rdata_text::push_name_token(&mut wire, first, &state.origin)
            .map_err(|e| state.error(entry, first.offset, format!("owner name: {e}")))?;
        state.previous_owner.clear();
        state.previous_owner.extend_from_slice(&wire);
        after_owner
    };
    let owner_len = wire.len();
    let (ttl, rest) = ttl_and_class(entry, state, rest)?;
    let Some((type_token, _)) = rest.split_first() else {
        let end = tokens.last().map_or(0, Token::end);
        return Err(state.error(entry, end, "missing record type"));
    };
    let rtype = rdata_text::parse_record_type(&type_token.raw).ok_or_else(|| {
        state.error(
            entry,
            type_token.offset,
            format!("unknown record type '{}'", type_token.raw),
        )
    })?;
    if rdata_text::is_meta_type(rtype) {
        return Err(state.error(
            entry,
            type_token.offset,
            format!(
                "{} is a query or meta type; it cannot appear in a zone",
                type_token.raw
            ),
        ));
    }
    let ttl = match ttl {
        Some(ttl) => {
            state.last_ttl = Some(ttl);
            ttl
        }
        None => state.default_ttl.or(state.last_ttl).ok_or_else(|| {
            ZoneError::new(
                place.clone(),
                "no TTL: add $TTL (e.g. $TTL 3600) before the first record, or give this record a TTL",
            )
        })?,
    };
    let rdata_start = type_token.end();
    let rdata_tokens = &rest[1..];
    let end = rdata_tokens.last().map_or(rdata_start, Token::end);
    if let Some(appended) =
        rdata_text::append_rdata_wire(rtype, rdata_tokens, &state.origin, end, &mut wire)
    {
        // The bulk of a zone: straight to wire form.
        appended.map_err(|e| state.error(entry, e.offset, e.message))?;
        let (owner, rdata) = wire.split_at(owner_len);
        let record = SourcedRecord::from_wire(owner, rtype, ttl, rdata, place.clone())
            .map_err(|message| ZoneError::new(place, format!("{rtype} record: {message}")));
        state.scratch = wire;
        return record;
    }
    let owner = decode_name(&wire[..owner_len]);
    let rdata_text: String = entry.text.chars().skip(rdata_start).collect();
    let rdata = rdata_text::parse_rdata(rtype, &rdata_text, &state.origin)
        .map_err(|e| state.error(entry, rdata_start + e.offset, e.message))?;
    // Record::from_rdata gives class IN, the only class fedns accepts.
    let record = Record::from_rdata(owner, ttl, rdata);
    SourcedRecord::new(&record, place.clone()).map_err(|message| ZoneError::new(place, message))
}

/// Reads the optional TTL and class fields; returns the TTL and the tokens
/// from the type on.
fn ttl_and_class<'t, 'a>(
    entry: &Entry,
    state: &FileState,
    mut rest: &'t [Token<'a>],
) -> Result<(Option<u32>, &'t [Token<'a>]), ZoneError> {
    let mut ttl = None;
    let mut class_seen = false;
    while let Some((token, tail)) = rest.split_first() {
        let error = |message: String| state.error(entry, token.offset, message);
        if token.quoted {
            break;
        }
        if token.raw.starts_with(|c: char| c.is_ascii_digit()) {
            if ttl.is_some() {
                return Err(error(format!("a second TTL '{}'", token.raw)));
            }
            ttl = Some(parse_ttl(token).map_err(error)?);
        } else if let Some(class) = parse_class(&token.raw) {
            if class_seen {
                return Err(error(format!("a second class '{}'", token.raw)));
            }
            if class != DNSClass::IN {
                return Err(error(format!(
                    "class {} is not supported: fedns serves class IN only",
                    token.raw
                )));
            }
            class_seen = true;
        } else {
            break;
        }
        rest = tail;
    }
    Ok((ttl, rest))
}

/// A TTL field: seconds or BIND units, at most [`MAX_TTL`].
fn parse_ttl(token: &Token) -> Result<u32, String> {
    let ttl = rdata_text::parse_period(&token.raw).map_err(|e| format!("TTL: {e}"))?;
    if ttl > MAX_TTL {
        return Err(format!(
            "TTL {ttl} is larger than the maximum {MAX_TTL} (RFC 2181 section 8)"
        ));
    }
    Ok(ttl)
}

/// A class mnemonic (IN, CS, CH, HS) or RFC 3597 `CLASSnnn`.
fn parse_class(text: &str) -> Option<DNSClass> {
    // Every record's class or type field comes here: compare in place
    // rather than upper-case a copy.
    const MNEMONICS: [(&str, u16); 4] = [("IN", 1), ("CS", 2), ("CH", 3), ("HS", 4)];
    if let Some(&(_, code)) = MNEMONICS.iter().find(|(m, _)| m.eq_ignore_ascii_case(text)) {
        return Some(DNSClass::from(code));
    }
    let digits = text
        .get(..5)
        .filter(|prefix| prefix.eq_ignore_ascii_case("CLASS"))
        .and_then(|_| text.get(5..))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))?;
    digits.parse::<u16>().ok().map(DNSClass::from)
}

/// Removes `.` and resolves `..` in a path without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use hickory_proto::rr::rdata::{A, SRV, TXT};
    use hickory_proto::rr::{RData, RecordType};
    use proptest::prelude::*;

    use super::*;

    const FILE: &str = "zones/example.test.zone";

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn origin() -> Name {
        name("example.test.")
    }

    fn file() -> Arc<str> {
        Arc::from(FILE)
    }

    /// A reader that serves `files` and fails for anything else.
    fn reader(files: &[(&str, &str)]) -> impl Fn(&Path) -> io::Result<String> {
        let files: HashMap<PathBuf, String> = files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
            .collect();
        move |path: &Path| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
        }
    }

    fn parse_with(text: &str, files: &[(&str, &str)]) -> Result<Vec<SourcedRecord>, ZoneErrors> {
        parse_master_with(text, &file(), &origin(), &reader(files))
    }

    fn parse(text: &str) -> Vec<SourcedRecord> {
        parse_with(text, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn errors(text: &str) -> Vec<ZoneError> {
        match parse_with(text, &[]) {
            Ok(records) => panic!("parsed: {records:?}"),
            Err(e) => e.0,
        }
    }

    /// Asserts exactly one error, at `line:column` of the main file, whose
    /// message contains `needle`.
    fn assert_error(text: &str, line: u32, column: u32, needle: &str) {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].place,
            Place::new(&file(), line, column),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].message.contains(needle),
            "{} lacks {needle:?}",
            errors[0]
        );
    }

    fn a(address: [u8; 4]) -> RData {
        RData::A(A::from(std::net::Ipv4Addr::from(address)))
    }

    /// (owner, ttl, rdata) of each record.
    fn summary(records: &[SourcedRecord]) -> Vec<(Name, u32, RData)> {
        records
            .iter()
            .map(|r| (r.name().clone(), r.ttl(), r.data().clone()))
            .collect()
    }

    fn places(records: &[SourcedRecord]) -> Vec<(u32, u32)> {
        records
            .iter()
            .map(|r| (r.place.line, r.place.column))
            .collect()
    }

    const EXAMPLE: &str = "$ORIGIN example.test.
$TTL 3600
@\tIN\tSOA\tns1.example.test. hostmaster.example.test. (
\t\t2024010101 ; serial
\t\t7200       ; refresh
\t\t3600       ; retry
\t\t1209600    ; expire
\t\t3600 )     ; minimum (negative TTL)
@\tIN\tNS\tns1.example.test.
_matrix-fed._tcp\tIN\tSRV\t10 0 443 synapse.example.test.
big\tIN\tTXT\t\"big-txt-record-0-xxxx\"
";

    #[test]
    fn parses_the_example_zone() {
        let records = parse(EXAMPLE);
        assert_eq!(places(&records), vec![(3, 1), (9, 1), (10, 1), (11, 1)]);
        assert!(
            records
                .iter()
                .all(|r| r.ttl() == 3600 && r.record().dns_class == DNSClass::IN)
        );
        assert!(records.iter().all(|r| r.place.file.as_ref() == FILE));
        let RData::SOA(soa) = &records[0].data() else {
            panic!("{:?}", records[0])
        };
        assert_eq!(records[0].name(), origin());
        assert_eq!(soa.mname, name("ns1.example.test."));
        assert_eq!(
            (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum),
            (2024010101, 7200, 3600, 1209600, 3600)
        );
        assert_eq!(records[1].record_type(), RecordType::NS);
        assert_eq!(records[2].name(), name("_matrix-fed._tcp.example.test."));
        assert_eq!(
            records[2].data(),
            RData::SRV(SRV::new(10, 0, 443, name("synapse.example.test.")))
        );
        assert_eq!(
            records[3].data(),
            RData::TXT(TXT::new(vec!["big-txt-record-0-xxxx".to_owned()]))
        );
    }

    #[test]
    fn owners_are_relative_absolute_at_or_repeated() {
        let records = parse(
            "$TTL 60\n\
             www A 192.0.2.1\n\
             \tA 192.0.2.2\n\
             other.test. A 192.0.2.3\n\
             @ A 192.0.2.4\n   \
               300 A 192.0.2.5\n",
        );
        let owners: Vec<_> = records.iter().map(|r| r.name().clone()).collect();
        assert_eq!(
            owners,
            vec![
                name("www.example.test."),
                name("www.example.test."),
                name("other.test."),
                origin(),
                origin(),
            ]
        );
        assert_eq!(
            places(&records),
            vec![(2, 1), (3, 2), (4, 1), (5, 1), (6, 4)]
        );
        assert_eq!(records[4].ttl(), 300);
    }

    #[test]
    fn origin_directive_is_relative_to_the_current_origin() {
        let records =
            parse("$TTL 60\n$ORIGIN sub\na A 192.0.2.1\n$ORIGIN other.\n@ A 192.0.2.2\nb NS c\n");
        assert_eq!(
            summary(&records),
            vec![
                (name("a.sub.example.test."), 60, a([192, 0, 2, 1])),
                (name("other."), 60, a([192, 0, 2, 2])),
                (
                    name("b.other."),
                    60,
                    RData::NS(hickory_proto::rr::rdata::NS(name("c.other.")))
                ),
            ]
        );
    }

    #[test]
    fn ttl_and_class_come_in_either_order_and_are_optional() {
        let records = parse(
            "$TTL 1h\n\
             a 300 IN A 192.0.2.1\n\
             b IN 2m A 192.0.2.2\n\
             c in a 192.0.2.3\n\
             d CLASS1 60 A 192.0.2.4\n\
             e A 192.0.2.5\n",
        );
        let ttls: Vec<_> = records.iter().map(|r| r.ttl()).collect();
        assert_eq!(ttls, vec![300, 120, 3600, 60, 3600]);
    }

    #[test]
    fn without_ttl_directive_the_last_explicit_ttl_is_the_default() {
        let records =
            parse("a 300 A 192.0.2.1\nb A 192.0.2.2\n$TTL 60\nc 10 A 192.0.2.3\nd A 192.0.2.4\n");
        let ttls: Vec<_> = records.iter().map(|r| r.ttl()).collect();
        assert_eq!(ttls, vec![300, 300, 10, 60]);
    }

    #[test]
    fn a_record_without_any_ttl_is_an_error() {
        assert_error(
            "$ORIGIN other.\nwww IN A 192.0.2.1\n",
            2,
            1,
            "no TTL: add $TTL",
        );
        assert_error("www A 192.0.2.1\n", 1, 1, "no TTL: add $TTL");
    }

    #[test]
    fn ttls_above_the_maximum_are_errors() {
        assert_error(
            "a 2147483648 A 192.0.2.1\n",
            1,
            3,
            "larger than the maximum 2147483647",
        );
        assert_error("$TTL 4294967296\n", 1, 6, "too large");
        assert_error("$TTL 1x\n", 1, 6, "not a time period");
        assert_eq!(parse("a 2147483647 A 192.0.2.1")[0].ttl(), MAX_TTL);
    }

    #[test]
    fn classes_other_than_in_are_errors() {
        assert_error(
            "$TTL 60\na CH TXT \"x\"\n",
            2,
            3,
            "class CH is not supported",
        );
        assert_error(
            "$TTL 60\na 60 HS A 192.0.2.1\n",
            2,
            6,
            "class HS is not supported",
        );
        assert_error("$TTL 60\na IN IN A 192.0.2.1\n", 2, 6, "a second class");
        assert_error("$TTL 60\na 1 2 A 192.0.2.1\n", 2, 5, "a second TTL");
    }

    #[test]
    fn directive_errors() {
        assert_error(
            "$GENERATE 1-10 host$ A 192.0.2.$\n",
            1,
            1,
            "$GENERATE is not supported",
        );
        assert_error("$ORIGIN\n", 1, 8, "$ORIGIN needs a domain name");
        assert_error("$ORIGIN a. b.\n", 1, 12, "unexpected 'b.'");
        assert_error(
            "$ORIGIN a..b\n",
            1,
            9,
            "$ORIGIN: domain name 'a..b' has an empty label",
        );
        assert_error("$TTL\n", 1, 5, "$TTL needs a TTL");
        assert_error("$INCLUDE\n", 1, 9, "$INCLUDE needs a file name");
        assert_error("$INCLUDE a b. c\n", 1, 15, "unexpected 'c'");
    }

    #[test]
    fn record_syntax_errors_point_at_the_token() {
        assert_error("$TTL 60\nwww 300 IN\n", 2, 11, "missing record type");
        assert_error(
            "$TTL 60\nwww 300 IN FOO bar\n",
            2,
            12,
            "unknown record type 'FOO'",
        );
        assert_error(
            "$TTL 60\nwww MX 70000 mail\n",
            2,
            8,
            "MX preference must be a number from 0 to 65535",
        );
        assert_error(
            "$TTL 60\nwww AAAA 192.0.2.1\n",
            2,
            10,
            "expected an IPv6 address",
        );
        assert_error(
            "$TTL 60\n_sip._tcp SRV 10 0 5060\n",
            2,
            24,
            "SRV needs 4 fields",
        );
        assert_error("$TTL 60\nwww A 192.0.2.1 x\n", 2, 17, "unexpected 'x'");
        assert_error("$TTL 60\nwww OPT \\# 0\n", 2, 5, "meta type");
        assert_error("$TTL 60\n\"www\" A 192.0.2.1\n", 2, 1, "quoted");
        assert_error("\tA 192.0.2.1\n", 1, 2, "no owner name");
        assert_error(
            "$TTL 60\nwww LOC 52 22 23.000 N\n",
            2,
            9,
            "use RFC 3597 syntax",
        );
    }

    #[test]
    fn comments_quotes_and_parentheses() {
        let records = parse(
            "$TTL 60 ; default\n\
             ; a whole-line comment\n\
             t TXT \"a;b(c)\" ( \"d\\\"e\" ; comment inside\n\
             \t\"f\" ) ; after\n\
             u TXT semi\\;colon\n",
        );
        assert_eq!(places(&records), vec![(3, 1), (5, 1)]);
        let RData::TXT(txt) = &records[0].data() else {
            panic!()
        };
        let strings: Vec<&[u8]> = txt.txt_data.iter().map(|s| &**s).collect();
        assert_eq!(strings, vec![&b"a;b(c)"[..], b"d\"e", b"f"]);
        let RData::TXT(txt) = &records[1].data() else {
            panic!()
        };
        assert_eq!(&*txt.txt_data[0], b"semi;colon");
    }

    #[test]
    fn errors_inside_parentheses_point_at_their_line() {
        let text = "$TTL 60\n@ SOA ns1 hostmaster (\n  1 ; serial\n  2h\n  1x ; retry\n  1w 1h )\n";
        assert_error(text, 5, 3, "SOA retry '1x' is not a time period");
        let missing = "$TTL 60\n@ SOA ns1 hostmaster (\n  1 2 3\n  4 )\n";
        assert_error(missing, 4, 4, "SOA needs 7 fields");
    }

    #[test]
    fn unterminated_quotes_and_parentheses_are_errors_where_they_open() {
        assert_error(
            "$TTL 60\nt TXT \"abc\nu A 192.0.2.1\n",
            2,
            7,
            "quoted string is not closed",
        );
        assert_error(
            "$TTL 60\n@ SOA ns1 hm ( 1 2 3 4 5\nu A 192.0.2.1\n",
            2,
            14,
            "'(' is never closed",
        );
        assert_error(
            "$TTL 60\nu A 192.0.2.1 )\n",
            2,
            15,
            "')' without a matching '('",
        );
        assert_error(
            "$TTL 60\nu TXT abc\\\n",
            2,
            10,
            "backslash at the end of a line",
        );
    }

    #[test]
    fn parsing_goes_on_after_errors() {
        let text = "$TTL 60\nbad1 A 1\ngood A 192.0.2.1\nbad2 MX x y\n\"unterminated\n$FOO\n";
        let found = errors(text);
        let places: Vec<_> = found
            .iter()
            .map(|e| (e.place.line, e.place.column))
            .collect();
        assert_eq!(places, vec![(2, 8), (4, 9), (5, 1), (6, 1)]);
        let text: String = (0..150).map(|i| format!("host{i} A 999.0.0.1\n")).collect();
        let found = errors(&format!("$TTL 60\n{text}"));
        assert_eq!(found.len(), MAX_ERRORS);
        assert_eq!(found[99].place.line, 101);
    }

    #[test]
    fn rdata_over_65535_octets_is_an_error_at_its_record() {
        // 300 strings of 255 octets: 76 800 octets of TXT RDATA.
        let strings = vec![format!("\"{}\"", "x".repeat(255)); 300].join(" ");
        let text = format!("$TTL 60\nok A 192.0.2.1\nhuge TXT {strings}\n");
        assert_error(&text, 3, 10, "at most 65535");
    }

    #[test]
    fn generic_rdata_and_crlf_lines() {
        let records = parse("$TTL 60\r\nx TYPE65280 \\# 2 ABCD\r\ny A \\# 4 C0000201\r\n");
        assert_eq!(records[0].record_type(), RecordType::Unknown(65280));
        assert_eq!(records[1].data(), a([192, 0, 2, 1]));
    }

    #[test]
    fn includes_read_files_relative_to_the_including_file() {
        let main = "$TTL 60\n\
                    a A 192.0.2.1\n\
                    $INCLUDE sub/hosts.inc hosts ; comment\n\
                    b A 192.0.2.2\n\
                    \tA 192.0.2.3\n";
        let hosts = "x A 192.0.2.10\n$INCLUDE ../more.inc\n";
        let more = "$ORIGIN deep\ny 30 A 192.0.2.11\n";
        let records = parse_with(
            main,
            &[("zones/sub/hosts.inc", hosts), ("zones/more.inc", more)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let owners: Vec<_> = records.iter().map(|r| r.name().to_string()).collect();
        assert_eq!(
            owners,
            vec![
                "a.example.test.",
                "x.hosts.example.test.",
                "y.deep.hosts.example.test.",
                "b.example.test.",
                "b.example.test.",
            ]
        );
        let files: Vec<_> = records
            .iter()
            .map(|r| (r.place.file.to_string(), r.place.line))
            .collect();
        assert_eq!(
            files,
            vec![
                (FILE.to_owned(), 2),
                ("zones/sub/hosts.inc".to_owned(), 1),
                ("zones/more.inc".to_owned(), 2),
                (FILE.to_owned(), 4),
                (FILE.to_owned(), 5),
            ]
        );
        assert_eq!(records[1].ttl(), 60);
    }

    #[test]
    fn include_errors() {
        let missing = parse_with("$INCLUDE nope.inc\n", &[]).unwrap_err().0;
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].place, Place::new(&file(), 1, 10));
        assert!(
            missing[0]
                .message
                .contains("cannot read $INCLUDE file zones/nope.inc")
        );

        let itself = parse_with("$INCLUDE ./example.test.zone\n", &[])
            .unwrap_err()
            .0;
        assert!(itself[0].message.contains("$INCLUDE loop"), "{}", itself[0]);

        let looping = parse_with(
            "$INCLUDE a.inc\n",
            &[
                ("zones/a.inc", "$INCLUDE b.inc\n"),
                ("zones/b.inc", "\n\n$INCLUDE a.inc\n"),
            ],
        )
        .unwrap_err()
        .0;
        assert_eq!(looping.len(), 1);
        assert_eq!(
            looping[0].place,
            Place::new(&Arc::from("zones/b.inc"), 3, 10)
        );
        assert!(looping[0].message.contains("$INCLUDE loop: zones/a.inc"));

        let chain: Vec<(String, String)> = (0..12)
            .map(|i| {
                (
                    format!("zones/{i}.inc"),
                    format!("$INCLUDE {}.inc\n", i + 1),
                )
            })
            .collect();
        let chain: Vec<(&str, &str)> = chain
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let deep = parse_with("$INCLUDE 0.inc\n", &chain).unwrap_err().0;
        assert_eq!(deep.len(), 1);
        assert_eq!(deep[0].place.file.as_ref(), "zones/7.inc");
        assert!(
            deep[0].message.contains("deeper than 8 levels"),
            "{}",
            deep[0]
        );

        let inner = parse_with(
            "$INCLUDE bad.inc\n",
            &[("zones/bad.inc", "$TTL 60\nx A 1\n")],
        )
        .unwrap_err()
        .0;
        assert_eq!(
            inner[0].place,
            Place::new(&Arc::from("zones/bad.inc"), 2, 5)
        );
    }

    #[test]
    fn parse_master_reads_includes_from_disk() {
        let dir = std::env::temp_dir().join(format!("fedns-master-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts.inc"), "www A 192.0.2.1\n").unwrap();
        let file: Arc<str> = Arc::from(dir.join("example.test.zone").display().to_string());
        let records = parse_master("$TTL 60\n$INCLUDE hosts.inc\n", &file, &origin());
        std::fs::remove_dir_all(&dir).unwrap();
        let records = records.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(records[0].name(), name("www.example.test."));
        assert!(records[0].place.file.ends_with("hosts.inc"));
    }

    const REALISTIC: &str = r#"$ORIGIN example.test.
$TTL 1h
@ IN SOA ns1 hostmaster ( 2024010101 2h 1h 2w 5m )
@ NS ns1
  NS ns2.other.test.
@ MX 10 mail
@ TXT "v=spf1 mx -all" "second string; with (specials)"
@ CAA 0 issue "letsencrypt.org"
@ CAA 128 iodef "mailto:security@example.test"
ns1 A 192.0.2.53
ns1 AAAA 2001:db8::53
mail 300 A 192.0.2.25
www CNAME @
alias DNAME elsewhere.test.
_matrix-fed._tcp SRV 10 0 8448 synapse
_sip._udp SRV 0 0 0 .
synapse A 192.0.2.80
*.wild A 192.0.2.81
1.2.0.192.in-addr.arpa PTR host
host HINFO "x86 64" Linux
sip NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
sub NS ns.sub
sub DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
sub CDS 60485 8 2 ( 0C72AC70B745AC19998811B131D662C9
                    AC69DBDBE7CB23E5B514B56664C5D3D6 )
@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
@ CDNSKEY 0 3 0 AA==
@ NSEC3PARAM 1 0 0 -
@ RRSIG SOA 13 2 3600 20300101000000 20240101000000 12345 example.test. dGVzdA==
@ NSEC www A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY CAA TYPE65280
abc NSEC3 1 1 0 - 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG
_443._tcp.www TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
web SSHFP 4 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
web HTTPS 1 . alpn=h2,h3 port=443
_svc SVCB 0 svc.other.test.
cert CERT PKIX 0 0 dGVzdA==
key OPENPGPKEY dGVzdCBrZXk=
@ CSYNC 66 3 A NS AAAA
rp TYPE17 mbox txt
uri URI 10 1 "https://example.test/"
priv TYPE65280 \# 3 ABCDEF
empty TYPE65281 \# 0
odd\.label\032x TXT "\000\255\"\\"
"#;

    #[test]
    fn write_master_round_trips_a_realistic_zone() {
        let parsed = parse(REALISTIC);
        // Two directives, and CDS takes two lines.
        assert_eq!(parsed.len(), REALISTIC.lines().count() - 3);
        let records: Vec<Record> = parsed.iter().map(|r| r.record().clone()).collect();
        let written = write_master(&origin(), &records);
        let again = parse_master_with(&written, &file(), &Name::root(), &reader(&[]))
            .unwrap_or_else(|e| panic!("{e}\n{written}"));
        let again: Vec<Record> = again.into_iter().map(|r| r.record()).collect();
        assert_eq!(again, records, "{written}");
        let exact = |records: &[Record]| -> Vec<String> {
            records
                .iter()
                .map(|r| format!("{} {:?}", r.name.to_ascii(), r.data))
                .collect()
        };
        assert_eq!(exact(&again), exact(&records));
        assert_eq!(write_master(&origin(), &again), written);
    }

    #[test]
    fn write_master_writes_one_absolute_record_per_line() {
        let records =
            parse("$TTL 60\nwww A 192.0.2.1\nt TXT \"a b\"\nx TYPE65280 \\# 1 ff\nh HTTPS 0 svc\n");
        let records: Vec<Record> = records.into_iter().map(|r| r.record()).collect();
        let written = write_master(&origin(), &records);
        let mut lines = written.lines();
        assert_eq!(lines.next(), Some("$ORIGIN example.test."));
        assert_eq!(
            lines.next(),
            Some("www.example.test.\t60\tIN\tA\t192.0.2.1")
        );
        assert_eq!(lines.next(), Some("t.example.test.\t60\tIN\tTXT\t\"a b\""));
        assert_eq!(
            lines.next(),
            Some("x.example.test.\t60\tIN\tTYPE65280\t\\# 1 FF")
        );
        assert!(
            lines
                .next()
                .is_some_and(|l| l.starts_with("h.example.test.\t60\tIN\tTYPE65\t\\# "))
        );
        assert_eq!(lines.next(), None);
        assert_eq!(write_master(&origin(), &[]), "$ORIGIN example.test.\n");
    }

    #[test]
    fn entries_map_offsets_to_lines_and_columns() {
        let entries: Vec<_> = split_entries("a ( b\n\tc ) ; x\n d\n").collect();
        assert_eq!(entries.len(), 2);
        let first = entries[0].as_ref().unwrap();
        assert!(!first.indented);
        assert_eq!(first.text, "a   b \tc    ");
        assert_eq!(first.position(0), (1, 1));
        assert_eq!(first.position(4), (1, 5));
        assert_eq!(first.position(7), (2, 2));
        let second = entries[1].as_ref().unwrap();
        assert!(second.indented);
        assert_eq!(second.position(1), (3, 2));
    }

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(
            normalize(Path::new("zones/./sub/../a.inc")),
            PathBuf::from("zones/a.inc")
        );
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
    }

    proptest! {
        #[test]
        fn parse_master_never_panics(text in "\\PC{0,200}") {
            let _ = parse_with(&text, &[("zones/x", "x A 1\n$INCLUDE x\n")]);
        }

        #[test]
        fn parse_master_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_with(&text, &[]);
        }

        #[test]
        fn parse_master_never_panics_on_zone_like_text(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    "\\$TTL|\\$ORIGIN|\\$INCLUDE|@|\\(|\\)|;|\"[ -~]{0,6}\"|[0-9]{1,4}[hmdw]?|IN|CH|A|MX|TXT|SOA|SRV|NS|[a-z]{1,4}\\.?|\\\\#|\t|x",
                    0..8,
                ),
                0..12,
            ),
        ) {
            let text: String = lines.iter().map(|words| words.join(" ") + "\n").collect();
            let _ = parse_with(&text, &[("zones/x", "$INCLUDE x\n")]);
        }
    }
}
