//! Where a piece of zone data came from: `file:line:column`.
//!
//! Every record a source produces carries a [`Place`], so that load errors and
//! lint findings point at the line a person wrote. Lines and columns count
//! from 1; column 0 means "the whole line / unknown column".

use std::fmt;
use std::sync::Arc;

/// A position in a source file (or a pseudo-file such as `<axfr 127.0.0.1:53>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    /// The file name as given to the loader (not canonicalised).
    pub file: Arc<str>,
    /// 1-based line number; 0 when the place is the file as a whole.
    pub line: u32,
    /// 1-based column (in characters); 0 when unknown.
    pub column: u32,
}

impl Place {
    /// A place at `line:column` of `file`.
    pub fn new(file: &Arc<str>, line: u32, column: u32) -> Self {
        Place {
            file: Arc::clone(file),
            line,
            column,
        }
    }

    /// The file as a whole (for errors such as "no SOA record").
    pub fn file(file: &Arc<str>) -> Self {
        Place::new(file, 0, 0)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.file),
            (line, 0) => write!(f, "{}:{line}", self.file),
            (line, column) => write!(f, "{}:{line}:{column}", self.file),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_file_line_column() {
        let file: Arc<str> = Arc::from("zones/example.org.toml");
        assert_eq!(
            Place::new(&file, 12, 5).to_string(),
            "zones/example.org.toml:12:5"
        );
        assert_eq!(
            Place::new(&file, 12, 0).to_string(),
            "zones/example.org.toml:12"
        );
        assert_eq!(Place::file(&file).to_string(), "zones/example.org.toml");
    }
}
