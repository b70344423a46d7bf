//! One JSON value read at once from bytes that hold it whole, onto a flat tape: the fast path
//! for the items of a streamed report (a SARIF result or rule) and for the values a reader
//! passes over, when they lie whole in the reader's buffer.
//!
//! The scan checks what the event parser ([`Json`](super::Json)) checks: the grammar,
//! UTF-8, control characters and escapes in strings, the nesting depth, the size of one
//! string and, on a tape, keys given twice. It says only *that* the bytes are not one such
//! value (or not all of it): the caller then reads them with the event parser, which says what
//! is wrong and where, or reads a value that crosses the end of its buffer.

use std::borrow::Cow;

use super::Value;

/// What a node on the tape is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    /// A string without escapes: its text is its bytes.
    Str,
    /// A string with escapes, decoded when read (by the tokenizer: one decoder for both).
    Escaped,
    Num,
    True,
    False,
    Null,
}

/// One value on the tape. An object's children are its members' keys and values in turn; an
/// array's are its elements.
#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// A string's text between its quotes, a number's text, a container's brackets.
    start: u32,
    end: u32,
    /// The index of the node after this one's subtree.
    next: u32,
}

/// The most keys one object on a tape may have: a larger one is read by the event parser,
/// whose check for a repeated key does not grow with the square of their number.
const MAX_KEYS: usize = 64;

/// The deepest nesting the scan follows itself (its recursion): deeper values go to the event
/// parser, which keeps its own stack.
const MAX_SCAN_DEPTH: usize = 32;

/// A value read whole: its text and the tape of its nodes, both reused from one value to the
/// next.
#[derive(Default, Clone)]
pub(crate) struct Tape {
    /// The value's text (checked as UTF-8 once, when read).
    text: String,
    nodes: Vec<Node>,
    /// The keys of the objects open during the scan, for the repeated-key check.
    keys: Vec<Key>,
}

/// Which members of an object to keep, by name.
pub(crate) type Wanted<'a> = &'a dyn Fn(&[u8]) -> bool;

/// A key seen: its first bytes and length, compared before the whole of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    head: u64,
    len: u32,
    start: u32,
}

impl Key {
    fn of(b: &[u8], start: usize, end: usize) -> Key {
        let text = &b[start..end];
        let head = match text.first_chunk::<8>() {
            Some(first) => u64::from_le_bytes(*first),
            None => text
                .iter()
                .rev()
                .fold(0, |head, &byte| head << 8 | u64::from(byte)),
        };
        Key {
            head,
            len: text.len() as u32,
            start: start as u32,
        }
    }
}

/// The limits a scan keeps to: the event parser's, so that what one refuses the other does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanLimits {
    /// How many containers may be open, counting the scanned value's own.
    pub(crate) depth: usize,
    /// The longest string or number, in bytes.
    pub(crate) token: usize,
}

impl Tape {
    /// Reads the value at the start of `bytes` (no white space before it) onto the tape;
    /// `Some(length)` when `bytes` hold all of one well-formed value, within `limits`. When
    /// it is an object, only the members `wanted` accepts (by name) go on the tape; the others
    /// are checked all the same.
    pub(crate) fn read(
        &mut self,
        bytes: &[u8],
        limits: ScanLimits,
        wanted: Option<Wanted<'_>>,
    ) -> Option<usize> {
        self.nodes.clear();
        self.keys.clear();
        let n = Scan::<true>::run(bytes, limits, &mut self.nodes, &mut self.keys, wanted).ok()?;
        // Outside strings, any byte that is not ASCII was refused already: checking the whole
        // value checks its strings.
        let text = simdutf8::basic::from_utf8(&bytes[..n]).ok()?;
        self.text.clear();
        self.text.push_str(text);
        Some(n)
    }

    /// The length of the well-formed value at the start of `bytes`: the same checks as
    /// [`Tape::read`], but nothing kept and keys may repeat (as when the event parser passes
    /// over a value).
    pub(crate) fn skim(bytes: &[u8], limits: ScanLimits) -> Result<usize, Skim> {
        let n = Scan::<false>::run(bytes, limits, &mut Vec::new(), &mut Vec::new(), None)?;
        simdutf8::basic::from_utf8(&bytes[..n]).map_err(|_| Skim::Refused)?;
        Ok(n)
    }

    /// Puts a value the event parser read onto the tape (its strings decoded).
    pub(crate) fn load(&mut self, value: &Value) {
        self.text.clear();
        self.nodes.clear();
        self.load_value(value);
    }

    fn leaf(&mut self, kind: Kind, text: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        let next = self.nodes.len() as u32 + 1;
        self.nodes.push(Node {
            kind,
            start,
            end: self.text.len() as u32,
            next,
        });
    }

    fn load_value(&mut self, value: &Value) {
        let container = |tape: &mut Tape, kind| {
            tape.leaf(kind, "");
            tape.nodes.len() - 1
        };
        let index = match value {
            Value::Null => return self.leaf(Kind::Null, "null"),
            Value::Bool(true) => return self.leaf(Kind::True, "true"),
            Value::Bool(false) => return self.leaf(Kind::False, "false"),
            Value::Num(text) => return self.leaf(Kind::Num, text),
            Value::Str(text) => return self.leaf(Kind::Str, text),
            Value::Arr(items) => {
                let index = container(self, Kind::Array);
                for item in items {
                    self.load_value(item);
                }
                index
            }
            Value::Obj(members) => {
                let index = container(self, Kind::Object);
                for (key, item) in members {
                    self.leaf(Kind::Str, key);
                    self.load_value(item);
                }
                index
            }
        };
        self.nodes[index].next = self.nodes.len() as u32;
    }

    /// The value read.
    pub(crate) fn root(&self) -> Item<'_> {
        Item { tape: self, at: 0 }
    }
}

/// A scan; `KEEP`: check keys for repeats and put nodes on the tape.
struct Scan<'a, const KEEP: bool> {
    b: &'a [u8],
    i: usize,
    limits: ScanLimits,
    nodes: &'a mut Vec<Node>,
    keys: &'a mut Vec<Key>,
    /// Whether nodes go on the tape (not while passing over a member `wanted` refuses).
    record: bool,
    /// Which members of the scanned object go on the tape (the others are checked only).
    wanted: Option<Wanted<'a>>,
}

/// Why a scan stopped short (the event parser finds out what is wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skim {
    /// The bytes end inside the value: it may go on past them.
    Exhausted,
    /// The value is malformed, or past a limit.
    Refused,
}

struct Stop;

type Step = Result<(), Stop>;

/// For each byte, whether it ends a run of plain string text: `"`, `\` or a control character.
const fn special_bytes() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
}
static SPECIAL: [bool; 256] = special_bytes();

impl<'a, const KEEP: bool> Scan<'a, KEEP> {
    fn run(
        b: &'a [u8],
        limits: ScanLimits,
        nodes: &'a mut Vec<Node>,
        keys: &'a mut Vec<Key>,
        wanted: Option<Wanted<'a>>,
    ) -> Result<usize, Skim> {
        // Offsets are kept in 32 bits: a larger window is read by the event parser.
        let b = &b[..b.len().min(u32::MAX as usize)];
        let mut scan = Scan::<KEEP> {
            b,
            i: 0,
            limits,
            nodes,
            keys,
            record: KEEP,
            wanted,
        };
        if scan.value(0).is_err() {
            return Err(if scan.i >= b.len() {
                Skim::Exhausted
            } else {
                Skim::Refused
            });
        }
        Ok(scan.i)
    }

    /// The byte at `i`, or 0 past the end (a byte no value has outside a string).
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn ws(&mut self) {
        while super::is_ws(self.at(self.i)) {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn push(&mut self, kind: Kind, start: usize, end: usize) {
        if KEEP && self.record {
            let next = self.nodes.len() as u32 + 1;
            self.nodes.push(Node {
                kind,
                start: start as u32,
                end: end as u32,
                next,
            });
        }
    }

    /// A value; scalars are read in the loop that meets them (no call per value), containers
    /// by a call.
    #[inline(always)]
    fn value(&mut self, depth: usize) -> Step {
        match self.at(self.i) {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let (start, end, escaped) = self.string()?;
                self.push(if escaped { Kind::Escaped } else { Kind::Str }, start, end);
                Ok(())
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.number()?;
                self.push(Kind::Num, start, self.i);
                Ok(())
            }
            b't' => self.literal(b"true", Kind::True),
            b'f' => self.literal(b"false", Kind::False),
            b'n' => self.literal(b"null", Kind::Null),
            _ => Err(Stop),
        }
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Step {
        let start = self.i;
        let rest = &self.b[start..];
        if !rest.starts_with(word) {
            if word.starts_with(rest) {
                self.i = self.b.len();
            }
            return Err(Stop);
        }
        self.i += word.len();
        self.push(kind, start, self.i);
        Ok(())
    }

    /// Opens a container at depth `depth` (0 for the scanned value): its node's index.
    fn open(&mut self, kind: Kind, depth: usize) -> Result<usize, Stop> {
        if depth >= self.limits.depth || depth >= MAX_SCAN_DEPTH {
            return Err(Stop);
        }
        let index = self.nodes.len();
        self.push(kind, self.i, 0);
        self.i += 1;
        self.ws();
        Ok(index)
    }

    fn close(&mut self, index: usize) {
        self.i += 1;
        if KEEP && self.record {
            let next = self.nodes.len() as u32;
            let node = &mut self.nodes[index];
            node.end = self.i as u32;
            node.next = next;
        }
    }

    fn object(&mut self, depth: usize) -> Step {
        let index = self.open(Kind::Object, depth)?;
        if self.at(self.i) == b'}' {
            self.close(index);
            return Ok(());
        }
        let first_key = self.keys.len();
        loop {
            if self.at(self.i) != b'"' {
                return Err(Stop);
            }
            let (start, end, escaped) = self.string()?;
            if KEEP {
                // A key with escapes is compared by its text, which the event parser does.
                if escaped || self.keys.len() - first_key >= MAX_KEYS {
                    return Err(Stop);
                }
                let key = Key::of(self.b, start, end);
                let text = &self.b[start..end];
                if self.keys[first_key..].iter().any(|k| {
                    k.head == key.head
                        && k.len == key.len
                        && (key.len <= 8 || self.b[k.start as usize..][..k.len as usize] == *text)
                }) {
                    return Err(Stop);
                }
                self.keys.push(key);
            }
            let record = self.record;
            if depth == 0
                && let Some(wanted) = self.wanted
            {
                self.record = wanted(&self.b[start..end]);
            }
            self.push(Kind::Str, start, end);
            self.ws();
            if self.at(self.i) != b':' {
                return Err(Stop);
            }
            self.i += 1;
            self.ws();
            self.value(depth + 1)?;
            self.record = record;
            self.ws();
            match self.at(self.i) {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => break,
                _ => return Err(Stop),
            }
        }
        if KEEP {
            self.keys.truncate(first_key);
        }
        self.close(index);
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Step {
        let index = self.open(Kind::Array, depth)?;
        if self.at(self.i) == b']' {
            self.close(index);
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            self.ws();
            match self.at(self.i) {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => break,
                _ => return Err(Stop),
            }
        }
        self.close(index);
        Ok(())
    }

    /// A string from its opening quote: the range of its text, and whether it has escapes.
    #[inline(always)]
    fn string(&mut self) -> Result<(usize, usize, bool), Stop> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.plain_text();
            match self.at(self.i) {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.at(self.i) {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let Some(hex) = self.b.get(self.i + 1..self.i + 5) else {
                                self.i = self.b.len();
                                return Err(Stop);
                            };
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Stop);
                            }
                            self.i += 5;
                        }
                        _ => return Err(Stop),
                    }
                }
                // A control character, or the end of the bytes.
                _ => return Err(Stop),
            }
        }
        let end = self.i;
        self.i += 1;
        // The event parser counts an escape as up to 4 bytes of text: it may allow a string
        // this refuses, which it then reads itself.
        if end - start > self.limits.token {
            return Err(Stop);
        }
        Ok((start, end, escaped))
    }

    /// Passes over string text up to a quote, a backslash, a control character or the end:
    /// eight bytes at a time while none of them is one.
    #[inline(always)]
    fn plain_text(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
            let hits = zero_byte(x ^ (ONES * u64::from(b'"')))
                | zero_byte(x ^ (ONES * u64::from(b'\\')))
                // Bytes below 0x20: `x - 0x20` borrows where `x` has no high bit.
                | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
            if hits != 0 {
                // The lowest flagged byte is a true one (the borrows run upward only).
                self.i += (hits.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
        while self.i < self.b.len() && !SPECIAL[self.b[self.i] as usize] {
            self.i += 1;
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Step {
        let start = self.i;
        if self.at(self.i) == b'-' {
            self.i += 1;
        }
        match self.at(self.i) {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return Err(Stop),
        }
        if self.at(self.i) == b'.' {
            self.i += 1;
            self.some_digits()?;
        }
        if matches!(self.at(self.i), b'e' | b'E') {
            self.i += 1;
            if matches!(self.at(self.i), b'+' | b'-') {
                self.i += 1;
            }
            self.some_digits()?;
        }
        // A number that reaches the end of the bytes may go on past it.
        if self.i >= self.b.len() || self.i - start > self.limits.token {
            return Err(Stop);
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.at(self.i).is_ascii_digit() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Step {
        let start = self.i;
        self.digits();
        if self.i == start {
            return Err(Stop);
        }
        Ok(())
    }
}

/// A value on a [`Tape`].
#[derive(Clone, Copy)]
pub(crate) struct Item<'t> {
    tape: &'t Tape,
    at: usize,
}

impl<'t> Item<'t> {
    fn node(&self) -> Node {
        self.tape.nodes[self.at]
    }

    pub(crate) fn kind(&self) -> Kind {
        self.node().kind
    }

    fn raw(&self) -> &'t str {
        let n = self.node();
        // Node ranges start and end at ASCII bytes (quotes, brackets, a number's digits).
        self.tape
            .text
            .get(n.start as usize..n.end as usize)
            .unwrap_or_default()
    }

    /// An object's members, in document order.
    pub(crate) fn members(self) -> impl Iterator<Item = (&'t [u8], Item<'t>)> {
        let node = self.node();
        let tape = self.tape;
        let mut child = self.at + 1;
        std::iter::from_fn(move || {
            if node.kind != Kind::Object || child >= node.next as usize {
                return None;
            }
            let key = Item { tape, at: child }.raw().as_bytes();
            let value = Item {
                tape,
                at: child + 1,
            };
            child = tape.nodes[child + 1].next as usize;
            Some((key, value))
        })
    }

    /// An array's elements.
    pub(crate) fn elements(self) -> impl Iterator<Item = Item<'t>> {
        let node = self.node();
        let tape = self.tape;
        let mut child = self.at + 1;
        std::iter::from_fn(move || {
            if node.kind != Kind::Array || child >= node.next as usize {
                return None;
            }
            let item = Item { tape, at: child };
            child = tape.nodes[child].next as usize;
            Some(item)
        })
    }

    /// The member `key` of an object (keys on a tape have no escapes).
    pub(crate) fn get(self, key: &str) -> Option<Item<'t>> {
        self.members()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// The value at `path`: member names, a number picking an array element.
    pub(crate) fn at(self, path: &[&str]) -> Option<Item<'t>> {
        path.iter().try_fold(self, |v, key| match v.kind() {
            Kind::Array => v.elements().nth(key.parse().ok()?),
            _ => v.get(key),
        })
    }

    /// A string's text.
    pub(crate) fn str(&self) -> Option<Cow<'t, str>> {
        match self.kind() {
            // Checked as UTF-8 by the scan.
            Kind::Str => Some(Cow::Borrowed(self.raw())),
            Kind::Escaped => Some(Cow::Owned(super::decode_string(self.raw()))),
            _ => None,
        }
    }

    /// A string, or a number's text (ids some tools write as numbers).
    pub(crate) fn text(&self) -> Option<Cow<'t, str>> {
        match self.kind() {
            Kind::Num => Some(Cow::Borrowed(self.raw())),
            _ => self.str(),
        }
    }

    /// A number, or a string that holds one.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self.kind() {
            Kind::Num => self.raw().parse().ok(),
            Kind::Str | Kind::Escaped => self.str()?.trim().parse().ok(),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        if self.kind() == Kind::Num
            && let Ok(n) = self.raw().parse::<u64>()
        {
            return Some(n);
        }
        self.as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| v as u64)
    }

    /// Whether this is an array with at least one element.
    pub(crate) fn is_nonempty_array(&self) -> bool {
        self.kind() == Kind::Array && self.elements().next().is_some()
    }
}
