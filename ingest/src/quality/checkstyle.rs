//! Checkstyle XML: `<checkstyle><file name><error line column severity message source/>`.
//!
//! `source` names the check: Checkstyle's own class (`com.puppycrawl...checks.NameCheck`,
//! the rule is its last part), ESLint's `eslint.rules.<rule>`, or any tool's id. The tool is
//! the one the sources name (`eslint`, `checkstyle`), else unnamed.

use quick_xml::events::BytesStart;

use super::{Category, Issue, Severity, issue};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::model::Format;
use crate::warnings::Warnings;
use crate::xml::{Ev, Xml, attr_named, attr_value, for_each_attr};

pub(crate) struct CheckstyleReader {
    xml: Xml,
    buf: Vec<u8>,
    pub(crate) warnings: Warnings,
    started: bool,
    done: bool,
    /// The `<file name>` being read.
    file: Option<String>,
}

impl CheckstyleReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        CheckstyleReader {
            xml: Xml::new(source, Format::Checkstyle, options.limits),
            buf: Vec::with_capacity(4096),
            warnings: Warnings::new(options.strict),
            started: false,
            done: false,
            file: None,
        }
    }

    pub(crate) fn next_issue(&mut self) -> Result<Option<Issue>> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.step(&mut buf);
        self.buf = buf;
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn step(&mut self, buf: &mut Vec<u8>) -> Result<Option<Issue>> {
        while !self.done {
            match self.xml.read(buf)? {
                Ev::Start(start, empty) => {
                    let name = start.local_name();
                    let name: &str = name.as_ref();
                    if !self.started {
                        self.started = true;
                        if name != "checkstyle" {
                            return Err(self.xml.error_here(ErrorKind::Invalid(format!(
                                "root element <{name}> is not a Checkstyle report (expected <checkstyle>)"
                            ))));
                        }
                        continue;
                    }
                    match name {
                        "file" => {
                            self.file =
                                Some(attr_named(&self.xml, &start, "name")?.unwrap_or_default())
                        }
                        "error" => {
                            let found = self.error(&start)?;
                            drop(start);
                            self.xml.skip(buf, empty)?;
                            if found.is_some() {
                                return Ok(found);
                            }
                        }
                        _ => {}
                    }
                }
                Ev::Eof => self.done = true,
                _ => {}
            }
        }
        Ok(None)
    }

    /// An `<error>`; `None` for `severity="ignore"`.
    fn error(&self, start: &BytesStart<'_>) -> Result<Option<Issue>> {
        let xml = &self.xml;
        let (mut line, mut column) = (None, None);
        let (mut severity, mut message, mut source) = (String::new(), String::new(), String::new());
        for_each_attr(xml, start, |a| {
            let v = attr_value(xml, start, a)?;
            match a.local_name() {
                "line" => line = v.trim().parse::<u32>().ok(),
                "column" => column = v.trim().parse::<u32>().ok(),
                "severity" => severity = v.into_owned(),
                "message" => message = v.into_owned(),
                "source" => source = v.into_owned(),
                _ => {}
            }
            Ok(())
        })?;
        let normal = match severity.trim().to_ascii_lowercase().as_str() {
            "ignore" => return Ok(None),
            "error" => Severity::Major,
            "warning" => Severity::Minor,
            _ => Severity::Info,
        };
        let (tool, rule) = if let Some(rule) = source.strip_prefix("eslint.rules.") {
            ("eslint", rule.to_owned())
        } else if source.starts_with("com.puppycrawl.tools.checkstyle") {
            let class = source.rsplit('.').next().unwrap_or(&source);
            (
                "checkstyle",
                class.strip_suffix("Check").unwrap_or(class).to_owned(),
            )
        } else if source.is_empty() {
            ("", "(none)".to_owned())
        } else {
            ("", source.clone())
        };
        let path = self.file.clone().unwrap_or_default();
        Ok(Some(issue(
            tool,
            rule,
            normal,
            severity,
            Category::CodeSmell,
            message,
            path,
            line,
            column,
            None,
        )))
    }
}
