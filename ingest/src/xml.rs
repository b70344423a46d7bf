//! The XML event layer every XML parser of this crate stands on.
//!
//! One loop shape: the caller owns one reused buffer and calls [`Xml::read`]; this layer keeps
//! the element path (for error messages), enforces the depth limit, refuses entity
//! declarations and undefined entities, and checks the document's end (a truncated file is an
//! error, not a short report; so are a second root and text after the root).

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::coverage::DeclaredTotals;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::input::{Limits, Options, Source};
use crate::model::{FileCoverage, Format};
use crate::warnings::Warnings;

/// One open element: where its name sits in the arena, its index among same-named siblings.
struct Frame {
    name: std::ops::Range<usize>,
    index: u32,
    /// Where this frame's own bytes start in the arena (its name, then its children's names).
    arena_mark: usize,
    /// Where this frame's child counters start.
    counters_mark: usize,
    /// Where the element started.
    line: u64,
}

/// The path of open elements, kept without allocating per element.
#[derive(Default)]
struct PathStack {
    arena: Vec<u8>,
    frames: Vec<Frame>,
    /// (name in arena, how many children of that name so far) for each open frame.
    counters: Vec<(std::ops::Range<usize>, u32)>,
}

impl PathStack {
    fn push(&mut self, name: &[u8], line: u64) {
        let from = self.frames.last().map_or(0, |f| f.counters_mark);
        let mut index = 0;
        for (range, count) in &mut self.counters[from..] {
            if &self.arena[range.clone()] == name {
                *count += 1;
                index = *count;
                break;
            }
        }
        if index == 0 {
            let start = self.arena.len();
            self.arena.extend_from_slice(name);
            self.counters.push((start..self.arena.len(), 1));
            index = 1;
        }
        let arena_mark = self.arena.len();
        self.arena.extend_from_slice(name);
        self.frames.push(Frame {
            name: arena_mark..self.arena.len(),
            index,
            arena_mark,
            counters_mark: self.counters.len(),
            line,
        });
    }

    fn pop(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.arena.truncate(f.arena_mark);
            self.counters.truncate(f.counters_mark);
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (i, f) in self.frames.iter().enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(&String::from_utf8_lossy(&self.arena[f.name.clone()]));
            if i > 0 {
                out.push_str(&format!("[{}]", f.index));
            }
        }
        out
    }
}

/// What [`Xml::read`] returns: quick-xml's event, minus what this layer already handled.
pub(crate) enum Ev<'b> {
    /// An element opened (`empty` for `<a/>`, which this layer closes on the next read).
    Start(BytesStart<'b>, bool),
    /// The current element closed.
    End,
    /// A run of text, a CDATA section, or a resolved entity reference.
    Text(Cow<'b, str>),
    /// Something callers pass over: a comment, a processing instruction, the XML
    /// declaration, a DOCTYPE without entities, white space outside the root.
    Other,
    /// End of the document, everything closed.
    Eof,
}

pub(crate) struct Xml {
    reader: Reader<Source>,
    path: PathStack,
    limits: Limits,
    format: Format,
    pending_pop: bool,
    root_done: bool,
    /// Start of the last event's bytes in the source (its `<`).
    event_start: u64,
}

impl Xml {
    pub(crate) fn new(source: Source, format: Format, limits: Limits) -> Xml {
        let mut reader = Reader::from_reader(source);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Xml {
            reader,
            path: PathStack::default(),
            limits,
            format,
            pending_pop: false,
            root_done: false,
            event_start: 0,
        }
    }

    /// Depth of the current element (1 for the root).
    #[inline]
    pub(crate) fn depth(&self) -> usize {
        self.path.frames.len()
    }

    /// Reads the next event. Comments, processing instructions, the XML declaration and a
    /// DOCTYPE without entity declarations come as [`Ev::Other`].
    pub(crate) fn read<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<Ev<'b>> {
        if self.pending_pop {
            self.pending_pop = false;
            self.close();
        }
        {
            buf.clear();
            self.reader.get_mut().mark();
            self.event_start = self.reader.get_ref().offset();
            let event = match self.reader.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => return Err(self.map_error(e)),
            };
            // quick-xml gives the event borrowed from `buf`; re-borrow it for the return.
            match event {
                Event::Start(_) | Event::Empty(_) => {
                    let empty = matches!(event, Event::Empty(_));
                    if self.root_done && self.path.frames.is_empty() {
                        return Err(self.error_here(ErrorKind::Syntax(
                            "a second root element after the end of the document".into(),
                        )));
                    }
                    if self.path.frames.len() >= self.limits.max_depth {
                        return Err(self.error_here(ErrorKind::Limit(format!(
                            "elements nested deeper than {} (max_depth)",
                            self.limits.max_depth
                        ))));
                    }
                    let start = match event {
                        Event::Start(s) | Event::Empty(s) => s,
                        _ => unreachable!("matched above"),
                    };
                    let line = self.mark_position().line;
                    self.path.push(start.name().0.as_bytes(), line);
                    if empty {
                        self.pending_pop = true;
                    }
                    Ok(Ev::Start(start, empty))
                }
                Event::End(_) => {
                    self.close();
                    Ok(Ev::End)
                }
                Event::Text(t) => {
                    if self.path.frames.is_empty() {
                        if t.bytes().all(|b| b.is_ascii_whitespace()) {
                            return Ok(Ev::Other);
                        }
                        let what = if self.root_done {
                            "text after the root element"
                        } else {
                            "text before the root element"
                        };
                        return Err(self.error_here(ErrorKind::Syntax(what.into())));
                    }
                    Ok(Ev::Text(t.into_inner()))
                }
                Event::CData(t) => {
                    if self.path.frames.is_empty() {
                        return Err(self.error_here(ErrorKind::Syntax(
                            "CDATA outside the root element".into(),
                        )));
                    }
                    Ok(Ev::Text(t.into_inner()))
                }
                Event::GeneralRef(r) => {
                    if self.path.frames.is_empty() {
                        return Err(self.error_here(ErrorKind::Syntax(
                            "an entity reference outside the root element".into(),
                        )));
                    }
                    let text: Cow<'b, str> = match predefined_entity(&r) {
                        Some(s) => Cow::Borrowed(s),
                        None => Cow::Owned(self.resolve_char_ref(&r)?.to_string()),
                    };
                    Ok(Ev::Text(text))
                }
                Event::DocType(d) => {
                    let content: &str = &d;
                    if content.contains("<!ENTITY") {
                        return Err(self.error_here(ErrorKind::EntityDeclaration));
                    }
                    Ok(Ev::Other)
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(Ev::Other),
                Event::Eof => {
                    if let Some(f) = self.path.frames.last() {
                        let name = String::from_utf8_lossy(&self.path.arena[f.name.clone()]);
                        let line = f.line;
                        let message = format!(
                            "the input ends with <{name}> (opened on line {line}) still open"
                        );
                        return Err(self.error_here(ErrorKind::Truncated(message)));
                    }
                    if !self.root_done {
                        return Err(self.error_here(ErrorKind::Truncated(
                            "the input ends before the root element".into(),
                        )));
                    }
                    Ok(Ev::Eof)
                }
            }
        }
    }

    fn close(&mut self) {
        self.path.pop();
        if self.path.frames.is_empty() {
            self.root_done = true;
        }
    }

    /// A character reference's character; any other (non-predefined) entity is an error.
    fn resolve_char_ref(&self, r: &BytesRef<'_>) -> Result<char> {
        if !r.is_char_ref() {
            return Err(self.error_here(ErrorKind::UndefinedEntity(r.to_string())));
        }
        match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(self.error_here(ErrorKind::Syntax(format!(
                "invalid character reference &{};",
                &**r
            )))),
        }
    }

    /// Skips the rest of the element just opened by `Ev::Start` (or nothing if it was empty).
    pub(crate) fn skip(&mut self, buf: &mut Vec<u8>, empty: bool) -> Result<()> {
        if empty {
            return Ok(());
        }
        let depth = self.depth();
        loop {
            match self.read(buf)? {
                Ev::End if self.depth() < depth => return Ok(()),
                Ev::Eof => unreachable!("read reports a truncated document before Eof"),
                _ => {}
            }
        }
    }

    /// Reads the text content of the element just opened (nested elements' text included),
    /// keeping at most `limits.max_text_bytes` and marking what was cut. Returns `None` when
    /// the element has no text at all.
    pub(crate) fn read_text(&mut self, buf: &mut Vec<u8>, empty: bool) -> Result<Option<String>> {
        if empty {
            return Ok(None);
        }
        let cap = self.limits.max_text_bytes;
        let mut text = TextAccumulator::new(cap);
        let depth = self.depth();
        loop {
            match self.read(buf)? {
                Ev::End if self.depth() < depth => break,
                Ev::Text(t) => text.push(&t),
                _ => {}
            }
        }
        Ok(text.finish())
    }

    /// The position where the current event started.
    pub(crate) fn mark_position(&self) -> Position {
        self.reader.get_ref().mark_position()
    }

    /// An error at the start of the current event, with the element path.
    pub(crate) fn error_here(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.mark_position())
            .with_path(self.path.render())
            .with_format(self.format)
    }

    /// An error about attribute `attr` of the start tag `start` just read into `buf`.
    pub(crate) fn attr_error(
        &self,
        start: &BytesStart<'_>,
        attr: &[u8],
        value_ptr: Option<*const u8>,
        kind: ErrorKind,
    ) -> Error {
        let raw: &[u8] = start.as_bytes();
        let position = match value_ptr {
            Some(p)
                if (p as usize) >= (raw.as_ptr() as usize)
                    && (p as usize) <= (raw.as_ptr() as usize) + raw.len() =>
            {
                let index = p as usize - raw.as_ptr() as usize;
                // The tag's bytes start just after its '<'.
                let token_start = self.event_start + 1;
                self.reader
                    .get_ref()
                    .position_of(token_start + index as u64, Some((raw, token_start)))
            }
            _ => self.mark_position(),
        };
        let mut path = self.path.render();
        path.push_str("/@");
        path.push_str(&String::from_utf8_lossy(attr));
        Error::new(kind, position)
            .with_path(path)
            .with_format(self.format)
    }

    fn map_error(&mut self, e: quick_xml::Error) -> Error {
        let source = self.reader.get_mut();
        if let Some(err) = source.take_failure() {
            return err.with_path(self.path.render()).with_format(self.format);
        }
        let at = self.reader.error_position();
        let position = self.reader.get_ref().position_of(at, None);
        let kind = match e {
            quick_xml::Error::Io(io) => {
                let mut source_kind = None;
                if let Some(inner) = io.get_ref()
                    && let Some(se) = inner.downcast_ref::<crate::input::SourceError>()
                {
                    source_kind = Some(se.kind.clone());
                }
                source_kind.unwrap_or_else(|| ErrorKind::Io(io.to_string()))
            }
            quick_xml::Error::Syntax(s) => {
                let message = s.to_string();
                if message.contains("not closed") || message.contains("unclosed") {
                    ErrorKind::Truncated(message)
                } else {
                    ErrorKind::Syntax(message)
                }
            }
            quick_xml::Error::IllFormed(s) => ErrorKind::Syntax(s.to_string()),
            quick_xml::Error::InvalidAttr(a) => ErrorKind::Syntax(a.to_string()),
            quick_xml::Error::Encoding(enc) => ErrorKind::Encoding(enc.to_string()),
            quick_xml::Error::Escape(esc) => ErrorKind::Syntax(esc.to_string()),
            other => ErrorKind::Syntax(other.to_string()),
        };
        Error::new(kind, position)
            .with_path(self.path.render())
            .with_format(self.format)
    }
}

/// The text of one of the five entities XML predefines.
fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "apos" => Some("'"),
        "quot" => Some("\""),
        _ => None,
    }
}

/// Collects text up to a cap, counting what was cut.
pub(crate) struct TextAccumulator {
    text: String,
    cap: usize,
    cut: u64,
    any: bool,
}

impl TextAccumulator {
    pub(crate) fn new(cap: usize) -> Self {
        TextAccumulator {
            text: String::new(),
            cap,
            cut: 0,
            any: false,
        }
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.any = true;
        let room = self.cap.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
        } else {
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            self.cut += (s.len() - end) as u64;
        }
    }

    /// `text`, cut to `cap` bytes with the marker when it is longer.
    pub(crate) fn capped(text: &str, cap: usize) -> String {
        let mut acc = TextAccumulator::new(cap);
        acc.push(text);
        acc.finish().unwrap_or_default()
    }

    pub(crate) fn finish(mut self) -> Option<String> {
        if !self.any {
            return None;
        }
        if self.cut > 0 {
            self.text
                .push_str(&format!("…[truncated {} bytes]", self.cut));
        }
        Some(self.text)
    }
}

/// An attribute's value as text, with the five predefined entities and character references
/// resolved. Any other entity is an error.
pub(crate) fn attr_value<'a>(
    xml: &Xml,
    start: &BytesStart<'_>,
    attr: &'a Attribute<'a>,
) -> Result<Cow<'a, str>> {
    let raw: &str = &attr.value;
    if let Some(i) = memchr::memchr(b'<', raw.as_bytes()) {
        return Err(xml.attr_error(
            start,
            attr.key.0.as_bytes(),
            Some(raw[i..].as_ptr()),
            ErrorKind::Syntax("'<' is not allowed in an attribute value".into()),
        ));
    }
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map_err(|e| {
            let kind = match &e {
                quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                    _,
                    name,
                )) => ErrorKind::UndefinedEntity(name.clone()),
                other => ErrorKind::Syntax(other.to_string()),
            };
            xml.attr_error(start, attr.key.0.as_bytes(), Some(raw.as_ptr()), kind)
        })
}

/// The value of the attribute `wanted` of `start`, if it has one.
pub(crate) fn attr_named(
    xml: &Xml,
    start: &BytesStart<'_>,
    wanted: &str,
) -> Result<Option<String>> {
    let mut found = None;
    for_each_attr(xml, start, |attr| {
        if attr.key.local_name().as_ref() == wanted {
            found = Some(attr_value(xml, start, attr)?.into_owned());
        }
        Ok(())
    })?;
    Ok(found)
}

/// Iterates the attributes of `start`, mapping malformed attributes to positioned errors.
///
/// A plain scanner over the tag's bytes: `name = "value"` or `name='value'`, separated by
/// white space. It does not look for duplicate names (the first one a parser keeps wins), which
/// keeps it a single pass.
pub(crate) fn for_each_attr<'s>(
    xml: &Xml,
    start: &'s BytesStart<'s>,
    mut f: impl FnMut(&Attribute<'s>) -> Result<()>,
) -> Result<()> {
    let raw: &'s str = start.attributes_raw();
    let bytes = raw.as_bytes();
    let len = bytes.len();
    let mut i = 0;
    let malformed = |at: usize, what: &str| {
        xml.attr_error(
            start,
            b"",
            Some(raw[at.min(len)..].as_ptr()),
            ErrorKind::Syntax(format!("malformed attribute: {what}")),
        )
    };
    loop {
        while i < len && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= len || (bytes[i] == b'/' && i + 1 == len) {
            return Ok(());
        }
        let key_start = i;
        while i < len && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        let key = &raw[key_start..i];
        while i < len && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= len || bytes[i] != b'=' {
            return Err(malformed(key_start, &format!("`{key}` has no value")));
        }
        i += 1;
        while i < len && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = if i < len { bytes[i] } else { 0 };
        if quote != b'"' && quote != b'\'' {
            return Err(malformed(i, &format!("the value of `{key}` is not quoted")));
        }
        let Some(close) = memchr::memchr(quote, &bytes[i + 1..]) else {
            return Err(malformed(i, &format!("the value of `{key}` is not closed")));
        };
        let value = &raw[i + 1..i + 1 + close];
        i += close + 2;
        f(&Attribute {
            key: quick_xml::name::QName(key),
            value: Cow::Borrowed(value),
        })?;
    }
}

/// What the XML coverage readers share: the event layer, one reused buffer, the totals the
/// report declares, the warnings, and the root-element check.
pub(crate) struct XmlCoverage {
    pub(crate) xml: Xml,
    pub(crate) buf: Vec<u8>,
    pub(crate) declared: DeclaredTotals,
    pub(crate) warnings: Warnings,
    pub(crate) done: bool,
    started: bool,
}

impl XmlCoverage {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> Self {
        XmlCoverage {
            xml: Xml::new(source, format, options.limits),
            buf: Vec::with_capacity(4096),
            declared: DeclaredTotals::default(),
            warnings: Warnings::default(),
            done: false,
            started: false,
        }
    }

    /// On the first start tag: `Ok(true)` when it is the `expected` root, an error when it is
    /// another element. `Ok(false)` for every later start tag.
    pub(crate) fn check_root(&mut self, name: &str, expected: &str) -> Result<bool> {
        if self.started {
            return Ok(false);
        }
        self.started = true;
        if name != expected {
            let format = self.xml.format.name();
            return Err(self.xml.error_here(ErrorKind::Invalid(format!(
                "root element <{name}> is not a {format} report (expected <{expected}>)"
            ))));
        }
        Ok(true)
    }
}

/// An XML coverage reader: yields one file fragment per call.
pub(crate) trait XmlFragments {
    /// The shared state.
    fn base(&mut self) -> &mut XmlCoverage;

    /// Reads events until a fragment is complete (or the document ends).
    fn step(&mut self, buf: &mut Vec<u8>) -> Result<Option<FileCoverage>>;

    /// The next fragment; after an error, `None` for ever.
    fn next_file(&mut self) -> Result<Option<FileCoverage>> {
        if self.base().done {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.base().buf);
        let result = self.step(&mut buf);
        let base = self.base();
        base.buf = buf;
        if result.is_err() {
            base.done = true;
        }
        result
    }
}
