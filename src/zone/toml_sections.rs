//! The top-level sections of a TOML zone, found without parsing it.
//!
//! The `toml` crate builds the whole document before anything reads it: a
//! zone of 100 000 `[[record]]` tables costs some 300 MB while it parses.
//! Big zones that [`super::toml_lines`] cannot read in one pass are parsed
//! in batches instead: the lexer under `toml` (which knows strings,
//! comments and brackets) finds where each top-level table header starts;
//! runs of `[[record]]` tables are read a batch at a time, and everything
//! else is parsed as the document with those runs cut out, its offsets
//! mapped back to the file's so that every place stays where it was.
//!
//! Only what is surely a `[[record]]` section is batched; whatever the
//! scanner is unsure of stays in the rest of the document, which the `toml`
//! crate then judges as it would have judged the whole.

use std::ops::Range;

use toml_parser::Source;
use toml_parser::lexer::TokenKind;

/// What a top-level section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// The key/value pairs before the first table header.
    Prefix,
    /// `[[record]]`: one record table.
    Record,
    /// `[record.…]` or `[[record.…]]`: part of the record table before it.
    RecordPart,
    /// Any other table.
    Other,
}

/// One top-level section: a header and the lines up to the next header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub span: Range<usize>,
}

/// The sections of `text`, in order, covering it whole.
pub fn sections(text: &str) -> Vec<Section> {
    let mut starts: Vec<(usize, SectionKind)> = vec![(0, SectionKind::Prefix)];
    let mut tokens = Source::new(text).lex().peekable();
    let mut at_line_start = true;
    let mut in_value = false;
    // Brackets and braces open inside a value (arrays and inline tables may
    // span lines); a header can only start outside them.
    let mut depth = 0usize;
    while let Some(token) = tokens.next() {
        match token.kind() {
            TokenKind::Newline => {
                if depth == 0 {
                    in_value = false;
                }
                at_line_start = true;
                continue;
            }
            TokenKind::Whitespace | TokenKind::Comment => continue,
            TokenKind::LeftSquareBracket if at_line_start && !in_value && depth == 0 => {
                // A header: read it to the end of its line.
                let mut header = String::new();
                header.push('[');
                while let Some(next) = tokens.peek() {
                    if matches!(
                        next.kind(),
                        TokenKind::Newline | TokenKind::Comment | TokenKind::Eof
                    ) {
                        break;
                    }
                    let span = next.span();
                    header.push_str(text.get(span.start()..span.end()).unwrap_or("\u{0}"));
                    tokens.next();
                }
                starts.push((token.span().start(), header_kind(&header)));
            }
            TokenKind::Equals if !in_value && depth == 0 => in_value = true,
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket if in_value => depth += 1,
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket if in_value => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
        at_line_start = false;
    }
    let mut out: Vec<Section> = Vec::with_capacity(starts.len());
    for (i, &(start, kind)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(text.len(), |&(next, _)| next);
        out.push(Section {
            kind,
            span: start..end,
        });
    }
    out
}

/// The kind of the section a header (its whole text, whitespace and all) opens.
fn header_kind(header: &str) -> SectionKind {
    let compact: String = header
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t'))
        .collect();
    match compact.as_str() {
        "[[record]]" => SectionKind::Record,
        h if h.starts_with("[[record.") || h.starts_with("[record.") => SectionKind::RecordPart,
        _ => SectionKind::Other,
    }
}

/// A plan for parsing in batches: `batches` are the runs of whole
/// `[[record]]` sections (their `[record.…]` parts included), at most
/// `per_batch` record tables each; `rest` is the text without them (a zone
/// of a million records leaves the `toml` crate a few lines to read), and
/// [`BatchPlan::rest_offsets`] maps its offsets back to the text's. `None`
/// when batching could change what the document means: a record part that
/// does not follow a record table.
pub struct BatchPlan {
    pub rest: String,
    pub batches: Vec<Range<usize>>,
}

impl BatchPlan {
    /// What maps offsets of [`BatchPlan::rest`] to offsets of the text.
    pub fn rest_offsets(&self) -> RestOffsets {
        RestOffsets {
            batches: self.batches.clone(),
        }
    }
}

/// Maps offsets of a plan's rest to offsets of its text.
#[derive(Clone, Debug)]
pub struct RestOffsets {
    batches: Vec<Range<usize>>,
}

impl RestOffsets {
    /// The map for a rest that is the text without `cut` (in order).
    pub fn new(cut: Vec<Range<usize>>) -> RestOffsets {
        RestOffsets { batches: cut }
    }

    /// The offset in the text of offset `at` of the rest: past every batch
    /// that was cut out before it. (A batch starts where a line does and
    /// ends where one starts, so the rest's lines are the text's own.)
    pub fn text_offset(&self, at: usize) -> usize {
        let mut shift = 0;
        for batch in &self.batches {
            if at + shift < batch.start {
                break;
            }
            shift += batch.len();
        }
        at + shift
    }
}

/// Plans batched parsing of `text`, or `None` (parse it whole).
pub fn plan(text: &str, per_batch: usize) -> Option<BatchPlan> {
    let sections = sections(text);
    let mut batches: Vec<Range<usize>> = Vec::new();
    let mut tables_in_batch = 0usize;
    let mut previous = SectionKind::Prefix;
    for section in &sections {
        match section.kind {
            SectionKind::Record => match batches.last_mut() {
                Some(batch)
                    if previous != SectionKind::Other
                        && tables_in_batch < per_batch
                        && batch.end == section.span.start =>
                {
                    batch.end = section.span.end;
                    tables_in_batch += 1;
                }
                _ => {
                    batches.push(section.span.clone());
                    tables_in_batch = 1;
                }
            },
            SectionKind::RecordPart => {
                // It belongs to the record table just before it, so it must
                // be in the same batch.
                match batches.last_mut() {
                    Some(batch) if batch.end == section.span.start => batch.end = section.span.end,
                    _ => return None,
                }
            }
            SectionKind::Prefix | SectionKind::Other => {}
        }
        previous = section.kind;
    }
    let rest = super::toml_lines::text_without(text, &batches)?;
    Some(BatchPlan { rest, batches })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(SectionKind, &str)> {
        sections(text)
            .into_iter()
            .map(|s| (s.kind, text[s.span].lines().next().unwrap_or("")))
            .collect()
    }

    #[test]
    fn headers_are_found_only_outside_values_strings_and_comments() {
        let text = "origin = \"x.\"\n\
            [soa]\n\
            serial = 1\n\
            [[record]]\n\
            name = \"a\"\n\
            TXT = [\n\
            [\"nested\"],\n\
            \"\"\"\n\
            [[record]] in a string\n\
            \"\"\",\n\
            ]\n\
            # [[record]] in a comment\n\
            inline = { a = [\n\
            1 ] }\n\
              [[ record ]]\n\
            [record.sub]\n\
            [[record.list]]\n\
            [[matrix]]\n\
            [[records]]\n";
        assert_eq!(
            kinds(text),
            [
                (SectionKind::Prefix, "origin = \"x.\""),
                (SectionKind::Other, "[soa]"),
                (SectionKind::Record, "[[record]]"),
                (SectionKind::Record, "[[ record ]]"),
                (SectionKind::RecordPart, "[record.sub]"),
                (SectionKind::RecordPart, "[[record.list]]"),
                (SectionKind::Other, "[[matrix]]"),
                (SectionKind::Other, "[[records]]"),
            ]
        );
        let covered: usize = sections(text).iter().map(|s| s.span.len()).sum();
        assert_eq!(covered, text.len());
    }

    #[test]
    fn batches_are_runs_of_record_tables_and_the_rest_keeps_its_places() {
        let text = "origin = \"x.\"\n[[record]]\nname = \"a\"\n[[record]]\nname = \"é\"\n[record.x]\n\
            [[matrix]]\nserver_name = \"@\"\n[[record]]\nname = \"c\"\n";
        let plan = plan(text, 1).unwrap();
        let batched: Vec<&str> = plan.batches.iter().map(|b| &text[b.clone()]).collect();
        assert_eq!(
            batched,
            [
                "[[record]]\nname = \"a\"\n",
                "[[record]]\nname = \"é\"\n[record.x]\n",
                "[[record]]\nname = \"c\"\n"
            ]
        );
        assert_eq!(
            plan.rest,
            "origin = \"x.\"\n[[matrix]]\nserver_name = \"@\"\n"
        );
        // Offsets of the rest map back to the same text in the file.
        let offsets = plan.rest_offsets();
        for (at, c) in plan.rest.char_indices() {
            assert_eq!(
                text[offsets.text_offset(at)..].chars().next(),
                Some(c),
                "{at}"
            );
        }
        assert_eq!(offsets.text_offset(plan.rest.len()), text.len());
        let two = super::plan(text, 2).unwrap();
        assert_eq!(two.batches.len(), 2, "the [[matrix]] table ends a batch");
    }

    #[test]
    fn a_record_part_away_from_its_table_is_not_batched() {
        let text = "[[record]]\nname = \"a\"\n[[matrix]]\n[record.x]\n";
        assert!(plan(text, 10).is_none());
    }
}
