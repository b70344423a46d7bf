//! From raw bytes to UTF-8 text with positions: gunzip, BOM and encoding handling, limits.
//!
//! Every parser reads a [`Source`]: a `BufRead` that
//! - yields UTF-8 (UTF-16 with or without a BOM and any declared non-UTF-8 encoding are
//!   transcoded; the parsers reject what is still not valid UTF-8),
//! - tracks the line and column of what was consumed,
//! - enforces [`Limits`]: total decoded size and the size of a single token,
//! - reads an input that is in memory already (a `&'static [u8]`, an `io::Cursor<Vec<u8>>`)
//!   where it is, without copying it through its buffer, when it needs no decoding.

use std::any::Any;
use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::error::{Error, ErrorKind, Position};

/// Limits that keep hostile or broken input from using unbounded memory or time.
///
/// The defaults are generous: reports of hundreds of MB are normal in CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most decoded bytes (after gunzip) read from one input. Default 8 GiB.
    pub max_input_bytes: u64,
    /// The largest single XML token (a tag, a text run, a CDATA section), in bytes; this is
    /// what bounds the parser's buffer. Default 256 MiB.
    pub max_token_bytes: u64,
    /// The deepest element nesting accepted. Default 256.
    pub max_depth: usize,
    /// Longer messages, stack traces and outputs are cut to this many bytes, with a marker.
    /// Default 64 KiB.
    pub max_text_bytes: usize,
    /// The most testcases one test report may hold (each becomes a test or an attempt held
    /// in memory). Default: no limit; a service sets one.
    pub max_testcases: u64,
    /// The most attempts (runs, reruns, retries) one test may add up to. Default: no
    /// limit; a service sets one.
    pub max_attempts_per_test: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 8 << 30,
            max_token_bytes: 256 << 20,
            max_depth: 256,
            max_text_bytes: 64 << 10,
            max_testcases: u64::MAX,
            max_attempts_per_test: u32::MAX,
        }
    }
}

/// How a reader treats odd data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Size and depth limits.
    pub limits: Limits,
    /// When true, every warning is an error: an odd value (a time that is not a number of
    /// seconds, a negative hit count, a line number of 0, a malformed LCOV record) is refused
    /// at its position instead of being kept or dropped with a warning, and a report whose
    /// declared totals disagree with its content is refused at its end.
    pub strict: bool,
    /// When true, [`crate::parse_with`] keeps outcomes, attempts, times and each failure's
    /// `message` attribute, but no texts (stack traces, outputs, skip reasons are `None`):
    /// for callers that store counts, outcomes and messages, several times less memory and
    /// time.
    pub outcomes_only: bool,
    /// The format, when the caller names it: detection is skipped. The only way to read
    /// [`crate::Format::LintText`], which cannot be told from other text.
    pub format: Option<crate::Format>,
}

const BUF_SIZE: usize = 64 * 1024;
const PEEK_SIZE: usize = 64 * 1024;

/// An error raised inside `Read`/`BufRead` calls, carried through `io::Error`.
#[derive(Debug)]
pub(crate) struct SourceError {
    pub kind: ErrorKind,
    pub offset: u64,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for SourceError {}

fn source_error(kind: ErrorKind, offset: u64) -> io::Error {
    io::Error::other(SourceError { kind, offset })
}

/// Reads from `inner` until `want` bytes or end of input.
fn read_prefix(inner: &mut dyn Read, want: usize) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(want.min(PEEK_SIZE));
    inner.take(want as u64).read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// Decoded, position-tracking, limit-enforcing input for the parsers.
pub struct Source {
    inner: Box<dyn Read + Send>,
    /// A buffer refilled from `inner`; or, for an input that was in memory already and needs
    /// no decoding, that input itself, whole (see [`whole_input`]).
    buf: Cow<'static, [u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Bytes consumed so far.
    offset: u64,
    /// Bytes read from `inner` so far.
    read_total: u64,
    /// Lines are counted lazily: `line` (1-based) and `line_start` (the offset where that line
    /// starts) are those of the byte at `buf[counted]`, with `counted <= pos`. The bytes
    /// between `counted` and `pos` are counted when a position is asked for, or in bulk before
    /// the buffer lets them go, not as each token is consumed.
    line: u64,
    line_start: u64,
    counted: usize,
    /// Where the current token started (set by the parser before each event), and once the
    /// buffer has let that byte go, its line and the offset where the line starts.
    mark: u64,
    mark_line: Option<(u64, u64)>,
    limits: Limits,
    /// The first error raised inside `fill_buf`, kept so it can be reported precisely.
    failure: Option<(ErrorKind, u64)>,
    /// Whether `consume` counts lines (line-based parsers count their own).
    track_lines: bool,
}

impl Source {
    /// Wraps raw input: detects gzip, a BOM or a declared encoding, and returns the source
    /// with the first bytes of its decoded text available for format detection.
    pub(crate) fn open(read: impl Read + Send + 'static, limits: Limits) -> Result<Source, Error> {
        let mut read = Some(read);
        let raw: Box<dyn Read + Send> = match whole_input(&mut read) {
            Some(bytes) => match Source::in_place(bytes, limits) {
                Ok(source) => return Ok(source),
                Err(bytes) => Box::new(io::Cursor::new(bytes)),
            },
            None => Box::new(read.take().expect("taken only by whole_input")),
        };
        Source::decoding(raw, limits)
    }

    /// A source over an input that is in memory already: read where it is, without a copy,
    /// when it is plain UTF-8 (a BOM is passed over) and no larger than `max_token_bytes` (so
    /// that no token in it can pass that limit, which only refills check); otherwise the
    /// bytes are given back, to be read as a stream (gunzipped, transcoded, limited).
    fn in_place(
        bytes: Cow<'static, [u8]>,
        limits: Limits,
    ) -> std::result::Result<Source, Cow<'static, [u8]>> {
        let (bom, encoding) = byte_order(&bytes);
        let text = &bytes[bom..];
        let encoded = bytes.starts_with(&GZIP_MAGIC) || encoding.is_some();
        let declared = declared_encoding(&text[..text.len().min(256)]);
        let limit = limits.max_input_bytes.min(limits.max_token_bytes);
        if encoded || !matches!(declared, Ok(None)) || text.len() as u64 > limit {
            return Err(bytes);
        }
        let buf = match bytes {
            Cow::Borrowed(all) => Cow::Borrowed(&all[bom..]),
            Cow::Owned(mut all) => {
                all.drain(..bom);
                Cow::Owned(all)
            }
        };
        let len = buf.len();
        let mut source = Source::over(Box::new(io::empty()), buf, limits);
        source.len = len;
        source.read_total = len as u64;
        source.eof = true;
        Ok(source)
    }

    fn over(inner: Box<dyn Read + Send>, buf: Cow<'static, [u8]>, limits: Limits) -> Source {
        Source {
            inner,
            buf,
            pos: 0,
            len: 0,
            eof: false,
            offset: 0,
            read_total: 0,
            line: 1,
            line_start: 0,
            counted: 0,
            mark: 0,
            mark_line: Some((1, 0)),
            limits,
            failure: None,
            track_lines: true,
        }
    }

    /// A source that reads `raw` through a buffer: gzip, a BOM, UTF-16 or a declared
    /// encoding are detected here and decoded as it is read.
    fn decoding(mut raw: Box<dyn Read + Send>, limits: Limits) -> Result<Source, Error> {
        let io_err = |e: io::Error| Error::new(ErrorKind::Io(e.to_string()), Position::START);
        let mut prefix = read_prefix(&mut raw, 2).map_err(io_err)?;
        if prefix.starts_with(&GZIP_MAGIC) {
            let chained = io::Cursor::new(prefix).chain(raw);
            raw = Box::new(GzipReader::new(chained));
            prefix = Vec::new();
        }
        let mut rest = read_prefix(&mut raw, 4).map_err(|e| map_open_error(&e))?;
        prefix.append(&mut rest);
        let (skip, encoding) = byte_order(&prefix);
        let head: Vec<u8> = prefix[skip..].to_vec();
        let mut stream: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).chain(raw));
        let encoding = match encoding {
            Some(e) => Some(e),
            None => {
                // Look for `<?xml ... encoding="..."?>` in the first bytes.
                let mut decl = read_prefix(&mut stream, 256).map_err(|e| map_open_error(&e))?;
                let declared = declared_encoding(&decl)?;
                let head = std::mem::take(&mut decl);
                stream = Box::new(io::Cursor::new(head).chain(stream));
                declared
            }
        };
        if let Some(encoding) = encoding {
            stream = Box::new(Transcoder::new(stream, encoding));
        }
        Ok(Source::over(stream, Cow::Owned(vec![0; BUF_SIZE]), limits))
    }

    /// The decoded bytes at the start of the input (up to 64 KiB, also when the whole input
    /// is in memory: detection reads no further), without consuming them.
    pub(crate) fn peek_prefix(&mut self) -> Result<&[u8], Error> {
        while self.len < PEEK_SIZE.min(self.buf.len()) && !self.eof {
            if let Err(e) = self.read_more() {
                return Err(self.error_from_io(&e));
            }
        }
        let end = self.len.min(self.pos + PEEK_SIZE);
        Ok(&self.buf[self.pos..end])
    }

    /// Stops counting lines on `consume`, for parsers that count them themselves.
    pub(crate) fn untracked_lines(mut self) -> Source {
        self.track_lines = false;
        self
    }

    /// Marks the start of the next token: positions inside it are computed from here, and the
    /// token-size limit counts from here.
    #[inline]
    pub(crate) fn mark(&mut self) {
        self.mark = self.offset;
        self.mark_line = None;
    }

    /// The bytes read but not consumed yet (what `fill_buf` last returned).
    #[inline]
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    /// The last `n` bytes consumed, while the buffer still holds them (no refill since):
    /// fewer when it does not.
    pub(crate) fn just_consumed(&self, n: usize) -> &[u8] {
        &self.buf[self.pos.saturating_sub(n)..self.pos]
    }

    /// Bytes consumed so far.
    #[inline]
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The position of the mark.
    pub(crate) fn mark_position(&self) -> Position {
        let (line, line_start) = self.mark_line();
        Position {
            byte_offset: self.mark,
            line,
            column: self.mark - line_start + 1,
        }
    }

    /// The mark's line, counted up to the mark and kept: for parsers that note the line of
    /// each element they open (a count from the last one, not from the last refill).
    #[inline]
    pub(crate) fn mark_line_counted(&mut self) -> u64 {
        self.count_to_mark();
        self.mark_line().0
    }

    /// Counts the lines up to the mark, when they are counted here and not yet.
    fn count_to_mark(&mut self) {
        if self.mark_line.is_none() && self.track_lines {
            // The mark is at or after `counted` and at or before `pos`.
            let mark = self.index_of(self.mark);
            let at_mark = self.line_at(mark);
            self.mark_line = Some(at_mark);
            (self.line, self.line_start) = at_mark;
            self.counted = mark;
        }
    }

    /// The line of the mark and the offset where that line starts.
    fn mark_line(&self) -> (u64, u64) {
        match self.mark_line {
            Some(known) => known,
            // Not let go yet (`count_lines` would have noted it), so at or after `counted`.
            None if self.mark >= self.buf_offset() + self.counted as u64 => {
                self.line_at(self.index_of(self.mark))
            }
            // Only where lines are not counted here (`untracked_lines`).
            None => (self.line, self.line_start),
        }
    }

    /// The offset of `buf[0]`.
    #[inline]
    fn buf_offset(&self) -> u64 {
        self.offset - self.pos as u64
    }

    /// The index in `buf` of `offset`, which the buffer holds.
    #[inline]
    fn index_of(&self, offset: u64) -> usize {
        (offset - self.buf_offset()) as usize
    }

    /// The line of `buf[index]` (at or after `counted`) and the offset where that line starts.
    fn line_at(&self, index: usize) -> (u64, u64) {
        let bytes = &self.buf[self.counted..index];
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => (
                self.line + count_newlines(bytes) as u64,
                self.buf_offset() + (self.counted + last) as u64 + 1,
            ),
            None => (self.line, self.line_start),
        }
    }

    /// Counts the lines up to `pos`, noting the mark's line on the way if it lies there:
    /// before the buffer lets those bytes go.
    fn count_lines(&mut self) {
        if !self.track_lines {
            return; // the parser counts them; `counted` stays 0
        }
        self.count_to_mark();
        (self.line, self.line_start) = self.line_at(self.pos);
        self.counted = self.pos;
    }

    /// The position of a byte offset at or after the mark. Exact when the buffer still holds
    /// the offset (ahead of `counted`, or behind it with the start of its line), or when it
    /// is on the marked line; otherwise the line is counted from `token`, the bytes of the
    /// current token starting at the mark.
    pub(crate) fn position_of(&self, offset: u64, token: Option<(&[u8], u64)>) -> Position {
        let buf_offset = self.buf_offset();
        let counted_offset = buf_offset + self.counted as u64;
        let at = |(line, line_start): (u64, u64)| Position {
            byte_offset: offset,
            line,
            column: offset - line_start + 1,
        };
        if offset >= counted_offset && offset - buf_offset <= self.len as u64 {
            return at(self.line_at((offset - buf_offset) as usize));
        }
        if offset < counted_offset && offset >= buf_offset {
            // Behind the count, still in the buffer: counted back, when the line's start is
            // there too (or it is the counted line).
            let index = (offset - buf_offset) as usize;
            let newlines = count_newlines(&self.buf[index..self.counted]) as u64;
            if newlines == 0 {
                return at((self.line, self.line_start));
            }
            if let Some(i) = memchr::memrchr(b'\n', &self.buf[..index]) {
                return at((self.line - newlines, buf_offset + i as u64 + 1));
            }
        }
        let (mark_line, mark_line_start) = self.mark_line();
        if let Some((token, token_start)) = token
            && offset >= token_start
            && token_start >= self.mark
        {
            // Lines between the mark and the token's start hold no newline (the token starts
            // at the mark or just after its `<`).
            let upto = ((offset - token_start) as usize).min(token.len());
            let bytes = &token[..upto];
            let newlines = count_newlines(bytes) as u64;
            let line_start = match memchr::memrchr(b'\n', bytes) {
                Some(i) => token_start + i as u64 + 1,
                None => mark_line_start,
            };
            return Position {
                byte_offset: offset,
                line: mark_line + newlines,
                column: offset - line_start + 1,
            };
        }
        if offset >= mark_line_start && offset <= self.offset {
            return at((mark_line, mark_line_start));
        }
        self.current_position()
    }

    /// The position of the next unconsumed byte.
    pub(crate) fn current_position(&self) -> Position {
        let (line, line_start) = self.line_at(self.pos);
        Position {
            byte_offset: self.offset,
            line,
            column: self.offset - line_start + 1,
        }
    }

    /// Turns an I/O error from this source (or from below it) into a positioned error.
    pub(crate) fn error_from_io(&mut self, e: &io::Error) -> Error {
        self.take_failure()
            .unwrap_or_else(|| Error::new(source_error_kind(e), self.current_position()))
    }

    /// Takes the failure recorded inside `fill_buf`, if any.
    pub(crate) fn take_failure(&mut self) -> Option<Error> {
        self.failure.take().map(|(kind, offset)| {
            let pos = self.position_of(offset, None);
            Error::new(kind, pos)
        })
    }

    fn fail(&mut self, kind: ErrorKind, offset: u64) -> io::Error {
        self.failure = Some((kind.clone(), offset));
        source_error(kind, offset)
    }

    /// Reads more decoded bytes into the buffer, keeping what is not consumed yet.
    fn read_more(&mut self) -> io::Result<()> {
        if self.eof {
            return Ok(()); // also: an input read in place is never refilled
        }
        if self.pos == self.len {
            self.count_lines();
            self.pos = 0;
            self.len = 0;
            self.counted = 0;
        } else if self.len == self.buf.len() {
            if self.pos == 0 {
                return Ok(());
            }
            self.count_lines();
            self.buf.to_mut().copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
            self.counted = 0;
        }
        let n = loop {
            match self.inner.read(&mut self.buf.to_mut()[self.len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = source_error_kind(&e);
                    let at = self.read_total;
                    return Err(self.fail(kind, at));
                }
            }
        };
        let start_offset = self.read_total;
        self.read_total += n as u64;
        if n == 0 {
            self.eof = true;
            return Ok(());
        }
        if self.read_total > self.limits.max_input_bytes {
            let limit = self.limits.max_input_bytes;
            return Err(self.fail(
                ErrorKind::Limit(format!(
                    "the decoded input is larger than {limit} bytes (max_input_bytes)"
                )),
                start_offset,
            ));
        }
        self.len += n;
        Ok(())
    }
}

/// The first two bytes of a gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What the first bytes of decompressed input say of its encoding: how many bytes of BOM to
/// pass over, and the encoding to transcode from (`None`: UTF-8, or whatever the XML
/// declaration says). UTF-16 is known by its BOM, or without one by `<?` in two bytes each.
fn byte_order(head: &[u8]) -> (usize, Option<&'static Encoding>) {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (3, None)
    } else if head.starts_with(&[0xFF, 0xFE]) {
        (2, Some(UTF_16LE))
    } else if head.starts_with(&[0xFE, 0xFF]) {
        (2, Some(UTF_16BE))
    } else if head.starts_with(&[b'<', 0, b'?', 0]) {
        (0, Some(UTF_16LE))
    } else if head.starts_with(&[0, b'<', 0, b'?']) {
        (0, Some(UTF_16BE))
    } else {
        (0, None)
    }
}

/// The whole input, taken without a copy, when `read` is a type that holds it in memory: a
/// `&'static [u8]`, or an `io::Cursor` over a `Vec<u8>` (from its position on).
fn whole_input<R: Read + 'static>(read: &mut Option<R>) -> Option<Cow<'static, [u8]>> {
    let any: &mut dyn Any = read;
    if let Some(slot) = any.downcast_mut::<Option<&'static [u8]>>() {
        return slot.take().map(Cow::Borrowed);
    }
    if let Some(slot) = any.downcast_mut::<Option<io::Cursor<Vec<u8>>>>() {
        let cursor = slot.take()?;
        let at = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
        let mut bytes = cursor.into_inner();
        bytes.drain(..at.min(bytes.len()));
        return Some(Cow::Owned(bytes));
    }
    None
}

/// Counts `\n` bytes, 64 at a time with a byte-wide sum (which the compiler vectorizes).
#[inline]
fn count_newlines(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(64);
    let mut n = 0;
    for chunk in &mut chunks {
        n += usize::from(
            chunk
                .iter()
                .fold(0u8, |acc, &b| acc.wrapping_add(u8::from(b == b'\n'))),
        );
    }
    n + chunks.remainder().iter().filter(|&&b| b == b'\n').count()
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Source {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.len && !self.eof {
            if self.offset - self.mark > self.limits.max_token_bytes {
                let limit = self.limits.max_token_bytes;
                let at = self.mark;
                return Err(self.fail(
                    ErrorKind::Limit(format!(
                        "a single token is larger than {limit} bytes (max_token_bytes)"
                    )),
                    at,
                ));
            }
            self.read_more()?;
        }
        Ok(&self.buf[self.pos..self.len])
    }

    /// Lines are counted later (see [`Source::count_lines`]).
    #[inline]
    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.len - self.pos);
        self.pos += amt;
        self.offset += amt as u64;
    }
}

fn map_open_error(e: &io::Error) -> Error {
    Error::new(source_error_kind(e), Position::START)
}

fn source_error_kind(e: &io::Error) -> ErrorKind {
    if let Some(inner) = e.get_ref()
        && let Some(se) = inner.downcast_ref::<SourceError>()
    {
        return se.kind.clone();
    }
    if let Some(inner) = e.get_ref()
        && let Some(ge) = inner.downcast_ref::<GzipError>()
    {
        return ErrorKind::Encoding(format!("corrupt gzip stream: {}", ge.0));
    }
    ErrorKind::Io(e.to_string())
}

/// Finds the encoding named by an XML declaration at the start of `head`.
/// `None` means UTF-8 (declared or by default).
fn declared_encoding(head: &[u8]) -> Result<Option<&'static Encoding>, Error> {
    if !head.starts_with(b"<?xml") {
        return Ok(None);
    }
    let end = memchr::memmem::find(head, b"?>").unwrap_or(head.len());
    let decl = &head[..end];
    let Some(at) = memchr::memmem::find(decl, b"encoding") else {
        return Ok(None);
    };
    let rest = &decl[at + "encoding".len()..];
    let rest = rest.trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b"=") else {
        return Ok(None);
    };
    let rest = rest.trim_ascii_start();
    let Some((&quote, rest)) = rest.split_first() else {
        return Ok(None);
    };
    if quote != b'"' && quote != b'\'' {
        return Ok(None);
    }
    let label = match memchr::memchr(quote, rest) {
        Some(close) => &rest[..close],
        None => return Ok(None),
    };
    match Encoding::for_label(label) {
        // A declared UTF-16 without a BOM in an ASCII-compatible file is a mislabel; read as is.
        Some(e) if e == UTF_8 || e == UTF_16LE || e == UTF_16BE => Ok(None),
        Some(e) => Ok(Some(e)),
        None => {
            let label = String::from_utf8_lossy(label).into_owned();
            let column = (at as u64) + 1;
            Err(Error::new(
                ErrorKind::Encoding(format!("unsupported declared encoding \"{label}\"")),
                Position {
                    byte_offset: at as u64,
                    line: 1,
                    column,
                },
            ))
        }
    }
}

/// Converts text in another encoding to UTF-8 as it is read.
struct Transcoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    finished: bool,
}

impl<R: Read> Transcoder<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 32 * 1024].into_boxed_slice(),
            in_pos: 0,
            in_len: 0,
            eof: false,
            finished: false,
        }
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.len() < 16 {
            // encoding_rs needs room for a few bytes of output at a time.
            let mut tmp = [0u8; 16];
            let n = self.read(&mut tmp)?;
            let n = n.min(out.len());
            out[..n].copy_from_slice(&tmp[..n]);
            return Ok(n);
        }
        loop {
            if self.finished {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.eof {
                self.in_pos = 0;
                self.in_len = self.inner.read(&mut self.input)?;
                self.eof = self.in_len == 0;
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.in_pos..self.in_len],
                out,
                self.eof,
            );
            self.in_pos += read;
            match result {
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    return Err(io::Error::other(SourceError {
                        kind: ErrorKind::Encoding(format!(
                            "malformed {} text",
                            self.decoder.encoding().name()
                        )),
                        offset: 0,
                    }));
                }
                encoding_rs::DecoderResult::InputEmpty if self.eof => {
                    self.finished = true;
                }
                _ => {}
            }
            if written > 0 || self.finished {
                return Ok(written);
            }
        }
    }
}

#[derive(Debug)]
struct GzipError(String);

impl std::fmt::Display for GzipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GzipError {}

/// Multi-member gzip, with its errors tagged so they are reported as bad input.
struct GzipReader<R: Read> {
    inner: flate2::read::MultiGzDecoder<io::BufReader<R>>,
}

impl<R: Read> GzipReader<R> {
    fn new(inner: R) -> Self {
        GzipReader {
            inner: flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(
                64 * 1024,
                inner,
            )),
        }
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.inner.read(out).map_err(|e| {
            if e.get_ref().is_some_and(|i| i.is::<SourceError>()) {
                e
            } else {
                io::Error::other(GzipError(e.to_string()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: Vec<u8>) -> Result<String, Error> {
        let mut src = Source::open(io::Cursor::new(bytes), Limits::default())?;
        let mut out = Vec::new();
        match src.read_to_end(&mut out) {
            Ok(_) => Ok(String::from_utf8(out).unwrap()),
            Err(e) => Err(src.error_from_io(&e)),
        }
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(decoded(b"\xEF\xBB\xBF<a/>".to_vec()).unwrap(), "<a/>");
    }

    #[test]
    fn utf16_le_and_be_with_bom_are_transcoded() {
        let text = "<a>é</a>";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decoded(le).unwrap(), text);
        assert_eq!(decoded(be).unwrap(), text);
    }

    #[test]
    fn declared_latin1_is_transcoded() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>".to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(b"</a>");
        assert!(decoded(bytes).unwrap().ends_with("<a>é</a>"));
    }

    #[test]
    fn gzip_members_are_concatenated() {
        use std::io::Write;
        let mut all = Vec::new();
        for part in ["<a>", "</a>"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part.as_bytes()).unwrap();
            all.extend(enc.finish().unwrap());
        }
        assert_eq!(decoded(all).unwrap(), "<a></a>");
    }

    #[test]
    fn gzip_bomb_hits_the_input_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b' '; 4 << 20]).unwrap();
        let bytes = enc.finish().unwrap();
        let limits = Limits {
            max_input_bytes: 1 << 20,
            ..Limits::default()
        };
        let mut src = Source::open(io::Cursor::new(bytes), limits).unwrap();
        let err = io::copy(&mut src, &mut io::sink()).unwrap_err();
        let err = src.error_from_io(&err);
        assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err}");
    }

    #[test]
    fn corrupt_gzip_is_an_encoding_error() {
        let err = decoded(vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3]).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Encoding(_)), "{err}");
    }

    #[test]
    fn lines_and_columns_follow_consumption() {
        let mut src =
            Source::open(io::Cursor::new(b"ab\ncd\nef".to_vec()), Limits::default()).unwrap();
        let _ = src.fill_buf().unwrap();
        src.consume(4);
        let p = src.current_position();
        assert_eq!((p.line, p.column, p.byte_offset), (2, 2, 4));
    }

    #[test]
    fn inputs_in_memory_are_read_in_place_unless_they_need_decoding() {
        // Right after `open`, only a source read in place has all its input (a stream has
        // not filled its buffer yet).
        let in_place = |source: &Source| source.eof;
        let text = |mut source: Source| {
            let mut out = String::new();
            source.read_to_string(&mut out).unwrap();
            out
        };
        // A static slice, a Cursor over a Vec from its position on; a BOM passed over.
        let source = Source::open(&b"\xEF\xBB\xBF<a/>"[..], Limits::default()).unwrap();
        assert!(matches!(source.buf, Cow::Borrowed(_)) && source.eof);
        assert_eq!(text(source), "<a/>");
        let source = Source::open(io::Cursor::new(b"<a/>".to_vec()), Limits::default()).unwrap();
        assert!(in_place(&source));
        assert_eq!(text(source), "<a/>");
        let mut cursor = io::Cursor::new(b"xx<a/>".to_vec());
        cursor.set_position(2);
        let source = Source::open(cursor, Limits::default()).unwrap();
        assert!(in_place(&source));
        assert_eq!(text(source), "<a/>");
        // gzip, UTF-16 and a declared Latin-1 are decoded as a stream.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, b"<a/>").unwrap();
        let gz = io::Cursor::new(gz.finish().unwrap());
        let source = Source::open(gz, Limits::default()).unwrap();
        assert!(!in_place(&source));
        assert_eq!(text(source), "<a/>");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<a/>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let source = Source::open(io::Cursor::new(utf16), Limits::default()).unwrap();
        assert!(!in_place(&source));
        assert_eq!(text(source), "<a/>");
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>".to_vec();
        let source = Source::open(io::Cursor::new(latin1), Limits::default()).unwrap();
        assert!(!in_place(&source));
        assert!(text(source).ends_with("<a>\u{e9}</a>"));
        // Larger than the token limit: streamed, so that refills check it.
        let limits = Limits {
            max_token_bytes: 3,
            ..Limits::default()
        };
        let source = Source::open(io::Cursor::new(b"<a/>".to_vec()), limits).unwrap();
        assert!(!in_place(&source));
    }

    /// The position of `offset` in `bytes`, counted the plain way.
    fn plain_position(bytes: &[u8], offset: usize) -> (u64, u64) {
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        (line, (offset - line_start) as u64 + 1)
    }

    #[test]
    fn lazily_counted_lines_stay_exact_across_refills() {
        // Lines of every length from 0 to 300 bytes, several times the buffer; consumed in
        // uneven steps with a mark now and then, so that marks and counts cross refills.
        let mut bytes = Vec::new();
        let mut n = 0usize;
        while bytes.len() < 3 * BUF_SIZE + 1000 {
            bytes.extend(std::iter::repeat_n(b'x', n % 301));
            bytes.push(b'\n');
            n += 7;
        }
        let mut src = Source::open(io::Cursor::new(bytes.clone()), Limits::default()).unwrap();
        let steps = [1usize, 17, 300, 4093, 2, 65, 9000];
        let (mut at, mut turn, mut mark) = (0usize, 0usize, 0usize);
        loop {
            let available = src.fill_buf().unwrap().len();
            if available == 0 {
                break;
            }
            let step = steps[turn % steps.len()].min(available);
            src.consume(step);
            at += step;
            turn += 1;
            if turn % 3 == 0 {
                src.mark();
                mark = at;
            }
            let p = src.current_position();
            assert_eq!((p.line, p.column), plain_position(&bytes, at), "at {at}");
            assert_eq!(p.byte_offset, at as u64);
            let m = src.mark_position();
            assert_eq!(
                (m.line, m.column),
                plain_position(&bytes, mark),
                "mark {mark}"
            );
            // Read but not consumed yet.
            let ahead = at + 5.min(available - step);
            let q = src.position_of(ahead as u64, None);
            assert_eq!((q.line, q.column), plain_position(&bytes, ahead), "{ahead}");
            if mark < at {
                let q = src.position_of(mark as u64 + 1, None);
                assert_eq!(
                    (q.line, q.column),
                    plain_position(&bytes, mark + 1),
                    "{mark}+1"
                );
            }
        }
        assert_eq!(at, bytes.len());
    }
}
