//! Tolerant, streaming GeoJSON reader: one file in, one [`Layer`] plus warnings out.
//!
//! Why a hand-written tokenizer instead of `serde_json`/`geojson`: the loader must
//! (1) stream a 250 MB file without holding its text or a DOM in memory, (2) accept the
//! `NaN`, `Infinity` and `1e400` that Python's `json` module writes, (3) drop one bad
//! feature with a message naming it and keep going, and keep every feature read before a
//! syntax error, and (4) do it at well over 150 MB/s. No JSON crate does all four, so this
//! module has a byte-level tokenizer (`Source`) specialised for GeoJSON: coordinates are
//! parsed straight into `geo` coordinate vectors and properties straight into the columnar
//! [`AttributeTable`](crate::model::AttributeTable), with no intermediate value tree.
//!
//! Robustness rules: recursion is capped at `MAX_DEPTH` levels (deeper values are skipped
//! iteratively, so no input overflows the stack); nothing is pre-allocated from counts in
//! the file; every message names the file, the feature index (0-based, in file order) and
//! the problem.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};

use crate::model::{Layer, LayerKind, ValueRef};

use super::{LoadError, LoadWarning, Loaded, Progress};

/// Deepest nesting of arrays/objects that is parsed; deeper values are skipped with a
/// warning (GeoJSON itself never needs more than about 10).
pub const MAX_DEPTH: usize = 64;
/// Read size: large enough that system calls and buffer compaction cost nothing.
const BUF_SIZE: usize = 1 << 20;
/// The cancel flag is checked this often (in features).
const CANCEL_CHECK_EVERY: usize = 1024;
/// Warnings listed one by one; the rest are counted in one summary line, so a file with a
/// million bad features does not produce a million lines.
const MAX_LISTED_WARNINGS: usize = 200;
/// 2^53: integers beyond this lose precision as f64, so they are kept as text.
const MAX_EXACT_INT: u64 = 1 << 53;

/// Reads a GeoJSON file into one layer, streaming it, and reports progress in bytes.
pub fn read_geojson_file(path: &Path, progress: &Progress) -> Result<Loaded, LoadError> {
    let io_error = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let total = file.metadata().map_err(io_error)?.len();
    progress
        .bytes_total
        .store(total, std::sync::atomic::Ordering::Relaxed);
    read_geojson_reader(path, file, progress)
}

/// Reads GeoJSON held in memory; `path` names it in the layer and in messages.
pub fn read_geojson_bytes(path: &Path, bytes: &[u8]) -> Result<Loaded, LoadError> {
    read_geojson_reader(path, bytes, &Progress::default())
}

/// Reads GeoJSON from any reader (it is buffered here; do not wrap it in a `BufReader`).
/// `path` names the source in the layer and in messages. `progress.bytes_done` is updated
/// as bytes are read; `progress.bytes_total` is left to the caller.
pub fn read_geojson_reader<R: Read>(
    path: &Path,
    reader: R,
    progress: &Progress,
) -> Result<Loaded, LoadError> {
    let mut parser = Parser::new(path, reader, progress);
    let outcome = parser.parse_document();
    parser.finish(outcome)
}

// ---------------------------------------------------------------------------------------
// Tokenizer

/// Why parsing stopped early.
enum Stop {
    /// The text is not JSON (or not GeoJSON at the top level) from here on.
    Syntax {
        offset: u64,
        line: u64,
        message: String,
    },
    /// Not a JSON text at all (empty, binary, ...): no offset worth quoting.
    NotJson(String),
    Io(std::io::Error),
    Cancelled,
}

type PResult<T> = Result<T, Stop>;

/// A number token. `value` may be NaN or infinite (from `NaN`, `Infinity`, `1e400`).
#[derive(Clone, Copy)]
struct NumTok {
    value: f64,
    /// An integer literal too large for f64 to hold exactly; its text is
    /// [`Source::number_text`].
    big_int: bool,
}

/// A byte source with a refillable buffer and lookahead, plus the lexical pieces of JSON.
struct Source<'p, R> {
    reader: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[0]`, and the newlines before it (for line numbers in messages).
    consumed: u64,
    newlines_before: u64,
    progress: &'p Progress,
    read_error: Option<std::io::Error>,
    /// Decoded bytes of a string that spans refills or has escapes.
    scratch: Vec<u8>,
    /// The last number's text when it did not fit the lookahead window.
    number_spill: Vec<u8>,
    /// Where the last number's text is in `buf`, when it was there.
    number_in_buf: Option<Range<usize>>,
    /// A text problem met since it was last taken (bad UTF-8, bad escape).
    text_issue: Option<&'static str>,
}

fn is_number_start(b: u8) -> bool {
    b.is_ascii_digit() || b == b'-' || b == b'N' || b == b'I'
}

fn describe_byte(b: Option<u8>) -> String {
    match b {
        None => "the end of the file".to_owned(),
        Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(b) => format!("byte 0x{b:02X}"),
    }
}

/// What kind of JSON value starts with `b`, for messages.
fn value_kind(b: Option<u8>) -> &'static str {
    match b {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b) if is_number_start(b) => "a number",
        _ => "not a JSON value",
    }
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

const INVALID_UTF8: &str = "text that is not valid UTF-8 was replaced by U+FFFD \
     (is the file GBK-encoded? save it as UTF-8)";

fn push_utf8(out: &mut String, bytes: &[u8], issue: &mut Option<&'static str>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => {
            out.push_str(&String::from_utf8_lossy(bytes));
            issue.get_or_insert(INVALID_UTF8);
        }
    }
}

impl<'p, R: Read> Source<'p, R> {
    fn new(reader: R, progress: &'p Progress) -> Self {
        Source {
            reader,
            buf: vec![0; BUF_SIZE],
            pos: 0,
            end: 0,
            eof: false,
            consumed: 0,
            newlines_before: 0,
            progress,
            read_error: None,
            scratch: Vec::new(),
            number_spill: Vec::new(),
            number_in_buf: None,
            text_issue: None,
        }
    }

    /// Reads more bytes after the unread ones; false at the end of input (or a read error,
    /// kept in `read_error`).
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        if self.pos > 0 {
            self.newlines_before +=
                memchr::memchr_iter(b'\n', &self.buf[..self.pos]).count() as u64;
            self.buf.copy_within(self.pos..self.end, 0);
            self.consumed += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            // Only reachable with lookahead larger than the buffer, which callers never ask.
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return false;
                }
                Ok(n) => {
                    self.end += n;
                    self.progress.bytes_done.store(
                        self.consumed + self.end as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    return true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.read_error = Some(e);
                    self.eof = true;
                    return false;
                }
            }
        }
    }

    /// Makes at least `n` unread bytes available unless the input ends first.
    fn ensure(&mut self, n: usize) -> bool {
        while self.end - self.pos < n {
            if !self.fill() {
                return false;
            }
        }
        true
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.buf[self.pos])
        } else {
            self.peek_slow()
        }
    }

    #[cold]
    fn peek_slow(&mut self) -> Option<u8> {
        while self.pos >= self.end {
            if !self.fill() {
                return None;
            }
        }
        Some(self.buf[self.pos])
    }

    #[inline]
    fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline]
    fn skip_ws(&mut self) -> Option<u8> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    return Some(b);
                }
                self.pos += 1;
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn offset(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    fn line(&self) -> u64 {
        let upto = self.pos.min(self.end);
        self.newlines_before + memchr::memchr_iter(b'\n', &self.buf[..upto]).count() as u64 + 1
    }

    /// A syntax error at the current position; a read error takes precedence, since it is
    /// usually why the text looks broken.
    fn error(&mut self, message: impl Into<String>) -> Stop {
        if let Some(e) = self.read_error.take() {
            return Stop::Io(e);
        }
        Stop::Syntax {
            offset: self.offset(),
            line: self.line(),
            message: message.into(),
        }
    }

    fn unexpected(&mut self, expected: &str) -> Stop {
        let found = describe_byte(self.peek());
        self.error(format!("expected {expected} but found {found}"))
    }

    /// Consumes `byte` after optional whitespace.
    #[inline]
    fn expect(&mut self, byte: u8, expected: &str) -> PResult<()> {
        if self.skip_ws() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Consumes `true`, `false` or `null` and returns it as a value.
    fn read_literal(&mut self) -> PResult<ValueRef<'static>> {
        self.ensure(5);
        let rest = &self.buf[self.pos..self.end];
        let (value, len) = if rest.starts_with(b"true") {
            (ValueRef::Bool(true), 4)
        } else if rest.starts_with(b"false") {
            (ValueRef::Bool(false), 5)
        } else if rest.starts_with(b"null") {
            (ValueRef::Null, 4)
        } else {
            return Err(self.error("invalid literal (expected true, false or null)"));
        };
        self.pos += len;
        Ok(value)
    }

    /// Reads a string (at its opening quote) and appends its decoded text to `out`.
    fn read_string(&mut self, out: &mut String) -> PResult<()> {
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        let read = self.read_string_bytes(&mut bytes);
        push_utf8(out, &bytes, &mut self.text_issue);
        self.scratch = bytes;
        read
    }

    /// Reads a string (at its opening quote) and appends its decoded bytes to `out`,
    /// unvalidated: property text is validated once per feature, which is much cheaper
    /// than once per string.
    #[inline]
    fn read_string_bytes(&mut self, out: &mut Vec<u8>) -> PResult<()> {
        self.pos += 1;
        let hay = &self.buf[self.pos..self.end];
        if let Some(i) = find_quote_or_backslash(hay)
            && hay[i] == b'"'
        {
            out.extend_from_slice(&hay[..i]);
            self.pos += i + 1;
            return Ok(());
        }
        self.read_string_slow(out)
    }

    #[cold]
    fn read_string_slow(&mut self, out: &mut Vec<u8>) -> PResult<()> {
        loop {
            let hay = &self.buf[self.pos..self.end];
            match memchr::memchr2(b'"', b'\\', hay) {
                Some(i) => {
                    let quote = hay[i] == b'"';
                    out.extend_from_slice(&hay[..i]);
                    self.pos += i + 1;
                    if quote {
                        return Ok(());
                    }
                    self.read_escape(out)?;
                }
                None => {
                    out.extend_from_slice(hay);
                    self.pos = self.end;
                    if !self.fill() {
                        return Err(self.error("unterminated string"));
                    }
                }
            }
        }
    }

    /// Skips a string (at its opening quote) without decoding it.
    fn skip_string(&mut self) -> PResult<()> {
        self.pos += 1;
        loop {
            let hay = &self.buf[self.pos..self.end];
            match memchr::memchr2(b'"', b'\\', hay) {
                Some(i) => {
                    let quote = hay[i] == b'"';
                    self.pos += i + 1;
                    if quote {
                        return Ok(());
                    }
                    if self.next_byte().is_none() {
                        return Err(self.error("unterminated string"));
                    }
                }
                None => {
                    self.pos = self.end;
                    if !self.fill() {
                        return Err(self.error("unterminated string"));
                    }
                }
            }
        }
    }

    /// Decodes one escape (after its backslash) into `out`.
    fn read_escape(&mut self, out: &mut Vec<u8>) -> PResult<()> {
        let Some(b) = self.next_byte() else {
            return Err(self.error("unterminated string"));
        };
        let simple = match b {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            return Ok(());
        }
        if b != b'u' {
            // Not JSON, but keeping the character loses less than stopping the file.
            out.push(b);
            self.text_issue
                .get_or_insert("a string has an invalid escape; kept the character after '\\'");
            return Ok(());
        }
        let ch = match self.read_hex4() {
            None => None,
            Some(hi @ 0xD800..=0xDBFF) => {
                // A high surrogate must pair with a following \uDC00-\uDFFF.
                self.ensure(6);
                let rest = &self.buf[self.pos..self.end];
                let lo = if rest.len() >= 6 && rest.starts_with(b"\\u") {
                    parse_hex4(&rest[2..6]).filter(|lo| (0xDC00..=0xDFFF).contains(lo))
                } else {
                    None
                };
                match lo {
                    Some(lo) => {
                        self.pos += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    }
                    None => None,
                }
            }
            Some(code) => char::from_u32(code),
        };
        let ch = ch.unwrap_or_else(|| {
            self.text_issue.get_or_insert(
                "a string has an invalid \\u escape or lone surrogate; replaced by U+FFFD",
            );
            char::REPLACEMENT_CHARACTER
        });
        let mut utf8 = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }

    /// Reads up to 4 hex digits; None (consuming only the hex digits) when fewer than 4.
    fn read_hex4(&mut self) -> Option<u32> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = (self.peek()? as char).to_digit(16)?;
            self.pos += 1;
            code = code * 16 + digit;
        }
        Some(code)
    }

    /// Reads a number token, including the non-JSON `NaN`, `Infinity` and `-Infinity`.
    fn read_number(&mut self) -> PResult<NumTok> {
        const WINDOW: usize = 64;
        if self.end - self.pos < WINDOW {
            self.ensure(WINDOW);
        }
        let start = self.pos;
        let s = &self.buf[start..self.end];
        let negative = s.first() == Some(&b'-');
        let mut i = usize::from(negative);
        if let Some(word) = match s.get(i) {
            Some(b'N') => Some(&b"NaN"[..]),
            Some(b'I') => Some(&b"Infinity"[..]),
            _ => None,
        } {
            if !s[i..].starts_with(word) {
                return Err(self.error("invalid number"));
            }
            let value = if word[0] == b'N' {
                f64::NAN
            } else if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            self.number_in_buf = Some(start..start + i + word.len());
            self.pos += i + word.len();
            return Ok(NumTok {
                value,
                big_int: false,
            });
        }
        let mut mantissa: u64 = 0;
        let mut digits = 0usize;
        let int_start = i;
        while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
            if digits < 19 {
                mantissa = mantissa * 10 + u64::from(d - b'0');
            }
            digits += 1;
            i += 1;
        }
        let int_digits = i - int_start;
        let mut fraction_digits = 0usize;
        if s.get(i) == Some(&b'.') {
            i += 1;
            while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
                if digits < 19 {
                    mantissa = mantissa * 10 + u64::from(d - b'0');
                    fraction_digits += 1;
                }
                digits += 1;
                i += 1;
            }
        }
        let mut exponent: i64 = 0;
        let mut has_exponent = false;
        if matches!(s.get(i), Some(b'e' | b'E')) {
            has_exponent = true;
            i += 1;
            let exp_negative = match s.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
                exponent = (exponent * 10 + i64::from(d - b'0')).min(1_000_000);
                i += 1;
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if int_digits == 0 {
            return Err(self.error("invalid number"));
        }
        if i == s.len() && !self.eof {
            // Longer than the lookahead window: rare, so take the simple slow road.
            return self.read_long_number();
        }
        let is_integer = fraction_digits == 0 && !has_exponent && digits == int_digits;
        let exact = digits <= 19;
        let power = exponent - fraction_digits as i64;
        let value = if exact && mantissa <= MAX_EXACT_INT && (-22..=22).contains(&power) {
            // Clinger's fast path: both operands are exact, so one rounding is correct.
            let m = mantissa as f64;
            let v = if power >= 0 {
                m * POW10[power as usize]
            } else {
                m / POW10[(-power) as usize]
            };
            if negative { -v } else { v }
        } else {
            match std::str::from_utf8(&s[..i])
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
            {
                Some(v) => v,
                None => return Err(self.error("invalid number")),
            }
        };
        let big_int = is_integer && (!exact || mantissa > MAX_EXACT_INT);
        self.number_in_buf = Some(start..start + i);
        self.pos += i;
        Ok(NumTok { value, big_int })
    }

    #[cold]
    fn read_long_number(&mut self) -> PResult<NumTok> {
        self.number_spill.clear();
        while let Some(b) = self.peek() {
            if !(b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
                break;
            }
            self.number_spill.push(b);
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.number_spill).unwrap_or("");
        let Ok(value) = text.parse::<f64>() else {
            return Err(self.error("invalid number"));
        };
        let big_int = text
            .trim_start_matches('-')
            .bytes()
            .all(|b| b.is_ascii_digit());
        self.number_in_buf = None;
        Ok(NumTok { value, big_int })
    }

    /// The text of the number just read.
    fn number_text(&self) -> &[u8] {
        match &self.number_in_buf {
            Some(range) => self.buf.get(range.clone()).unwrap_or_default(),
            None => &self.number_spill,
        }
    }

    /// Skips any value, however deeply nested, without recursion.
    fn skip_value(&mut self) -> PResult<()> {
        match self.skip_ws() {
            Some(b'"') => self.skip_string(),
            Some(b'[' | b'{') => {
                self.pos += 1;
                self.skip_container_rest()
            }
            Some(b't' | b'f' | b'n') => self.read_literal().map(|_| ()),
            Some(b) if is_number_start(b) => self.read_number().map(|_| ()),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    /// Skips to just past the bracket that closes the array or object we are inside.
    /// Brackets are counted, not matched: this is for values being thrown away.
    fn skip_container_rest(&mut self) -> PResult<()> {
        let mut depth: u64 = 1;
        loop {
            let hay = &self.buf[self.pos..self.end];
            let Some(i) = hay
                .iter()
                .position(|b| matches!(b, b'"' | b'[' | b'{' | b']' | b'}'))
            else {
                self.pos = self.end;
                if !self.fill() {
                    return Err(self.error("unexpected end of file inside an array or object"));
                }
                continue;
            };
            let b = hay[i];
            self.pos += i;
            match b {
                b'"' => self.skip_string()?,
                b'[' | b'{' => {
                    self.pos += 1;
                    depth += 1;
                }
                _ => {
                    self.pos += 1;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Position of the first `"` or `\\`. Most strings in GeoJSON are short keys and values, for
/// which a plain loop beats setting up a vectorised search.
#[inline]
fn find_quote_or_backslash(hay: &[u8]) -> Option<usize> {
    let short = hay.len().min(32);
    match hay[..short].iter().position(|&b| b == b'"' || b == b'\\') {
        Some(i) => Some(i),
        None => memchr::memchr2(b'"', b'\\', &hay[short..]).map(|i| i + short),
    }
}

fn parse_hex4(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |code, &b| {
        (b as char).to_digit(16).map(|d| code * 16 + d)
    })
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether a number literal our tolerant tokenizer accepted is also strict JSON.
fn is_strict_json_number(text: &[u8]) -> bool {
    let t = text.strip_prefix(b"-").unwrap_or(text);
    let int_len = t.iter().take_while(|b| b.is_ascii_digit()).count();
    if int_len == 0 || (int_len > 1 && t[0] == b'0') {
        return false;
    }
    let rest = &t[int_len..];
    let rest = match rest.strip_prefix(b".") {
        Some(frac) => {
            let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return false;
            }
            &frac[n..]
        }
        None => rest,
    };
    match rest.first() {
        None => true,
        Some(b'e' | b'E') => {
            let exp = &rest[1..];
            let exp = exp
                .strip_prefix(b"+")
                .or_else(|| exp.strip_prefix(b"-"))
                .unwrap_or(exp);
            !exp.is_empty() && exp.iter().all(u8::is_ascii_digit)
        }
        Some(_) => false,
    }
}

// ---------------------------------------------------------------------------------------
// Grammar

/// The seven geometry types that carry `coordinates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GeomType {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
}

impl GeomType {
    fn name(self) -> &'static str {
        match self {
            GeomType::Point => "Point",
            GeomType::MultiPoint => "MultiPoint",
            GeomType::LineString => "LineString",
            GeomType::MultiLineString => "MultiLineString",
            GeomType::Polygon => "Polygon",
            GeomType::MultiPolygon => "MultiPolygon",
        }
    }
}

/// The `type` member of an object.
#[derive(Debug, Clone, Default, PartialEq)]
enum ObjType {
    #[default]
    Missing,
    Feature,
    FeatureCollection,
    Geom(GeomType),
    GeometryCollection,
    Other(String),
    NotAString,
}

impl ObjType {
    fn from_name(name: &str) -> ObjType {
        match name {
            "Feature" => ObjType::Feature,
            "FeatureCollection" => ObjType::FeatureCollection,
            "Point" => ObjType::Geom(GeomType::Point),
            "MultiPoint" => ObjType::Geom(GeomType::MultiPoint),
            "LineString" => ObjType::Geom(GeomType::LineString),
            "MultiLineString" => ObjType::Geom(GeomType::MultiLineString),
            "Polygon" => ObjType::Geom(GeomType::Polygon),
            "MultiPolygon" => ObjType::Geom(GeomType::MultiPolygon),
            "GeometryCollection" => ObjType::GeometryCollection,
            other => ObjType::Other(other.to_owned()),
        }
    }

    fn is_geometry(&self) -> bool {
        matches!(self, ObjType::Geom(_) | ObjType::GeometryCollection)
    }
}

/// Member names the reader acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Type,
    Features,
    Geometry,
    Properties,
    Coordinates,
    Geometries,
    Name,
    OnemapKind,
    Crs,
    Other,
}

impl Key {
    fn from_bytes(b: &[u8]) -> Key {
        match b {
            b"type" => Key::Type,
            b"features" => Key::Features,
            b"geometry" => Key::Geometry,
            b"properties" => Key::Properties,
            b"coordinates" => Key::Coordinates,
            b"geometries" => Key::Geometries,
            b"name" => Key::Name,
            b"onemap_kind" => Key::OnemapKind,
            b"crs" => Key::Crs,
            _ => Key::Other,
        }
    }
}

/// Which object is being parsed: decides which members matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Feature,
    Geometry,
}

/// Nested coordinate arrays as read, before the geometry type says what they mean (the
/// `type` member may come after `coordinates`).
#[derive(Debug)]
enum Coords {
    Empty,
    Position(Coord<f64>),
    Positions(Vec<Coord<f64>>),
    Nested(Vec<Coords>),
}

/// The `geometry` member of a feature.
enum GeomSlot {
    Null,
    /// Unusable; the reason is in `Parser::geom_problem`.
    Bad,
    Good(Geometry<f64>),
}

/// Members of one object, gathered in whatever order they come.
#[derive(Default)]
struct Parts {
    kind: ObjType,
    geometry: Option<GeomSlot>,
    coordinates: Option<Coords>,
    geometries: Option<Vec<Geometry<f64>>>,
    has_features: bool,
}

/// One property value of the feature being read; text lives in `Props::arena`.
#[derive(Debug, Clone)]
enum PropValue {
    Null,
    Bool(bool),
    Number(f64),
    Text(Range<usize>),
    Json(Range<usize>),
}

/// The properties of the feature being read, reused from feature to feature so that
/// reading allocates nothing per feature.
#[derive(Default)]
struct Props {
    /// Keys and text of the feature's properties, back to back, validated as UTF-8 once
    /// the feature is complete.
    arena: Vec<u8>,
    entries: Vec<(Range<usize>, PropValue)>,
}

impl Props {
    fn clear(&mut self) {
        self.arena.clear();
        self.entries.clear();
    }

    /// Whether the arena is UTF-8 and every key and text starts and ends on a character.
    fn text_is_valid(&self) -> bool {
        let Ok(text) = std::str::from_utf8(&self.arena) else {
            return false;
        };
        let on_chars =
            |r: &Range<usize>| text.is_char_boundary(r.start) && text.is_char_boundary(r.end);
        self.entries.iter().all(|(key, value)| {
            on_chars(key)
                && match value {
                    PropValue::Text(r) | PropValue::Json(r) => on_chars(r),
                    _ => true,
                }
        })
    }

    /// Replaces invalid UTF-8 in each key and text by U+FFFD, rebuilding the arena.
    #[cold]
    fn repair_text(&mut self) {
        let old = std::mem::take(&mut self.arena);
        let copy = |r: &mut Range<usize>, arena: &mut Vec<u8>| {
            let fixed = String::from_utf8_lossy(old.get(r.clone()).unwrap_or_default());
            let start = arena.len();
            arena.extend_from_slice(fixed.as_bytes());
            *r = start..arena.len();
        };
        for (key, value) in &mut self.entries {
            copy(key, &mut self.arena);
            if let PropValue::Text(r) | PropValue::Json(r) = value {
                copy(r, &mut self.arena);
            }
        }
    }
}

/// Collected warnings, capped (see [`MAX_LISTED_WARNINGS`]).
struct Warnings {
    listed: Vec<LoadWarning>,
    unlisted: usize,
    first_unlisted: Option<usize>,
}

struct Parser<'p, R> {
    src: Source<'p, R>,
    path: &'p Path,
    progress: &'p Progress,
    layer: Layer,
    warnings: Warnings,
    /// Features met in the `features` array so far (kept or not).
    features_seen: usize,
    dropped: usize,
    /// The feature being read, for messages about syntax errors inside it.
    current_feature: Option<usize>,
    props: Props,
    /// Non-fatal remarks about the feature being read.
    notes: Vec<String>,
    /// Why the geometry being read is unusable (first reason only).
    geom_problem: Option<String>,
    /// First position of the current feature outside lon/lat range.
    out_of_range: Option<Coord<f64>>,
    positions: Vec<Coord<f64>>,
    key_buf: String,
    layer_name: Option<String>,
    kind_key: Option<String>,
    top_kind: ObjType,
}

impl<'p, R: Read> Parser<'p, R> {
    fn new(path: &'p Path, reader: R, progress: &'p Progress) -> Self {
        Parser {
            src: Source::new(reader, progress),
            path,
            progress,
            layer: Layer::default(),
            warnings: Warnings {
                listed: Vec::new(),
                unlisted: 0,
                first_unlisted: None,
            },
            features_seen: 0,
            dropped: 0,
            current_feature: None,
            props: Props::default(),
            notes: Vec::new(),
            geom_problem: None,
            out_of_range: None,
            positions: Vec::new(),
            key_buf: String::new(),
            layer_name: None,
            kind_key: None,
            top_kind: ObjType::Missing,
        }
    }

    fn warn(&mut self, feature: Option<usize>, message: String) {
        if self.warnings.listed.len() < MAX_LISTED_WARNINGS {
            self.warnings.listed.push(LoadWarning {
                file: self.path.to_owned(),
                feature,
                message,
            });
        } else {
            self.warnings.unlisted += 1;
            if self.warnings.first_unlisted.is_none() {
                self.warnings.first_unlisted = feature;
            }
        }
    }

    fn problem(&mut self, message: impl Into<String>) {
        if self.geom_problem.is_none() {
            self.geom_problem = Some(message.into());
        }
    }

    // ---- document level

    fn parse_document(&mut self) -> PResult<()> {
        self.src.ensure(4096);
        let head = &self.src.buf[..self.src.end];
        if head.is_empty() {
            return Err(self.not_json("empty file (0 bytes)"));
        }
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.src.pos = 3;
        } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
            return Err(self.not_json(
                "not a GeoJSON/JSON text file: the text is UTF-16 encoded; save it as UTF-8",
            ));
        }
        // Invalid UTF-8 alone is not binary (GBK text is common); NULs and control bytes are.
        let head = &self.src.buf[self.src.pos..self.src.end];
        let control_bytes = head
            .iter()
            .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) || b == 0x7F)
            .count();
        if head.contains(&0) || control_bytes > 8 {
            return Err(self.not_json("not a GeoJSON/JSON text file (it holds binary data)"));
        }
        match self.src.skip_ws() {
            None => Err(self.not_json("empty file (only whitespace)")),
            Some(b'{') => {
                let parts = self.parse_object(Ctx::Top, 0)?;
                self.finish_top(parts)?;
                self.check_trailing();
                Ok(())
            }
            Some(b'[') => {
                self.warn(
                    None,
                    "the file is a bare JSON array, not a FeatureCollection; \
                     read its elements as features"
                        .into(),
                );
                self.parse_features(1)?;
                self.check_trailing();
                Ok(())
            }
            Some(_) => {
                let start = self.src.pos;
                let head = &self.src.buf[start..self.src.end.min(start + 24)];
                let shown = String::from_utf8_lossy(head).replace(['\n', '\r'], " ");
                Err(self.not_json(&format!(
                    "not a GeoJSON/JSON text file: it starts with \"{shown}\""
                )))
            }
        }
    }

    fn not_json(&mut self, message: &str) -> Stop {
        match self.src.read_error.take() {
            Some(e) => Stop::Io(e),
            None => Stop::NotJson(message.to_owned()),
        }
    }

    fn check_trailing(&mut self) {
        if self.src.skip_ws().is_some() {
            let (offset, line) = (self.src.offset(), self.src.line());
            self.warn(
                None,
                format!(
                    "ignored data after the end of the GeoJSON text at byte {offset} (line {line})"
                ),
            );
        }
    }

    /// Acts on the top-level object once all its members are known.
    fn finish_top(&mut self, mut parts: Parts) -> PResult<()> {
        self.top_kind = parts.kind.clone();
        match parts.kind.clone() {
            ObjType::FeatureCollection => {
                if !parts.has_features {
                    self.warn(
                        None,
                        "the FeatureCollection has no \"features\" member; the layer is empty"
                            .into(),
                    );
                }
            }
            _ if parts.has_features => {}
            ObjType::Feature => {
                self.warn(
                    Some(0),
                    "the file holds a single Feature, not a FeatureCollection; \
                     read it as a one-feature layer"
                        .into(),
                );
                self.features_seen = 1;
                self.finish_feature(0, parts);
            }
            kind if kind.is_geometry() => {
                self.warn(
                    Some(0),
                    "the file holds a bare geometry, not a FeatureCollection; \
                     read it as one feature without properties"
                        .into(),
                );
                self.features_seen = 1;
                parts.geometry = None;
                self.props.clear();
                self.finish_feature(0, parts);
            }
            ObjType::Missing if parts.geometry.is_some() => {
                self.warn(
                    Some(0),
                    "the top-level object has no \"type\"; read it as a single Feature".into(),
                );
                self.features_seen = 1;
                self.finish_feature(0, parts);
            }
            ObjType::Missing | ObjType::NotAString => {
                return Err(Stop::NotJson(
                    "not GeoJSON: the top-level object has no \"type\" member".into(),
                ));
            }
            ObjType::Other(name) => {
                return Err(Stop::NotJson(format!(
                    "not GeoJSON: unknown top-level type \"{name}\""
                )));
            }
            ObjType::Geom(_) | ObjType::GeometryCollection => {}
        }
        Ok(())
    }

    /// Parses an object (at its `{`), acting on the members that matter in `ctx`.
    fn parse_object(&mut self, ctx: Ctx, depth: usize) -> PResult<Parts> {
        self.src.pos += 1;
        let mut parts = Parts::default();
        if self.src.skip_ws() == Some(b'}') {
            self.src.pos += 1;
            return Ok(parts);
        }
        loop {
            if self.src.skip_ws() != Some(b'"') {
                return Err(self.src.unexpected("a member name in quotes"));
            }
            let key = self.read_key()?;
            self.src.expect(b':', "':' after a member name")?;
            let next = self.src.skip_ws();
            match (key, ctx) {
                (Key::Type, _) => {
                    if next == Some(b'"') {
                        let mut name = std::mem::take(&mut self.key_buf);
                        name.clear();
                        self.src.read_string(&mut name)?;
                        parts.kind = ObjType::from_name(&name);
                        self.key_buf = name;
                    } else {
                        parts.kind = ObjType::NotAString;
                        self.src.skip_value()?;
                    }
                }
                (Key::Features, Ctx::Top) => {
                    parts.has_features = true;
                    match next {
                        Some(b'[') => self.parse_features(depth + 1)?,
                        Some(b'n') => self.src.skip_value()?,
                        other => {
                            self.warn(
                                None,
                                format!(
                                    "\"features\" is {}, not an array; no features read",
                                    value_kind(other)
                                ),
                            );
                            self.src.skip_value()?;
                        }
                    }
                }
                (Key::Geometry, Ctx::Top | Ctx::Feature) => {
                    parts.geometry = Some(self.parse_geometry_value(depth + 1)?);
                }
                (Key::Properties, Ctx::Top | Ctx::Feature) => self.parse_properties(depth + 1)?,
                (Key::Coordinates, _) => {
                    parts.coordinates = Some(self.parse_coords(depth + 1)?);
                }
                (Key::Geometries, _) => {
                    parts.geometries = Some(self.parse_geometry_list(depth + 1)?);
                }
                (Key::Name, Ctx::Top) if next == Some(b'"') => {
                    let mut name = String::new();
                    self.src.read_string(&mut name)?;
                    self.layer_name = Some(name);
                }
                (Key::OnemapKind, Ctx::Top) if next == Some(b'"') => {
                    let mut kind = String::new();
                    self.src.read_string(&mut kind)?;
                    self.kind_key = Some(kind);
                }
                (Key::Crs, Ctx::Top) => {
                    let mut text = String::new();
                    self.write_json(&mut text, depth + 1)?;
                    self.check_crs(&text);
                }
                _ => self.src.skip_value()?,
            }
            match self.src.skip_ws() {
                Some(b',') => {
                    self.src.pos += 1;
                    if self.src.skip_ws() == Some(b'}') {
                        self.src.pos += 1;
                        return Ok(parts);
                    }
                }
                Some(b'}') => {
                    self.src.pos += 1;
                    return Ok(parts);
                }
                _ => return Err(self.src.unexpected("',' or '}' in an object")),
            }
        }
    }

    fn read_key(&mut self) -> PResult<Key> {
        // Fast path: the name is whole in the buffer and has no escapes.
        let start = self.src.pos + 1;
        let hay = &self.src.buf[start..self.src.end];
        if let Some(i) = find_quote_or_backslash(hay)
            && hay[i] == b'"'
        {
            let key = Key::from_bytes(&hay[..i]);
            self.src.pos = start + i + 1;
            return Ok(key);
        }
        let mut name = std::mem::take(&mut self.key_buf);
        name.clear();
        let read = self.src.read_string(&mut name);
        let key = Key::from_bytes(name.as_bytes());
        self.key_buf = name;
        read.map(|()| key)
    }

    fn check_crs(&mut self, text: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        if value.is_null() {
            return;
        }
        let name = value
            .pointer("/properties/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let upper = name.to_uppercase();
        let wgs84_like = ["CRS84", "4326", "WGS84", "WGS 84", "4490", "CGCS2000"]
            .iter()
            .any(|w| upper.contains(w));
        if !wgs84_like {
            let shown = if name.is_empty() { text } else { name };
            self.warn(
                None,
                format!(
                    "the file declares the coordinate system {shown}; OneMap reads GeoJSON as \
                     WGS84 longitude/latitude (RFC 7946), so positions may be wrong"
                ),
            );
        }
    }

    // ---- features

    /// Parses the `features` array (at its `[`), adding each good feature to the layer.
    fn parse_features(&mut self, depth: usize) -> PResult<()> {
        self.src.pos += 1;
        if self.src.skip_ws() == Some(b']') {
            self.src.pos += 1;
            return Ok(());
        }
        loop {
            let index = self.features_seen;
            self.current_feature = Some(index);
            match self.src.skip_ws() {
                Some(b'{') => {
                    self.begin_feature();
                    let parts = self.parse_object(Ctx::Feature, depth + 1)?;
                    self.finish_feature(index, parts);
                }
                other => {
                    self.warn(
                        Some(index),
                        format!(
                            "the feature is {}, not an object; skipped it",
                            value_kind(other)
                        ),
                    );
                    self.dropped += 1;
                    self.src.skip_value()?;
                }
            }
            self.features_seen += 1;
            if self.features_seen.is_multiple_of(CANCEL_CHECK_EVERY) && self.progress.is_cancelled()
            {
                return Err(Stop::Cancelled);
            }
            match self.src.skip_ws() {
                Some(b',') => {
                    self.src.pos += 1;
                    if self.src.skip_ws() == Some(b']') {
                        self.src.pos += 1;
                        break;
                    }
                }
                Some(b']') => {
                    self.src.pos += 1;
                    break;
                }
                _ => return Err(self.src.unexpected("',' or ']' after a feature")),
            }
        }
        self.current_feature = None;
        Ok(())
    }

    fn begin_feature(&mut self) {
        self.props.clear();
        self.notes.clear();
        self.geom_problem = None;
        self.out_of_range = None;
    }

    /// Keeps the feature if its geometry is usable, else records why it was dropped.
    fn finish_feature(&mut self, index: usize, mut parts: Parts) {
        let slot = if parts.kind.is_geometry() {
            if !matches!(
                self.top_kind,
                ObjType::Geom(_) | ObjType::GeometryCollection
            ) || self.current_feature.is_some()
            {
                self.notes.push(
                    "the feature is a bare geometry, not a Feature; read it without properties"
                        .into(),
                );
                self.props.clear();
            }
            Some(self.build_geometry(&mut parts))
        } else {
            match &parts.kind {
                ObjType::Other(name) => {
                    self.problem(format!(
                        "unknown type \"{name}\" (expected \"Feature\"); dropped the feature"
                    ));
                    Some(GeomSlot::Bad)
                }
                ObjType::FeatureCollection => {
                    self.problem("a FeatureCollection inside a FeatureCollection; dropped it");
                    Some(GeomSlot::Bad)
                }
                _ => parts.geometry.take(),
            }
        };
        let geometry = match slot {
            None => {
                self.problem("the feature has no \"geometry\" member; dropped it");
                None
            }
            Some(GeomSlot::Null) => {
                self.problem("the geometry is null; dropped the feature");
                None
            }
            Some(GeomSlot::Bad) => None,
            Some(GeomSlot::Good(g)) => Some(g),
        };
        if let Some(issue) = self.src.text_issue.take() {
            self.notes.push(issue.to_owned());
        }
        let geometry = match (geometry, self.geom_problem.take(), self.out_of_range.take()) {
            (Some(g), None, None) => g,
            (_, Some(problem), _) => {
                self.drop_feature(index, problem);
                return;
            }
            (_, None, Some(c)) => {
                self.drop_feature(
                    index,
                    format!(
                        "coordinate ({}, {}) is outside longitude [-180, 180] / latitude \
                         [-90, 90]: the file probably holds projected coordinates (metres, e.g. \
                         UTM or Web Mercator), but GeoJSON must be WGS84 longitude/latitude; \
                         dropped the feature",
                        c.x, c.y
                    ),
                );
                return;
            }
            (None, None, None) => {
                self.drop_feature(
                    index,
                    "the geometry is unusable; dropped the feature".into(),
                );
                return;
            }
        };
        self.layer.geometries.push(geometry);
        self.layer
            .source_index
            .push(u32::try_from(index).unwrap_or(u32::MAX));
        if !self.props.text_is_valid() {
            self.props.repair_text();
            if !self.notes.iter().any(|n| n == INVALID_UTF8) {
                self.notes.push(INVALID_UTF8.to_owned());
            }
        }
        let arena = std::str::from_utf8(&self.props.arena).unwrap_or_default();
        self.layer
            .attributes
            .push_row(self.props.entries.iter().map(|(key, value)| {
                let key = arena.get(key.clone()).unwrap_or_default();
                let value = match value {
                    PropValue::Null => ValueRef::Null,
                    PropValue::Bool(b) => ValueRef::Bool(*b),
                    PropValue::Number(n) => ValueRef::Number(*n),
                    PropValue::Text(r) => ValueRef::Text(arena.get(r.clone()).unwrap_or_default()),
                    PropValue::Json(r) => ValueRef::Json(arena.get(r.clone()).unwrap_or_default()),
                };
                (key, value)
            }));
        let notes = std::mem::take(&mut self.notes);
        for note in &notes {
            self.warn(Some(index), note.clone());
        }
        self.notes = notes;
    }

    fn drop_feature(&mut self, index: usize, message: String) {
        self.dropped += 1;
        self.warn(Some(index), message);
    }

    // ---- properties

    fn parse_properties(&mut self, depth: usize) -> PResult<()> {
        self.props.clear();
        match self.src.skip_ws() {
            Some(b'n') => {
                self.src.read_literal()?;
                return Ok(());
            }
            Some(b'{') => {}
            other => {
                self.notes.push(format!(
                    "\"properties\" is {}, not an object; read the feature without properties",
                    value_kind(other)
                ));
                return self.src.skip_value();
            }
        }
        self.src.pos += 1;
        if self.src.skip_ws() == Some(b'}') {
            self.src.pos += 1;
            return Ok(());
        }
        loop {
            if self.src.skip_ws() != Some(b'"') {
                return Err(self.src.unexpected("a property name in quotes"));
            }
            let key_start = self.props.arena.len();
            self.src.read_string_bytes(&mut self.props.arena)?;
            let key = key_start..self.props.arena.len();
            self.src.expect(b':', "':' after a property name")?;
            let value = match self.src.skip_ws() {
                Some(b'"') => {
                    let start = self.props.arena.len();
                    self.src.read_string_bytes(&mut self.props.arena)?;
                    PropValue::Text(start..self.props.arena.len())
                }
                Some(b) if is_number_start(b) => {
                    let number = self.src.read_number()?;
                    if !number.value.is_finite() {
                        let name = String::from_utf8_lossy(
                            self.props.arena.get(key.clone()).unwrap_or_default(),
                        );
                        self.notes.push(format!(
                            "property \"{name}\" is NaN, Infinity or beyond the f64 range \
                             (such as 1e400); stored as null"
                        ));
                        PropValue::Null
                    } else if number.big_int {
                        let start = self.props.arena.len();
                        self.props.arena.extend_from_slice(self.src.number_text());
                        PropValue::Text(start..self.props.arena.len())
                    } else {
                        PropValue::Number(number.value)
                    }
                }
                Some(b't' | b'f' | b'n') => match self.src.read_literal()? {
                    ValueRef::Bool(b) => PropValue::Bool(b),
                    _ => PropValue::Null,
                },
                Some(b'[' | b'{') => {
                    let mut text = String::new();
                    self.write_json(&mut text, depth + 1)?;
                    let start = self.props.arena.len();
                    self.props.arena.extend_from_slice(text.as_bytes());
                    PropValue::Json(start..self.props.arena.len())
                }
                _ => return Err(self.src.unexpected("a property value")),
            };
            self.props.entries.push((key, value));
            match self.src.skip_ws() {
                Some(b',') => {
                    self.src.pos += 1;
                    if self.src.skip_ws() == Some(b'}') {
                        self.src.pos += 1;
                        return Ok(());
                    }
                }
                Some(b'}') => {
                    self.src.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.src.unexpected("',' or '}' in properties")),
            }
        }
    }

    /// Re-writes any JSON value as compact, strict JSON text (non-finite numbers become
    /// null), for nested property values and the `crs` member.
    fn write_json(&mut self, out: &mut String, depth: usize) -> PResult<()> {
        let next = self.src.skip_ws();
        match next {
            Some(open @ (b'[' | b'{')) => {
                if depth > MAX_DEPTH {
                    self.notes.push(format!(
                        "a property value is nested deeper than {MAX_DEPTH} levels; \
                         stored that part as null"
                    ));
                    out.push_str("null");
                    return self.src.skip_value();
                }
                let is_object = open == b'{';
                let close = if is_object { b'}' } else { b']' };
                self.src.pos += 1;
                out.push(open as char);
                if self.src.skip_ws() == Some(close) {
                    self.src.pos += 1;
                    out.push(close as char);
                    return Ok(());
                }
                loop {
                    if is_object {
                        if self.src.skip_ws() != Some(b'"') {
                            return Err(self.src.unexpected("a member name in quotes"));
                        }
                        let mut name = std::mem::take(&mut self.key_buf);
                        name.clear();
                        let read = self.src.read_string(&mut name);
                        push_json_string(out, &name);
                        self.key_buf = name;
                        read?;
                        self.src.expect(b':', "':' after a member name")?;
                        out.push(':');
                    }
                    self.write_json(out, depth + 1)?;
                    match self.src.skip_ws() {
                        Some(b',') => {
                            self.src.pos += 1;
                            if self.src.skip_ws() == Some(close) {
                                self.src.pos += 1;
                                break;
                            }
                            out.push(',');
                        }
                        Some(b) if b == close => {
                            self.src.pos += 1;
                            break;
                        }
                        _ => {
                            let expected = if is_object {
                                "',' or '}' in an object"
                            } else {
                                "',' or ']' in an array"
                            };
                            return Err(self.src.unexpected(expected));
                        }
                    }
                }
                out.push(close as char);
                Ok(())
            }
            Some(b'"') => {
                let mut text = std::mem::take(&mut self.key_buf);
                text.clear();
                let read = self.src.read_string(&mut text);
                push_json_string(out, &text);
                self.key_buf = text;
                read
            }
            Some(b't' | b'f' | b'n') => {
                let literal = self.src.read_literal()?;
                out.push_str(match literal {
                    ValueRef::Bool(true) => "true",
                    ValueRef::Bool(false) => "false",
                    _ => "null",
                });
                Ok(())
            }
            Some(b) if is_number_start(b) => {
                let number = self.src.read_number()?;
                if !number.value.is_finite() {
                    self.notes.push(
                        "a nested property value holds NaN, Infinity or a number beyond the f64 \
                         range; stored it as null"
                            .into(),
                    );
                    out.push_str("null");
                } else if is_strict_json_number(self.src.number_text()) {
                    out.push_str(std::str::from_utf8(self.src.number_text()).unwrap_or("null"));
                } else {
                    out.push_str(&format!("{:?}", number.value));
                }
                Ok(())
            }
            _ => Err(self.src.unexpected("a JSON value")),
        }
    }

    // ---- geometry

    /// Parses the value of a `geometry` member (or an element of `geometries`).
    fn parse_geometry_value(&mut self, depth: usize) -> PResult<GeomSlot> {
        match self.src.skip_ws() {
            Some(b'n') => {
                self.src.read_literal()?;
                Ok(GeomSlot::Null)
            }
            Some(b'{') if depth <= MAX_DEPTH => {
                let mut parts = self.parse_object(Ctx::Geometry, depth)?;
                Ok(self.build_geometry(&mut parts))
            }
            Some(b'{') => {
                self.problem(format!(
                    "geometry nested deeper than {MAX_DEPTH} levels; dropped the feature"
                ));
                self.src.skip_value()?;
                Ok(GeomSlot::Bad)
            }
            other => {
                self.problem(format!(
                    "the geometry is {}, not an object; dropped the feature",
                    value_kind(other)
                ));
                self.src.skip_value()?;
                Ok(GeomSlot::Bad)
            }
        }
    }

    fn parse_geometry_list(&mut self, depth: usize) -> PResult<Vec<Geometry<f64>>> {
        let mut list = Vec::new();
        let next = self.src.skip_ws();
        if next != Some(b'[') {
            self.problem(format!(
                "\"geometries\" is {}, not an array; dropped the feature",
                value_kind(next)
            ));
            self.src.skip_value()?;
            return Ok(list);
        }
        self.src.pos += 1;
        if self.src.skip_ws() == Some(b']') {
            self.src.pos += 1;
            return Ok(list);
        }
        loop {
            match self.parse_geometry_value(depth + 1)? {
                GeomSlot::Good(g) => list.push(g),
                GeomSlot::Null => {
                    self.problem("a GeometryCollection member is null; dropped the feature")
                }
                GeomSlot::Bad => {}
            }
            match self.src.skip_ws() {
                Some(b',') => self.src.pos += 1,
                Some(b']') => {
                    self.src.pos += 1;
                    return Ok(list);
                }
                _ => return Err(self.src.unexpected("',' or ']' in \"geometries\"")),
            }
        }
    }

    /// Parses a `coordinates` value of any nesting.
    fn parse_coords(&mut self, depth: usize) -> PResult<Coords> {
        let next = self.src.skip_ws();
        if next != Some(b'[') {
            self.problem(format!(
                "\"coordinates\" is {}, not an array; dropped the feature",
                value_kind(next)
            ));
            self.src.skip_value()?;
            return Ok(Coords::Empty);
        }
        self.src.pos += 1;
        self.parse_array_body(depth)
    }

    /// Parses the rest of a coordinate array after its `[`.
    fn parse_array_body(&mut self, depth: usize) -> PResult<Coords> {
        match self.src.skip_ws() {
            Some(b']') => {
                self.src.pos += 1;
                Ok(Coords::Empty)
            }
            Some(b) if is_number_start(b) => Ok(Coords::Position(self.parse_position_rest()?)),
            Some(b'[') if depth >= MAX_DEPTH => {
                self.problem(format!(
                    "coordinates nested deeper than {MAX_DEPTH} levels; dropped the feature"
                ));
                self.src.skip_container_rest()?;
                Ok(Coords::Empty)
            }
            Some(b'[') => {
                self.src.pos += 1;
                let first_is_position = self.src.skip_ws().is_some_and(is_number_start);
                if first_is_position {
                    self.parse_positions()
                } else {
                    let first = self.parse_array_body(depth + 1)?;
                    let mut children = vec![first];
                    loop {
                        match self.src.skip_ws() {
                            Some(b',') => {
                                self.src.pos += 1;
                                children.push(self.parse_coords(depth + 1)?);
                            }
                            Some(b']') => {
                                self.src.pos += 1;
                                return Ok(Coords::Nested(children));
                            }
                            _ => return Err(self.src.unexpected("',' or ']' in coordinates")),
                        }
                    }
                }
            }
            other => {
                self.problem(format!(
                    "coordinates hold {} where a number or an array was expected; \
                     dropped the feature",
                    value_kind(other)
                ));
                self.src.skip_container_rest()?;
                Ok(Coords::Empty)
            }
        }
    }

    /// Parses an array of positions whose first `[` has been consumed and whose first
    /// position starts next; consumes the closing `]`.
    fn parse_positions(&mut self) -> PResult<Coords> {
        self.positions.clear();
        let first = self.parse_position_rest()?;
        self.positions.push(first);
        loop {
            match self.src.skip_ws() {
                Some(b',') => {
                    self.src.pos += 1;
                    if self.src.skip_ws() != Some(b'[') {
                        let found = value_kind(self.src.peek());
                        self.problem(format!(
                            "coordinates hold {found} where a position was expected; \
                             dropped the feature"
                        ));
                        self.src.skip_value()?;
                        continue;
                    }
                    self.src.pos += 1;
                    match self.src.skip_ws() {
                        Some(b) if is_number_start(b) => {
                            let c = self.parse_position_rest()?;
                            self.positions.push(c);
                        }
                        other => {
                            self.problem(format!(
                                "a position holds {} instead of numbers (mixed nesting); \
                                 dropped the feature",
                                if other == Some(b']') {
                                    "nothing"
                                } else {
                                    value_kind(other)
                                }
                            ));
                            self.src.skip_container_rest()?;
                        }
                    }
                }
                Some(b']') => {
                    self.src.pos += 1;
                    return Ok(Coords::Positions(self.positions.as_slice().to_vec()));
                }
                _ => return Err(self.src.unexpected("',' or ']' between positions")),
            }
        }
    }

    /// Parses a position after its `[`, at its first number; consumes the closing `]`.
    /// Extra numbers (altitude, measure) are read and ignored.
    #[inline]
    fn parse_position_rest(&mut self) -> PResult<Coord<f64>> {
        let x = self.src.read_number()?.value;
        let mut y = f64::NAN;
        let mut count = 1;
        loop {
            match self.src.skip_ws() {
                Some(b',') => {
                    self.src.pos += 1;
                    match self.src.skip_ws() {
                        Some(b) if is_number_start(b) => {
                            let n = self.src.read_number()?.value;
                            if count == 1 {
                                y = n;
                            }
                            count += 1;
                        }
                        other => {
                            self.problem(format!(
                                "a position holds {} where a number was expected; \
                                 dropped the feature",
                                value_kind(other)
                            ));
                            self.src.skip_container_rest()?;
                            return Ok(Coord { x, y });
                        }
                    }
                }
                Some(b']') => {
                    self.src.pos += 1;
                    break;
                }
                _ => return Err(self.src.unexpected("',' or ']' in a position")),
            }
        }
        let c = Coord { x, y };
        if count < 2 {
            self.problem("a position has fewer than 2 numbers; dropped the feature");
        } else if !x.is_finite() || !y.is_finite() {
            self.problem(format!(
                "a coordinate is NaN, Infinity or beyond the f64 range (such as 1e400): \
                 [{x}, {y}]; dropped the feature"
            ));
        } else if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
            self.out_of_range.get_or_insert(c);
        }
        Ok(c)
    }

    /// Builds the geometry an object describes, or records why it cannot.
    fn build_geometry(&mut self, parts: &mut Parts) -> GeomSlot {
        let result = match &parts.kind {
            ObjType::Geom(t) => match parts.coordinates.take() {
                None => Err(format!(
                    "the {} has no \"coordinates\" member; dropped the feature",
                    t.name()
                )),
                Some(_) if self.geom_problem.is_some() => return GeomSlot::Bad,
                Some(coords) => self.build_from_coords(*t, coords),
            },
            ObjType::GeometryCollection => match parts.geometries.take() {
                None => Err(
                    "the GeometryCollection has no \"geometries\" member; dropped the feature"
                        .to_owned(),
                ),
                Some(_) if self.geom_problem.is_some() => return GeomSlot::Bad,
                Some(list) if list.is_empty() => {
                    Err("empty GeometryCollection; dropped the feature".to_owned())
                }
                Some(list) => Ok(Geometry::GeometryCollection(GeometryCollection(list))),
            },
            ObjType::Missing => {
                Err("the geometry has no \"type\" member; dropped the feature".to_owned())
            }
            ObjType::NotAString => {
                Err("the geometry's \"type\" is not a string; dropped the feature".to_owned())
            }
            ObjType::Other(name) => Err(format!(
                "unknown geometry type \"{name}\"; dropped the feature"
            )),
            ObjType::Feature | ObjType::FeatureCollection => Err(
                "the geometry is a Feature or FeatureCollection, not a geometry; \
                 dropped the feature"
                    .to_owned(),
            ),
        };
        match result {
            Ok(g) => GeomSlot::Good(g),
            Err(message) => {
                self.problem(message);
                GeomSlot::Bad
            }
        }
    }

    fn build_from_coords(&mut self, t: GeomType, coords: Coords) -> Result<Geometry<f64>, String> {
        let name = t.name();
        if matches!(coords, Coords::Empty) {
            return Err(format!(
                "empty {name} (no coordinates); dropped the feature"
            ));
        }
        let shape_error = || {
            let expected = match t {
                GeomType::Point => "one position [lon, lat]",
                GeomType::MultiPoint | GeomType::LineString => "an array of positions",
                GeomType::MultiLineString => "an array of arrays of positions",
                GeomType::Polygon => "an array of rings (arrays of positions)",
                GeomType::MultiPolygon => "an array of polygons (arrays of rings)",
            };
            format!("{name} coordinates must be {expected}; dropped the feature")
        };
        match (t, coords) {
            (GeomType::Point, Coords::Position(c)) => Ok(Geometry::Point(Point(c))),
            (GeomType::MultiPoint, Coords::Positions(v)) => Ok(Geometry::MultiPoint(MultiPoint(
                v.into_iter().map(Point).collect(),
            ))),
            (GeomType::LineString, Coords::Positions(v)) => {
                if v.len() < 2 {
                    Err("the LineString has fewer than 2 positions; dropped the feature".into())
                } else {
                    Ok(Geometry::LineString(LineString(v)))
                }
            }
            (GeomType::MultiLineString, Coords::Nested(children)) => {
                let mut lines = Vec::new();
                for (k, child) in children.into_iter().enumerate() {
                    match child {
                        Coords::Positions(v) if v.len() >= 2 => lines.push(LineString(v)),
                        Coords::Positions(_) | Coords::Empty => self.notes.push(format!(
                            "MultiLineString line {k} has fewer than 2 positions; dropped that line"
                        )),
                        _ => return Err(shape_error()),
                    }
                }
                if lines.is_empty() {
                    Err("the MultiLineString has no line with 2 or more positions; \
                         dropped the feature"
                        .into())
                } else {
                    Ok(Geometry::MultiLineString(MultiLineString(lines)))
                }
            }
            (GeomType::Polygon, Coords::Nested(rings)) => {
                match self.build_polygon(rings, "Polygon") {
                    Ok(p) => Ok(Geometry::Polygon(p)),
                    Err(e) => Err(e.unwrap_or_else(shape_error)),
                }
            }
            (GeomType::MultiPolygon, Coords::Nested(children)) => {
                let mut polygons = Vec::new();
                for (k, child) in children.into_iter().enumerate() {
                    let label = format!("MultiPolygon part {k}");
                    let rings = match child {
                        Coords::Nested(rings) => rings,
                        Coords::Empty => Vec::new(),
                        _ => return Err(shape_error()),
                    };
                    match self.build_polygon(rings, &label) {
                        Ok(p) => polygons.push(p),
                        Err(None) => return Err(shape_error()),
                        Err(Some(e)) => self.notes.push(e.replace("the feature", "that part")),
                    }
                }
                if polygons.is_empty() {
                    Err("the MultiPolygon has no usable polygon; dropped the feature".into())
                } else {
                    Ok(Geometry::MultiPolygon(MultiPolygon(polygons)))
                }
            }
            _ => Err(shape_error()),
        }
    }

    /// Builds a polygon from rings, closing open rings and dropping degenerate holes.
    /// `Err(None)` means the nesting is wrong; `Err(Some(..))` says what else is.
    fn build_polygon(
        &mut self,
        rings: Vec<Coords>,
        label: &str,
    ) -> Result<Polygon<f64>, Option<String>> {
        if rings.is_empty() {
            return Err(Some(format!(
                "empty {label} (no rings); dropped the feature"
            )));
        }
        let mut exterior = None;
        let mut holes = Vec::new();
        for (k, ring) in rings.into_iter().enumerate() {
            let mut ring = match ring {
                Coords::Positions(v) => v,
                Coords::Empty => Vec::new(),
                _ => return Err(None),
            };
            let what = if k == 0 {
                "exterior ring".to_owned()
            } else {
                format!("hole {k}")
            };
            if !has_three_distinct(&ring) {
                if k == 0 {
                    return Err(Some(format!(
                        "{label} {what} has fewer than 3 distinct positions (degenerate); \
                         dropped the feature"
                    )));
                }
                self.notes.push(format!(
                    "{label} {what} has fewer than 3 distinct positions (degenerate); dropped that hole"
                ));
                continue;
            }
            if let (Some(first), Some(last)) = (ring.first().copied(), ring.last().copied())
                && first != last
            {
                ring.push(first);
                self.notes
                    .push(format!("{label} {what} was not closed; closed it"));
            }
            if k == 0 {
                exterior = Some(LineString(ring));
            } else {
                holes.push(LineString(ring));
            }
        }
        match exterior {
            Some(exterior) => Ok(Polygon::new(exterior, holes)),
            None => Err(Some(format!("empty {label}; dropped the feature"))),
        }
    }

    // ---- result

    fn finish(mut self, outcome: PResult<()>) -> Result<Loaded, LoadError> {
        let path = self.path.to_owned();
        match outcome {
            Ok(()) => {}
            Err(Stop::Cancelled) => return Err(LoadError::Cancelled { path }),
            Err(Stop::NotJson(message)) => return Err(LoadError::Format { path, message }),
            Err(Stop::Io(source)) if self.layer.is_empty() => {
                return Err(LoadError::Io { path, source });
            }
            Err(Stop::Io(source)) => {
                let kept = self.layer.len();
                self.warn(
                    self.current_feature,
                    format!("read error: {source}; kept the {kept} features read before it"),
                );
            }
            Err(Stop::Syntax {
                offset,
                line,
                message,
            }) => {
                let text = format!("malformed JSON at byte {offset} (line {line}): {message}");
                if self.layer.is_empty() {
                    let message = match self.current_feature {
                        Some(i) => format!("feature {i}: {text}"),
                        None => text,
                    };
                    return Err(LoadError::Format { path, message });
                }
                let kept = self.layer.len();
                self.warn(
                    self.current_feature,
                    format!("{text}; stopped reading there and kept the {kept} features before it"),
                );
            }
        }
        if let Some(issue) = self.src.text_issue.take() {
            self.warn(None, issue.to_owned());
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut kind = LayerKind::guess_from_name(&stem);
        if kind == LayerKind::Generic
            && let Some(name) = &self.layer_name
        {
            kind = LayerKind::guess_from_name(name);
        }
        if let Some(key) = self.kind_key.take() {
            match LayerKind::from_key(&key) {
                Some(k) => kind = k,
                None => self.warn(
                    None,
                    format!("unknown \"onemap_kind\" \"{key}\"; guessed the kind from the name"),
                ),
            }
        }
        let mut warnings = std::mem::take(&mut self.warnings.listed);
        if self.dropped > 0 {
            // Past the cap on purpose: this line is the one that must not go missing.
            let (dropped, seen) = (self.dropped, self.features_seen);
            warnings.push(LoadWarning {
                file: path.clone(),
                feature: None,
                message: format!("dropped {dropped} of {seen} features (see the messages above)"),
            });
        }
        if self.warnings.unlisted > 0 {
            let first = self
                .warnings
                .first_unlisted
                .map(|i| format!(", the first about feature {i}"))
                .unwrap_or_default();
            warnings.push(LoadWarning {
                file: path.clone(),
                feature: None,
                message: format!("{} more warnings not listed{first}", self.warnings.unlisted),
            });
        }
        let mut layer = self.layer;
        layer.name = self
            .layer_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(stem);
        layer.path = Some(path);
        layer.kind = kind;
        Ok(Loaded { layer, warnings })
    }
}

/// Whether a ring has at least 3 distinct positions (fewer encloses no area).
fn has_three_distinct(ring: &[Coord<f64>]) -> bool {
    let Some(&a) = ring.first() else {
        return false;
    };
    let Some(&b) = ring.iter().find(|&&c| c != a) else {
        return false;
    };
    ring.iter().any(|&c| c != a && c != b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn number(text: &str) -> (f64, bool) {
        let progress = Progress::default();
        let mut src = Source::new(text.as_bytes(), &progress);
        let tok = src.read_number().ok().unwrap();
        (tok.value, tok.big_int)
    }

    #[test]
    fn numbers_match_std_parsing_on_seeded_random_literals() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let int: u64 = rng.random_range(0..1_000_000_000);
            let frac: u64 = rng.random_range(0..10_000_000_000);
            let exp: i32 = rng.random_range(-30..30);
            let sign = if rng.random_bool(0.5) { "-" } else { "" };
            let text = match rng.random_range(0..3) {
                0 => format!("{sign}{int}"),
                1 => format!("{sign}{int}.{frac:010}"),
                _ => format!("{sign}{int}.{frac}e{exp}"),
            };
            let expected: f64 = text.parse().unwrap();
            assert_eq!(number(&text).0.to_bits(), expected.to_bits(), "{text}");
        }
    }

    #[test]
    fn special_numbers_and_big_integers() {
        assert!(number("NaN").0.is_nan());
        assert_eq!(number("Infinity").0, f64::INFINITY);
        assert_eq!(number("-Infinity").0, f64::NEG_INFINITY);
        assert_eq!(number("1e400").0, f64::INFINITY);
        assert_eq!(number("9007199254740992"), (9007199254740992.0, false));
        assert!(number("9007199254740993").1);
        assert!(number("123456789012345678901234567890").1);
        assert!(!number("1.5e300").1);
        let long = format!("0.{}", "1".repeat(200));
        assert_eq!(number(&long).0, long.parse::<f64>().unwrap());
    }

    #[test]
    fn strict_number_check() {
        for ok in ["0", "-0", "1.5", "1e5", "-2.5E-3", "10"] {
            assert!(is_strict_json_number(ok.as_bytes()), "{ok}");
        }
        for bad in ["01", "1.", "-", "1e", "1.e5"] {
            assert!(!is_strict_json_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn three_distinct() {
        let c = |x: f64, y: f64| Coord { x, y };
        assert!(!has_three_distinct(&[]));
        assert!(!has_three_distinct(&[
            c(0., 0.),
            c(1., 1.),
            c(0., 0.),
            c(1., 1.)
        ]));
        assert!(has_three_distinct(&[c(0., 0.), c(1., 1.), c(0., 1.)]));
    }
}
