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
//! signatures and are not. A `stmt` line is covered when `count > 0`; a `cond` line when its
//! `count`, `truecount` or `falsecount` is above 0. Branches come from the file's
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
use crate::xml::{Ev, Outline, XmlCoverage, XmlFragments, attr_or, attr_value, for_each_attr};

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
                            if let Some(l) = self.read_line(&child)? {
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

    fn read_line(&self, start: &BytesStart<'_>) -> Result<Option<LineCoverage>> {
        let xml = &self.base.xml;
        let mut num = None;
        let mut kind = String::new();
        let (mut count, mut truecount, mut falsecount) = (None, None, None);
        for_each_attr(xml, start, |attr| {
            let key = attr.local_name();
            let v = attr_value(xml, start, attr)?;
            let bad = |what: &str| {
                xml.attr_error(
                    start,
                    key.as_bytes(),
                    Some(attr.value.as_ptr()),
                    ErrorKind::Invalid(format!("invalid {what} \"{v}\"")),
                )
            };
            match key {
                "num" => num = Some(v.trim().parse::<u32>().map_err(|_| bad("line number"))?),
                "type" => kind = v.into_owned(),
                "count" => count = Some(parse_count(&v).ok_or_else(|| bad("count"))?),
                "truecount" => truecount = Some(parse_count(&v).ok_or_else(|| bad("count"))?),
                "falsecount" => falsecount = Some(parse_count(&v).ok_or_else(|| bad("count"))?),
                _ => {}
            }
            Ok(())
        })?;
        let Some(line) = num else {
            return Err(self
                .base
                .xml
                .error_here(ErrorKind::Invalid("<line> without num".into())));
        };
        match kind.as_str() {
            "cond" => {
                let t = truecount.unwrap_or(0);
                let f = falsecount.unwrap_or(0);
                let hits = count.unwrap_or(0).max(t.saturating_add(f));
                Ok(Some(LineCoverage {
                    line,
                    hits,
                    branches_covered: 0,
                    branches_total: 0,
                }))
            }
            "method" => Ok(None),
            _ => Ok(Some(LineCoverage {
                line,
                hits: count.unwrap_or(0),
                branches_covered: 0,
                branches_total: 0,
            })),
        }
    }
}
