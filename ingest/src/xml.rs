//! The XML event layer every XML parser of this crate stands on.
//!
//! One loop shape: the caller owns one reused buffer and calls [`Xml::read`]; this layer keeps
//! the element path (for error messages), enforces the depth limit, refuses entity
//! declarations and undefined entities, and checks the document's end (a truncated file is an
//! error, not a short report; so are a second root and text after the root).
//!
//! # The fast path
//!
//! Most of a report is a few shapes of token: start tags (`<testcase name="a" time="1">`,
//! `<line number="3" hits="1"/>`), end tags, text runs, entity references (`&lt;`) and CDATA
//! sections (`<system-out><![CDATA[...]]>`). [`Xml::read`] reads those itself, straight from
//! the [`Source`]'s buffer, when the whole token is there and has a plain ASCII name;
//! quick-xml reads everything else (comments, the XML declaration, DOCTYPE, tokens across a
//! buffer boundary, anything odd) from
//! the same place. Both give the same [`Ev`]s, so a reader cannot tell which one ran.
//!
//! A start tag is read in one pass that also notes where its attributes are ([`AttrSpans`]),
//! so [`for_each_attr`] iterates them without scanning the tag again. Text is read together
//! with the entity references in it, resolved, as one event. [`Xml::read_empty_run`] reads a
//! run of empty elements (coverage `<line .../>`s, `<testcase .../>`s) in place, without an
//! event per element; [`Xml::skip`] uses it too.
//!
//! Each reader may also hand [`Xml::read_empty_run`] a matcher for the plainest form of its
//! element ([`plain_ascii_empty_tag`] for coverage lines whose values are digits,
//! [`plain_tag`] for testcases without references). The matcher takes the attributes straight
//! from the buffer and returns `None` for anything else, which then goes the careful way
//! ([`for_each_attr`] and the reader's own attribute code, with the errors and positions), so
//! a matcher never reports an error itself. A matcher may also read the start tag of an
//! element with content ([`Quick::Open`], a `<testcase>` with children): the element is then
//! open and the run ends. [`plain_tag`] finds the tag's end, its quotes and whether it is all
//! ASCII in one pass, 16 bytes at a time (SSE2 on x86-64, a byte loop elsewhere); it and its
//! scan hold the crate's only `unsafe`, with the merger's prefetch.
//!
//! To share the input, the fast path runs only while quick-xml stands between tokens (its
//! `InsideText` state: after any event of its own but text, and after the fast path's), and
//! quick-xml reads the end tag of every element whose start tag it read. This layer, not
//! quick-xml, checks that end tags match (quick-xml does not see the fast path's start
//! tags). quick-xml's offsets lag by the bytes the fast path consumed; [`Xml::map_error`]
//! adds them back.
//!
//! `ingest/tests/it/fastpath.rs` checks that the two read alike: it reads every sample and
//! corpus file whole, one byte per read (the buffer never holds a whole token, so quick-xml
//! reads everything) and in uneven chunks, and wants the same report or the same error at the
//! same position.
//!
//! # The coverage readers
//!
//! The three XML coverage readers (`cobertura`, `jacoco`, `clover`) share [`XmlCoverage`]
//! (the buffer, the declared totals, the warnings, the root check) and the walk through the
//! document, through the [`XmlFragments`] trait: each says what its outline elements are
//! ([`XmlFragments::outline`]: enter, skip, or a file fragment with its path) and reads its
//! fragments ([`XmlFragments::read_fragment`]); the trait's [`XmlFragments::step`] does the
//! rest.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesEnd, BytesRef, BytesStart, BytesText, Event};

use crate::coverage::DeclaredTotals;
use crate::error::{Error, ErrorKind, Position, Result};
use crate::input::{Limits, Options, Source};
use crate::model::{FileCoverage, Format};
use crate::warnings::Warnings;

/// One open element: where its name sits in the arena, its index among same-named siblings.
struct Frame {
    name: std::ops::Range<usize>,
    index: u32,
    /// Whether quick-xml read the start tag: then it reads the end tag too (it keeps its own
    /// stack of the start tags it read, and this keeps that stack as deep as the document).
    by_quick_xml: bool,
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
    fn push(&mut self, name: &[u8], line: u64, by_quick_xml: bool) {
        let index = self.count(name);
        let arena_mark = self.arena.len();
        self.arena.extend_from_slice(name);
        self.frames.push(Frame {
            name: arena_mark..self.arena.len(),
            index,
            by_quick_xml,
            arena_mark,
            counters_mark: self.counters.len(),
            line,
        });
    }

    /// Counts a child `name` of the innermost open element; returns its index among the
    /// children of that name (1 for the first).
    fn count(&mut self, name: &[u8]) -> u32 {
        let from = self.frames.last().map_or(0, |f| f.counters_mark);
        let mut index = 0;
        // Newest first: in a run of siblings the name is the last one counted.
        for (range, count) in self.counters[from..].iter_mut().rev() {
            if range.len() == name.len() && &self.arena[range.clone()] == name {
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
        index
    }

    fn pop(&mut self) {
        if let Some(f) = self.frames.pop() {
            self.arena.truncate(f.arena_mark);
            self.counters.truncate(f.counters_mark);
        }
    }

    /// The name of the innermost open element.
    fn top_name(&self) -> Option<&[u8]> {
        self.frames.last().map(|f| &self.arena[f.name.clone()])
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
    /// Whether quick-xml stands between tokens, so the fast path may read the next one.
    between_tokens: bool,
    /// Bytes the fast path consumed: quick-xml's offsets are this much behind the source's.
    fast_consumed: u64,
    /// Inside [`Xml::skip`]: the fast path checks text in place instead of copying it.
    skipping: bool,
    /// The attributes of the last start tag the fast path read.
    attrs: AttrSpans,
}

/// What the fast path read into the caller's buffer.
enum Fast {
    /// Nothing: quick-xml reads the next token.
    No,
    /// A start tag's name and attributes (`empty` for `<a/>`), the name `name_len` bytes long.
    Start { name_len: usize, empty: bool },
    /// An end tag's name.
    End,
    /// Text up to the next `<` or `&`.
    Text,
    /// An entity or character reference's name (`lt` for `&lt;`).
    Ref,
    /// Text inside [`Xml::skip`]: checked, consumed, not copied.
    Skipped,
    /// Text runs and the references between them, resolved (see [`coalesce_text`]).
    Unescaped,
    /// A CDATA section's content (literal text: nothing in it is markup).
    CData,
}

impl Xml {
    pub(crate) fn new(source: Source, format: Format, limits: Limits) -> Xml {
        let mut reader = Reader::from_reader(source);
        let config = reader.config_mut();
        // This layer checks end tags (see the module's notes on the fast path).
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
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
            between_tokens: false,
            fast_consumed: 0,
            skipping: false,
            attrs: AttrSpans::default(),
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
            self.attrs.of = (0, 0);
            let source = self.reader.get_mut();
            source.mark();
            self.event_start = source.offset();
            let fast = if self.between_tokens {
                self.fast_token(buf)?
            } else {
                Fast::No
            };
            let by_quick_xml = matches!(fast, Fast::No);
            let event = match fast {
                Fast::No => {
                    // After a text event quick-xml stands on the next `<` but has moved to
                    // reading markup: only it may read that token.
                    match self.reader.read_event_into(buf) {
                        Ok(e) => {
                            self.between_tokens = !matches!(e, Event::Text(_));
                            e
                        }
                        Err(e) => return Err(self.map_error(e)),
                    }
                }
                Fast::Start { name_len, empty } => {
                    let content = match utf8(buf) {
                        Ok(content) => content,
                        Err(e) => return Err(self.utf8_error(1, e)),
                    };
                    let start = BytesStart::from_content(content, name_len);
                    let raw = start.attributes_raw();
                    self.attrs.of = (raw.as_ptr() as usize, raw.len());
                    if empty {
                        Event::Empty(start)
                    } else {
                        Event::Start(start)
                    }
                }
                Fast::End => {
                    let name = match utf8(buf) {
                        Ok(name) => name,
                        Err(e) => return Err(self.utf8_error(2, e)),
                    };
                    Event::End(BytesEnd::new(name))
                }
                Fast::Unescaped => {
                    // The text's runs were copied unchecked: checked here, once. Where one is
                    // not UTF-8, so is the input there (references resolve to whole
                    // characters), and the input, still in the buffer, says where.
                    let text = match utf8(buf) {
                        Ok(text) => text,
                        Err(_) => {
                            let source = self.reader.get_ref();
                            let used = (source.offset() - self.event_start) as usize;
                            let e = std::str::from_utf8(source.just_consumed(used))
                                .err()
                                .map(|e| e.valid_up_to() as u64);
                            return Err(self.utf8_error_at(e.unwrap_or(0)));
                        }
                    };
                    Event::Text(BytesText::from_escaped(text))
                }
                Fast::Text | Fast::CData => {
                    let text = match utf8(buf) {
                        Ok(text) => text,
                        Err(e) => {
                            let lead = if matches!(fast, Fast::CData) {
                                CDATA_OPEN.len() as u64
                            } else {
                                0
                            };
                            return Err(self.utf8_error(lead, e));
                        }
                    };
                    Event::Text(BytesText::from_escaped(text))
                }
                Fast::Ref => {
                    let name = std::str::from_utf8(buf).expect("ASCII, checked by scan_token");
                    Event::GeneralRef(BytesRef::new(name))
                }
                // Only `skip` asks for this, and passes over text.
                Fast::Skipped => return Ok(Ev::Other),
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
                    let line = self.reader.get_mut().mark_line_counted();
                    self.path
                        .push(start.name().0.as_bytes(), line, by_quick_xml);
                    if empty {
                        self.pending_pop = true;
                    }
                    Ok(Ev::Start(start, empty))
                }
                Event::End(end) => {
                    let found = end.name().0.as_bytes();
                    match self.path.top_name() {
                        Some(expected) if expected == found => {}
                        Some(expected) => {
                            let message = format!(
                                "expected `</{}>`, but `</{}>` was found",
                                String::from_utf8_lossy(expected),
                                String::from_utf8_lossy(found)
                            );
                            return Err(self.error_here(ErrorKind::Syntax(message)));
                        }
                        None => {
                            let message = format!(
                                "`</{}>` closes an element that was never opened",
                                String::from_utf8_lossy(found)
                            );
                            return Err(self.error_here(ErrorKind::Syntax(message)));
                        }
                    }
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

    /// Reads the next token into `buf` when it is a plain start tag, end tag or text that the
    /// buffer holds whole (see the module's notes); otherwise consumes nothing.
    #[inline]
    fn fast_token(&mut self, buf: &mut Vec<u8>) -> Result<Fast> {
        let top_by_quick_xml = self.path.frames.last().is_some_and(|f| f.by_quick_xml);
        let source = self.reader.get_mut();
        let avail = match source.fill_buf() {
            Ok(avail) => avail,
            Err(e) => {
                let e = quick_xml::Error::Io(std::sync::Arc::new(e));
                return Err(self.map_error(e));
            }
        };
        if avail.first().is_some_and(|&b| b != b'<') && !self.path.frames.is_empty() {
            let copy_into = if self.skipping { None } else { Some(&mut *buf) };
            let used = coalesce_text(avail, copy_into);
            if used > 0 {
                source.consume(used);
                self.fast_consumed += used as u64;
                return Ok(if self.skipping {
                    Fast::Skipped
                } else {
                    Fast::Unescaped
                });
            }
            buf.clear();
        }
        let (fast, used) = scan_token(avail, top_by_quick_xml, &mut self.attrs);
        if used == 0 {
            return Ok(Fast::No);
        }
        if matches!(fast, Fast::CData) && self.path.frames.is_empty() {
            return Ok(Fast::No); // quick-xml reads it, and `read` reports it
        }
        if self.skipping && matches!(fast, Fast::Text | Fast::CData) {
            if !is_utf8(&avail[..used]) {
                // quick-xml reports it, with its position.
                return Ok(Fast::No);
            }
            source.consume(used);
            self.fast_consumed += used as u64;
            return Ok(Fast::Skipped);
        }
        let token = match fast {
            Fast::Start { empty: true, .. } => &avail[1..used - 2],
            Fast::Start { .. } => &avail[1..used - 1],
            Fast::End => trim_end_ascii_whitespace(&avail[2..used - 1]),
            Fast::Text => &avail[..used],
            Fast::Ref => &avail[1..used - 1],
            Fast::CData => &avail[CDATA_OPEN.len()..used - CDATA_CLOSE.len()],
            Fast::No | Fast::Skipped | Fast::Unescaped => return Ok(Fast::No),
        };
        // `read` checks that it is UTF-8.
        buf.extend_from_slice(token);
        source.consume(used);
        self.fast_consumed += used as u64;
        Ok(fast)
    }

    /// Reads the run of empty `<name .../>` elements (any name when `name` is `None`), and the
    /// white space between them, that
    /// comes next, straight from the input buffer, calling `f` with each one's start tag (and
    /// stopping after the element for which `f` returns `false`); the element is open while
    /// `f` runs, so its errors carry its path and position. Stops,
    /// consuming nothing more, at anything else (another element, text, a tag the buffer
    /// does not hold whole, a tag that is not plain): the next [`Xml::read`] returns that.
    /// For the hottest elements (coverage `<line>`s): it spares each one the event round trip
    /// of `read` and the close that follows.
    ///
    /// Before that, `quick` is offered each element's bytes (the buffer from its `<` on) with
    /// `state`: it may read an element of the plainest kind itself (see [`plain_tag`]) and
    /// return its length and what it was ([`Quick`]); `None` leaves the element to `f`. An
    /// element `quick` reads is counted among its siblings all the same, so later errors name
    /// the right index. When it read a start tag, the element is open (on the fast path's
    /// terms: either path may read its end tag) and the run ends: the caller reads the
    /// element's content next.
    pub(crate) fn read_empty_run<S>(
        &mut self,
        name: Option<&[u8]>,
        state: &mut S,
        mut quick: impl FnMut(&[u8], &mut S) -> Option<(usize, Quick)>,
        mut f: impl FnMut(&Xml, &BytesStart<'_>, &mut S) -> Result<bool>,
    ) -> Result<()> {
        if self.pending_pop {
            self.pending_pop = false;
            self.close();
        }
        while self.between_tokens && !self.path.frames.is_empty() {
            let source = self.reader.get_mut();
            if source.fill_buf().is_err() {
                // `read` reports it.
                return Ok(());
            }
            let avail = source.buffered();
            if avail.is_empty() {
                return Ok(());
            }
            let white = avail
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(avail.len());
            // White space between the elements is passed over, as callers do.
            source.consume(white);
            self.fast_consumed += white as u64;
            source.mark();
            self.event_start = source.offset();
            let tag = self.reader.get_ref().buffered();
            if let Some(name) = name
                && self.path.frames.len() < self.limits.max_depth
                && let Some((used, read)) = quick(tag, state)
            {
                match read {
                    Quick::Empty { .. } => {
                        self.path.count(name);
                    }
                    Quick::Open => {
                        let line = self.reader.get_mut().mark_line_counted();
                        self.path.push(name, line, false);
                    }
                }
                self.reader.get_mut().consume(used);
                self.fast_consumed += used as u64;
                if let Quick::Empty { more: true } = read {
                    continue;
                }
                break;
            }
            let (fast, used) = scan_token(tag, false, &mut self.attrs);
            let Fast::Start {
                name_len,
                empty: true,
            } = fast
            else {
                if tag.is_empty() {
                    continue; // the white space reached the buffer's end
                }
                return Ok(());
            };
            // The careful way notes the element's line (the quick one needs none).
            let line = self.reader.get_mut().mark_line_counted();
            let tag = self.reader.get_ref().buffered();
            let Ok(token) = utf8(&tag[1..used - 2]) else {
                return Ok(());
            };
            let found = &token.as_bytes()[..name_len];
            if name.is_some_and(|name| name != found)
                || self.path.frames.len() >= self.limits.max_depth
            {
                return Ok(());
            }
            self.path.push(found, line, false);
            let start = BytesStart::from_content(token, name_len);
            let raw = start.attributes_raw();
            self.attrs.of = (raw.as_ptr() as usize, raw.len());
            let more = f(self, &start, state)?;
            self.path.pop();
            self.reader.get_mut().consume(used);
            self.fast_consumed += used as u64;
            if !more {
                break;
            }
        }
        Ok(())
    }

    /// The error for a fast-path token that is not UTF-8; its text starts `lead` bytes after
    /// the token's start.
    fn utf8_error(&self, lead: u64, e: std::str::Utf8Error) -> Error {
        self.utf8_error_at(lead + e.valid_up_to() as u64)
    }

    /// The error for a fast-path token that is not UTF-8 from `valid` bytes after its start
    /// (the position says where: the same wherever the buffer happened to split the text).
    fn utf8_error_at(&self, valid: u64) -> Error {
        let position = self
            .reader
            .get_ref()
            .position_of(self.event_start + valid, None);
        let message = "invalid UTF-8 byte sequence".to_string();
        Error::new(ErrorKind::Encoding(message), position)
            .with_path(self.path.render())
            .with_format(self.format)
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
        self.skipping = true;
        let done = loop {
            let quick = |_: &[u8], _: &mut ()| None;
            if let Err(e) = self.read_empty_run(None, &mut (), quick, |_, _, _| Ok(true)) {
                break Err(e);
            }
            match self.read(buf) {
                Ok(Ev::End) if self.depth() < depth => break Ok(()),
                Ok(Ev::Eof) => unreachable!("read reports a truncated document before Eof"),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        self.skipping = false;
        done
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
        let at = self.reader.error_position() + self.fast_consumed;
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

/// What a `quick` matcher of [`Xml::read_empty_run`] read.
#[derive(Clone, Copy)]
pub(crate) enum Quick {
    /// An empty element; whether to go on to the next one.
    Empty { more: bool },
    /// The start tag of an element with content.
    Open,
}

/// The fast path's tokenizer: what token `avail` starts with, and its length in bytes (0 when
/// quick-xml should read it). `top_by_quick_xml` says the innermost open element's start tag
/// was read by quick-xml, which then reads its end tag too. A start tag's attributes are
/// left in `attrs`.
#[inline]
fn scan_token(avail: &[u8], top_by_quick_xml: bool, attrs: &mut AttrSpans) -> (Fast, usize) {
    const NO: (Fast, usize) = (Fast::No, 0);
    match avail {
        [] => NO,
        [b'<', b'/', rest @ ..] => {
            if top_by_quick_xml {
                return NO;
            }
            let Some(gt) = memchr::memchr(b'>', rest) else {
                return NO;
            };
            let name = trim_end_ascii_whitespace(&rest[..gt]);
            if !is_plain_name(name) {
                return NO;
            }
            (Fast::End, gt + 3)
        }
        [b'<', first, ..] if first.is_ascii_alphabetic() || *first == b'_' => {
            match scan_start_tag(avail, attrs) {
                Some((name_len, empty, used)) => (Fast::Start { name_len, empty }, used),
                None => NO,
            }
        }
        [b'<', b'!', ..] if avail.starts_with(CDATA_OPEN) => {
            let content = &avail[CDATA_OPEN.len()..];
            // Whole in the buffer: up to the first `]]>`, which ends it.
            match cdata_end(content) {
                Some(end) => (Fast::CData, CDATA_OPEN.len() + end + CDATA_CLOSE.len()),
                None => NO,
            }
        }
        [b'<', ..] => NO,
        [b'&', rest @ ..] => {
            // `&lt;`, `&#60;`, `&#x3C;`: the name is checked where it is resolved.
            let name_len = rest
                .iter()
                .take(16)
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'#'));
            match name_len {
                Some(n) if n > 0 && rest[n] == b';' => (Fast::Ref, n + 2),
                _ => NO,
            }
        }
        _ => match memchr::memchr2(b'<', b'&', avail) {
            Some(i) => (Fast::Text, i),
            None => NO,
        },
    }
}

/// What opens and what closes a CDATA section.
const CDATA_OPEN: &[u8] = b"<![CDATA[";
const CDATA_CLOSE: &[u8] = b"]]>";

/// Where the first `]]>` in `content` starts: found from its `>`, which log lines and stack
/// traces seldom hold (cheaper than setting up a substring search per section).
#[inline]
fn cdata_end(content: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let gt = from + memchr::memchr(b'>', &content[from..])?;
        if gt >= 2 && content[gt - 2..gt] == *b"]]" {
            return Some(gt - 2);
        }
        from = gt + 1;
    }
}

/// Reads text runs and the entity and character references between them as one piece of
/// text, appending it resolved to `out`, unchecked (the caller checks the whole text as UTF-8
/// once), or only checking it, when `out` is `None`. Stops before the first `<`, before
/// anything it does not read (an unknown or invalid reference, a run the buffer does not hold
/// up to its end), and, when only checking, before a run that is not UTF-8, so that the
/// token-by-token path reports that with its own position. Returns the bytes read, 0 when the
/// first piece is such a thing.
fn coalesce_text(avail: &[u8], mut out: Option<&mut Vec<u8>>) -> usize {
    let mut at = 0;
    while at < avail.len() {
        if avail[at] == b'&' {
            let rest = &avail[at + 1..];
            let Some(n) = rest.iter().take(16).position(|&b| b == b';') else {
                break;
            };
            let name = &rest[..n];
            let mut utf8 = [0u8; 4];
            let text: &[u8] = match name {
                b"lt" => b"<",
                b"gt" => b">",
                b"amp" => b"&",
                b"apos" => b"'",
                b"quot" => b"\"",
                [b'#', ..] => {
                    let Ok(name) = std::str::from_utf8(name) else {
                        break;
                    };
                    match BytesRef::new(name).resolve_char_ref() {
                        Ok(Some(c)) => c.encode_utf8(&mut utf8).as_bytes(),
                        _ => break,
                    }
                }
                _ => break,
            };
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(text);
            }
            at += n + 2;
        } else {
            let Some(len) = memchr::memchr2(b'<', b'&', &avail[at..]) else {
                break;
            };
            let run = &avail[at..at + len];
            match out.as_deref_mut() {
                // The caller checks the whole text once.
                Some(out) => out.extend_from_slice(run),
                None if !is_utf8(run) => break,
                None => {}
            }
            at += len;
            if avail[at] == b'<' {
                break;
            }
        }
    }
    at
}

/// Where a start tag's attributes are, as the fast path found them while looking for the
/// tag's end: [`for_each_attr`] then iterates them without scanning the tag again.
#[derive(Default)]
pub(crate) struct AttrSpans {
    /// Per attribute: key start, key end, value start, value end, as offsets into the tag's
    /// attribute text (what follows the element name).
    spans: Vec<[u32; 4]>,
    /// Whether no value holds `&` (so that each value is its own text).
    plain: bool,
    /// The attribute text these spans describe (its address and length), so that they are
    /// used for that tag only; `(0, 0)` when they describe none.
    of: (usize, usize),
}

impl AttrSpans {
    /// The spans, when they were found for the tag whose attribute text is `raw`.
    #[inline]
    fn for_tag(&self, raw: &str) -> Option<&[[u32; 4]]> {
        (self.of == (raw.as_ptr() as usize, raw.len()) && self.of.0 != 0).then_some(&self.spans)
    }
}

/// Scans a start tag that `avail` begins with (`<` and a name's first letter) up to its `>`,
/// noting its attributes in `attrs`: one pass over the bytes. Returns the name's length,
/// whether the tag is empty (`/>`), and the tag's length; `None` for anything but plain
/// `name="value"` attributes (with `'` or `"`, white space around `=` allowed), and for a tag
/// the buffer does not hold whole: quick-xml reads those, and [`for_each_attr`] reports what
/// is malformed.
#[inline]
fn scan_start_tag(avail: &[u8], attrs: &mut AttrSpans) -> Option<(usize, bool, usize)> {
    let len = avail.len();
    let is_white = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut i = 1 + name_len(&avail[1..]);
    let name_end = i;
    attrs.spans.clear();
    attrs.plain = true;
    attrs.of = (0, 0);
    // Offsets in `spans` count from the end of the name.
    let at = |i: usize| (i - name_end) as u32;
    loop {
        let mut b = *avail.get(i)?;
        if is_white(b) {
            while is_white(b) {
                i += 1;
                b = *avail.get(i)?;
            }
        } else if b != b'>' && b != b'/' {
            return None;
        }
        match b {
            b'>' => return Some((name_end - 1, false, i + 1)),
            b'/' => {
                return (*avail.get(i + 1)? == b'>').then_some((name_end - 1, true, i + 2));
            }
            _ => {}
        }
        let key_start = i;
        i += name_len(&avail[i..]);
        let key_end = i;
        if key_end == key_start {
            return None;
        }
        while i < len && is_white(avail[i]) {
            i += 1;
        }
        if *avail.get(i)? != b'=' {
            return None;
        }
        i += 1;
        while i < len && is_white(avail[i]) {
            i += 1;
        }
        let quote = *avail.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        i += 1;
        let value_start = i;
        // At a `<`, quick-xml reads the tag, and `attr_value` reports it with its position.
        let (value_end, amp) = value_end::<false>(avail, i, quote)?;
        i = value_end;
        attrs.plain &= !amp;
        attrs
            .spans
            .push([at(key_start), at(key_end), at(value_start), at(i)]);
        i += 1;
    }
}

/// `bytes` as text, checked by SIMD (most of a report is ASCII); on failure, the standard
/// library's error, which says where.
#[inline]
fn utf8(bytes: &[u8]) -> std::result::Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

/// Whether `bytes` are UTF-8, checked by SIMD.
#[inline]
fn is_utf8(bytes: &[u8]) -> bool {
    simdutf8::basic::from_utf8(bytes).is_ok()
}

/// Reads the tag `<name a="v" ...>` or `<name a="v" .../>` that `tag` starts with when it is
/// of the plainest kind: white space between the attributes, keys without a namespace prefix,
/// double-quoted values, no `&`, `<` or `>` anywhere inside, UTF-8, the whole tag in `tag`.
/// Calls `attr` with each key and value, in order, and returns the tag's length and whether
/// it is an empty element. `None` (from `attr` too) for anything else: the careful path reads
/// that tag, and reports what is wrong with it.
///
/// The tag is read in one pass ([`scan_to_gt`]), which finds its end, its quotes and anything
/// that makes it not plain; the keys between the values are then checked byte by byte (they
/// are short), the values are not read again here.
#[inline]
pub(crate) fn plain_tag(
    tag: &[u8],
    name: &[u8],
    mut attr: impl FnMut(&[u8], &str) -> Option<()>,
) -> Option<(usize, bool)> {
    if tag.first() != Some(&b'<') || !tag[1..].starts_with(name) {
        return None;
    }
    let attrs_start = 1 + name.len();
    let scan = scan_to_gt(&tag[attrs_start..])?;
    let gt = attrs_start + scan.gt;
    let empty = scan.gt > 0 && tag[gt - 1] == b'/';
    if scan.quotes.len() % 2 != 0 {
        return None;
    }
    let text = if scan.ascii {
        // SAFETY: `scan_to_gt` saw no byte of 0x80 or above before the `>`: ASCII, which is
        // UTF-8.
        unsafe { std::str::from_utf8_unchecked(&tag[..gt]) }
    } else {
        simdutf8::basic::from_utf8(&tag[..gt]).ok()?
    };
    let attrs = &text.as_bytes()[attrs_start..gt - usize::from(empty)];
    let is_white = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut from = 0;
    // The keys so far (at most 8: `Quotes` holds 16 quotes): a repeated one is left to the
    // careful path, which refuses it.
    let mut keys: [&[u8]; 8] = [&[]; 8];
    for (n, pair) in scan.quotes.as_slice().chunks_exact(2).enumerate() {
        let (open, close) = (pair[0] as usize, pair[1] as usize);
        // White space, the key, `=`, right up to the opening quote.
        let (&eq, before) = attrs[from..open].split_last()?;
        let key_start = before.iter().position(|b| !is_white(b))?;
        let key = &before[key_start..];
        if key_start == 0 || eq != b'=' || !key.iter().all(|&b| PLAIN_KEY_BYTES[usize::from(b)]) {
            return None;
        }
        if keys[..n].contains(&key) {
            return None;
        }
        keys[n] = key;
        // Every bound is at an ASCII delimiter: a character boundary.
        attr(key, text.get(attrs_start + open + 1..attrs_start + close)?)?;
        from = close + 1;
    }
    attrs[from..]
        .iter()
        .all(is_white)
        .then_some((gt + 1, empty))
}

/// What [`scan_to_gt`] found before the first `>`.
struct GtScan {
    /// Where the `>` is.
    gt: usize,
    /// Where the `"`s before it are.
    quotes: Quotes,
    /// Whether every byte before it is ASCII.
    ascii: bool,
}

/// Up to 16 positions, in a fixed array (a plain tag has a few attributes).
#[derive(Default)]
struct Quotes {
    at: [u32; 16],
    len: usize,
}

impl Quotes {
    fn as_slice(&self) -> &[u32] {
        &self.at[..self.len]
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Adds the positions `base + i` for each bit `i` of `bits`; `None` past 16.
    #[inline]
    fn add_bits(&mut self, base: u32, mut bits: u32) -> Option<()> {
        while bits != 0 {
            *self.at.get_mut(self.len)? = base + bits.trailing_zeros();
            self.len += 1;
            bits &= bits - 1;
        }
        Some(())
    }
}

/// Finds the first `>` of `bytes` (in its first 64 KiB), with the `"`s before it and whether
/// all before it is ASCII, 16 bytes at a time. `None` when there is no `>`, or a `<` or `&`
/// comes before it, or more than 16 quotes do: no plain tag.
#[inline]
fn scan_to_gt(bytes: &[u8]) -> Option<GtScan> {
    let bytes = &bytes[..bytes.len().min(1 << 16)];
    let mut quotes = Quotes::default();
    let mut high = 0u32;
    let mut base = 0;
    while base < bytes.len() {
        let rest = &bytes[base..];
        let masks = match rest.first_chunk::<16>() {
            Some(block) => block_masks(block),
            None => {
                let mut block = [0u8; 16];
                block[..rest.len()].copy_from_slice(rest);
                block_masks(&block)
            }
        };
        // The bits before the block's first `>` (all of them when it has none).
        let before = masks.gt.wrapping_sub(1) & !masks.gt;
        if masks.lt_amp & before != 0 {
            return None;
        }
        high |= masks.high & before;
        // `base` is below 2^16.
        quotes.add_bits(base as u32, masks.quote & before)?;
        if masks.gt != 0 {
            return Some(GtScan {
                gt: base + masks.gt.trailing_zeros() as usize,
                quotes,
                ascii: high == 0,
            });
        }
        base += 16;
    }
    None
}

/// Bit `i` set where byte `i` of a block is the character (zero padding matches none).
struct BlockMasks {
    gt: u32,
    quote: u32,
    lt_amp: u32,
    /// Bytes of 0x80 and above.
    high: u32,
}

/// The masks of one block, by SSE2.
#[cfg(target_arch = "x86_64")]
#[inline]
fn block_masks(block: &[u8; 16]) -> BlockMasks {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };
    let half = |i: usize| {
        i64::from_le_bytes(
            block[i..i + 8]
                .try_into()
                .expect("eight bytes of a 16-byte block"),
        )
    };
    let (low, high) = (half(0), half(8));
    // SAFETY: SSE2 is part of the x86-64 baseline, so every x86-64 processor has these
    // instructions; they only compute on values (no memory is read through a pointer).
    unsafe {
        let v = _mm_set_epi64x(high, low);
        let bits = |c: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u32;
        let lt = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'<' as i8));
        let amp = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'&' as i8));
        BlockMasks {
            gt: bits(b'>'),
            quote: bits(b'"'),
            lt_amp: _mm_movemask_epi8(_mm_or_si128(lt, amp)) as u32,
            high: _mm_movemask_epi8(v) as u32,
        }
    }
}

/// The masks of one block, a byte at a time (targets without SSE2).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_masks(block: &[u8; 16]) -> BlockMasks {
    let mut m = BlockMasks {
        gt: 0,
        quote: 0,
        lt_amp: 0,
        high: 0,
    };
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u32 << i;
        match b {
            b'>' => m.gt |= bit,
            b'"' => m.quote |= bit,
            b'<' | b'&' => m.lt_amp |= bit,
            0x80.. => m.high |= bit,
            _ => {}
        }
    }
    m
}

/// [`plain_tag`] for empty tags that are ASCII only (what coverage lines are): the keys and
/// values come as bytes, as they are found, with no UTF-8 check to pay for.
#[inline]
pub(crate) fn plain_ascii_empty_tag(
    tag: &[u8],
    name: &[u8],
    mut attr: impl FnMut(&[u8], &[u8]) -> Option<()>,
) -> Option<usize> {
    scan_plain_empty_tag(tag, name, |[key_start, key_end, value_start, value_end]| {
        attr(&tag[key_start..key_end], &tag[value_start..value_end])
    })
}

/// Walks the tag [`plain_ascii_empty_tag`] reads, calling `found` with each attribute's key
/// start, key end, value start and value end; returns the tag's length. A byte that is not
/// ASCII is `None`. (A separate function from the caller's closure: it compiles to faster code
/// for the coverage readers than the same loop written inline.)
#[inline]
fn scan_plain_empty_tag(
    tag: &[u8],
    name: &[u8],
    mut found: impl FnMut([usize; 4]) -> Option<()>,
) -> Option<usize> {
    if tag.first() != Some(&b'<') || !tag[1..].starts_with(name) {
        return None;
    }
    let mut i = 1 + name.len();
    // The keys so far: a repeated one (or a ninth) is left to the careful path, which refuses
    // a repeat.
    let mut keys: [(usize, usize); 8] = [(0, 0); 8];
    let mut n = 0;
    loop {
        let white_from = i;
        while matches!(tag.get(i)?, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        if tag[i] == b'/' {
            return (*tag.get(i + 1)? == b'>').then_some(i + 2);
        }
        if i == white_from {
            return None;
        }
        let key_start = i;
        while is_name_byte(*tag.get(i)?) && tag[i] != b':' {
            i += 1;
        }
        let key_end = i;
        if key_end == key_start || tag.get(i..i + 2)? != b"=\"" {
            return None;
        }
        let key = &tag[key_start..key_end];
        if n == keys.len() || keys[..n].iter().any(|&(a, b)| &tag[a..b] == key) {
            return None;
        }
        keys[n] = (key_start, key_end);
        n += 1;
        i += 2;
        let value_start = i;
        let (value_end, amp) = value_end::<true>(tag, i, b'"')?;
        if amp {
            return None;
        }
        i = value_end;
        found([key_start, key_end, value_start, i])?;
        i += 1;
    }
}

/// Where the attribute value that starts at `i` ends (the index of its closing `quote`), and
/// whether it holds a `&`. `None` at a `<`, at the end of `bytes`, and (with `ASCII_ONLY`) at a
/// byte that is not ASCII.
#[inline(always)]
fn value_end<const ASCII_ONLY: bool>(
    bytes: &[u8],
    mut i: usize,
    quote: u8,
) -> Option<(usize, bool)> {
    let mut amp = false;
    // Short values (counts, flags) end within a few bytes; longer ones are searched.
    let mut short = 0;
    loop {
        let b = *bytes.get(i)?;
        if b == quote {
            return Some((i, amp));
        }
        match b {
            b'<' => return None,
            b'&' => amp = true,
            0x80.. if ASCII_ONLY => return None,
            _ => {}
        }
        i += 1;
        short += 1;
        if short == 8 {
            let jump = memchr::memchr3(quote, b'<', b'&', &bytes[i..])?;
            if ASCII_ONLY && !bytes[i..i + jump].is_ascii() {
                return None;
            }
            i += jump;
            short = 0;
        }
    }
}

/// How many name bytes `bytes` starts with.
#[inline]
fn name_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| !is_name_byte(b))
        .unwrap_or(bytes.len())
}

/// An element name the fast path takes: ASCII letters, digits, `_`, `-`, `.` and `:`.
#[inline]
fn is_plain_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| is_name_byte(b))
}

/// A byte of a plain element or attribute name: ASCII letters, digits, `_`, `-`, `.`, `:`.
#[inline]
fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

/// The bytes of a key [`plain_tag`] reads: [`is_name_byte`] but `:` (no namespace prefix).
static PLAIN_KEY_BYTES: [bool; 256] = {
    let mut table = NAME_BYTES;
    table[b':' as usize] = false;
    table
};

/// [`is_name_byte`] as a table: the tag scanner asks it of every byte of every name.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':');
        b += 1;
    }
    table
};

#[inline]
fn trim_end_ascii_whitespace(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    &bytes[..end]
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
        if self.text.capacity() == 0 {
            // Most texts come in one piece: one allocation of their size, not a regrowth.
            self.text.reserve_exact(s.len().min(room));
        }
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

/// One attribute of a start tag, as [`for_each_attr`] finds it.
pub(crate) struct Attr<'s> {
    /// The name as written (`xsi:type`).
    pub(crate) key: &'s str,
    /// The value as written, between its quotes.
    pub(crate) value: &'s str,
    /// Whether the whole tag is free of `&` and `<`, so that every value is its own text.
    plain: bool,
}

impl<'s> Attr<'s> {
    /// The name without its namespace prefix (`type` for `xsi:type`).
    #[inline]
    pub(crate) fn local_name(&self) -> &'s str {
        // Keys are short: a plain loop beats a vectorized search here.
        match self.key.bytes().position(|b| b == b':') {
            Some(i) => &self.key[i + 1..],
            None => self.key,
        }
    }
}

/// An attribute's value as text, with the five predefined entities and character references
/// resolved. Any other entity is an error.
#[inline]
pub(crate) fn attr_value<'a>(
    xml: &Xml,
    start: &BytesStart<'_>,
    attr: &Attr<'a>,
) -> Result<Cow<'a, str>> {
    if attr.plain {
        return Ok(Cow::Borrowed(attr.value));
    }
    attr_value_escaped(xml, start, attr)
}

/// [`attr_value`] for a tag with `&` or `<` somewhere in it.
fn attr_value_escaped<'a>(
    xml: &Xml,
    start: &BytesStart<'_>,
    attr: &Attr<'a>,
) -> Result<Cow<'a, str>> {
    let raw: &'a str = attr.value;
    if let Some(i) = memchr::memchr(b'<', raw.as_bytes()) {
        return Err(xml.attr_error(
            start,
            attr.key.as_bytes(),
            Some(raw[i..].as_ptr()),
            ErrorKind::Syntax("'<' is not allowed in an attribute value".into()),
        ));
    }
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let attribute = quick_xml::events::attributes::Attribute {
        key: quick_xml::name::QName(attr.key),
        value: Cow::Borrowed(raw),
    };
    match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
        // `normalized_value` borrows from `attribute` only when it changes nothing.
        Ok(Cow::Borrowed(_)) => Ok(Cow::Borrowed(raw)),
        Ok(Cow::Owned(text)) => Ok(Cow::Owned(text)),
        Err(e) => {
            let kind = match &e {
                quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                    _,
                    name,
                )) => ErrorKind::UndefinedEntity(name.clone()),
                other => ErrorKind::Syntax(other.to_string()),
            };
            Err(xml.attr_error(start, attr.key.as_bytes(), Some(raw.as_ptr()), kind))
        }
    }
}

/// An attribute's value as `parse` reads it; when it cannot, an error at the value, under the
/// attribute's name: `invalid {what} "value"`.
pub(crate) fn parse_attr<T>(
    xml: &Xml,
    start: &BytesStart<'_>,
    attr: &Attr<'_>,
    what: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T> {
    let value = attr_value(xml, start, attr)?;
    parse(&value).ok_or_else(|| {
        xml.attr_error(
            start,
            attr.local_name().as_bytes(),
            Some(attr.value.as_ptr()),
            ErrorKind::Invalid(format!("invalid {what} \"{value}\"")),
        )
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
        if attr.local_name() == wanted {
            found = Some(attr_value(xml, start, attr)?.into_owned());
        }
        Ok(())
    })?;
    Ok(found)
}

/// The value of the attribute `first` of `start`, else of `second` (`<class filename name>`).
pub(crate) fn attr_or(
    xml: &Xml,
    start: &BytesStart<'_>,
    first: &str,
    second: &str,
) -> Result<Option<String>> {
    let (mut preferred, mut fallback) = (None, None);
    for_each_attr(xml, start, |attr| {
        let slot = match attr.local_name() {
            key if key == first => &mut preferred,
            key if key == second => &mut fallback,
            _ => return Ok(()),
        };
        *slot = Some(attr_value(xml, start, attr)?.into_owned());
        Ok(())
    })?;
    Ok(preferred.or(fallback))
}

/// Iterates the attributes of `start`, mapping malformed attributes to positioned errors.
///
/// A plain scanner over the tag's bytes: `name = "value"` or `name='value'`, separated by
/// white space. A name given twice is not well-formed XML: an error at the second one.
pub(crate) fn for_each_attr<'s>(
    xml: &Xml,
    start: &'s BytesStart<'s>,
    mut f: impl FnMut(&Attr<'s>) -> Result<()>,
) -> Result<()> {
    let raw: &'s str = start.attributes_raw();
    let mut seen = SeenKeys::default();
    let duplicate = |key: &str| {
        xml.attr_error(
            start,
            key.as_bytes(),
            None,
            ErrorKind::Syntax(format!("the attribute `{key}` is given twice")),
        )
    };
    if let Some(spans) = xml.attrs.for_tag(raw) {
        let plain = xml.attrs.plain;
        for &[key_start, key_end, value_start, value_end] in spans {
            let key = &raw[key_start as usize..key_end as usize];
            if !seen.insert(key) {
                return Err(duplicate(key));
            }
            let value = &raw[value_start as usize..value_end as usize];
            f(&Attr { key, value, plain })?;
        }
        return Ok(());
    }
    let bytes = raw.as_bytes();
    let plain = memchr::memchr2(b'&', b'<', bytes).is_none();
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
        // Values are short: a plain loop beats a vectorized search here.
        let Some(close) = bytes[i + 1..].iter().position(|&b| b == quote) else {
            return Err(malformed(i, &format!("the value of `{key}` is not closed")));
        };
        let value = &raw[i + 1..i + 1 + close];
        i += close + 2;
        if !seen.insert(key) {
            return Err(duplicate(key));
        }
        f(&Attr { key, value, plain })?;
    }
}

/// The attribute names of one tag so far: a short list (tags have a few attributes), a set
/// past 16 of them.
#[derive(Default)]
struct SeenKeys<'s> {
    few: Vec<&'s str>,
    many: Option<std::collections::HashSet<&'s str>>,
}

impl<'s> SeenKeys<'s> {
    /// Whether `key` is new.
    fn insert(&mut self, key: &'s str) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > 16 {
            self.many = Some(self.few.drain(..).collect());
        }
        true
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
    /// How many lines the last fragment had: the next one's list starts with room for as
    /// many (files of a report are alike), which spares most of its regrowth.
    pub(crate) lines_hint: usize,
}

/// The most lines a fragment's list is given room for before it has any.
pub(crate) const MAX_LINES_HINT: usize = 1 << 16;

impl XmlCoverage {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> Self {
        XmlCoverage {
            xml: Xml::new(source, format, options.limits),
            buf: Vec::with_capacity(4096),
            declared: DeclaredTotals::default(),
            warnings: Warnings::new(options.strict),
            done: false,
            started: false,
            lines_hint: 0,
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

/// What an XML coverage reader makes of a start tag in the outline of its document (below the
/// root, outside the fragments).
pub(crate) enum Outline {
    /// A container (`<packages>`, `<package>`): its children are read next.
    Enter,
    /// Passed over, with everything in it.
    Skip,
    /// A fragment's element (`<class>`, `<file>`, `<sourcefile>`) and the path (or name) of
    /// its file: [`XmlFragments::read_fragment`] reads the rest of it.
    Fragment(String),
}

/// An XML coverage reader: yields one file fragment per call. The walk through the document's
/// outline is shared ([`XmlFragments::step`]); a reader says what its elements are.
pub(crate) trait XmlFragments {
    /// The root element's name.
    const ROOT: &'static str;

    /// The shared state.
    fn base(&mut self) -> &mut XmlCoverage;

    /// Reads what the root's start tag declares.
    fn root(&mut self, _start: &BytesStart<'_>) -> Result<()> {
        Ok(())
    }

    /// What the start tag `name` below the root is, reading what it declares on the way.
    fn outline(&mut self, name: &str, start: &BytesStart<'_>, empty: bool) -> Result<Outline>;

    /// Reads the fragment whose start tag was [`Outline::Fragment`] with `path`.
    fn read_fragment(
        &mut self,
        path: String,
        empty: bool,
        buf: &mut Vec<u8>,
    ) -> Result<FileCoverage>;

    /// At the end of the document: a last fragment, when the reader makes one of what it
    /// declared.
    fn at_end(&mut self) -> Option<FileCoverage> {
        None
    }

    /// Reads events until a fragment is complete (or the document ends).
    fn step(&mut self, buf: &mut Vec<u8>) -> Result<Option<FileCoverage>> {
        while !self.base().done {
            match self.base().xml.read(buf)? {
                Ev::Start(start, empty) => {
                    let name = start.local_name();
                    let name: &str = name.as_ref();
                    if self.base().check_root(name, Self::ROOT)? {
                        self.root(&start)?;
                        continue;
                    }
                    match self.outline(name, &start, empty)? {
                        Outline::Enter => {}
                        Outline::Skip => {
                            drop(start);
                            self.base().xml.skip(buf, empty)?;
                        }
                        Outline::Fragment(path) => {
                            drop(start);
                            return self.read_fragment(path, empty, buf).map(Some);
                        }
                    }
                }
                Ev::Eof => {
                    self.base().done = true;
                    return Ok(self.at_end());
                }
                _ => {}
            }
        }
        Ok(None)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`scan_to_gt`] should find, byte by byte.
    fn scan_by_bytes(bytes: &[u8]) -> Option<(usize, Vec<u32>, bool)> {
        let gt = bytes.iter().position(|&b| b == b'>')?;
        let before = &bytes[..gt];
        if before.iter().any(|&b| b == b'<' || b == b'&') {
            return None;
        }
        let quotes: Vec<u32> = (0..gt)
            .filter(|&i| before[i] == b'"')
            .map(|i| i as u32)
            .collect();
        (quotes.len() <= 16).then_some((gt, quotes, before.is_ascii()))
    }

    #[test]
    fn the_block_scan_finds_what_a_byte_walk_finds() {
        // Every length up to 70 (block ends and tails), each special byte at every position,
        // alone and with a `>` at every later position.
        let specials = [b'"', b'<', b'&', 0xC3, b'>'];
        let mut checked = 0;
        for len in 1..70 {
            for &special in &specials {
                for at in 0..len {
                    for gt in (at..len).map(Some).chain([None]) {
                        let mut bytes = vec![b'a'; len];
                        bytes[at] = special;
                        if let Some(gt) = gt.filter(|&g| g != at) {
                            bytes[gt] = b'>';
                        }
                        let found = scan_to_gt(&bytes)
                            .map(|s| (s.gt, s.quotes.as_slice().to_vec(), s.ascii));
                        assert_eq!(
                            found,
                            scan_by_bytes(&bytes),
                            "{:?}",
                            String::from_utf8_lossy(&bytes)
                        );
                        checked += 1;
                    }
                }
            }
        }
        // Many quotes: 16 are kept, a 17th makes it no plain tag.
        for n in 15..18 {
            let mut bytes = b"\"".repeat(n);
            bytes.push(b'>');
            let found = scan_to_gt(&bytes).map(|s| s.quotes.len());
            assert_eq!(found, (n <= 16).then_some(n), "{n} quotes");
        }
        assert!(checked > 10_000);
        // A tag is looked for in the first 64 KiB only.
        let mut long = vec![b'a'; 1 << 16];
        long.push(b'>');
        assert!(scan_to_gt(&long).is_none());
        long.drain(..2);
        assert_eq!(scan_to_gt(&long).map(|s| s.gt), Some((1 << 16) - 2));
    }

    /// Keys and values, in order.
    type Attrs = Vec<(String, String)>;

    /// The length, emptiness and attributes [`plain_tag`] reads from `tag`.
    fn plain(tag: &str) -> Option<(usize, bool, Attrs)> {
        let mut seen = Vec::new();
        let (used, empty) = plain_tag(tag.as_bytes(), b"testcase", |k, v| {
            seen.push((String::from_utf8(k.to_vec()).unwrap(), v.to_owned()));
            Some(())
        })?;
        Some((used, empty, seen))
    }

    #[test]
    fn a_plain_tag_gives_its_attributes_length_and_emptiness() {
        let tag = "<testcase name=\"shouldCreateInvoiceWhenCustomerExists_0\" classname=\"com.example.billing.InvoiceServiceTest\" time=\"0.137\"/>\n    <testcase";
        let (used, empty, attrs) = plain(tag).expect("a plain tag");
        assert_eq!(&tag[..used], &tag[..tag.find('\n').unwrap()]);
        assert!(empty);
        let keys: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["name", "classname", "time"]);
        assert_eq!(attrs[0].1, "shouldCreateInvoiceWhenCustomerExists_0");
        assert_eq!(attrs[2].1, "0.137");
        // A start tag: the same attributes, not empty, up to its `>`.
        let start = tag.replacen("\"/>", "\">", 1);
        let (used, empty, open_attrs) = plain(&start).expect("a plain start tag");
        assert_eq!((&start[used - 2..used], empty), ("\">", false));
        assert_eq!(open_attrs, attrs);
        // White space of every kind, before `/>` and `>` too; no attributes at all; non-ASCII.
        let white = "<testcase\tname=\"a\"\r\n time=\"1\" />";
        assert_eq!(plain(white).map(|p| (p.1, p.2.len())), Some((true, 2)));
        assert_eq!(
            plain("<testcase name=\"a\" >").map(|p| (p.0, p.1)),
            Some((20, false))
        );
        assert_eq!(plain("<testcase/>"), Some((11, true, Vec::new())));
        assert_eq!(plain("<testcase>"), Some((10, false, Vec::new())));
        let accents = plain("<testcase name=\"préféré ✓\"/>").map(|p| p.2[0].1.clone());
        assert_eq!(accents, Some("préféré ✓".to_owned()));
    }

    #[test]
    fn anything_but_the_plainest_tag_is_left_to_the_careful_path() {
        for tag in [
            "<testcase name='a'/>",             // single quotes
            "<testcase x:name=\"a\"/>",         // a prefix
            "<testcase name=\"a\"time=\"1\"/>", // no space between attributes
            "<testcase name = \"a\"/>",         // space around `=`
            "<testcase name=\"a > b\"/>",       // `>` in a value
            "<testcase name=\"a &amp; b\"/>",   // a reference
            "<testcase name=\"a\" b/>",         // a key without a value
            "<testcase name=\"a\" b>",          // the same in a start tag
            "<testcase name=\"a/>",             // an open quote
            "<testcase =\"a\"/>",               // no key
            "<testcases name=\"a\"/>",          // another element
            "<testcase name=\"a\"/",            // cut short
            "<testcase name=\"a\"/ >",          // a `/` that does not end it
        ] {
            assert_eq!(plain(tag), None, "{tag}");
        }
        // Invalid UTF-8 in a value.
        let bytes = b"<testcase name=\"\xff\"/>";
        assert_eq!(plain_tag(bytes, b"testcase", |_, _| Some(())), None);
        // Nine attributes (18 quotes): more than the scan keeps.
        let nine: String = (0..9).map(|i| format!(" a{i}=\"{i}\"")).collect();
        assert_eq!(plain(&format!("<testcase{nine}/>")), None);
        let eight: String = (0..8).map(|i| format!(" a{i}=\"{i}\"")).collect();
        assert_eq!(
            plain(&format!("<testcase{eight}/>")).map(|p| p.2.len()),
            Some(8)
        );
    }
}
