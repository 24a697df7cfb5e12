//! Zone load errors: what is wrong, and the [`Place`] it is wrong at.
//!
//! Loaders collect every error they can find in one pass (a person fixing a
//! zone wants the whole list, not one error per run), so the unit of failure
//! is [`ZoneErrors`], a non-empty list of [`ZoneError`].

use std::fmt;

use super::place::Place;

/// One problem in a zone source, rendered as `file:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ZoneError {
    /// Where the problem is.
    pub place: Place,
    /// What is wrong, in words a zone author can act on.
    pub message: String,
}

impl ZoneError {
    /// An error at `place`.
    pub fn new(place: Place, message: impl Into<String>) -> Self {
        ZoneError {
            place,
            message: message.into(),
        }
    }
}

/// All the errors found while loading one zone source (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ZoneErrors(pub Vec<ZoneError>);

impl ZoneErrors {
    /// A list holding one error.
    pub fn one(place: Place, message: impl Into<String>) -> Self {
        ZoneErrors(vec![ZoneError::new(place, message)])
    }

    /// The errors, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &ZoneError> {
        self.0.iter()
    }

    /// Turns a possibly empty list into `Ok(())` or `Err(self)`.
    pub fn into_result(self) -> Result<(), ZoneErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ZoneErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
