//! SonarQube generic coverage (gcovr `--sonarqube`, and what teams write for SonarQube).
//!
//! ```xml
//! <coverage version="1">
//!   <file path="src/util.c">
//!     <lineToCover lineNumber="3" covered="true" branchesToCover="2" coveredBranches="1"/>
//!     <lineToCover lineNumber="9" covered="false"/>
//!   </file>
//! </coverage>
//! ```
//!
//! Each `<file>` is a fragment of its `path`; each `<lineToCover>` a measured line, covered
//! when `covered="true"` (the format has no hit counts: a covered line counts 1 hit), with
//! `branchesToCover` branch outcomes of which `coveredBranches` were taken.

use quick_xml::events::BytesStart;

use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format, LineCoverage};
use crate::warnings::Warnings;
use crate::xml::{Ev, Outline, Xml, XmlCoverage, XmlFragments, attr_or, attr_value, for_each_attr};

pub(crate) struct SonarCoverageReader {
    pub(crate) base: XmlCoverage,
}

impl SonarCoverageReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        SonarCoverageReader {
            base: XmlCoverage::new(source, Format::SonarCoverage, options),
        }
    }
}

impl XmlFragments for SonarCoverageReader {
    const ROOT: &'static str = "coverage";

    fn base(&mut self) -> &mut XmlCoverage {
        &mut self.base
    }

    fn outline(&mut self, name: &str, start: &BytesStart<'_>, _empty: bool) -> Result<Outline> {
        Ok(match name {
            "file" => Outline::Fragment(
                attr_or(&self.base.xml, start, "path", "path")?.ok_or_else(|| {
                    self.base
                        .xml
                        .error_here(ErrorKind::Invalid("<file> without a path".into()))
                })?,
            ),
            _ => Outline::Skip,
        })
    }

    fn read_fragment(
        &mut self,
        path: String,
        empty: bool,
        buf: &mut Vec<u8>,
    ) -> Result<FileCoverage> {
        let mut lines = Vec::new();
        if !empty {
            let depth = self.base.xml.depth();
            loop {
                match self.base.xml.read(buf)? {
                    Ev::End if self.base.xml.depth() < depth => break,
                    Ev::Start(child, child_empty) => {
                        if child.local_name().as_ref() == "lineToCover" {
                            lines.extend(read_line(
                                &self.base.xml,
                                &child,
                                &mut self.base.warnings,
                            )?);
                        }
                        drop(child);
                        self.base.xml.skip(buf, child_empty)?;
                    }
                    _ => {}
                }
            }
        }
        Ok(FileCoverage {
            path,
            lines,
            declared_lines: None,
            declared_branches: None,
        })
    }
}

/// A `<lineToCover>`; `None` for a line skipped with a warning.
fn read_line(
    xml: &Xml,
    start: &BytesStart<'_>,
    warnings: &mut Warnings,
) -> Result<Option<LineCoverage>> {
    let mut number = None;
    let mut has_number = false;
    let mut covered = false;
    let (mut total, mut taken) = (Some(0), Some(0));
    let at = || format!("<lineToCover> on line {}", xml.mark_position().line);
    let strict = |m: String| xml.error_here(ErrorKind::Invalid(m));
    for_each_attr(xml, start, |attr| {
        let key = attr.local_name();
        let v = attr_value(xml, start, attr)?;
        match key {
            "lineNumber" => {
                has_number = true;
                number = warnings
                    .line_number(&v, || format!("{}: lineNumber", at()))
                    .map_err(strict)?;
            }
            "covered" => covered = v.trim().eq_ignore_ascii_case("true"),
            "branchesToCover" => {
                total = warnings
                    .hits(&v, || format!("{}: {key}", at()))
                    .map_err(strict)?
            }
            "coveredBranches" => {
                taken = warnings
                    .hits(&v, || format!("{}: {key}", at()))
                    .map_err(strict)?
            }
            _ => {}
        }
        Ok(())
    })?;
    if !has_number {
        return Err(xml.error_here(ErrorKind::Invalid(
            "<lineToCover> without lineNumber".into(),
        )));
    }
    let (Some(line), Some(total), Some(taken)) = (number, total, taken) else {
        return Ok(None);
    };
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    Ok(Some(LineCoverage {
        line,
        hits: u64::from(covered),
        branches_covered: u32::try_from(taken).unwrap_or(u32::MAX).min(total),
        branches_total: total,
    }))
}
