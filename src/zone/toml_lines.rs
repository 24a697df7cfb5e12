//! TOML zone lines of the plain shape, read without a TOML parser.
//!
//! A big TOML zone is nearly all `[[record]]` tables of a few lines each:
//! `name = "host7"`, `A = ["198.18.0.7"]`, `ttl = 300`. The `toml` crate
//! reads such a table at some thirty times the cost of the same record in a
//! master file (a general lexer, a tree of spanned values, a sorted map per
//! table), which made TOML zones 2.4 times slower to load than master files
//! (issue 18). This module reads that plain shape directly, and nothing
//! else: whatever it does not recognise is left to the `toml` crate, which
//! then judges it as it always did.
//!
//! Two readers, each strict about what it accepts:
//!
//! - [`read_plain`] reads a whole document in one pass when every line is
//!   *self-contained* (blank, a comment, a table header, or `key = value`
//!   whose strings and brackets close on that line: then no multi-line
//!   string or array can hide a header, and a header line is exactly where
//!   a section starts) and every `[[record]]` table is plain (below). It
//!   hands over the record tables as it reads them, and leaves the rest of
//!   the document (`[soa]`, `[[matrix]]`) to the `toml` crate. One line of
//!   any other shape (a multi-line string, an inline table, a quoted or
//!   dotted key), and the whole document is left to the batched path of
//!   [`super::toml_sections`].
//! - [`record_tables`] reads a run of `[[record]]` tables (a batch of the
//!   batched path) whose keys are
//!   bare and unique and whose values are integers in plain decimal,
//!   strings without escapes, or one-line arrays of such strings: the
//!   values taken as written, as `toml` would give them. Anything else in
//!   the run (an escape, a literal string, a boolean, a duplicate key, a
//!   `[record.…]` part), and the run is left to the `toml` crate.
//!
//! Every value keeps its byte span, so errors name the same
//! `file:line:column` either way; tests hold the two paths to the same
//! zones and the same errors.

use std::ops::Range;

/// A value of a plain `[[record]]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlainValue<'a> {
    /// A basic string without escapes: its text, quotes removed.
    Str(&'a str),
    /// A decimal integer without sign, underscores or leading zeros.
    Int(u64),
    /// A one-line array of such strings, as written (brackets included),
    /// and where it starts: [`PlainValue::items`] reads its strings.
    Array(&'a str, usize),
}

impl<'a> PlainValue<'a> {
    /// The strings of an array, each with its span (none for other values).
    pub fn items(&self) -> impl Iterator<Item = (&'a str, Range<usize>)> + use<'a> {
        let (text, at) = match *self {
            PlainValue::Array(text, at) => (text, at),
            _ => ("", 0),
        };
        // Its strings hold no quote (no escapes either): every two quotes
        // are one string's.
        let mut quotes = memchr::memchr_iter(b'"', text.as_bytes());
        std::iter::from_fn(move || {
            let (open, close) = (quotes.next()?, quotes.next()?);
            Some((&text[open + 1..close], at + open..at + close + 1))
        })
    }

    /// The TOML type name, as `toml` names it in messages.
    pub fn type_str(&self) -> &'static str {
        match self {
            PlainValue::Str(_) => "string",
            PlainValue::Int(_) => "integer",
            PlainValue::Array(..) => "array",
        }
    }
}

/// One `key = value` line of a plain table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainEntry<'a> {
    pub key: &'a str,
    pub key_span: Range<usize>,
    pub value: PlainValue<'a>,
    pub value_span: Range<usize>,
    /// The line's number and where it starts, when the reader knows them
    /// (a whole document's reader does; then no place needs a search).
    pub line: Option<(u32, usize)>,
}

/// One `[[record]]` table: the span of its header, and its entries sorted
/// by key (the order `toml`'s tables iterate in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlainTable<'a> {
    pub span: Range<usize>,
    pub entries: Vec<PlainEntry<'a>>,
}

/// A document all of whose lines are self-contained and whose `[[record]]`
/// tables are all plain, read in one pass by [`read_plain`].
pub struct PlainDocument<'a> {
    /// The keys before the first table header.
    pub prefix: Vec<PlainEntry<'a>>,
    /// The text without its `[[record]]` sections: the tables the `toml`
    /// crate is left to read (`[soa]`, `[[matrix]]`).
    pub rest: String,
    /// The ranges of the text cut out of `rest`, in order.
    pub cut: Vec<Range<usize>>,
}

/// Reads `text` in one pass when every line is self-contained and every
/// `[[record]]` table plain (see the module documentation), handing each
/// record table to `on_table` with the keys before the first header, as it
/// is read. `None`, as soon as a line is of any other shape: then nothing
/// it has read may be used.
pub fn read_plain<'a>(
    text: &'a str,
    mut on_table: impl FnMut(&[PlainEntry<'a>], &PlainTable<'a>),
) -> Option<PlainDocument<'a>> {
    enum In {
        Prefix,
        Records,
        Other,
    }
    let mut prefix = PlainTable {
        span: 0..0,
        entries: Vec::new(),
    };
    let mut cut: Vec<Range<usize>> = Vec::new();
    let mut section = In::Prefix;
    let mut table = PlainTable {
        span: 0..0,
        entries: Vec::new(),
    };
    for (index, item) in lines(text).enumerate() {
        let (at, line) = item?;
        let line_number = Some((u32::try_from(index + 1).unwrap_or(u32::MAX), at));
        // The bulk of a zone: a key and its value in a record table, read
        // (and judged plain) in one go.
        if matches!(section, In::Records) && starts_pair(line) {
            table.push_pair(line, at, line_number)?;
            if let Some(run) = cut.last_mut() {
                run.end = line_end(text, at, line);
            }
            continue;
        }
        match scan_line(line.as_bytes())? {
            Shape::Blank => {}
            Shape::Header { double, name } => {
                if matches!(section, In::Records) {
                    table.entries.sort_by(|a, b| a.key.cmp(b.key));
                    on_table(&prefix.entries, &table);
                }
                let header_at = at + skip_blanks(line.as_bytes(), 0);
                if double && name == "record" {
                    section = In::Records;
                    table.entries.clear();
                    let header_end =
                        memchr::memrchr(b']', line.as_bytes()).map_or(line.len(), |i| i + 1);
                    table.span = header_at..at + header_end;
                    match cut.last_mut() {
                        Some(run) if run.end == header_at => {}
                        _ => cut.push(header_at..header_at),
                    }
                } else if name == "record" || name.starts_with("record.") {
                    // A `[record]` table or a `[record.…]` part: `toml`'s to judge.
                    return None;
                } else {
                    section = In::Other;
                }
            }
            Shape::Pair { key, .. } => match section {
                // A record table's pairs were read above.
                In::Records => return None,
                In::Prefix => {
                    // What the records depend on must be read here; other
                    // keys are `toml`'s alone.
                    if prefix.push_pair(line, at, line_number).is_none()
                        && matches!(&line[key], "origin" | "ttl")
                    {
                        return None;
                    }
                }
                In::Other => {}
            },
        }
        // A record section runs to the next header: the line is cut with
        // it, line break and all.
        if matches!(section, In::Records)
            && let Some(run) = cut.last_mut()
        {
            run.end = line_end(text, at, line);
        }
    }
    if matches!(section, In::Records) {
        table.entries.sort_by(|a, b| a.key.cmp(b.key));
        on_table(&prefix.entries, &table);
    }
    let rest = text_without(text, &cut)?;
    Some(PlainDocument {
        prefix: prefix.entries,
        rest,
        cut,
    })
}

/// The `[[record]]` tables of `text` (a run of whole record sections), or
/// `None` when any line is not of the plain shape. Spans are offsets into
/// `text`.
pub fn record_tables(text: &str) -> Option<Vec<PlainTable<'_>>> {
    let mut tables: Vec<PlainTable> = Vec::new();
    for item in lines(text) {
        let (at, line) = item?;
        if starts_pair(line) {
            tables.last_mut()?.push_pair(line, at, None)?;
            continue;
        }
        match scan_line(line.as_bytes())? {
            Shape::Blank => {}
            Shape::Header {
                double: true,
                name: "record",
            } => {
                let header_end =
                    memchr::memrchr(b']', line.as_bytes()).map_or(line.len(), |i| i + 1);
                tables.push(PlainTable {
                    span: at..at + header_end,
                    entries: Vec::new(),
                });
            }
            // Pairs were read above.
            Shape::Header { .. } | Shape::Pair { .. } => return None,
        }
    }
    for table in &mut tables {
        table.entries.sort_by(|a, b| a.key.cmp(b.key));
    }
    Some(tables)
}

/// Whether `line` starts like a `key = value` pair: not blank, not a
/// comment, not a header.
fn starts_pair(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes
        .get(skip_blanks(bytes, 0))
        .is_some_and(|&b| b != b'[' && b != b'#')
}

impl<'a> PlainTable<'a> {
    /// Adds the plain pair `line` (at `at` of the text; on line `number`
    /// when known), or `None` when it is not one, or repeats a key.
    fn push_pair(&mut self, line: &'a str, at: usize, number: Option<(u32, usize)>) -> Option<()> {
        let (key, value, value_span) = plain_pair(line)?;
        let key_text = &line[key.clone()];
        if self.entries.iter().any(|e| e.key == key_text) {
            return None;
        }
        self.entries.push(PlainEntry {
            key: key_text,
            key_span: at + key.start..at + key.end,
            value: shift_value(value, at),
            value_span: at + value_span.start..at + value_span.end,
            line: number,
        });
        Some(())
    }
}

/// `text` without the ranges `cut` (in order, within it).
pub fn text_without(text: &str, cut: &[Range<usize>]) -> Option<String> {
    let mut rest = String::with_capacity(text.len() / 16);
    let mut copied = 0;
    for run in cut {
        rest.push_str(text.get(copied..run.start)?);
        copied = run.end;
    }
    rest.push_str(text.get(copied..)?);
    Some(rest)
}

/// Where the line `line`, at `at` of `text`, ends, its line break included.
fn line_end(text: &str, at: usize, line: &str) -> usize {
    let mut end = at + line.len();
    for byte in [b'\r', b'\n'] {
        if text.as_bytes().get(end) == Some(&byte) {
            end += 1;
        }
    }
    end
}

/// `value` read from a line, with offsets made offsets of the text
/// (`at`: where the line starts).
fn shift_value(value: PlainValue<'_>, at: usize) -> PlainValue<'_> {
    match value {
        PlainValue::Array(text, start) => PlainValue::Array(text, at + start),
        other => other,
    }
}

/// A plain `key = value` line, read in one pass: the key's range, the
/// value (an array's offset within the line) and its range. The value is
/// a basic string without escapes or control characters (tabs aside), a
/// one-line array of such strings, or a decimal integer without sign,
/// underscores or leading zeros. `None` for a line of any other shape.
fn plain_pair(line: &str) -> Option<(Range<usize>, PlainValue<'_>, Range<usize>)> {
    let bytes = line.as_bytes();
    let start = skip_blanks(bytes, 0);
    let key_end = bare_key_end(bytes, start)?;
    let equals = skip_blanks(bytes, key_end);
    if bytes.get(equals) != Some(&b'=') {
        return None;
    }
    let value_start = skip_blanks(bytes, equals + 1);
    let (value, value_end) = match bytes.get(value_start)? {
        b'"' => {
            let end = plain_string_end(bytes, value_start)?;
            (PlainValue::Str(&line[value_start + 1..end - 1]), end)
        }
        b'[' => {
            // Strings and commas, a comma after each string but the last
            // optional: `["a",]` is an array, `[,]` is not.
            let mut at = skip_blanks(bytes, value_start + 1);
            loop {
                match bytes.get(at)? {
                    b']' => break,
                    b'"' => {
                        at = skip_blanks(bytes, plain_string_end(bytes, at)?);
                        match bytes.get(at)? {
                            b',' => at = skip_blanks(bytes, at + 1),
                            b']' => break,
                            _ => return None,
                        }
                    }
                    _ => return None,
                }
            }
            (
                PlainValue::Array(&line[value_start..at + 1], value_start),
                at + 1,
            )
        }
        _ => {
            let end = bare_key_end(bytes, value_start)?;
            (
                PlainValue::Int(plain_integer(&line[value_start..end])?),
                end,
            )
        }
    };
    if !comment_ok(bytes, skip_blanks(bytes, value_end)) {
        return None;
    }
    Some((start..key_end, value, value_start..value_end))
}

/// The end (past its closing quote) of the basic string at `i` when it
/// has no escape and no control character (tabs aside).
fn plain_string_end(line: &[u8], i: usize) -> Option<usize> {
    let rest = line.get(i + 1..)?;
    let close = memchr::memchr(b'"', rest)?;
    // No escape, no control character but tabs: checked without a branch
    // per byte.
    let plain = rest[..close].iter().fold(true, |plain, &b| {
        plain & (b != b'\\') & (b != 0x7f) & ((b >= 0x20) | (b == b'\t'))
    });
    plain.then_some(i + 1 + close + 1)
}

/// A decimal integer without sign, underscores or leading zeros, small
/// enough for TOML's 64-bit integers.
fn plain_integer(text: &str) -> Option<u64> {
    match text.as_bytes().first()? {
        b'1'..=b'9' if text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok()
        }
        b'0' if text == "0" => Some(0),
        _ => None,
    }
}

/// The lines of `text` with their offsets, line breaks removed; an item is
/// `None` at a lone carriage return, and the first is `None` at a byte
/// order mark: the plain readers leave both to `toml`.
fn lines(text: &str) -> impl Iterator<Item = Option<(usize, &str)>> {
    let bom = text.starts_with('\u{feff}');
    // Carriage returns are rare: only a text that has one looks for them
    // line by line.
    let returns = memchr::memchr(b'\r', text.as_bytes()).is_some();
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(
        // The last line, when the text does not end with a line break.
        (!text.is_empty() && !text.ends_with('\n')).then_some(text.len()),
    );
    let mut at = 0;
    ends.map(move |end| {
        let start = at;
        at = end + 1;
        let line = &text[start..end];
        if !returns {
            return (!bom).then_some((start, line));
        }
        // A carriage return is a line break only before a line feed.
        let body = match end < text.len() {
            true => line.strip_suffix('\r').unwrap_or(line),
            false => line,
        };
        (!bom && !body.contains('\r')).then_some((start, body))
    })
}

/// What a self-contained line is.
#[derive(Debug, PartialEq, Eq)]
enum Shape<'a> {
    /// Blank, or only a comment.
    Blank,
    /// `[name]` or `[[name]]`: `name` bare keys joined by dots, blanks removed.
    Header { double: bool, name: &'a str },
    /// `key = value`: where the bare key and the value are in the line.
    Pair {
        key: Range<usize>,
        value: Range<usize>,
    },
}

/// The shape of one line, or `None` when it is not self-contained (or not
/// TOML at all: `toml` will say what is wrong with it).
fn scan_line(line: &[u8]) -> Option<Shape<'_>> {
    let start = skip_blanks(line, 0);
    let shape = match line.get(start) {
        None | Some(b'#') => return comment_ok(line, start).then_some(Shape::Blank),
        Some(b'[') => {
            let double = line.get(start + 1) == Some(&b'[');
            let name_start = skip_blanks(line, start + 1 + usize::from(double));
            let name_end = dotted_key_end(line, name_start)?;
            let mut i = skip_blanks(line, name_end);
            for _ in 0..1 + usize::from(double) {
                if line.get(i) != Some(&b']') {
                    return None;
                }
                i += 1;
            }
            if !comment_ok(line, skip_blanks(line, i)) {
                return None;
            }
            // A name with blanks around its dots is left to the lexer.
            let name = std::str::from_utf8(&line[name_start..name_end]).ok()?;
            return Some(Shape::Header { double, name });
        }
        Some(_) => {
            let key_end = bare_key_end(line, start)?;
            let equals = skip_blanks(line, key_end);
            if line.get(equals) != Some(&b'=') {
                return None;
            }
            let value_start = skip_blanks(line, equals + 1);
            let value_end = value_end(line, value_start)?;
            if !comment_ok(line, skip_blanks(line, value_end)) {
                return None;
            }
            Shape::Pair {
                key: start..key_end,
                value: value_start..value_end,
            }
        }
    };
    Some(shape)
}

/// The end of the value starting at `i`: a one-line basic or literal
/// string, a one-line array of values, or a bare scalar (a number, a
/// boolean, a date: `toml` judges it). Multi-line strings and inline
/// tables are not self-contained here.
fn value_end(line: &[u8], i: usize) -> Option<usize> {
    match line.get(i)? {
        b'"' => string_end(line, i),
        b'\'' => {
            if line.get(i + 1) == Some(&b'\'') && line.get(i + 2) == Some(&b'\'') {
                return None;
            }
            let close = line[i + 1..].iter().position(|&b| b == b'\'')?;
            Some(i + 1 + close + 1)
        }
        b'[' => {
            let mut at = i + 1;
            loop {
                at = skip_blanks(line, at);
                match line.get(at)? {
                    b']' => return Some(at + 1),
                    b',' => at += 1,
                    _ => at = value_end(line, at)?,
                }
            }
        }
        _ => {
            let end = line[i..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b"_+-.:".contains(&b)))
                .map_or(line.len(), |n| i + n);
            (end > i).then_some(end)
        }
    }
}

/// The end (past the closing quote) of the one-line basic string at `i`.
fn string_end(line: &[u8], i: usize) -> Option<usize> {
    // `"""` opens a multi-line string: not self-contained.
    if line.get(i + 1) == Some(&b'"') && line.get(i + 2) == Some(&b'"') {
        return None;
    }
    let mut at = i + 1;
    loop {
        match line.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// The end of the bare key at `i` (`A-Za-z0-9_-`, at least one).
fn bare_key_end(line: &[u8], i: usize) -> Option<usize> {
    let end = line[i..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .map_or(line.len(), |n| i + n);
    (end > i).then_some(end)
}

/// The end of bare keys joined by dots (no blanks) at `i`.
fn dotted_key_end(line: &[u8], i: usize) -> Option<usize> {
    let mut end = bare_key_end(line, i)?;
    while line.get(end) == Some(&b'.') {
        end = bare_key_end(line, end + 1)?;
    }
    Some(end)
}

/// Whether what is left of the line from `i` is nothing or a comment
/// without control characters (tabs aside), as TOML requires.
fn comment_ok(line: &[u8], i: usize) -> bool {
    match line.get(i) {
        None => true,
        Some(b'#') => line[i + 1..]
            .iter()
            .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)),
        Some(_) => false,
    }
}

fn skip_blanks(line: &[u8], mut i: usize) -> usize {
    while matches!(line.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_the_plain_shape_are_told_from_the_rest() {
        for plain in [
            "",
            "   # a comment",
            "[soa]",
            "[[record]] # x",
            "[ record.sub ]",
            "name = \"host7\"",
            "A = [\"198.18.0.7\", \"198.18.0.8\",]",
            "ttl = 300",
            "x = 'literal'",
            "flag = true",
            "d = 1979-05-27T07:32:00Z",
            "TXT = [\"a \\\" b\"]",
            "nested = [[1, 2], [\"a\"]]",
        ] {
            assert!(scan_line(plain.as_bytes()).is_some(), "{plain:?}");
        }
        for other in [
            "x = \"\"\"",
            "x = '''",
            "x = [",
            "x = { a = 1 }",
            "\"quoted key\" = 1",
            "a.b = 1",
            "x = \"unterminated",
            "x = 1 y",
            "[[record]",
            "[ [record]]",
            "[\"quoted\"]",
            "# bell \u{7}",
            "x = \"a\" # bell \u{7}",
        ] {
            assert!(scan_line(other.as_bytes()).is_none(), "{other:?}");
        }
    }

    #[test]
    fn a_document_of_plain_lines_is_read_in_one_pass_and_anything_else_is_not() {
        for other in [
            "[soa]\nx = \"\"\"\n[[record]]\n\"\"\"\n",
            "x = 1\r[[record]]\n",
            "[[record]]\nname = \"a\"\n[record.x]\n",
            "[record]\nname = \"a\"\n",
            "origin = 'x.'\n[[record]]\nname = \"a\"\n",
            "[[record]]\nname = 'a'\n",
        ] {
            assert!(read_plain(other, |_, _| {}).is_none(), "{other:?}");
        }
        let text = "origin = \"x.\"\r\nttl = 60\n[soa]\nserial = 1\n  [[record]]\nname = \"a\"\n\n[[record]] # b\nname = \"b\"\nA = [\"192.0.2.1\"]\n[[matrix]]\nport = 443\n[[record]]\nname = \"c\"";
        let mut names = Vec::new();
        let document = read_plain(text, |prefix, table| {
            assert_eq!(prefix.len(), 2);
            names.push(
                table
                    .entries
                    .iter()
                    .find(|e| e.key == "name")
                    .map(|e| e.value.clone()),
            );
        })
        .unwrap();
        assert_eq!(
            names,
            [
                Some(PlainValue::Str("a")),
                Some(PlainValue::Str("b")),
                Some(PlainValue::Str("c"))
            ]
        );
        assert_eq!(
            document.rest,
            "origin = \"x.\"\r\nttl = 60\n[soa]\nserial = 1\n  [[matrix]]\nport = 443\n"
        );
        assert_eq!(document.cut.len(), 2);
        assert_eq!(document.prefix[1].value, PlainValue::Int(60));
    }

    #[test]
    fn record_tables_are_read_as_written_with_their_spans() {
        let text = "[[record]]\nname = \"host7\" # the host\nA = [\"198.18.0.7\", \"198.18.0.8\"]\nttl = 60\n\n[[record]]\nname = \"b\"\n";
        let tables = record_tables(text).unwrap();
        assert_eq!(tables.len(), 2);
        assert_eq!(&text[tables[0].span.clone()], "[[record]]");
        let keys: Vec<&str> = tables[0].entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, ["A", "name", "ttl"]);
        let addresses: Vec<_> = tables[0].entries[0].value.items().collect();
        assert_eq!(addresses.len(), 2);
        assert_eq!(addresses[1].0, "198.18.0.8");
        assert_eq!(&text[addresses[1].1.clone()], "\"198.18.0.8\"");
        assert_eq!(tables[0].entries[2].value, PlainValue::Int(60));
        assert_eq!(&text[tables[1].entries[0].value_span.clone()], "\"b\"");
    }

    #[test]
    fn anything_else_in_a_run_leaves_it_to_toml() {
        for text in [
            "[[record]]\nname = \"a\\tb\"\n",
            "[[record]]\nname = 'a'\n",
            "[[record]]\nname = \"a\"\nname = \"b\"\n",
            "[[record]]\nttl = 0x10\n",
            "[[record]]\nttl = 1_000\n",
            "[[record]]\nttl = 01\n",
            "[[record]]\nttl = 1234567890123456789\n",
            "[[record]]\nA = [\"a\", 1]\n",
            "[[record]]\nA = [,]\n",
            "[[record]]\nA = [\"a\" \"b\"]\n",
            "[[record]]\nA = [\"a\",,]\n",
            "[[record]]\nname = \"a\"\n[record.x]\n",
            "name = \"before any table\"\n",
            "[[record]]\nname = \"del \u{7f}\"\n",
            "[[record]]\nname = \"a\"\r",
        ] {
            assert!(record_tables(text).is_none(), "{text:?}");
        }
    }
}
