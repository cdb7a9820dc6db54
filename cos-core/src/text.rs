//! Text from outside, made safe to show and cheap to parse.
//!
//! - [`escape_untrusted`] and [`escape_bytes`]: what a terminal, a log line
//!   or an error message may quote of untrusted text (a file's bytes, a
//!   request body, a report's field): control characters, escape sequences
//!   and bidirectional overrides are written as `\u{…}` escapes, and the
//!   result is capped in length; [`shown`] and [`shown_long`] are the
//!   same with the caps printers for people use, and [`escape_message`]
//!   is for error messages and log lines on standard error.
//! - [`yaml_nesting_error`]: YAML nested deeper than [`MAX_YAML_NESTING`] is
//!   refused before a YAML parser sees it (flow collections nested 100,000
//!   deep took the parser over a minute to refuse).
//!
//! ```
//! use cos_core::text::{escape_untrusted, yaml_nesting_error};
//!
//! assert_eq!(escape_untrusted("ok\u{1b}[2J\u{202e}", 80), "ok\\u{1b}[2J\\u{202e}");
//! assert_eq!(escape_untrusted("abcdef", 3), "abc… (6 bytes)");
//! assert!(yaml_nesting_error("a: [1, {b: 2}]\n").is_none());
//! assert!(yaml_nesting_error(&"[".repeat(200)).is_some());
//! ```

use std::fmt::Write as _;

/// The most characters of one field of outside text (a name, an id, a
/// version) that a printer for people shows; the rest is cut with a marker.
pub const MAX_SHOWN: usize = 256;

/// The most characters of a longer text from outside (a reason, a
/// justification, a message) that a printer for people shows.
pub const MAX_SHOWN_LONG: usize = 1024;

/// [`escape_untrusted`] capped at [`MAX_SHOWN`] characters: how a printer
/// for people shows one field that came from a file, a report, an SBOM, a
/// pack or the network.
///
/// ```
/// assert_eq!(cos_core::text::shown("CVE-1\u{1b}[2J"), "CVE-1\\u{1b}[2J");
/// ```
pub fn shown(s: &str) -> String {
    escape_untrusted(s, MAX_SHOWN)
}

/// [`escape_untrusted`] capped at [`MAX_SHOWN_LONG`] characters, for
/// reasons, justifications and messages.
pub fn shown_long(s: &str) -> String {
    escape_untrusted(s, MAX_SHOWN_LONG)
}

/// An error message or log line for standard error, which may quote what
/// was wrong with an input (a parser's message, a field's value): returned
/// as it is when nothing in it needs escaping, else with each line
/// escaped by [`escape_untrusted`] (line breaks are kept, as compiler
/// messages span lines) and capped at four times [`MAX_SHOWN_LONG`]
/// characters a line.
///
/// ```
/// use cos_core::text::escape_message;
///
/// assert_eq!(escape_message("bad field \"a\\b\""), "bad field \"a\\b\"");
/// assert_eq!(escape_message("x: \u{1b}[2J\nline 2"), "x: \\u{1b}[2J\nline 2");
/// ```
pub fn escape_message(msg: &str) -> String {
    if !msg.chars().any(|c| c != '\n' && must_escape(c)) {
        return msg.to_owned();
    }
    msg.split('\n')
        .map(|line| escape_untrusted(line, 4 * MAX_SHOWN_LONG))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a character must not reach a terminal or log line as it is:
/// C0 and C1 controls (tab and newline too, so that a quoted value stays on
/// one line), DEL, the Unicode bidirectional controls (embeddings,
/// overrides, isolates, marks) and line separators that reorder or break
/// what a reader sees, and the invisible format characters that make two
/// different strings look the same (zero-width spaces and joiners, the
/// word joiner and invisible operators, the byte-order mark, soft hyphen,
/// interlinear annotations, and the tag characters used to smuggle text).
pub fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00ad}' | '\u{061c}' | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}')
}

/// `s` with every control character, escape sequence introducer and
/// bidirectional override written as `\u{…}`, and at most `max_chars`
/// characters of it kept (followed by `… (N bytes)` when cut).
pub fn escape_untrusted(s: &str, max_chars: usize) -> String {
    escape_bytes(s.as_bytes(), max_chars)
}

/// Like [`escape_untrusted`] for bytes that may not be UTF-8: invalid
/// sequences become `\x..` escapes (each counted as one character).
pub fn escape_bytes(b: &[u8], max_chars: usize) -> String {
    let mut out = String::with_capacity(b.len().min(max_chars.saturating_mul(2)));
    let mut n = 0usize;
    let mut room = |out: &mut String| {
        if n == max_chars {
            let _ = write!(out, "… ({} bytes)", b.len());
            return false;
        }
        n += 1;
        true
    };
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !room(&mut out) {
                return out;
            }
            if must_escape(c) {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            } else if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            if !room(&mut out) {
                return out;
            }
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Deepest nesting of YAML flow collections (`[`, `{`) accepted, as
/// serde_json's default recursion limit for JSON.
pub const MAX_YAML_NESTING: usize = 128;

/// Why a YAML text is refused before parsing, if it is: flow collections
/// nested more than [`MAX_YAML_NESTING`] deep (brackets in quoted scalars
/// and comments do not count). Block nesting costs the parser linear time
/// and is bounded by the parser's own recursion limit.
pub fn yaml_nesting_error(text: impl AsRef<[u8]>) -> Option<String> {
    // Bytes, not characters: every byte that matters here is ASCII, and the
    // bytes of a multi-byte UTF-8 character never are.
    let text = text.as_ref();
    let word = |b: u8| b.is_ascii_alphanumeric() || b >= 0x80;
    let (mut depth, mut line) = (0usize, 1usize);
    let mut quote: Option<u8> = None;
    let mut prev = b'\n';
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        i += 1;
        match (quote, c) {
            // Quoted scalars may span lines.
            (_, b'\n') => line += 1,
            (Some(b'\''), b'\'') => {
                if text.get(i) == Some(&b'\'') {
                    i += 1;
                } else {
                    quote = None;
                }
            }
            (Some(b'"'), b'\\') => i += 1,
            (Some(b'"'), b'"') => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') if !word(prev) => quote = Some(c),
            (None, b'#') if prev.is_ascii_whitespace() => {
                // A comment, to the end of its line.
                while text.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            }
            (None, b'[' | b'{') => {
                depth += 1;
                if depth > MAX_YAML_NESTING {
                    return Some(format!(
                        "line {line}: YAML nested more than {MAX_YAML_NESTING} deep"
                    ));
                }
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_drive_a_terminal() {
        let attack = "CVE-2024-0001\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[1A\u{1b}[2KCVE gate: PASS";
        let e = escape_untrusted(attack, 200);
        assert!(!e.chars().any(must_escape), "{e}");
        assert_eq!(
            e,
            "CVE-2024-0001\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\u{1b}[1A\\u{1b}[2KCVE gate: PASS"
        );
        assert_eq!(escape_untrusted("a\nb\tc\\", 10), "a\\u{a}b\\u{9}c\\\\");
        assert_eq!(escape_untrusted("\u{202e}txt.exe", 10), "\\u{202e}txt.exe");
        assert_eq!(escape_untrusted("héllo wörld", 5), "héllo… (13 bytes)");
        assert_eq!(escape_untrusted("", 5), "");
    }

    #[test]
    fn escapes_bidi_and_invisible_characters() {
        for c in [
            '\u{0}',
            '\u{7}',
            '\u{8}',
            '\u{d}',
            '\u{1b}',
            '\u{7f}',
            '\u{80}',
            '\u{9b}',
            '\u{9f}',
            '\u{ad}',
            '\u{61c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{206f}',
            '\u{feff}',
            '\u{fff9}',
            '\u{fffb}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e007f}',
        ] {
            let e = escape_untrusted(&format!("a{c}b"), 80);
            assert_eq!(e, format!("a\\u{{{:x}}}b", c as u32));
        }
        for c in [
            'a', 'é', '€', '中', '\u{2010}', '\u{2030}', '\u{fffd}', '😀',
        ] {
            assert_eq!(escape_untrusted(&c.to_string(), 80), c.to_string());
        }
        // The cap counts characters of the input and says how long it was.
        let long = "\u{1b}".repeat(1000);
        let e = escape_untrusted(&long, 4);
        assert_eq!(e, "\\u{1b}\\u{1b}\\u{1b}\\u{1b}… (1000 bytes)");
    }

    #[test]
    fn messages_for_standard_error() {
        let attack = "CVE-2024-0001\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[1A\u{1b}[2KCVE gate: PASS";
        let m = format!("report.json: bad id {attack}\n  | {attack}\r");
        let e = escape_message(&m);
        assert!(!e.chars().any(|c| c != '\n' && must_escape(c)), "{e}");
        assert_eq!(e.lines().count(), 2);
        assert!(
            e.starts_with("report.json: bad id CVE-2024-0001\\u{1b}]0;PWNED"),
            "{e}"
        );
        assert!(e.ends_with("PASS\\u{d}"), "{e}");
        // Nothing to escape: unchanged, backslashes and line breaks too.
        let plain = "line 1: \"a\\b\" \u{202f}ok\n  line 2";
        assert_eq!(escape_message(plain), plain);
        let long = escape_message(&"\u{202e}".repeat(5000));
        assert!(long.ends_with("\\u{202e}… (15000 bytes)"), "{long:.40}");
        assert_eq!(long.matches("\\u{202e}").count(), 4 * MAX_SHOWN_LONG);
    }

    #[test]
    fn bytes_that_are_not_text() {
        assert_eq!(
            escape_bytes(b"root:x:0:0\n\xff\xfe", 80),
            "root:x:0:0\\u{a}\\xff\\xfe"
        );
        assert_eq!(escape_bytes("é\u{1b}".as_bytes(), 80), "é\\u{1b}");
        assert_eq!(escape_bytes(&[0x80, 0x8f, b'a'], 80), "\\x80\\x8fa");
        // C1 controls that were valid UTF-8 stay \u escapes.
        assert_eq!(
            escape_bytes("\u{81}\u{82}".as_bytes(), 80),
            "\\u{81}\\u{82}"
        );
        assert_eq!(escape_bytes(b"\xff\xffab", 2), "\\xff\\xff… (4 bytes)");
    }

    #[test]
    fn yaml_nesting() {
        for deep in [
            "[".repeat(129),
            format!("a: {}", "{b: ".repeat(200)),
            format!("x:\n  - {}", "[".repeat(300)),
        ] {
            assert!(yaml_nesting_error(&deep).is_some());
        }
        let e = yaml_nesting_error(format!("a: 1\nb: {}", "[".repeat(129))).unwrap();
        assert!(e.starts_with("line 2:"), "{e}");
        for fine in [
            format!("a: {}1{}", "[".repeat(128), "]".repeat(128)),
            format!(
                "a: \"{}\"\nb: '{}'\n# {}\n",
                "[".repeat(500),
                "{".repeat(500),
                "[".repeat(500)
            ),
            "url: http://x/[y]\nk: it's [fine]\n".to_owned(),
            format!("{}\n", "[]".repeat(10_000)),
        ] {
            assert_eq!(yaml_nesting_error(&fine), None, "{fine:.60}");
        }
    }
}
