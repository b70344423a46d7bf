//! Clover XML (OpenClover, istanbul, PHPUnit, gcovr).
//!
//! ```xml
//! <coverage generated="1625247600" clover="4.2.0">
//!   <project name="shop">
//!     <metrics statements="3" coveredstatements="2" conditionals="2" coveredconditionals="1"/>
//!     <package name="app">
//!       <file name="cart.js" path="/src/app/cart.js">
//!         <line num="1" count="1" type="stmt"/>
//!         <line num="2" type="cond" truecount="1" falsecount="0"/>
//!         <line num="4" count="0" type="stmt"/>
//!       </file>
//!     </package>
//!   </project>
//! </coverage>
//! ```
//!
//! Statement (`stmt`) and conditional (`cond`) lines are measured lines; `method` lines are
//! signatures and are not. A line is covered when its `count` is above 0; a `cond` line
//! without a `count` (OpenClover) when `truecount + falsecount` is. Branches come from the file's
//! `<metrics conditionals coveredconditionals>`: tools disagree on what `truecount` and
//! `falsecount` mean (OpenClover: how often the condition was true or false; istanbul: covered
//! and uncovered branches), the metrics mean the same everywhere. A file without line entries
//! contributes its metrics' `statements`/`coveredstatements`. istanbul writes the packages
//! inside the project's `<metrics>`, so `<metrics>` is read and then entered, never skipped.
//! `<testproject>` (the tests' own coverage) is passed over.

use quick_xml::events::BytesStart;

use crate::coverage::{DeclaredTotals, parse_count};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format, LineCoverage};
use crate::warnings::Warnings;
use crate::xml::{Ev, Outline, Xml, XmlCoverage, XmlFragments, attr_or, attr_value, for_each_attr};

pub(crate) struct CloverReader {
    pub(crate) base: XmlCoverage,
}

impl XmlFragments for CloverReader {
    const ROOT: &'static str = "coverage";

    fn base(&mut self) -> &mut XmlCoverage {
        &mut self.base
    }

    fn outline(&mut self, name: &str, start: &BytesStart<'_>, _empty: bool) -> Result<Outline> {
        Ok(match name {
            "project" | "package" => Outline::Enter,
            // Entered, never skipped (see the module's notes).
            "metrics" => {
                if self.base.xml.depth() == 3 {
                    self.read_project_metrics(start)?;
                }
                Outline::Enter
            }
            "file" => Outline::Fragment(self.file_path(start)?),
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
        let mut metrics = DeclaredTotals::default();
        if !empty {
            let depth = self.base.xml.depth();
            loop {
                match self.base.xml.read(buf)? {
                    Ev::End if self.base.xml.depth() < depth => break,
                    Ev::Start(child, child_empty) => {
                        let name = child.local_name();
                        if name.as_ref() == "line" {
                            if let Some(l) =
                                read_line(&self.base.xml, &child, &mut self.base.warnings)?
                            {
                                lines.push(l);
                            }
                        } else if name.as_ref() == "metrics" {
                            if self.base.xml.depth() == depth + 1 {
                                metrics = self.read_metrics(&child)?;
                            }
                            continue;
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
            declared_lines: metrics.lines_valid.zip(metrics.lines_covered),
            declared_branches: metrics.branches_valid.zip(metrics.branches_covered),
        })
    }
}

impl CloverReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        CloverReader {
            base: XmlCoverage::new(source, Format::Clover, options),
        }
    }

    fn read_project_metrics(&mut self, start: &BytesStart<'_>) -> Result<()> {
        self.base.declared = self.read_metrics(start)?;
        Ok(())
    }

    fn read_metrics(&self, start: &BytesStart<'_>) -> Result<DeclaredTotals> {
        let xml = &self.base.xml;
        let mut declared = DeclaredTotals::default();
        let d = &mut declared;
        for_each_attr(xml, start, |attr| {
            let slot = match attr.local_name() {
                "statements" => &mut d.lines_valid,
                "coveredstatements" => &mut d.lines_covered,
                "conditionals" => &mut d.branches_valid,
                "coveredconditionals" => &mut d.branches_covered,
                _ => return Ok(()),
            };
            *slot = parse_count(&attr_value(xml, start, attr)?);
            Ok(())
        })?;
        Ok(declared)
    }

    fn file_path(&self, start: &BytesStart<'_>) -> Result<String> {
        Ok(attr_or(&self.base.xml, start, "path", "name")?.unwrap_or_default())
    }
}

/// A `<line>`: `None` for a method line, and for a line skipped with a warning (a line number
/// or count that cannot be read).
///
/// A line is run when its `count` is above 0. A `cond` line without a `count` (OpenClover)
/// was run when its condition was evaluated: `truecount + falsecount` times. A `cond` line
/// with a `count` (istanbul) has `truecount`/`falsecount` as its covered and uncovered
/// branches, not as evaluations: `count="0" falsecount="2"` was never run.
fn read_line(
    xml: &Xml,
    start: &BytesStart<'_>,
    warnings: &mut Warnings,
) -> Result<Option<LineCoverage>> {
    let mut num = None;
    let mut has_num = false;
    let mut skip = false;
    let mut kind = String::new();
    let (mut count, mut truecount, mut falsecount) = (None, None, None);
    let at = || format!("<line> on line {}", xml.mark_position().line);
    let strict = |m: String| xml.error_here(ErrorKind::Invalid(m));
    for_each_attr(xml, start, |attr| {
        let key = attr.local_name();
        let slot = match key {
            "num" => {
                has_num = true;
                let v = attr_value(xml, start, attr)?;
                num = warnings
                    .line_number(&v, || format!("{}: num", at()))
                    .map_err(strict)?;
                return Ok(());
            }
            "type" => {
                kind = attr_value(xml, start, attr)?.into_owned();
                return Ok(());
            }
            "count" => &mut count,
            "truecount" => &mut truecount,
            "falsecount" => &mut falsecount,
            _ => return Ok(()),
        };
        let v = attr_value(xml, start, attr)?;
        match warnings
            .hits(&v, || format!("{}: {key}", at()))
            .map_err(strict)?
        {
            Some(n) => *slot = Some(n),
            None => skip = true,
        }
        Ok(())
    })?;
    if !has_num {
        return Err(xml.error_here(ErrorKind::Invalid("<line> without num".into())));
    }
    let Some(line) = num.filter(|_| !skip) else {
        return Ok(None);
    };
    let hits = match (kind.as_str(), count) {
        ("method", _) => return Ok(None),
        (_, Some(count)) => count,
        ("cond", None) => truecount
            .unwrap_or(0)
            .saturating_add(falsecount.unwrap_or(0)),
        (_, None) => 0,
    };
    Ok(Some(LineCoverage {
        line,
        hits,
        branches_covered: 0,
        branches_total: 0,
    }))
}
