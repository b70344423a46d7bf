//! The one error type of this crate, and where in the input it happened.

use std::fmt;

use serde::Serialize;

use crate::model::Format;

/// Where in the input an error happened.
///
/// `byte_offset` counts bytes of the decoded text (after gunzip, and after transcoding to
/// UTF-8 for UTF-16 or Latin-1 input). `line` and `column` are 1-based; the column counts
/// bytes from the start of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 0-based byte offset.
    pub byte_offset: u64,
    /// 1-based line number.
    pub line: u64,
    /// 1-based column, in bytes.
    pub column: u64,
}

impl Position {
    /// The start of the input.
    pub const START: Position = Position {
        byte_offset: 0,
        line: 1,
        column: 1,
    };
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading the underlying input failed (not a problem of the report itself).
    Io(String),
    /// The content is none of the supported formats.
    UnknownFormat(String),
    /// The bytes are not well-formed XML (or JSON, for the JSON formats).
    Syntax(String),
    /// The document ended with elements still open.
    Truncated(String),
    /// Well-formed, but not what the format allows (wrong root, bad number, ...).
    Invalid(String),
    /// The text is not valid in its encoding.
    Encoding(String),
    /// The document declares entities (`<!ENTITY`), which we never expand.
    EntityDeclaration,
    /// An entity reference that XML does not predefine.
    UndefinedEntity(String),
    /// A configured limit was exceeded.
    Limit(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io(m) => write!(f, "read error: {m}"),
            ErrorKind::UnknownFormat(m) => write!(f, "unknown report format: {m}"),
            ErrorKind::Syntax(m) => write!(f, "malformed input: {m}"),
            ErrorKind::Truncated(m) => write!(f, "truncated document: {m}"),
            ErrorKind::Invalid(m) => f.write_str(m),
            ErrorKind::Encoding(m) => write!(f, "bad encoding: {m}"),
            ErrorKind::EntityDeclaration => {
                f.write_str("entity declarations are not allowed (possible XXE or entity bomb)")
            }
            ErrorKind::UndefinedEntity(name) => write!(f, "undefined entity &{name};"),
            ErrorKind::Limit(m) => write!(f, "limit exceeded: {m}"),
        }
    }
}

/// An error reading a report: what went wrong, in which format, and where.
///
/// Displays as `junit: testsuites/testsuite[3]/testcase[17]/@time (line 212, column 40): invalid duration "abc"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    format: Option<Format>,
    position: Position,
    path: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, position: Position) -> Error {
        Error {
            kind,
            format: None,
            position,
            path: String::new(),
        }
    }

    pub(crate) fn with_path(mut self, path: String) -> Error {
        self.path = path;
        self
    }

    pub(crate) fn with_position(mut self, position: Position) -> Error {
        self.position = position;
        self
    }

    pub(crate) fn with_format(mut self, format: Format) -> Error {
        if self.format.is_none() {
            self.format = Some(format);
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The format being read, once it was detected.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Where it happened.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The element path, e.g. `testsuites/testsuite[3]/testcase[17]/@time`; empty for
    /// line-based formats and for errors before the root element.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The message without the format prefix and position.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(format) = self.format {
            write!(f, "{}: ", format.name())?;
        }
        if !self.path.is_empty() {
            write!(f, "{} ", self.path)?;
        }
        write!(
            f,
            "(line {}, column {}): {}",
            self.position.line, self.position.column, self.kind
        )
    }
}

impl std::error::Error for Error {}

/// Short for `std::result::Result<T, cimetrics_ingest::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
