//! JaCoCo XML.
//!
//! ```xml
//! <!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
//! <report name="shop">
//!   <package name="com/acme">
//!     <class name="com/acme/Cart" sourcefilename="Cart.java">...</class>
//!     <sourcefile name="Cart.java">
//!       <line nr="3" mi="0" ci="4" mb="1" cb="1"/>
//!       <counter type="LINE" missed="0" covered="1"/>
//!     </sourcefile>
//!   </package>
//!   <counter type="LINE" missed="0" covered="1"/>
//! </report>
//! ```
//!
//! A `<line>` is measured when it has instructions (`mi + ci > 0`), covered when `ci > 0`; its
//! branches are `mb + cb`, covered `cb`. The path of a source file is its package's name, a
//! `/`, and its name. A `<sourcefile>` without `<line>` elements contributes its `LINE` and
//! `BRANCH` counters; a report without any source file contributes its report-level counters.

use quick_xml::events::BytesStart;

use crate::coverage::{MAX_LINE_NUMBER, parse_count, parse_digits};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format, LineCoverage};
use crate::warnings::Warnings;
use crate::xml::{
    Ev, MAX_LINES_HINT, Outline, Quick, Xml, XmlCoverage, XmlFragments, attr_named, attr_value,
    for_each_attr, parse_attr, plain_ascii_empty_tag,
};

pub(crate) struct JacocoReader {
    pub(crate) base: XmlCoverage,
    package: String,
    any_file: bool,
}

#[derive(Default)]
struct Counter {
    kind: String,
    missed: u64,
    covered: u64,
}

impl XmlFragments for JacocoReader {
    const ROOT: &'static str = "report";

    fn base(&mut self) -> &mut XmlCoverage {
        &mut self.base
    }

    fn outline(&mut self, name: &str, start: &BytesStart<'_>, empty: bool) -> Result<Outline> {
        Ok(match name {
            "group" => Outline::Enter,
            "package" => {
                self.package = attr_named(&self.base.xml, start, "name")?.unwrap_or_default();
                if empty {
                    self.package.clear();
                }
                Outline::Enter
            }
            "sourcefile" => {
                self.any_file = true;
                Outline::Fragment(attr_named(&self.base.xml, start, "name")?.unwrap_or_default())
            }
            "counter" if self.base.xml.depth() == 2 => {
                let c = self.read_counter(start)?;
                let (valid, covered) = (Some(c.missed.saturating_add(c.covered)), Some(c.covered));
                let declared = &mut self.base.declared;
                match c.kind.as_str() {
                    "LINE" => (declared.lines_valid, declared.lines_covered) = (valid, covered),
                    "BRANCH" => {
                        (declared.branches_valid, declared.branches_covered) = (valid, covered);
                    }
                    _ => {}
                }
                Outline::Skip
            }
            "coverage" | "testsuites" | "testsuite" => {
                return Err(self.base.xml.error_here(ErrorKind::Invalid(format!(
                    "<{name}> inside <report>: not a JaCoCo report"
                ))));
            }
            _ => Outline::Skip,
        })
    }

    fn read_fragment(
        &mut self,
        name: String,
        empty: bool,
        buf: &mut Vec<u8>,
    ) -> Result<FileCoverage> {
        let path = if self.package.is_empty() {
            name
        } else {
            format!("{}/{}", self.package, name)
        };
        let mut lines = Vec::with_capacity(self.base.lines_hint);
        let mut declared_lines = None;
        let mut declared_branches = None;
        // gcovr writes <line> with branch counts only; then lines come from the counters.
        let mut any_instructions = false;
        if !empty {
            let depth = self.base.xml.depth();
            loop {
                if self.base.xml.depth() == depth {
                    let mut run = (&mut lines, &mut any_instructions);
                    let warnings = &mut self.base.warnings;
                    self.base.xml.read_empty_run(
                        Some(b"line"),
                        &mut run,
                        |tag, (lines, any_instructions)| {
                            let (line, has_instructions, used) = quick_line(tag)?;
                            **any_instructions |= has_instructions;
                            lines.extend(line);
                            Some((used, Quick::Empty { more: true }))
                        },
                        |xml, start, (lines, any_instructions)| {
                            let (line, has_instructions) = read_line(xml, start, warnings)?;
                            **any_instructions |= has_instructions;
                            lines.extend(line);
                            Ok(true)
                        },
                    )?;
                }
                match self.base.xml.read(buf)? {
                    Ev::End if self.base.xml.depth() < depth => break,
                    Ev::Start(child, child_empty) => {
                        let child_name = child.local_name();
                        match child_name.as_ref() {
                            "line" => {
                                let (line, has_instructions) =
                                    read_line(&self.base.xml, &child, &mut self.base.warnings)?;
                                any_instructions |= has_instructions;
                                if let Some(l) = line {
                                    lines.push(l);
                                }
                            }
                            "counter" => {
                                let c = self.read_counter(&child)?;
                                match c.kind.as_str() {
                                    "LINE" => {
                                        declared_lines =
                                            Some((c.missed.saturating_add(c.covered), c.covered))
                                    }
                                    "BRANCH" => {
                                        declared_branches =
                                            Some((c.missed.saturating_add(c.covered), c.covered));
                                    }
                                    _ => {}
                                }
                            }
                            _ => {}
                        }
                        drop(child);
                        self.base.xml.skip(buf, child_empty)?;
                    }
                    _ => {}
                }
            }
        }
        if !any_instructions && declared_lines.is_some() {
            lines.clear();
        }
        self.base.lines_hint = lines.len().min(MAX_LINES_HINT);
        Ok(FileCoverage {
            path,
            lines,
            declared_lines,
            declared_branches,
        })
    }

    fn at_end(&mut self) -> Option<FileCoverage> {
        let d = self.base.declared;
        if self.any_file || (d.lines_valid.is_none() && d.branches_valid.is_none()) {
            return None;
        }
        self.base
            .warnings
            .push("the report has no <sourcefile> data; totals come from its counters".into());
        Some(FileCoverage {
            path: String::new(),
            lines: Vec::new(),
            declared_lines: d.lines_valid.zip(d.lines_covered),
            declared_branches: d.branches_valid.zip(d.branches_covered),
        })
    }
}

impl JacocoReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        JacocoReader {
            base: XmlCoverage::new(source, Format::Jacoco, options),
            package: String::new(),
            any_file: false,
        }
    }

    fn read_counter(&self, start: &BytesStart<'_>) -> Result<Counter> {
        let xml = &self.base.xml;
        let mut c = Counter::default();
        for_each_attr(xml, start, |attr| {
            let key = attr.local_name();
            match key {
                "type" => c.kind = attr_value(xml, start, attr)?.into_owned(),
                "missed" | "covered" => {
                    let n = parse_attr(xml, start, attr, "counter value", parse_count)?;
                    if key == "missed" {
                        c.missed = n;
                    } else {
                        c.covered = n;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(c)
    }
}

/// [`read_line`] for a `<line/>` of the plainest kind (see [`plain_ascii_empty_tag`]) whose values
/// are plain digits, and the tag's length. `None` leaves the tag to `read_line`.
#[inline]
fn quick_line(tag: &[u8]) -> Option<(Option<LineCoverage>, bool, usize)> {
    let mut nr = None;
    let mut has_instructions = false;
    let (mut mi, mut ci, mut mb, mut cb) = (0u64, 0u64, 0u64, 0u64);
    let used = plain_ascii_empty_tag(tag, b"line", |key, value| {
        let slot = match key {
            b"nr" => {
                nr = Some(u32::try_from(parse_digits(value)?).ok()?)
                    .filter(|n| (1..=MAX_LINE_NUMBER).contains(n));
                return Some(());
            }
            b"mi" => {
                has_instructions = true;
                &mut mi
            }
            b"ci" => {
                has_instructions = true;
                &mut ci
            }
            b"mb" => &mut mb,
            b"cb" => &mut cb,
            _ => return Some(()),
        };
        *slot = parse_digits(value)?;
        Some(())
    })?;
    Some((measured(nr?, mi, ci, mb, cb), has_instructions, used))
}

/// The line `nr` from its counts, `None` when it has no instructions and no branches.
fn measured(nr: u32, mi: u64, ci: u64, mb: u64, cb: u64) -> Option<LineCoverage> {
    if mi.saturating_add(ci) == 0 && mb.saturating_add(cb) == 0 {
        return None;
    }
    let total = u32::try_from(mb.saturating_add(cb)).unwrap_or(u32::MAX);
    Some(LineCoverage {
        line: nr,
        hits: ci,
        branches_covered: u32::try_from(cb).unwrap_or(u32::MAX).min(total),
        branches_total: total,
    })
}

/// A measured line (or `None`: not measured, or skipped with a warning), and whether the
/// element carried instruction counts.
fn read_line(
    xml: &Xml,
    start: &BytesStart<'_>,
    warnings: &mut Warnings,
) -> Result<(Option<LineCoverage>, bool)> {
    let mut nr = None;
    let mut has_nr = false;
    let mut skip = false;
    let mut has_instructions = false;
    let (mut mi, mut ci, mut mb, mut cb) = (0u64, 0u64, 0u64, 0u64);
    let at = || format!("<line> on line {}", xml.mark_position().line);
    let strict = |m: String| xml.error_here(ErrorKind::Invalid(m));
    for_each_attr(xml, start, |attr| {
        let key = attr.local_name();
        let slot = match key {
            "nr" => {
                has_nr = true;
                let v = attr_value(xml, start, attr)?;
                nr = warnings
                    .line_number(&v, || format!("{}: nr", at()))
                    .map_err(strict)?;
                return Ok(());
            }
            "mi" => {
                has_instructions = true;
                &mut mi
            }
            "ci" => {
                has_instructions = true;
                &mut ci
            }
            "mb" => &mut mb,
            "cb" => &mut cb,
            _ => return Ok(()),
        };
        let v = attr_value(xml, start, attr)?;
        match warnings
            .hits(&v, || format!("{}: {key}", at()))
            .map_err(strict)?
        {
            Some(n) => *slot = n,
            None => skip = true,
        }
        Ok(())
    })?;
    if !has_nr {
        return Err(xml.error_here(ErrorKind::Invalid("<line> without nr".into())));
    }
    match nr {
        Some(line) if !skip => Ok((measured(line, mi, ci, mb, cb), has_instructions)),
        _ => Ok((None, has_instructions)),
    }
}
