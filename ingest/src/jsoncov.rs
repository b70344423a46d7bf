//! JSON coverage reports: coverage.py's `coverage json`, istanbul's `coverage-final.json` and
//! `llvm-cov export` JSON, streamed.

use crate::coverage::DeclaredTotals;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format};
use crate::warnings::Warnings;

/// Which JSON coverage format `prefix` (the first bytes of a document starting with `{`) is.
pub(crate) fn detect_json(_prefix: &[u8]) -> Option<Format> {
    None
}

/// Streams the files of a JSON coverage report.
pub(crate) struct JsonCoverageReader {
    pub(crate) declared: DeclaredTotals,
    pub(crate) warnings: Warnings,
    #[allow(dead_code)]
    source: Source,
    format: Format,
}

impl JsonCoverageReader {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> Self {
        JsonCoverageReader {
            declared: DeclaredTotals::default(),
            warnings: Warnings::new(options.strict),
            source,
            format,
        }
    }

    pub(crate) fn next_file(&mut self) -> Result<Option<FileCoverage>> {
        Err(Error::new(
            ErrorKind::UnknownFormat(format!("{} is not read yet", self.format.name())),
            Position::START,
        ))
    }
}
