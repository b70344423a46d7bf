//! A pull parser for JSON over a [`Source`]: one event at a time, in memory that grows only
//! with the nesting depth (bounded by `max_depth`) and the largest single string or number
//! kept (bounded by `max_token_bytes`), never with the document.
//!
//! Events carry no data of their own: the text of the last key, string or number read is in
//! [`Json::text`]. A value the caller does not need is passed over with [`Json::skip`] or
//! [`Json::skip_rest`], whose strings and numbers are checked but not kept.

mod tape;

use std::io::BufRead;

pub(crate) use tape::{Item, Kind, Tape, Wanted};
use tape::{ScanLimits, Skim};

use crate::error::{Error, ErrorKind, Position, Result};
use crate::input::{Limits, Source};
use crate::model::Format;

/// One step through the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    /// `{`
    BeginObject,
    /// `[`
    BeginArray,
    /// `}` or `]`
    End,
    /// A member's name (in [`Json::text`]); its value comes next.
    Key,
    /// A string value (in [`Json::text`] when kept).
    Str,
    /// A number (its text in [`Json::text`] when kept).
    Num,
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// The end of the input, after the one top-level value.
    Eof,
}

/// What may come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value (the top-level one, a member's, or an array element after a comma).
    Value,
    /// Just after `{`: a key or `}`.
    FirstKeyOrEnd,
    /// After a comma in an object: a key.
    Key,
    /// Just after `[`: a value or `]`.
    FirstValueOrEnd,
    /// After a value inside a container: `,` or the container's end.
    CommaOrEnd,
    /// After the top-level value: only white space.
    Done,
}

/// Where a number is in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Start,
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

impl Num {
    /// The state after `b`, or `None` when `b` is not part of the number.
    #[inline]
    fn step(self, b: u8) -> Option<Num> {
        let digit = b.is_ascii_digit();
        Some(match (self, b) {
            (Num::Start, b'-') => Num::Minus,
            (Num::Start | Num::Minus, b'0') => Num::Zero,
            (Num::Start | Num::Minus | Num::Int, _) if digit => Num::Int,
            (Num::Zero | Num::Int, b'.') => Num::Dot,
            (Num::Dot | Num::Frac, _) if digit => Num::Frac,
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::E,
            (Num::E, b'+' | b'-') => Num::ESign,
            (Num::E | Num::ESign | Num::Exp, _) if digit => Num::Exp,
            _ => return None,
        })
    }

    fn complete(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::Exp)
    }
}

/// The longest string or number a JSON report may hold (or `max_token_bytes`, if smaller).
pub(crate) const MAX_JSON_TOKEN: usize = 16 << 20;

pub(crate) struct Json {
    source: Source,
    format: Format,
    /// The open containers, innermost last: `true` for an object.
    stack: Vec<bool>,
    state: State,
    /// The last key, string or number kept.
    text: Vec<u8>,
    max_depth: usize,
    max_token: usize,
    /// The bytes of a UTF-8 sequence that a buffer refill split, checked once it is whole.
    carry: [u8; 4],
    carry_len: usize,
    /// Values are not skimmed while more containers than this are open: one inside them was
    /// refused by a skim, and what is inside would be too.
    no_skim_below: usize,
}

impl Json {
    pub(crate) fn new(source: Source, format: Format, limits: Limits) -> Json {
        Json {
            source,
            format,
            stack: Vec::new(),
            state: State::Value,
            text: Vec::new(),
            max_depth: limits.max_depth,
            // No report has a string of more than 16 MiB; one is refused, read or skipped.
            max_token: usize::try_from(limits.max_token_bytes)
                .unwrap_or(usize::MAX)
                .min(MAX_JSON_TOKEN),
            carry: [0; 4],
            carry_len: 0,
            no_skim_below: usize::MAX,
        }
    }

    /// The text of the last key, string or number read with `keep`.
    pub(crate) fn text(&self) -> &str {
        // Checked as UTF-8 while it was read.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn text_capacity(&self) -> usize {
        self.text.capacity()
    }

    /// Where the last token read starts.
    pub(crate) fn token_position(&self) -> Position {
        self.source.mark_position()
    }

    /// An error at the start of the last token read (the value an `Invalid` is about).
    pub(crate) fn error_at_token(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.source.mark_position()).with_format(self.format)
    }

    /// An error at the next byte not read yet.
    fn error_here(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.source.current_position()).with_format(self.format)
    }

    fn syntax(&self, message: String) -> Error {
        self.error_here(ErrorKind::Syntax(message))
    }

    fn truncated(&self) -> Error {
        let inside = match self.stack.last() {
            Some(true) => "inside an object",
            Some(false) => "inside an array",
            None => "before any value",
        };
        self.error_here(ErrorKind::Truncated(format!(
            "the JSON document ends {inside} ({} still open)",
            self.stack.len()
        )))
    }

    /// Fills the buffer; `false` at the end of input.
    #[inline]
    fn fill(&mut self) -> Result<bool> {
        match self.source.fill_buf() {
            Ok(b) => Ok(!b.is_empty()),
            Err(e) => Err(self.source.error_from_io(&e).with_format(self.format)),
        }
    }

    /// Passes over white space; `false` at the end of input.
    fn skip_ws(&mut self) -> Result<bool> {
        self.skip_ws_marking(true)
    }

    /// Passes over white space; `mark`: move the token mark past it (white space is no
    /// token), or keep it where it is (at a key, for errors about the key).
    fn skip_ws_marking(&mut self, mark: bool) -> Result<bool> {
        loop {
            // White space is no token: it does not count toward the token-size limit.
            if mark {
                self.source.mark();
            }
            if !self.fill()? {
                return Ok(false);
            }
            let buf = self.source.buffered();
            let n = buf.iter().position(|&b| !is_ws(b)).unwrap_or(buf.len());
            let all = n == buf.len();
            self.source.consume(n);
            if !all {
                return Ok(true);
            }
        }
    }

    fn describe(b: u8) -> String {
        if b.is_ascii_graphic() {
            format!("'{}'", b as char)
        } else {
            format!("byte 0x{b:02x}")
        }
    }

    /// The next event; `keep`: keep the text of a key, string or number in [`Json::text`].
    pub(crate) fn next(&mut self, keep: bool) -> Result<Ev> {
        loop {
            if !self.skip_ws()? {
                if self.state == State::Done {
                    return Ok(Ev::Eof);
                }
                return Err(self.truncated());
            }
            self.source.mark();
            let b = self.source.buffered()[0];
            match self.state {
                State::Done => {
                    return Err(self.syntax(format!(
                        "{} after the end of the JSON document",
                        Self::describe(b)
                    )));
                }
                State::CommaOrEnd => {
                    let object = self.stack.last().copied().unwrap_or(false);
                    match b {
                        b',' => {
                            self.source.consume(1);
                            self.state = if object { State::Key } else { State::Value };
                        }
                        b'}' if object => return Ok(self.close()),
                        b']' if !object => return Ok(self.close()),
                        _ => {
                            let end = if object { "'}'" } else { "']'" };
                            return Err(self.syntax(format!(
                                "expected ',' or {end}, found {}",
                                Self::describe(b)
                            )));
                        }
                    }
                }
                State::FirstKeyOrEnd | State::Key => {
                    if b == b'}' && self.state == State::FirstKeyOrEnd {
                        return Ok(self.close());
                    }
                    if b != b'"' {
                        return Err(self.syntax(format!(
                            "expected a member name in double quotes, found {}",
                            Self::describe(b)
                        )));
                    }
                    self.string(keep)?;
                    // The mark stays at the key: an error about the key (given twice) is there.
                    if !self.skip_ws_marking(false)? {
                        return Err(self.truncated());
                    }
                    let colon = self.source.buffered()[0];
                    if colon != b':' {
                        return Err(self.syntax(format!(
                            "expected ':' after a member name, found {}",
                            Self::describe(colon)
                        )));
                    }
                    self.source.consume(1);
                    self.state = State::Value;
                    return Ok(Ev::Key);
                }
                State::FirstValueOrEnd if b == b']' => return Ok(self.close()),
                State::FirstValueOrEnd | State::Value => return self.value(b, keep),
            }
        }
    }

    /// Closes the innermost container at its `}` or `]`.
    fn close(&mut self) -> Ev {
        self.source.consume(1);
        self.stack.pop();
        self.after_value();
        Ev::End
    }

    fn after_value(&mut self) {
        self.state = if self.stack.is_empty() {
            State::Done
        } else {
            State::CommaOrEnd
        };
    }

    fn value(&mut self, b: u8, keep: bool) -> Result<Ev> {
        match b {
            b'{' | b'[' => {
                if self.stack.len() >= self.max_depth {
                    let limit = self.max_depth;
                    return Err(self.error_at_token(ErrorKind::Limit(format!(
                        "JSON nested deeper than {limit} levels (max_depth)"
                    ))));
                }
                self.source.consume(1);
                let object = b == b'{';
                self.stack.push(object);
                self.state = if object {
                    State::FirstKeyOrEnd
                } else {
                    State::FirstValueOrEnd
                };
                return Ok(if object {
                    Ev::BeginObject
                } else {
                    Ev::BeginArray
                });
            }
            _ => {}
        }
        let ev = match b {
            b'"' => {
                self.string(keep)?;
                Ev::Str
            }
            b'-' | b'0'..=b'9' => {
                self.number(keep)?;
                Ev::Num
            }
            b't' => {
                self.literal(b"true")?;
                Ev::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Ev::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Ev::Null
            }
            _ => {
                return Err(self.syntax(format!(
                    "expected a JSON value, found {}",
                    Self::describe(b)
                )));
            }
        };
        self.after_value();
        Ok(ev)
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        let mut at = 0;
        while at < word.len() {
            if !self.fill()? {
                return Err(self.truncated());
            }
            let buf = self.source.buffered();
            let n = (word.len() - at).min(buf.len());
            for (i, &b) in buf[..n].iter().enumerate() {
                if b != word[at + i] {
                    self.source.consume(i);
                    return Err(self.syntax(format!(
                        "expected a JSON value, found {}",
                        Self::describe(b)
                    )));
                }
            }
            self.source.consume(n);
            at += n;
        }
        Ok(())
    }

    fn number(&mut self, keep: bool) -> Result<()> {
        self.text.clear();
        let mut state = Num::Start;
        loop {
            if !self.fill()? {
                break;
            }
            let buf = self.source.buffered();
            let mut n = 0;
            let mut stopped = false;
            for &b in buf {
                match state.step(b) {
                    Some(s) => {
                        state = s;
                        n += 1;
                    }
                    None => {
                        stopped = true;
                        break;
                    }
                }
            }
            if keep {
                self.text.extend_from_slice(&buf[..n]);
            }
            self.source.consume(n);
            if keep && self.text.len() > self.max_token {
                return Err(self.token_limit());
            }
            if stopped {
                break;
            }
        }
        if state.complete() {
            return Ok(());
        }
        if !self.fill()? {
            return Err(self.truncated());
        }
        let b = self.source.buffered()[0];
        Err(self.syntax(format!(
            "malformed number: {} where a digit belongs",
            Self::describe(b)
        )))
    }

    fn token_limit(&self) -> Error {
        let limit = self.max_token;
        self.error_at_token(ErrorKind::Limit(format!(
            "a single string or number is longer than {limit} bytes (max_token_bytes, at most 16 MiB in JSON)"
        )))
    }

    /// Reads a string from its opening quote, keeping its decoded text when `keep`.
    fn string(&mut self, keep: bool) -> Result<()> {
        self.text.clear();
        self.carry_len = 0;
        self.source.consume(1); // the opening quote
        let mut length = 0usize;
        loop {
            if !self.fill()? {
                return Err(self.error_here(ErrorKind::Truncated(
                    "the JSON document ends inside a string".into(),
                )));
            }
            let buf = self.source.buffered();
            // The quote or backslash with a vectorised search, then a control character
            // before it (a loop the compiler vectorises too).
            let end = memchr::memchr2(b'"', b'\\', buf).unwrap_or(buf.len());
            let n = buf[..end].iter().position(|&b| b < 0x20).unwrap_or(end);
            let stop = buf.get(n).copied();
            if n > 0 {
                self.check_utf8(n, stop.is_some())?;
                length += n;
                if length > self.max_token {
                    return Err(self.token_limit());
                }
                if keep {
                    self.text.extend_from_slice(&self.source.buffered()[..n]);
                }
                self.source.consume(n);
            } else if stop.is_some() && self.carry_len > 0 {
                return Err(self.utf8_error(self.source.offset()));
            }
            match stop {
                None => {}
                Some(b'"') => {
                    self.source.consume(1);
                    return Ok(());
                }
                Some(b'\\') => {
                    self.source.consume(1);
                    self.escape(keep)?;
                    // An escape stands for at most 4 bytes of text.
                    length += 4;
                    if length > self.max_token {
                        return Err(self.token_limit());
                    }
                }
                Some(b) => {
                    return Err(self.syntax(format!(
                        "control character 0x{b:02x} inside a string (it must be escaped)"
                    )));
                }
            }
        }
    }

    /// Checks the first `n` buffered bytes (a run of string content) as UTF-8, completing a
    /// sequence split by the last refill. `ends`: the run ends at a quote or backslash, so
    /// no sequence may be left open.
    fn check_utf8(&mut self, n: usize, ends: bool) -> Result<()> {
        let start = self.source.offset();
        let mut run = &self.source.buffered()[..n];
        let mut run_start = start;
        if self.carry_len > 0 {
            let want = utf8_len(self.carry[0]);
            let take = (want - self.carry_len).min(run.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&run[..take]);
            self.carry_len += take;
            if self.carry_len < want {
                if ends {
                    return Err(self.utf8_error(start + take as u64));
                }
                return Ok(());
            }
            if std::str::from_utf8(&self.carry[..want]).is_err() {
                return Err(self.utf8_error(start));
            }
            self.carry_len = 0;
            run = &run[take..];
            run_start += take as u64;
        }
        if run.is_ascii() {
            return Ok(());
        }
        if let Err(e) = simdutf8::compat::from_utf8(run) {
            let valid = e.valid_up_to();
            if e.error_len().is_none() && !ends {
                let tail = &run[valid..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carry_len = tail.len();
            } else {
                return Err(self.utf8_error(run_start + valid as u64));
            }
        }
        Ok(())
    }

    fn utf8_error(&self, offset: u64) -> Error {
        let position = self.source.position_of(offset, None);
        Error::new(
            ErrorKind::Encoding("invalid UTF-8 byte sequence".into()),
            position,
        )
        .with_format(self.format)
    }

    fn next_byte(&mut self) -> Result<u8> {
        if !self.fill()? {
            return Err(self.error_here(ErrorKind::Truncated(
                "the JSON document ends inside a string".into(),
            )));
        }
        let b = self.source.buffered()[0];
        self.source.consume(1);
        Ok(b)
    }

    /// An escape, after its backslash.
    fn escape(&mut self, keep: bool) -> Result<()> {
        // Only the offset: a position (its line and column) is counted for an error alone,
        // not for each of a string's escapes.
        let at = self.source.offset();
        let b = self.next_byte()?;
        self.escaped(b, at, keep)
    }

    /// The escape `\b` (its backslash and `b` read; `at`: the offset of `b`).
    fn escaped(&mut self, b: u8, at: u64, keep: bool) -> Result<()> {
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                if !(0xD800..=0xDBFF).contains(&unit) {
                    // A lone low surrogate (a file name that was not UTF-8, as Python escapes
                    // it) stands as U+FFFD, as JavaScript would show it.
                    char::from_u32(unit).unwrap_or('\u{FFFD}')
                } else {
                    // A high surrogate: its low one should follow as `\uXXXX`.
                    if !self.fill()? || self.source.buffered()[0] != b'\\' {
                        '\u{FFFD}'
                    } else {
                        self.source.consume(1);
                        let at = self.source.offset();
                        let next = self.next_byte()?;
                        if next != b'u' {
                            self.push_char(keep, '\u{FFFD}');
                            return self.escaped(next, at, keep);
                        }
                        let low = self.hex4()?;
                        if (0xDC00..=0xDFFF).contains(&low) {
                            let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                            char::from_u32(code).unwrap_or('\u{FFFD}')
                        } else {
                            self.push_char(keep, '\u{FFFD}');
                            char::from_u32(low).unwrap_or('\u{FFFD}')
                        }
                    }
                }
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::Syntax(format!(
                        "invalid escape: {} after a backslash",
                        Self::describe(b)
                    )),
                    self.source.position_of(at, None),
                )
                .with_format(self.format));
            }
        };
        self.push_char(keep, c);
        if keep && self.text.len() > self.max_token {
            return Err(self.token_limit());
        }
        Ok(())
    }

    fn push_char(&mut self, keep: bool, c: char) {
        if keep {
            let mut b = [0; 4];
            self.text
                .extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let at = self.source.offset();
            let b = self.next_byte()?;
            let d = (b as char).to_digit(16).ok_or_else(|| {
                Error::new(
                    ErrorKind::Syntax(format!(
                        "invalid \\u escape: {} is not a hex digit",
                        Self::describe(b)
                    )),
                    self.source.position_of(at, None),
                )
                .with_format(self.format)
            })?;
            v = v * 16 + d;
        }
        Ok(v)
    }

    /// Passes over the value that `ev` (just read) starts: all of it for `{` or `[`, nothing
    /// more for a scalar.
    pub(crate) fn skip(&mut self, ev: Ev) -> Result<()> {
        if matches!(ev, Ev::BeginObject | Ev::BeginArray) {
            self.skip_rest()?;
        }
        Ok(())
    }

    /// Passes over the rest of the innermost open container, its end included: each value
    /// that lies whole in the buffer at once ([`Tape::skim`]), the others event by event.
    pub(crate) fn skip_rest(&mut self) -> Result<()> {
        let depth = self.stack.len();
        while self.stack.len() >= depth {
            if self.stack.len() <= self.no_skim_below {
                self.no_skim_below = usize::MAX;
            }
            if !self.skim_value()? {
                self.next(false)?;
            }
        }
        Ok(())
    }

    /// What a scan of the next value may do: the containers still allowed, the longest token.
    fn scan_limits(&self) -> ScanLimits {
        ScanLimits {
            depth: self.max_depth.saturating_sub(self.stack.len()),
            token: self.max_token,
        }
    }

    /// Steps to the start of the next value inside the innermost container (over a comma
    /// between array elements, and white space): `false` at the container's end, or where
    /// [`Json::next`] has something else to read or report.
    fn at_value(&mut self) -> Result<bool> {
        // Most values follow their comma or colon directly, in the buffer.
        let b = match self.source.buffered().first() {
            Some(&b) if !is_ws(b) => b,
            _ => {
                if !self.skip_ws()? {
                    return Ok(false);
                }
                self.source.buffered()[0]
            }
        };
        match self.state {
            State::Value => Ok(true),
            State::FirstValueOrEnd => Ok(b != b']'),
            State::CommaOrEnd if b == b',' && self.stack.last() == Some(&false) => {
                self.source.consume(1);
                self.state = State::Value;
                match self.source.buffered().first() {
                    Some(&b) if !is_ws(b) => Ok(true),
                    _ => self.skip_ws(),
                }
            }
            _ => Ok(false),
        }
    }

    /// Passes over the next value at once when the buffer holds all of it; `false` leaves it
    /// to [`Json::next`].
    fn skim_value(&mut self) -> Result<bool> {
        if self.stack.len() > self.no_skim_below || !self.at_value()? {
            return Ok(false);
        }
        self.source.mark();
        match Tape::skim(self.source.buffered(), self.scan_limits()) {
            Ok(n) => {
                self.source.consume(n);
                self.after_value();
                Ok(true)
            }
            Err(Skim::Exhausted) => Ok(false),
            Err(Skim::Refused) => {
                self.no_skim_below = self.stack.len();
                Ok(false)
            }
        }
    }

    /// In an array (after its `[` or an element): the next element, read whole onto `tape`
    /// (`true`; of an object, the members `wanted` accepts, or all), or the array's end
    /// (`false`). An element that lies whole in the buffer is
    /// scanned at once; any other is read event by event, and errors name their place.
    ///
    /// # Errors
    /// Malformed JSON, a key given twice in one object, or more than [`MAX_VALUE_BYTES`].
    pub(crate) fn next_element(
        &mut self,
        tape: &mut Tape,
        wanted: Option<Wanted<'_>>,
    ) -> Result<bool> {
        if self.at_value()? {
            self.source.mark();
            let window = self.source.buffered();
            let window = &window[..window.len().min(MAX_VALUE_BYTES)];
            if let Some(n) = tape.read(window, self.scan_limits(), wanted) {
                self.source.consume(n);
                self.after_value();
                return Ok(true);
            }
        }
        match self.next(true)? {
            Ev::End => Ok(false),
            ev => {
                let value = self.read_value(ev)?;
                tape.load(&value);
                Ok(true)
            }
        }
    }

    /// The position of the next byte not read yet.
    #[cfg(test)]
    pub(crate) fn position(&self) -> Position {
        self.source.current_position()
    }
}

/// JSON's white space.
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The text of a string's content `raw` (between its quotes, its escapes checked): decoded by
/// the tokenizer, so a tape's strings read as the event parser reads them (a lone surrogate as
/// U+FFFD).
pub(crate) fn decode_string(raw: &str) -> String {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw.as_bytes());
    quoted.push(b'"');
    let limits = Limits::default();
    let decoded = Source::open(std::io::Cursor::new(quoted), limits).and_then(|source| {
        let mut json = Json::new(source, Format::Sarif, limits);
        json.next(true).map(|_| json.text().to_owned())
    });
    // The scan checked the escapes: the tokenizer reads them.
    decoded.unwrap_or_else(|_| raw.to_owned())
}

/// A small JSON value, read whole: one item of a streamed document (a SARIF result, an ESLint
/// file entry), never the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// A number, as written.
    Num(String),
    Str(String),
    Arr(Vec<Value>),
    /// Members in document order (a key given twice is an error).
    Obj(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at `path` (member names; a number picks an array element).
    pub(crate) fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, key| match v {
            Value::Arr(items) => items.get(key.parse::<usize>().ok()?),
            _ => v.get(key),
        })
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        self.as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v as u64)
    }

    pub(crate) fn as_array(&self) -> &[Value] {
        match self {
            Value::Arr(items) => items,
            _ => &[],
        }
    }

    /// A string, or a number's text (ids some tools write as numbers).
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Value::Str(s) | Value::Num(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// The most text one [`Json::read_value`] may hold (keys, strings and numbers together): an item of
/// a report is small; a larger one is a limit error, not memory a client can grow.
pub(crate) const MAX_VALUE_BYTES: usize = 16 << 20;

impl Json {
    /// Reads the value `first` (just read) starts, whole.
    ///
    /// # Errors
    /// Malformed JSON, a key given twice in one object, or more than [`MAX_VALUE_BYTES`].
    pub(crate) fn read_value(&mut self, first: Ev) -> Result<Value> {
        let mut budget = MAX_VALUE_BYTES;
        self.value_within(first, &mut budget)
    }

    fn value_within(&mut self, first: Ev, budget: &mut usize) -> Result<Value> {
        let charge = |json: &Json, budget: &mut usize| -> Result<String> {
            let text = json.text().to_owned();
            *budget = budget.checked_sub(text.len() + 16).ok_or_else(|| {
                json.error_at_token(ErrorKind::Limit(format!(
                    "one item of the report holds more than {MAX_VALUE_BYTES} bytes"
                )))
            })?;
            Ok(text)
        };
        Ok(match first {
            Ev::Null => Value::Null,
            Ev::Bool(b) => Value::Bool(b),
            Ev::Num => Value::Num(charge(self, budget)?),
            Ev::Str => Value::Str(charge(self, budget)?),
            Ev::BeginArray => {
                let mut items = Vec::new();
                loop {
                    match self.next(true)? {
                        Ev::End => break,
                        ev => items.push(self.value_within(ev, budget)?),
                    }
                }
                Value::Arr(items)
            }
            Ev::BeginObject => {
                let mut members: Vec<(String, Value)> = Vec::new();
                // The keys of a large object, hashed: the repeat check does not grow with the
                // square of their number.
                let mut keys: std::collections::HashSet<String, foldhash::fast::RandomState> =
                    Default::default();
                loop {
                    match self.next(true)? {
                        Ev::End => break,
                        Ev::Key => {
                            let key = charge(self, budget)?;
                            if members.len() == 16 {
                                keys.extend(members.iter().map(|(k, _)| k.clone()));
                            }
                            let repeated = if members.len() < 16 {
                                members.iter().any(|(k, _)| *k == key)
                            } else {
                                !keys.insert(key.clone())
                            };
                            if repeated {
                                return Err(self.error_at_token(ErrorKind::Syntax(format!(
                                    "the key \"{key}\" is given twice in one object"
                                ))));
                            }
                            let ev = self.next(true)?;
                            let value = self.value_within(ev, budget)?;
                            members.push((key, value));
                        }
                        other => {
                            return Err(self.error_at_token(ErrorKind::Syntax(format!(
                                "expected a key, found {other:?}"
                            ))));
                        }
                    }
                }
                Value::Obj(members)
            }
            Ev::End | Ev::Key | Ev::Eof => {
                return Err(self.error_at_token(ErrorKind::Syntax("expected a value".into())));
            }
        })
    }
}

/// The length of the UTF-8 sequence that `lead` starts (1 for a byte that starts none, which
/// then fails the check).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// A reader that hands out at most `step` bytes per read: every buffer boundary falls
    /// somewhere inside tokens.
    pub(crate) struct Trickle {
        pub(crate) data: Vec<u8>,
        pub(crate) at: usize,
        pub(crate) step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn json_over(text: &[u8], step: usize, limits: Limits) -> Json {
        let read = Trickle {
            data: text.to_vec(),
            at: 0,
            step,
        };
        let source = Source::open(read, limits).unwrap();
        Json::new(source, Format::IstanbulJson, limits)
    }

    /// Every event of `text`, as short strings.
    fn events(text: &str, step: usize) -> Result<Vec<String>> {
        let mut json = json_over(text.as_bytes(), step, Limits::default());
        let mut out = Vec::new();
        loop {
            let ev = json.next(true)?;
            out.push(match ev {
                Ev::BeginObject => "{".to_string(),
                Ev::BeginArray => "[".to_string(),
                Ev::End => "end".to_string(),
                Ev::Key => format!("k:{}", json.text()),
                Ev::Str => format!("s:{}", json.text()),
                Ev::Num => format!("n:{}", json.text()),
                Ev::Bool(b) => format!("b:{b}"),
                Ev::Null => "null".to_string(),
                Ev::Eof => return Ok(out),
            });
        }
    }

    fn events_all_ways(text: &str) -> Result<Vec<String>> {
        let whole = events(text, usize::MAX);
        for step in [1, 2, 3, 7] {
            assert_eq!(events(text, step), whole, "read {step} bytes at a time");
        }
        whole
    }

    #[test]
    fn reads_every_kind_of_value_wherever_the_buffer_splits_it() {
        let text = " {\"a\": [1, -2.5e+3, 0, 0.25, true, false, null, \"x\"], \"b\": {}, \"c\": [], \"d\": {\"e\": [[]]}}\n";
        let ev = events_all_ways(text).unwrap();
        assert_eq!(
            ev.join(" "),
            "{ k:a [ n:1 n:-2.5e+3 n:0 n:0.25 b:true b:false null s:x end k:b { end k:c [ end \
             k:d { k:e [ [ end end end end"
        );
    }

    #[test]
    fn decodes_escapes_and_surrogate_pairs() {
        let text = r#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00!", "\udcff", "\ud800x", "\ud800\n", "h\u00e9llo w\u00f6rld \u2603 caf\u00e9 \u0000", "é€😀"]"#;
        let ev = events_all_ways(text).unwrap();
        assert_eq!(ev[1], "s:a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(ev[2], "s:é€");
        assert_eq!(ev[3], "s:😀!");
        assert_eq!(ev[4], "s:\u{FFFD}");
        assert_eq!(ev[5], "s:\u{FFFD}x");
        assert_eq!(ev[6], "s:\u{FFFD}\n");
        assert_eq!(ev[7], "s:héllo wörld ☃ café \u{0}");
        assert_eq!(ev[8], "s:é€😀");
    }

    fn error(text: &[u8], step: usize, limits: Limits) -> Error {
        let mut json = json_over(text, step, limits);
        loop {
            match json.next(true) {
                Ok(Ev::Eof) => panic!("no error in {:?}", String::from_utf8_lossy(text)),
                Ok(_) => {}
                Err(e) => return e,
            }
        }
    }

    fn error_all_ways(text: &str) -> Error {
        let whole = error(text.as_bytes(), usize::MAX, Limits::default());
        for step in [1, 2, 5] {
            assert_eq!(
                error(text.as_bytes(), step, Limits::default()),
                whole,
                "read {step} bytes at a time"
            );
        }
        whole
    }

    #[test]
    fn malformed_json_is_a_syntax_error_where_it_is() {
        let mut bad = Vec::new();
        for (text, line, column, what) in [
            ("{\"a\": 1,\n \"b\" 2}", 2, 6, "expected ':'"),
            ("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}'"),
            ("[1, 2,]", 1, 7, "expected a JSON value"),
            ("{\"a\": tru}", 1, 10, "expected a JSON value"),
            ("[01]", 1, 3, "expected ',' or ']'"),
            ("[1.]", 1, 4, "malformed number"),
            ("[-]", 1, 3, "malformed number"),
            ("[1e+]", 1, 5, "malformed number"),
            ("{\"a\": \"x\ty\"}", 1, 9, "control character"),
            ("[\"\\x\"]", 1, 4, "invalid escape"),
            ("[\"\\u12g4\"]", 1, 7, "not a hex digit"),
            ("{\"a\": 1}\n{", 2, 1, "after the end of the JSON document"),
            ("{1: 2}", 1, 2, "member name in double quotes"),
            ("[1}", 1, 3, "expected ',' or ']'"),
        ] {
            let e = error_all_ways(text);
            let ok = matches!(e.kind(), ErrorKind::Syntax(m) if m.contains(what))
                && (e.position().line, e.position().column) == (line, column);
            if !ok {
                bad.push(format!("{text}: {e}"));
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn truncated_json_is_a_truncated_error_at_the_end() {
        for text in [
            "{\"a\": [1, 2",
            "{\"a\": \"abc",
            "{\"a\"",
            "{\"a\": tr",
            "[1, {\"b\":\n",
            "",
            "  \n ",
        ] {
            let e = error_all_ways(text);
            assert!(matches!(e.kind(), ErrorKind::Truncated(_)), "{text:?}: {e}");
            assert_eq!(e.position().byte_offset, text.len() as u64, "{text:?}: {e}");
        }
        let e = error_all_ways("{\n\"a\": [1,\n2");
        assert_eq!((e.position().line, e.position().column), (3, 2), "{e}");
    }

    #[test]
    fn invalid_utf8_in_a_string_is_an_encoding_error_at_the_byte() {
        for (text, offset) in [
            (&b"[\"ab\xffc\"]"[..], 4),
            (&b"[\"a\xc3\"]"[..], 3),
            (&b"[\"\xe2\x82x\"]"[..], 2),
        ] {
            for step in [usize::MAX, 1, 2] {
                for keep in [true, false] {
                    let mut json = json_over(text, step, Limits::default());
                    json.next(true).unwrap();
                    let e = json.next(keep).unwrap_err();
                    assert!(matches!(e.kind(), ErrorKind::Encoding(_)), "{e}");
                    assert_eq!(
                        e.position().byte_offset,
                        offset,
                        "{text:?} step {step}: {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn nesting_past_max_depth_is_a_limit_error_not_a_stack_overflow() {
        let deep = "[".repeat(1_000_000);
        let e = error(deep.as_bytes(), usize::MAX, Limits::default());
        assert!(
            matches!(e.kind(), ErrorKind::Limit(m) if m.contains("max_depth")),
            "{e}"
        );
        assert_eq!(e.position().column, 257);
        // Skipping goes no deeper.
        let mut json = json_over(deep.as_bytes(), usize::MAX, Limits::default());
        let ev = json.next(false).unwrap();
        let e = json.skip(ev).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Limit(_)), "{e}");
        let ok = format!("{}{}", "[".repeat(256), "]".repeat(256));
        assert_eq!(events(&ok, usize::MAX).unwrap().len(), 512);
    }

    #[test]
    fn a_string_or_number_past_max_token_bytes_is_a_limit_error() {
        let limits = Limits {
            max_token_bytes: 1000,
            ..Limits::default()
        };
        let long = format!("{{\"a\": \"{}\"}}", "x".repeat(200_000));
        for step in [usize::MAX, 4096] {
            let e = error(long.as_bytes(), step, limits);
            assert!(
                matches!(e.kind(), ErrorKind::Limit(m) if m.contains("max_token_bytes")),
                "{e}"
            );
            assert_eq!(e.position().column, 7, "{e}");
        }
        // Also when it is skipped rather than kept.
        let mut json = json_over(long.as_bytes(), usize::MAX, limits);
        json.next(true).unwrap();
        json.next(true).unwrap();
        let e = json.next(false).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Limit(_)), "{e}");
        let number = format!("[{}]", "1".repeat(200_000));
        let e = error(number.as_bytes(), 4096, limits);
        assert!(matches!(e.kind(), ErrorKind::Limit(_)), "{e}");
        // White space is no token.
        let spaced = format!("[1,{}2]", " ".repeat(200_000));
        let mut json = json_over(spaced.as_bytes(), usize::MAX, limits);
        while json.next(true).unwrap() != Ev::Eof {}
    }

    #[test]
    fn a_key_given_twice_is_found_in_a_large_object_too() {
        let members: Vec<String> = (0..50_000).map(|i| format!("\"k{i}\":{i}")).collect();
        for (repeat, twice) in [("k7", true), ("k49999", true), ("other", false)] {
            let text = format!("{{{},\"{repeat}\":0}}", members.join(","));
            let mut json = json_over(text.as_bytes(), usize::MAX, Limits::default());
            let ev = json.next(true).unwrap();
            match json.read_value(ev) {
                Err(e) => {
                    assert!(twice, "{e}");
                    assert!(
                        e.to_string()
                            .contains(&format!("\"{repeat}\" is given twice")),
                        "{e}"
                    );
                    let key = text.rfind(&format!("\"{repeat}\"")).unwrap();
                    assert_eq!(e.position().byte_offset as usize, key);
                }
                Ok(Value::Obj(read)) => {
                    assert!(!twice);
                    assert_eq!(read.len(), 50_001);
                }
                Ok(other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn skipping_keeps_nothing() {
        let big = format!(
            "{{\"skip\": [{}], \"s\": \"{}\", \"keep\": 7}}",
            "[1,2,\"abcdef\",{\"x\":null}],".repeat(10_000) + "0",
            "y".repeat(100_000)
        );
        let mut json = json_over(big.as_bytes(), usize::MAX, Limits::default());
        assert_eq!(json.next(true).unwrap(), Ev::BeginObject);
        assert_eq!(json.next(true).unwrap(), Ev::Key);
        let ev = json.next(false).unwrap();
        json.skip(ev).unwrap();
        assert_eq!(json.next(true).unwrap(), Ev::Key);
        let ev = json.next(false).unwrap();
        json.skip(ev).unwrap();
        assert_eq!(json.next(true).unwrap(), Ev::Key);
        assert_eq!(json.next(true).unwrap(), Ev::Num);
        assert_eq!(json.text(), "7");
        assert!(json.text_capacity() < 64, "{}", json.text_capacity());
        assert_eq!(json.next(true).unwrap(), Ev::End);
        assert_eq!(json.next(true).unwrap(), Ev::Eof);
        assert_eq!(json.position().byte_offset, big.len() as u64);
    }

    /// The value an item of a tape holds, as [`Value`].
    fn value_of(item: Item<'_>) -> Value {
        match item.kind() {
            Kind::Object => Value::Obj(
                item.members()
                    .map(|(k, v)| (String::from_utf8(k.to_vec()).unwrap(), value_of(v)))
                    .collect(),
            ),
            Kind::Array => Value::Arr(item.elements().map(value_of).collect()),
            Kind::Str | Kind::Escaped => Value::Str(item.str().unwrap().into_owned()),
            Kind::Num => Value::Num(item.text().unwrap().into_owned()),
            Kind::True => Value::Bool(true),
            Kind::False => Value::Bool(false),
            Kind::Null => Value::Null,
        }
    }

    /// What the event parser makes of `text`'s first value: the value and where it ends.
    fn by_events(text: &[u8], keep: bool) -> Option<(Value, u64)> {
        let mut json = json_over(text, usize::MAX, Limits::default());
        let ev = json.next(keep).ok()?;
        let value = if keep {
            json.read_value(ev).ok()?
        } else {
            json.skip(ev).ok()?;
            Value::Null
        };
        Some((value, json.source.offset()))
    }

    const LIMITS: ScanLimits = ScanLimits {
        depth: 256,
        token: MAX_JSON_TOKEN,
    };

    /// Whatever a scan accepts, the event parser reads alike: the same value (its strings
    /// decoded the same way), ending at the same byte.
    fn scan_agrees_with_events(text: &[u8]) -> bool {
        let mut tape = Tape::default();
        let taped = tape.read(text, LIMITS, None);
        if let Some(n) = taped {
            let (value, end) = by_events(text, true).expect("the event parser reads it");
            assert_eq!(
                value_of(tape.root()),
                value,
                "{}",
                String::from_utf8_lossy(text)
            );
            assert_eq!(n as u64, end);
        }
        if let Ok(n) = Tape::skim(text, LIMITS) {
            let (_, end) = by_events(text, false).expect("the event parser skips it");
            assert_eq!(n as u64, end);
        }
        taped.is_some()
    }

    #[test]
    fn a_scan_reads_what_the_event_parser_reads() {
        for text in [
            r#"{"a": [1, -2.5e+3, 0, 0.25, true, false, null, "x"], "b": {}, "c": [], "d": {"e": [[]]}}"#,
            r#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00!", "\udcff", "\ud800x", "\ud800\n", "\ud800\ud800", "é€😀"]"#,
            "[ 1 , 2 ]  trailing",
            "{\"ruleId\":\"py/x\",\"locations\":[{\"physicalLocation\":{\"region\":{\"startLine\":3}}}]},{}",
        ] {
            assert!(scan_agrees_with_events(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn a_scan_leaves_to_the_event_parser_what_it_cannot_vouch_for() {
        for text in [
            // Ends inside the value, or may go on.
            &b"{\"a\": [1, 2"[..],
            b"[1, 2]"[..5].as_ref(),
            b"[tru",
            // Malformed.
            b"{\"a\" 1}",
            b"[1,]",
            b"[01]",
            b"[\"\x01\"]",
            b"[\"\\x\"]",
            b"[\"\xff\"]",
            b"[NaN]",
            // A key twice; a key with an escape (the event parser compares its text).
            b"{\"a\": 1, \"a\": 2}",
            b"{\"longer key\": 1, \"longer key\": 2}",
            b"{\"\\u0061\": 1}",
        ] {
            let mut tape = Tape::default();
            assert_eq!(
                tape.read(text, LIMITS, None),
                None,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        // Deeper than the scan goes, or than the limit allows.
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert_eq!(Tape::skim(deep.as_bytes(), LIMITS), Err(Skim::Refused));
        let shallow = ScanLimits { depth: 2, ..LIMITS };
        assert_eq!(Tape::skim(b"[[[]]]", shallow), Err(Skim::Refused));
        assert_eq!(Tape::skim(b"[[]]", shallow), Ok(4));
        assert_eq!(Tape::skim(b"[[1,", LIMITS), Err(Skim::Exhausted));
        // A key twice is passed over by a skim, as the event parser skips it.
        assert_eq!(Tape::skim(b"{\"a\": 1, \"a\": 2}", LIMITS), Ok(16));
    }

    #[test]
    fn only_wanted_members_go_on_the_tape_but_all_are_checked() {
        let mut tape = Tape::default();
        let skip_b: Wanted<'_> = &|k| k != b"b";
        let text = br#"{"a": 1, "b": {"c": [2, 3]}, "d": "e"}"#;
        assert_eq!(tape.read(text, LIMITS, Some(skip_b)), Some(text.len()));
        let keys: Vec<&[u8]> = tape.root().members().map(|(k, _)| k).collect();
        assert_eq!(keys, [&b"a"[..], b"d"]);
        assert_eq!(
            tape.root().get("d").and_then(|d| d.str()).as_deref(),
            Some("e")
        );
        let repeated = br#"{"a": 1, "b": {"c": 2, "c": 3}}"#;
        assert_eq!(tape.read(repeated, LIMITS, Some(skip_b)), None);
    }

    /// JSON text: scalars (with escapes, surrogates and numbers of every shape) in arrays and
    /// objects, nested.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let scalar = proptest::sample::select(vec![
            "\"a\"",
            "\"b\"",
            "\"\\n\\u00e9\\/\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud800\\ud800\"",
            "\"é€\"",
            "1",
            "-0.5e3",
            "0",
            "12.25E-2",
            "true",
            "false",
            "null",
            "\"\"",
        ])
        .prop_map(str::to_owned);
        scalar.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6)
                    .prop_map(|items| format!("[{}]", items.join(" , "))),
                proptest::collection::vec(
                    (
                        proptest::sample::select(vec!["a", "b", "ruleId", "c d", "e"]),
                        inner
                    ),
                    0..6,
                )
                .prop_map(|members| format!(
                    "{{{}}}",
                    members
                        .iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                )),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn a_scan_reads_json_as_the_event_parser_does(
            text in json_text(),
            cut in 0usize..1000,
            insert in proptest::sample::select(vec!["", ",", "]", "}", "\"", "\\", "\u{1}", "x", "\u{ff}"]),
        ) {
            // The text whole, and broken: cut short, or with a byte put in.
            scan_agrees_with_events(text.as_bytes());
            let at = cut % (text.len() + 1);
            let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            scan_agrees_with_events(&text.as_bytes()[..at]);
            let broken = format!("{}{insert}{}", &text[..at], &text[at..]);
            scan_agrees_with_events(broken.as_bytes());
        }

        #[test]
        fn a_scan_never_accepts_what_the_event_parser_reads_otherwise(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{", "}", "[", "]", ",", ":", " ", "\"a\"", "\"b\"", "\"\\n\\u00e9\"",
                    "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"é\"", "1", "-0.5e3", "0", "01",
                    "true", "nul", "null", "\u{1}", "\\", "\"",
                ]),
                0..40,
            )
        ) {
            scan_agrees_with_events(parts.concat().as_bytes());
        }
    }
}
