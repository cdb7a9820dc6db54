// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! GraphQL lexer with gqlparser v2.5.58's tokens, positions (in characters)
//! and error messages.

use super::ast::Pos;
use super::GqlError;
use alloc::format;
use alloc::string::{String, ToString};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Invalid,
    Eof,
    Bang,
    Dollar,
    Amp,
    ParenL,
    ParenR,
    Spread,
    Colon,
    Equals,
    At,
    BracketL,
    BracketR,
    BraceL,
    BraceR,
    Pipe,
    Name,
    Int,
    Float,
    String,
    BlockString,
    Comment,
}

impl Kind {
    /// gqlparser's `Type.String()`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invalid => "<Invalid>",
            Kind::Eof => "<EOF>",
            Kind::Bang => "!",
            Kind::Dollar => "$",
            Kind::Amp => "&",
            Kind::ParenL => "(",
            Kind::ParenR => ")",
            Kind::Spread => "...",
            Kind::Colon => ":",
            Kind::Equals => "=",
            Kind::At => "@",
            Kind::BracketL => "[",
            Kind::BracketR => "]",
            Kind::BraceL => "{",
            Kind::BraceR => "}",
            Kind::Pipe => "|",
            Kind::Name => "Name",
            Kind::Int => "Int",
            Kind::Float => "Float",
            Kind::String => "String",
            Kind::BlockString => "BlockString",
            Kind::Comment => "Comment",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Token {
    pub kind: Kind,
    pub value: String,
    pub pos: Pos,
}

impl Token {
    /// gqlparser's `Token.String()`: the kind, then the value Go-quoted.
    pub fn describe(&self) -> String {
        if self.value.is_empty() {
            self.kind.as_str().to_string()
        } else {
            format!("{} {}", self.kind.as_str(), go_quote(&self.value))
        }
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_go_printable(c: char) -> bool {
    // An approximation of unicode.IsPrint good for the characters that
    // occur in names and values; control and format characters are not.
    !(c.is_control()
        || matches!(c as u32, 0x80..=0xa0 | 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb))
}

pub struct Lexer<'a> {
    input: &'a str,
    bytes: &'a [u8],
    builtin: bool,
    start: usize,
    start_runes: i64,
    end: usize,
    end_runes: i64,
    line: i64,
    line_start_runes: i64,
}

/// Go's `utf8.DecodeRuneInString`: the character and its width; an invalid
/// byte decodes as U+FFFD of width 1 (cannot happen on a `&str`).
fn decode(s: &str, at: usize) -> (char, usize) {
    match s.get(at..).and_then(|r| r.chars().next()) {
        Some(c) => (c, c.len_utf8()),
        None => ('\u{fffd}', 1),
    }
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str, builtin: bool) -> Self {
        Lexer {
            input,
            bytes: input.as_bytes(),
            builtin,
            start: 0,
            start_runes: 0,
            end: 0,
            end_runes: 0,
            line: 1,
            line_start_runes: 0,
        }
    }

    fn byte(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    fn slice(&self, a: usize, b: usize) -> &'a str {
        self.input.get(a..b).unwrap_or("")
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.start_runes - self.line_start_runes + 1,
            builtin: self.builtin,
        }
    }

    fn make_token(&self, kind: Kind) -> Result<Token, (Token, GqlError)> {
        Ok(Token {
            kind,
            value: self.slice(self.start, self.end).to_string(),
            pos: self.pos(),
        })
    }

    fn make_value_token(&self, kind: Kind, value: String) -> Result<Token, (Token, GqlError)> {
        Ok(Token {
            kind,
            value,
            pos: self.pos(),
        })
    }

    fn make_error(&self, msg: String) -> Result<Token, (Token, GqlError)> {
        let column = self.end_runes - self.line_start_runes + 1;
        let pos = Pos {
            line: self.line,
            column,
            builtin: self.builtin,
        };
        Err((
            Token {
                kind: Kind::Invalid,
                value: String::new(),
                pos,
            },
            GqlError::at(Some(pos), msg),
        ))
    }

    /// The next token, or the Invalid token and the lexer's error.
    pub fn read_token(&mut self) -> Result<Token, (Token, GqlError)> {
        self.ws();
        self.start = self.end;
        self.start_runes = self.end_runes;
        if self.end >= self.bytes.len() {
            return self.make_token(Kind::Eof);
        }
        let r = self.byte(self.start);
        self.end += 1;
        self.end_runes += 1;
        let simple = match r {
            b'!' => Some(Kind::Bang),
            b'$' => Some(Kind::Dollar),
            b'&' => Some(Kind::Amp),
            b'(' => Some(Kind::ParenL),
            b')' => Some(Kind::ParenR),
            b':' => Some(Kind::Colon),
            b'=' => Some(Kind::Equals),
            b'@' => Some(Kind::At),
            b'[' => Some(Kind::BracketL),
            b']' => Some(Kind::BracketR),
            b'{' => Some(Kind::BraceL),
            b'}' => Some(Kind::BraceR),
            b'|' => Some(Kind::Pipe),
            _ => None,
        };
        if let Some(kind) = simple {
            return self.make_value_token(kind, String::new());
        }
        match r {
            b'.' => {
                if self.bytes.len() > self.start + 2
                    && self.slice(self.start, self.start + 3) == "..."
                {
                    self.end += 2;
                    self.end_runes += 2;
                    return self.make_value_token(Kind::Spread, String::new());
                }
            }
            b'#' => return self.read_comment(),
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => return self.read_name(),
            b'-' | b'0'..=b'9' => return self.read_number(),
            b'"' => {
                if self.bytes.len() > self.start + 2
                    && self.slice(self.start, self.start + 3) == "\"\"\""
                {
                    return self.read_block_string();
                }
                return self.read_string();
            }
            _ => {}
        }
        self.end -= 1;
        self.end_runes -= 1;
        if r < 0x20 && r != 0x09 && r != 0x0a && r != 0x0d {
            return self.make_error(format!(
                "Cannot contain the invalid character \"\\u{:04x}\"",
                r
            ));
        }
        if r == b'\'' {
            return self.make_error(
                "Unexpected single quote character ('), did you mean to use a double quote (\")?"
                    .to_string(),
            );
        }
        // Go's string(r) of a byte: the character with that code point.
        let ch = char::from(r);
        self.make_error(format!("Cannot parse the unexpected character \"{ch}\"."))
    }

    fn ws(&mut self) {
        while self.end < self.bytes.len() {
            match self.byte(self.end) {
                b'\t' | b' ' | b',' => {
                    self.end += 1;
                    self.end_runes += 1;
                }
                b'\n' => {
                    self.end += 1;
                    self.end_runes += 1;
                    self.line += 1;
                    self.line_start_runes = self.end_runes;
                }
                b'\r' => {
                    self.end += 1;
                    self.end_runes += 1;
                    self.line += 1;
                    self.line_start_runes = self.end_runes;
                    if self.end < self.bytes.len() && self.byte(self.end) == b'\n' {
                        self.end += 1;
                        self.end_runes += 1;
                    }
                }
                0xef => {
                    if self.end + 2 < self.bytes.len()
                        && self.byte(self.end + 1) == 0xbb
                        && self.byte(self.end + 2) == 0xbf
                    {
                        self.end += 3;
                        self.end_runes += 1;
                    } else {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    fn read_comment(&mut self) -> Result<Token, (Token, GqlError)> {
        while self.end < self.bytes.len() {
            let (r, w) = decode(self.input, self.end);
            if r as u32 > 0x1f || r == '\t' {
                self.end += w;
                self.end_runes += 1;
            } else {
                break;
            }
        }
        self.make_token(Kind::Comment)
    }

    fn accept_byte(&mut self, set: &[u8]) -> bool {
        if self.end >= self.bytes.len() {
            return false;
        }
        if set.contains(&self.byte(self.end)) {
            self.end += 1;
            self.end_runes += 1;
            return true;
        }
        false
    }

    fn accept_digits(&mut self) -> usize {
        let mut consumed = 0;
        while self.end < self.bytes.len() && self.byte(self.end).is_ascii_digit() {
            self.end += 1;
            self.end_runes += 1;
            consumed += 1;
        }
        consumed
    }

    fn describe_next(&self) -> String {
        if self.end < self.bytes.len() {
            // Go's string(byte): that code point.
            format!("\"{}\"", char::from(self.byte(self.end)))
        } else {
            "<EOF>".to_string()
        }
    }

    fn read_number(&mut self) -> Result<Token, (Token, GqlError)> {
        let mut float = false;
        self.end -= 1;
        self.end_runes -= 1;
        self.accept_byte(b"-");
        if self.accept_byte(b"0") {
            let consumed = self.accept_digits();
            if consumed != 0 {
                self.end -= consumed;
                self.end_runes -= consumed as i64;
                return self.make_error(format!(
                    "Invalid number, unexpected digit after 0: {}.",
                    self.describe_next()
                ));
            }
        } else if self.accept_digits() == 0 {
            return self.make_error(format!(
                "Invalid number, expected digit but got: {}.",
                self.describe_next()
            ));
        }
        if self.accept_byte(b".") {
            float = true;
            if self.accept_digits() == 0 {
                return self.make_error(format!(
                    "Invalid number, expected digit but got: {}.",
                    self.describe_next()
                ));
            }
        }
        if self.accept_byte(b"eE") {
            float = true;
            self.accept_byte(b"-+");
            if self.accept_digits() == 0 {
                return self.make_error(format!(
                    "Invalid number, expected digit but got: {}.",
                    self.describe_next()
                ));
            }
        }
        self.make_token(if float { Kind::Float } else { Kind::Int })
    }

    fn read_string(&mut self) -> Result<Token, (Token, GqlError)> {
        let input_len = self.bytes.len();
        let mut buf: Option<String> = None;
        self.start += 1;
        self.start_runes += 1;
        while self.end < input_len {
            let r = self.byte(self.end);
            if r == b'\n' || r == b'\r' {
                break;
            }
            if r < 0x20 && r != b'\t' {
                return self.make_error(format!(
                    "Invalid character within String: \"\\u{:04x}\".",
                    r
                ));
            }
            match r {
                b'"' => {
                    let mut t = self.make_token(Kind::String)?;
                    if let Some(b) = buf.take() {
                        t.value = b;
                    }
                    self.end += 1;
                    self.end_runes += 1;
                    return Ok(t);
                }
                b'\\' => {
                    if self.end + 1 >= input_len {
                        self.end += 1;
                        self.end_runes += 1;
                        return self.make_error("Invalid character escape sequence.".to_string());
                    }
                    let b = buf.get_or_insert_with(|| self.slice(self.start, self.end).to_string());
                    let escape = self.byte(self.end + 1);
                    if escape == b'u' {
                        if self.end + 6 >= input_len {
                            self.end += 1;
                            self.end_runes += 1;
                            let rest = self.slice(self.end, input_len).to_string();
                            return self.make_error(format!(
                                "Invalid character escape sequence: \\{rest}."
                            ));
                        }
                        match unhex(self.bytes.get(self.end + 2..self.end + 6).unwrap_or(&[])) {
                            Some(cp) => {
                                // Go's WriteRune: an invalid code point
                                // (a surrogate) is written as U+FFFD.
                                b.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                self.end += 6;
                                self.end_runes += 6;
                            }
                            None => {
                                self.end += 1;
                                self.end_runes += 1;
                                let seq = self
                                    .input
                                    .get(self.end..self.end + 5)
                                    .map(|s| s.to_string());
                                let Some(seq) = seq else {
                                    return Err((
                                        Token {
                                            kind: Kind::Invalid,
                                            value: String::new(),
                                            pos: self.pos(),
                                        },
                                        GqlError::unsupported(
                                            "an escape sequence cutting a multi-byte character",
                                        ),
                                    ));
                                };
                                return self.make_error(format!(
                                    "Invalid character escape sequence: \\{seq}."
                                ));
                            }
                        }
                    } else {
                        match escape {
                            b'"' | b'/' | b'\\' => b.push(char::from(escape)),
                            b'b' => b.push('\u{8}'),
                            b'f' => b.push('\u{c}'),
                            b'n' => b.push('\n'),
                            b'r' => b.push('\r'),
                            b't' => b.push('\t'),
                            _ => {
                                self.end += 1;
                                self.end_runes += 1;
                                if escape >= 0x80 {
                                    // Go prints string(byte) of the lead byte.
                                    return Err((
                                        Token {
                                            kind: Kind::Invalid,
                                            value: String::new(),
                                            pos: self.pos(),
                                        },
                                        GqlError::unsupported(
                                            "an escape of a multi-byte character",
                                        ),
                                    ));
                                }
                                return self.make_error(format!(
                                    "Invalid character escape sequence: \\{}.",
                                    char::from(escape)
                                ));
                            }
                        }
                        self.end += 2;
                        self.end_runes += 2;
                    }
                }
                _ => {
                    let (ch, w) = if r >= 127 {
                        decode(self.input, self.end)
                    } else {
                        (char::from(r), 1)
                    };
                    self.end += w;
                    self.end_runes += 1;
                    if let Some(b) = buf.as_mut() {
                        b.push(ch);
                    }
                }
            }
        }
        self.make_error("Unterminated string.".to_string())
    }

    fn read_block_string(&mut self) -> Result<Token, (Token, GqlError)> {
        let input_len = self.bytes.len();
        let mut buf = String::new();
        self.start += 3;
        self.start_runes += 3;
        self.end += 2;
        self.end_runes += 2;
        while self.end < input_len {
            let r = self.byte(self.end);
            if r == b'"' {
                let mut quote_count = 1;
                let mut i = self.end + 1;
                while i < input_len && self.byte(i) == b'"' {
                    quote_count += 1;
                    i += 1;
                }
                if quote_count >= 3 {
                    for _ in 0..quote_count - 3 {
                        buf.push('"');
                    }
                    let t = self.make_value_token(Kind::BlockString, block_string_value(&buf));
                    self.end += quote_count;
                    self.end_runes += quote_count as i64;
                    return t;
                }
            }
            if r < 0x20 && r != b'\t' && r != b'\n' && r != b'\r' {
                return self.make_error(format!(
                    "Invalid character within String: \"\\u{:04x}\".",
                    r
                ));
            }
            if r == b'\\'
                && self.end + 4 <= input_len
                && self.slice(self.end, self.end + 4) == "\\\"\"\""
            {
                buf.push_str("\"\"\"");
                self.end += 4;
                self.end_runes += 4;
            } else if r == b'\r' {
                if self.end + 1 < input_len && self.byte(self.end + 1) == b'\n' {
                    self.end += 1;
                    self.end_runes += 1;
                }
                buf.push('\n');
                self.end += 1;
                self.end_runes += 1;
                self.line += 1;
                self.line_start_runes = self.end_runes;
            } else {
                let (ch, w) = if r >= 127 {
                    decode(self.input, self.end)
                } else {
                    (char::from(r), 1)
                };
                self.end += w;
                self.end_runes += 1;
                buf.push(ch);
                if r == b'\n' {
                    self.line += 1;
                    self.line_start_runes = self.end_runes;
                }
            }
        }
        self.make_error("Unterminated string.".to_string())
    }

    fn read_name(&mut self) -> Result<Token, (Token, GqlError)> {
        while self.end < self.bytes.len() {
            let r = self.byte(self.end);
            if r.is_ascii_alphanumeric() || r == b'_' {
                self.end += 1;
                self.end_runes += 1;
            } else {
                break;
            }
        }
        self.make_token(Kind::Name)
    }
}

fn unhex(b: &[u8]) -> Option<u32> {
    if b.len() != 4 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        v <<= 4;
        v |= match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'f' => u32::from(c - b'a' + 10),
            b'A'..=b'F' => u32::from(c - b'A' + 10),
            _ => return None,
        };
    }
    Some(v)
}

fn leading_whitespace(s: &str) -> Option<usize> {
    s.char_indices()
        .find(|&(_, c)| c != ' ' && c != '\t')
        .map(|(i, _)| i)
}

/// gqlparser's `blockStringValue`.
fn block_string_value(raw: &str) -> String {
    let mut lines: alloc::vec::Vec<&str> = raw.split('\n').collect();
    let mut common: Option<usize> = None;
    for line in &lines {
        if let Some(indent) = leading_whitespace(line) {
            if indent < line.len() && common.is_none_or(|c| indent < c) {
                common = Some(indent);
                if indent == 0 {
                    break;
                }
            }
        }
    }
    if let Some(c) = common {
        for line in lines.iter_mut().skip(1) {
            *line = line.get(c..).unwrap_or("");
        }
    }
    let mut start = 0;
    let mut end = lines.len();
    while start < end
        && lines
            .get(start)
            .is_some_and(|l| leading_whitespace(l).is_none())
    {
        start += 1;
    }
    while start < end
        && lines
            .get(end - 1)
            .is_some_and(|l| leading_whitespace(l).is_none())
    {
        end -= 1;
    }
    lines
        .get(start..end)
        .map(|l| l.join("\n"))
        .unwrap_or_default()
}
