//! Cobertura XML (coverage.py, gcovr, istanbul, coverlet, cobertura itself, ...).
//!
//! ```xml
//! <coverage lines-valid="4" lines-covered="3" branches-valid="2" branches-covered="1">
//!   <packages><package name="app"><classes>
//!     <class name="cart.py" filename="app/cart.py">
//!       <methods>...</methods>
//!       <lines>
//!         <line number="1" hits="1"/>
//!         <line number="2" hits="4" branch="true" condition-coverage="50% (1/2)"/>
//!         <line number="5" hits="0"/>
//!       </lines>
//!     </class>
//!   </classes></package></packages>
//! </coverage>
//! ```
//!
//! Each `<class>` is a fragment of its `filename`; the lines under `<methods>` repeat the
//! class's lines and are passed over. Branches come from `condition-coverage`.

use quick_xml::events::BytesStart;

use crate::coverage::{MAX_LINE_NUMBER, parse_condition_coverage, parse_count, parse_digits};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format, LineCoverage};
use crate::warnings::Warnings;
use crate::xml::{
    Ev, MAX_LINES_HINT, Outline, Quick, Xml, XmlCoverage, XmlFragments, attr_or, attr_value,
    for_each_attr, parse_attr, plain_ascii_empty_tag,
};

pub(crate) struct CoberturaReader {
    pub(crate) base: XmlCoverage,
}

impl XmlFragments for CoberturaReader {
    const ROOT: &'static str = "coverage";

    fn base(&mut self) -> &mut XmlCoverage {
        &mut self.base
    }

    fn root(&mut self, start: &BytesStart<'_>) -> Result<()> {
        self.read_declared(start)
    }

    fn outline(&mut self, name: &str, start: &BytesStart<'_>, _empty: bool) -> Result<Outline> {
        Ok(match name {
            "packages" | "package" | "classes" => Outline::Enter,
            "class" => Outline::Fragment(self.class_path(start)?),
            _ => Outline::Skip,
        })
    }

    fn read_fragment(
        &mut self,
        path: String,
        empty: bool,
        buf: &mut Vec<u8>,
    ) -> Result<FileCoverage> {
        let mut lines = Vec::with_capacity(self.base.lines_hint);
        // Lines under <methods> repeat the class's lines; some tools write only those.
        let mut method_lines = Vec::new();
        let mut methods_depth = None;
        // The depth of the open <lines> element, if any: its <line>s are read as a run.
        let mut lines_depth = None;
        if !empty {
            let depth = self.base.xml.depth();
            loop {
                if lines_depth.is_some_and(|d| d == self.base.xml.depth()) {
                    let into = if methods_depth.is_some() {
                        &mut method_lines
                    } else {
                        &mut lines
                    };
                    let warnings = &mut self.base.warnings;
                    self.base.xml.read_empty_run(
                        Some(b"line"),
                        into,
                        |tag, into| {
                            let (line, used) = quick_line(tag)?;
                            into.push(line);
                            Some((used, Quick::Empty { more: true }))
                        },
                        |xml, start, into| {
                            into.extend(read_line(xml, start, warnings)?);
                            Ok(true)
                        },
                    )?;
                }
                match self.base.xml.read(buf)? {
                    Ev::End if self.base.xml.depth() < depth => break,
                    Ev::End if methods_depth.is_some_and(|d| self.base.xml.depth() < d) => {
                        methods_depth = None;
                    }
                    Ev::Start(child, child_empty) => {
                        let child_name = child.local_name();
                        match child_name.as_ref() {
                            "methods" if !child_empty => {
                                methods_depth = Some(self.base.xml.depth())
                            }
                            "lines" if !child_empty => lines_depth = Some(self.base.xml.depth()),
                            "lines" | "method" => {}
                            "line" => {
                                let line =
                                    read_line(&self.base.xml, &child, &mut self.base.warnings)?;
                                if methods_depth.is_some() {
                                    method_lines.extend(line);
                                } else {
                                    lines.extend(line);
                                }
                                drop(child);
                                self.base.xml.skip(buf, child_empty)?;
                            }
                            _ => {
                                drop(child);
                                self.base.xml.skip(buf, child_empty)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if lines.is_empty() {
            lines = method_lines;
        }
        self.base.lines_hint = lines.len().min(MAX_LINES_HINT);
        Ok(FileCoverage {
            path,
            lines,
            declared_lines: None,
            declared_branches: None,
        })
    }
}

impl CoberturaReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        CoberturaReader {
            base: XmlCoverage::new(source, Format::Cobertura, options),
        }
    }

    fn read_declared(&mut self, start: &BytesStart<'_>) -> Result<()> {
        let xml = &self.base.xml;
        let d = &mut self.base.declared;
        for_each_attr(xml, start, |attr| {
            let slot = match attr.local_name() {
                "lines-valid" => &mut d.lines_valid,
                "lines-covered" => &mut d.lines_covered,
                "branches-valid" => &mut d.branches_valid,
                "branches-covered" => &mut d.branches_covered,
                _ => return Ok(()),
            };
            *slot = parse_count(&attr_value(xml, start, attr)?);
            Ok(())
        })
    }

    fn class_path(&self, start: &BytesStart<'_>) -> Result<String> {
        attr_or(&self.base.xml, start, "filename", "name")?.ok_or_else(|| {
            self.base.xml.error_here(ErrorKind::Invalid(
                "<class> has neither filename nor name".into(),
            ))
        })
    }
}

/// [`read_line`] for a `<line/>` of the plainest kind (see [`plain_ascii_empty_tag`]) whose number
/// and hits are plain digits: the line and the tag's length. `None` leaves the tag to `read_line`.
#[inline]
fn quick_line(tag: &[u8]) -> Option<(LineCoverage, usize)> {
    let mut number = None;
    let mut hits = 0;
    let mut branches = (0, 0);
    let used = plain_ascii_empty_tag(tag, b"line", |key, value| {
        match key {
            b"number" => {
                number = Some(u32::try_from(parse_digits(value)?).ok()?)
                    .filter(|n| (1..=MAX_LINE_NUMBER).contains(n));
            }
            b"hits" => hits = parse_digits(value)?,
            b"condition-coverage" => {
                // ASCII, checked by `plain_ascii_empty_tag`.
                branches = parse_condition_coverage(std::str::from_utf8(value).ok()?)?;
            }
            _ => {}
        }
        Some(())
    })?;
    let line = LineCoverage {
        line: number?,
        hits,
        branches_covered: branches.0,
        branches_total: branches.1,
    };
    Some((line, used))
}

/// A `<line number hits [condition-coverage]>`; `None` for a line skipped with a warning (a
/// line number or hit count that cannot be read).
fn read_line(
    xml: &Xml,
    start: &BytesStart<'_>,
    warnings: &mut Warnings,
) -> Result<Option<LineCoverage>> {
    let mut number = None;
    let mut hits = Some(0);
    let mut branches = (0, 0);
    let mut has_number = false;
    let at = || format!("<line> on line {}", xml.mark_position().line);
    let strict = |m: String| xml.error_here(ErrorKind::Invalid(m));
    for_each_attr(xml, start, |attr| {
        match attr.local_name() {
            "number" => {
                has_number = true;
                let v = attr_value(xml, start, attr)?;
                number = warnings
                    .line_number(&v, || format!("{}: number", at()))
                    .map_err(strict)?;
            }
            "hits" => {
                let v = attr_value(xml, start, attr)?;
                hits = warnings
                    .hits(&v, || format!("{}: hits", at()))
                    .map_err(strict)?;
            }
            "condition-coverage" => {
                branches = parse_attr(
                    xml,
                    start,
                    attr,
                    "condition-coverage",
                    parse_condition_coverage,
                )?;
            }
            _ => {}
        }
        Ok(())
    })?;
    if !has_number {
        return Err(xml.error_here(ErrorKind::Invalid("<line> without a number".into())));
    }
    let (Some(line), Some(hits)) = (number, hits) else {
        return Ok(None);
    };
    Ok(Some(LineCoverage {
        line,
        hits,
        branches_covered: branches.0,
        branches_total: branches.1,
    }))
}
