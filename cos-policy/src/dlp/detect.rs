//! The built-in detectors: one pass over the bytes.
//!
//! The scanner walks the text once. Every finding has, at or near its
//! start, a digit, a capital or one of `_ - : . + (` (`ghp_`, `xoxb-`,
//! `eyJ`, `de:ad:…`); lower-case words, spaces and other bytes cost one
//! table lookup in a tight, well-predicted loop. At such a byte the word it
//! is in (or the word just before it) is tried once from its start: the
//! first byte and a few following ones decide which detectors can start
//! there at all (a digit: numbers; `AKIA`, `eyJ`,
//! `ghp_`, …: keys; two capitals and two digits: an IBAN); only those run
//! their precise check (checksum, ranges, parse). `+`, `(`, `:` and `-`
//! start phone numbers, IPv6 addresses and PEM headers. E-mail addresses are
//! found from their `@` with `memchr`.
//!
//! Every match starts and ends at an ASCII byte or, in an e-mail address, at
//! a whole non-ASCII letter, so spans always fall on UTF-8 character
//! boundaries.

use serde::{Deserialize, Serialize};

use super::checks;

/// A built-in detector.
///
/// Its [`name`](Detector::name) is the entity name used in reports,
/// redaction labels (`[REDACTED:EMAIL]`) and operator configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Detector {
    /// E-mail addresses (`alice@example.com`).
    Email,
    /// Phone numbers: E.164 (`+44 20 7946 0958`), US (`(415) 555-0132`,
    /// `415-555-0132`) and national forms with a trunk `0` (`020 7946 0958`,
    /// `030 1234567`). Bare digit runs are not phone numbers.
    Phone,
    /// Payment card numbers: 13–19 digits, optionally in groups separated
    /// by spaces or dashes, with a known issuer prefix and a valid Luhn digit.
    CreditCard,
    /// IBANs with a valid country length and mod-97 check, compact or in
    /// groups of four.
    Iban,
    /// US social security numbers `AAA-GG-SSSS` outside the never-issued
    /// ranges.
    Ssn,
    /// IPv4 addresses in dotted-decimal form.
    Ipv4,
    /// IPv6 addresses (with `::` compression and embedded IPv4).
    Ipv6,
    /// MAC addresses (`00:1a:2b:3c:4d:5e`, `00-1A-…`, `001a.2b3c.4d5e`).
    MacAddress,
    /// JSON Web Tokens whose header decodes to JSON with an `alg`.
    Jwt,
    /// AWS access key ids (`AKIA…`, `ASIA…`).
    AwsAccessKey,
    /// GitHub tokens (`ghp_`, `gho_`, `ghs_`, `ghu_`, `github_pat_`).
    GithubToken,
    /// Slack tokens (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`).
    SlackToken,
    /// Stripe live secret and restricted keys (`sk_live_`, `rk_live_`).
    StripeKey,
    /// Google API keys (`AIza` and 35 more characters).
    GoogleApiKey,
    /// PEM private keys, from the `-----BEGIN … PRIVATE KEY-----` header to
    /// the matching `-----END …-----` line when there is one.
    PrivateKey,
}

impl Detector {
    /// Every built-in detector.
    pub const ALL: [Detector; 15] = [
        Detector::Email,
        Detector::Phone,
        Detector::CreditCard,
        Detector::Iban,
        Detector::Ssn,
        Detector::Ipv4,
        Detector::Ipv6,
        Detector::MacAddress,
        Detector::Jwt,
        Detector::AwsAccessKey,
        Detector::GithubToken,
        Detector::SlackToken,
        Detector::StripeKey,
        Detector::GoogleApiKey,
        Detector::PrivateKey,
    ];

    /// The entity name (`email`, `credit_card`, …).
    pub fn name(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Phone => "phone",
            Detector::CreditCard => "credit_card",
            Detector::Iban => "iban",
            Detector::Ssn => "ssn",
            Detector::Ipv4 => "ipv4",
            Detector::Ipv6 => "ipv6",
            Detector::MacAddress => "mac_address",
            Detector::Jwt => "jwt",
            Detector::AwsAccessKey => "aws_access_key",
            Detector::GithubToken => "github_token",
            Detector::SlackToken => "slack_token",
            Detector::StripeKey => "stripe_key",
            Detector::GoogleApiKey => "google_api_key",
            Detector::PrivateKey => "private_key",
        }
    }

    /// The detector with this entity name.
    pub fn from_name(name: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.name() == name)
    }

    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of enabled detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DetectorSet(pub(crate) u32);

impl DetectorSet {
    pub(crate) const ALL: DetectorSet = DetectorSet((1 << Detector::ALL.len()) - 1);

    #[inline]
    pub(crate) fn has(self, d: Detector) -> bool {
        self.0 & d.bit() != 0
    }
}

/// A built-in match: `[start, end)` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) detector: Detector,
}

// Byte classes.
const WORD: u8 = 1; // [A-Za-z0-9_]
const DIGIT: u8 = 2;
const HEX: u8 = 4;
const UPPER: u8 = 8;
const B64URL: u8 = 16; // [A-Za-z0-9_-]
const TRIGGER: u8 = 32; // + ( : -  (start something outside a word)
const ALNUM: u8 = 64;
const KEY: u8 = 128; // digits, capitals, `_ - : . + (`: every finding has one near its start

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let mut v = 0u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            v |= WORD | B64URL;
        }
        if b.is_ascii_alphanumeric() {
            v |= ALNUM;
        }
        if b.is_ascii_digit() {
            v |= DIGIT;
        }
        if b.is_ascii_hexdigit() {
            v |= HEX;
        }
        if b.is_ascii_uppercase() {
            v |= UPPER;
        }
        if b == b'-' {
            v |= B64URL | TRIGGER;
        }
        if b == b'+' || b == b'(' || b == b':' {
            v |= TRIGGER;
        }
        if b.is_ascii_digit()
            || b.is_ascii_uppercase()
            || matches!(b, b'_' | b'-' | b':' | b'.' | b'+' | b'(')
        {
            v |= KEY;
        }
        t[c] = v;
        c += 1;
    }
    t
};

#[inline(always)]
fn class(b: &[u8], i: usize) -> u8 {
    match b.get(i) {
        Some(&c) => CLASS[c as usize],
        None => 0,
    }
}

#[inline(always)]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

#[inline(always)]
fn is_digit(b: &[u8], i: usize) -> bool {
    class(b, i) & DIGIT != 0
}

#[inline(always)]
fn is_word(b: &[u8], i: usize) -> bool {
    class(b, i) & WORD != 0
}

/// Number of consecutive bytes from `i` whose class has `mask`, up to `max`.
#[inline(always)]
fn run(b: &[u8], i: usize, mask: u8, max: usize) -> usize {
    let mut k = 0;
    while k < max && class(b, i + k) & mask != 0 {
        k += 1;
    }
    k
}

/// What may precede a number-like match: not a word byte, not a `+`, and
/// not a `.`/`-` after a digit or a `:` after a hex digit (the match would
/// be the tail of a longer dotted or dashed number).
fn left_ok(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = b[i - 1];
    if CLASS[p as usize] & WORD != 0 || p == b'+' {
        return false;
    }
    if i >= 2 {
        let pp = CLASS[b[i - 2] as usize];
        if (p == b'.' || p == b'-') && pp & DIGIT != 0 {
            return false;
        }
        if p == b':' && pp & HEX != 0 {
            return false;
        }
    }
    true
}

/// Whether `i` starts a group of four digits right after a space and
/// another group of four digits and capitals with a digit in it: the middle
/// of a number grouped in fours (a card or an IBAN that failed its
/// checksum: `3525 0169 1485 4563`, `FR45 0419 4187 …`), whose tail must not
/// turn into a phone number.
fn grouped_tail(b: &[u8], i: usize) -> bool {
    if i < 5 || b[i - 1] != b' ' || run(b, i, DIGIT, 5) != 4 {
        return false;
    }
    let group = &b[i - 5..i - 1];
    group
        .iter()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && group.iter().any(u8::is_ascii_digit)
        && (i == 5 || class(b, i - 6) & ALNUM == 0)
}

/// What may follow a number-like match: not a word byte, and not a `.`/`-`
/// followed by a digit.
fn right_ok(b: &[u8], e: usize) -> bool {
    if is_word(b, e) {
        return false;
    }
    let c = at(b, e);
    !((c == b'.' || c == b'-') && is_digit(b, e + 1))
}

/// What may follow a hex-and-colon match (MAC, IPv6): as [`right_ok`], and
/// not a `:` followed by a hex digit.
fn right_ok_hex(b: &[u8], e: usize) -> bool {
    right_ok(b, e) && !(at(b, e) == b':' && class(b, e + 1) & HEX != 0)
}

/// Scans `text` with the detectors in `set`, appending hits in no particular
/// order (overlaps are resolved by the caller).
pub(crate) fn scan(text: &str, set: DetectorSet, out: &mut Vec<Hit>) {
    let b = text.as_bytes();
    if set.has(Detector::Email) {
        for at in memchr::memchr_iter(b'@', b) {
            if let Some((s, e)) = email_at(b, at) {
                out.push(Hit {
                    start: s,
                    end: e,
                    detector: Detector::Email,
                });
            }
        }
    }
    let n = b.len();
    let mut i = 0;
    // Everything before `done` was a match or a word already tried.
    let mut done = 0;
    while i < n {
        // Skip to a byte every finding has near its start (prose is mostly
        // lower-case words and spaces, which cannot start one).
        loop {
            // Eight bytes at a time while none is in `(`..=`_`.
            while i + 8 <= n && !maybe_key(load8(b, i)) {
                i += 8;
            }
            let lim = n.min(i + 8);
            while i < lim && CLASS[b[i] as usize] & KEY == 0 {
                i += 1;
            }
            if i >= n || CLASS[b[i] as usize] & KEY != 0 {
                break;
            }
        }
        if i >= n {
            break;
        }
        let c = CLASS[b[i] as usize];
        // The word this byte is in, or the word just before it (`xoxb-`,
        // `de:ad:…`): tried once, from its start.
        let probe = if c & WORD != 0 { i } else { i.wrapping_sub(1) };
        if probe < n && probe >= done && CLASS[b[probe] as usize] & WORD != 0 {
            let mut ws = probe;
            while ws > done && CLASS[b[ws - 1] as usize] & WORD != 0 {
                ws -= 1;
            }
            if (ws == 0 || CLASS[b[ws - 1] as usize] & WORD == 0)
                && let Some((end, detector)) = at_word(b, ws, CLASS[b[ws] as usize], set)
            {
                out.push(Hit {
                    start: ws,
                    end,
                    detector,
                });
                i = end;
                done = end;
                continue;
            }
            let mut we = probe + 1;
            while we < n && CLASS[b[we] as usize] & WORD != 0 {
                we += 1;
            }
            done = we;
            if c & WORD != 0 {
                i = we;
                continue;
            }
        }
        if c & TRIGGER != 0
            && let Some((start, end, detector)) = at_trigger(b, i, set)
        {
            out.push(Hit {
                start,
                end,
                detector,
            });
            i = end;
            done = end;
            continue;
        }
        i += 1;
        done = done.max(i);
    }
}

#[inline(always)]
fn load8(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

/// Whether any of the eight bytes is ASCII in `(`..=`_` (0x28–0x5F), a
/// superset of the [`KEY`] bytes (Bit Twiddling Hacks' `hasbetween`).
#[inline(always)]
fn maybe_key(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const M: u64 = 0x27; // exclusive bounds
    const N: u64 = 0x60;
    let t = x & (LO * 127);
    ((LO * (127 + N)).wrapping_sub(t) & !x & t.wrapping_add(LO * (127 - M)) & HI) != 0
}

/// Detectors that start at a word start `i` whose class is `c`: the longest
/// match wins.
#[inline]
fn at_word(b: &[u8], i: usize, c: u8, set: DetectorSet) -> Option<(usize, Detector)> {
    let mut best: Option<(usize, Detector)> = None;
    let mut consider = |m: Option<usize>, d: Detector| {
        if let Some(e) = m
            && best.is_none_or(|(be, _)| e > be)
        {
            best = Some((e, d));
        }
    };
    if c & DIGIT != 0 {
        let d = run(b, i, DIGIT, 20);
        let next = at(b, i + d);
        if d == 3 && next == b'-' && set.has(Detector::Ssn) {
            consider(ssn(b, i), Detector::Ssn);
        }
        if d >= 4 && set.has(Detector::CreditCard) && (d >= 13 || next == b' ' || next == b'-') {
            consider(card(b, i), Detector::CreditCard);
        }
        if set.has(Detector::Phone) && (d <= 5 || b[i] == b'0') {
            if matches!(next, b'-' | b'.' | b' ') && (d == 3 || d == 1) {
                consider(us_phone(b, i), Detector::Phone);
            }
            if b[i] == b'0' && matches!(next, b' ' | b'-' | b'/') {
                consider(trunk_phone(b, i), Detector::Phone);
            }
            // `0049 30 1234567`, `001-415-555-0132`: the international
            // prefix 00 in place of `+`, then as E.164.
            if (3..=5).contains(&d)
                && b[i] == b'0'
                && at(b, i + 1) == b'0'
                && matches!(next, b' ' | b'-' | b'.' | b'(')
                && left_ok(b, i)
                && !grouped_tail(b, i)
            {
                consider(e164(b, i + 1), Detector::Phone);
            }
        }
        if d <= 3 && next == b'.' && set.has(Detector::Ipv4) {
            consider(ipv4(b, i), Detector::Ipv4);
        }
    }
    if c & HEX != 0 && (set.has(Detector::MacAddress) || set.has(Detector::Ipv6)) {
        let h = run(b, i, HEX, 5);
        let next = at(b, i + h);
        if set.has(Detector::MacAddress)
            && ((h == 2 && (next == b':' || next == b'-')) || (h == 4 && next == b'.'))
        {
            consider(mac(b, i), Detector::MacAddress);
        }
        if h <= 4 && next == b':' && set.has(Detector::Ipv6) {
            consider(ipv6(b, i), Detector::Ipv6);
        }
    }
    if c & DIGIT != 0 {
        return best;
    }
    match b[i] {
        b'A' => {
            if set.has(Detector::AwsAccessKey)
                && (b[i..].starts_with(b"AKIA") || b[i..].starts_with(b"ASIA"))
            {
                consider(
                    fixed_tail(b, i, 4, 16, UPPER | DIGIT),
                    Detector::AwsAccessKey,
                );
            }
            if set.has(Detector::GoogleApiKey) && b[i..].starts_with(b"AIza") {
                consider(fixed_tail(b, i, 4, 35, B64URL), Detector::GoogleApiKey);
            }
        }
        b'g' if set.has(Detector::GithubToken) => consider(github(b, i), Detector::GithubToken),
        b'x' if set.has(Detector::SlackToken) => consider(slack(b, i), Detector::SlackToken),
        b's' | b'r' if set.has(Detector::StripeKey) && b[i + 1..].starts_with(b"k_live_") => {
            consider(
                min_tail(b, i, 8, 16, ALNUM, ALNUM | WORD),
                Detector::StripeKey,
            );
        }
        b'e' if set.has(Detector::Jwt) => consider(jwt(b, i), Detector::Jwt),
        _ => {}
    }
    if c & UPPER != 0 && set.has(Detector::Iban) {
        consider(iban(b, i), Detector::Iban);
    }
    best
}

/// Detectors that start at a non-word trigger byte (`+`, `(`, `:`, `-`).
#[inline]
fn at_trigger(b: &[u8], i: usize, set: DetectorSet) -> Option<(usize, usize, Detector)> {
    match b[i] {
        b'+' if set.has(Detector::Phone)
            && is_digit(b, i + 1)
            && !is_word(b, i.wrapping_sub(1)) =>
        {
            e164(b, i).map(|e| (i, e, Detector::Phone))
        }
        b'(' if set.has(Detector::Phone) && is_digit(b, i + 1) => {
            if at(b, i + 1) == b'0' {
                trunk_paren(b, i).map(|e| (i, e, Detector::Phone))
            } else {
                us_phone(b, i).map(|e| (i, e, Detector::Phone))
            }
        }
        b':' if set.has(Detector::Ipv6) && at(b, i + 1) == b':' && left_ok(b, i) => {
            ipv6(b, i).map(|e| (i, e, Detector::Ipv6))
        }
        b'-' if set.has(Detector::PrivateKey) && b[i..].starts_with(b"-----BEGIN ") => {
            private_key(b, i).map(|e| (i, e, Detector::PrivateKey))
        }
        _ => None,
    }
}

/// `prefix_len` bytes already checked, then exactly `len` bytes of class
/// `mask`, then a byte that is not of class `mask`.
fn fixed_tail(b: &[u8], i: usize, prefix_len: usize, len: usize, mask: u8) -> Option<usize> {
    let k = run(b, i + prefix_len, mask, len + 1);
    (k == len && left_ok(b, i)).then_some(i + prefix_len + len)
}

/// `prefix_len` bytes already checked, then at least `min` bytes of class
/// `mask` (at most 256), not followed by a byte of class `stop`.
fn min_tail(
    b: &[u8],
    i: usize,
    prefix_len: usize,
    min: usize,
    mask: u8,
    stop: u8,
) -> Option<usize> {
    let k = run(b, i + prefix_len, mask, 256);
    let e = i + prefix_len + k;
    (k >= min && class(b, e) & stop == 0 && left_ok(b, i)).then_some(e)
}

fn email_at(b: &[u8], at_pos: usize) -> Option<(usize, usize)> {
    const LOCAL_MAX: usize = 64;
    const DOMAIN_MAX: usize = 253;
    let local_ok =
        |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
    let mut s = at_pos;
    while s > 0 && at_pos - s < LOCAL_MAX + 1 {
        if local_ok(b[s - 1]) {
            s -= 1;
        } else if let Some(k) = letter_before(b, s) {
            // Non-ASCII letters too (RFC 6531, `jörg@…`): stopping at them
            // would report the tail of the address (`rg@…`).
            s = k;
        } else {
            break;
        }
    }
    if at_pos - s > LOCAL_MAX {
        return None;
    }
    // The local part may not start with a dot (a sentence's full stop).
    while s < at_pos && b[s] == b'.' {
        s += 1;
    }
    if s == at_pos || b[at_pos - 1] == b'.' {
        return None;
    }
    if b[s..at_pos].windows(2).any(|w| w == b"..") {
        return None;
    }
    // Domain: labels of [A-Za-z0-9-], separated by dots.
    let dom_ok = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.';
    let mut e = at_pos + 1;
    while e < b.len() && e - at_pos <= DOMAIN_MAX && dom_ok(b[e]) {
        e += 1;
    }
    // Trailing dots and dashes belong to the sentence.
    while e > at_pos + 1 && matches!(b[e - 1], b'.' | b'-') {
        e -= 1;
    }
    let domain = &b[at_pos + 1..e];
    if domain.is_empty() || domain.len() > DOMAIN_MAX {
        return None;
    }
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|&c| c == b'.') {
        if label.is_empty()
            || label.len() > 63
            || label[0] == b'-'
            || label[label.len() - 1] == b'-'
        {
            return None;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || last.len() < 2 || !last.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    // Not glued to a word or to a non-ASCII letter (`x@example.coü`).
    if is_word(b, e) || at(b, e) == b'@' || letter_at(b, e) {
        return None;
    }
    Some((s, e))
}

/// The start of the non-ASCII letter or digit that ends at byte `s`, if
/// one does (`b` is UTF-8).
fn letter_before(b: &[u8], s: usize) -> Option<usize> {
    if s == 0 || b[s - 1] < 0x80 {
        return None;
    }
    let mut k = s - 1;
    while k > 0 && s - k < 4 && (0x80..0xC0).contains(&b[k]) {
        k -= 1;
    }
    let c = std::str::from_utf8(b.get(k..s)?).ok()?.chars().next()?;
    c.is_alphanumeric().then_some(k)
}

/// Whether a non-ASCII letter or digit starts at byte `e`.
fn letter_at(b: &[u8], e: usize) -> bool {
    if at(b, e) < 0x80 {
        return false;
    }
    let tail = b.get(e..b.len().min(e + 4)).unwrap_or_default();
    let valid = match std::str::from_utf8(tail) {
        Ok(t) => t,
        Err(err) => std::str::from_utf8(&tail[..err.valid_up_to()]).unwrap_or_default(),
    };
    valid.chars().next().is_some_and(char::is_alphanumeric)
}

fn ssn(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        let mut v = 0;
        for k in from..from + len {
            if !is_digit(b, k) {
                return None;
            }
            v = v * 10 + u32::from(b[k] - b'0');
        }
        Some(v)
    };
    let area = num(i, 3)?;
    if at(b, i + 6) != b'-' {
        return None;
    }
    let group = num(i + 4, 2)?;
    let serial = num(i + 7, 4)?;
    let e = i + 11;
    (checks::ssn_ok(area, group, serial) && right_ok(b, e)).then_some(e)
}

fn card(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) {
        return None;
    }
    let mut digits = [0u8; 19];
    let mut total = 0usize;
    // (end of group, digits so far), for each group boundary.
    let mut bounds = [(0usize, 0usize); 19];
    let mut nb = 0usize;
    let mut sep: Option<u8> = None;
    let mut p = i;
    loop {
        let g = run(b, p, DIGIT, 20);
        if g == 0 || total + g > 19 {
            break;
        }
        if sep.is_some() && !(3..=6).contains(&g) {
            break;
        }
        digits[total..total + g].copy_from_slice(&b[p..p + g]);
        total += g;
        p += g;
        bounds[nb] = (p, total);
        nb += 1;
        let c = at(b, p);
        if (c == b' ' || c == b'-') && is_digit(b, p + 1) && sep.is_none_or(|s| s == c) {
            if sep.is_none() && total != 4 {
                break; // grouped numbers start with a group of four
            }
            sep = Some(c);
            p += 1;
        } else {
            break;
        }
    }
    for &(end, count) in bounds[..nb].iter().rev() {
        if count < 13 {
            break;
        }
        let ds = &digits[..count];
        if checks::card_issuer_ok(ds) && checks::luhn(ds) && right_ok(b, end) {
            return Some(end);
        }
    }
    None
}

/// US (NANP) numbers: `(415) 555-0132`, `415-555-0132`, `415.555.0132`,
/// `415 555 0132`, `1-800-555-0199`. Area code and exchange start with 2–9.
fn us_phone(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) {
        return None;
    }
    let mut p = i;
    // Optional country code 1 and a separator.
    if at(b, p) == b'1' && matches!(at(b, p + 1), b'-' | b'.' | b' ') && !is_digit(b, p + 2 + 3) {
        p += 2;
    } else if at(b, p) == b'1' && !is_digit(b, p + 1) {
        return None;
    }
    let area_start;
    let sep;
    if at(b, p) == b'(' {
        area_start = p + 1;
        if run(b, area_start, DIGIT, 4) != 3 || at(b, area_start + 3) != b')' {
            return None;
        }
        p = area_start + 4;
        if at(b, p) == b' ' {
            p += 1;
        }
        sep = None;
    } else {
        area_start = p;
        if run(b, p, DIGIT, 4) != 3 {
            return None;
        }
        let s = at(b, p + 3);
        if !matches!(s, b'-' | b'.' | b' ') {
            return None;
        }
        sep = Some(s);
        p += 4;
    }
    if !(b'2'..=b'9').contains(&b[area_start]) {
        return None;
    }
    if run(b, p, DIGIT, 4) != 3 || !(b'2'..=b'9').contains(&b[p]) {
        return None;
    }
    p += 3;
    let s2 = at(b, p);
    match sep {
        Some(s) if s2 != s => return None,
        None if !matches!(s2, b'-' | b'.' | b' ') => return None,
        _ => {}
    }
    p += 1;
    if run(b, p, DIGIT, 5) != 4 {
        return None;
    }
    p += 4;
    phone_end(b, p)
}

/// Where a phone number whose digits end at `p` ends: after an extension
/// (`x807`, ` x807`, ` ext. 807`, `ext807`: 1–6 digits) when one follows,
/// else at `p` if nothing is glued to it.
fn phone_end(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    if at(b, q) == b' ' {
        q += 1;
    }
    let word = if b.get(q..q + 3) == Some(b"ext".as_slice()) {
        q += 3;
        if at(b, q) == b'.' {
            q += 1;
        }
        true
    } else if at(b, q) == b'x' {
        q += 1;
        true
    } else {
        false
    };
    if word {
        if at(b, q) == b' ' {
            q += 1;
        }
        let d = run(b, q, DIGIT, 7);
        if (1..=6).contains(&d) && right_ok(b, q + d) {
            return Some(q + d);
        }
    }
    right_ok(b, p).then_some(p)
}

/// National numbers with a trunk `0`: `020 7946 0958`, `0161 496 0000`,
/// `030 1234567`, `030/1234567`, `01 23 45 67 89`. The first group is 2–5
/// digits, then 1–4 groups of 2–8 digits with one kind of separator,
/// 9–12 digits in all.
fn trunk_phone(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) || at(b, i + 1) == b'0' || grouped_tail(b, i) {
        return None;
    }
    let first = run(b, i, DIGIT, 6);
    if !(2..=5).contains(&first) {
        return None;
    }
    let e = trunk_groups(b, i + first, first, 1)?;
    // `012-00-3456` has the shape of an SSN (one in a range never issued,
    // or the SSN detector would have taken it), not of a phone number.
    let ssn_shape = e == i + 11 && at(b, i + 3) == b'-' && at(b, i + 6) == b'-';
    (!ssn_shape).then_some(e)
}

/// A national number whose trunk-`0` area code is in parentheses:
/// `(020) 7946 0958`, `(07700) 003791`, `(030)1234567`, `(0123)-456789`;
/// then groups as in [`trunk_phone`].
fn trunk_paren(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) || at(b, i + 1) != b'0' || at(b, i + 2) == b'0' {
        return None;
    }
    let first = run(b, i + 1, DIGIT, 6);
    if !(2..=5).contains(&first) || at(b, i + 1 + first) != b')' {
        return None;
    }
    let mut p = i + 2 + first;
    if matches!(at(b, p), b' ' | b'-') {
        p += 1;
    }
    let g = run(b, p, DIGIT, 9);
    if !(2..=8).contains(&g) {
        return None;
    }
    trunk_groups(b, p + g, first + g, 2)
}

/// The rest of a national number after `groups` groups holding `total`
/// digits that end at `p`: more groups of 2–8 digits, one kind of separator
/// (space, `-`, `/`), at most five groups and 9–12 digits in all. The
/// longest such number, with an extension if one follows.
fn trunk_groups(b: &[u8], mut p: usize, mut total: usize, mut groups: usize) -> Option<usize> {
    let sep = at(b, p);
    let mut best = if total >= 9 { phone_end(b, p) } else { None };
    while groups < 5 && matches!(sep, b' ' | b'-' | b'/') && at(b, p) == sep {
        let g = run(b, p + 1, DIGIT, 9);
        if !(2..=8).contains(&g) || total + g > 12 {
            break;
        }
        total += g;
        p += 1 + g;
        groups += 1;
        if total >= 9
            && let Some(e) = phone_end(b, p)
        {
            best = Some(e);
        }
    }
    best
}

/// International numbers: `+` (at `i`; or the second `0` of a `00`
/// prefix), a country code, then 7–14 more digits in groups separated by
/// single spaces, dashes or dots, with at most one group in parentheses
/// (`+1 (415) 555-0132`, `+41 (0)21 345 67 89`). 8–15 digits in all, then
/// an optional extension.
fn e164(b: &[u8], i: usize) -> Option<usize> {
    if at(b, i + 1) == b'0' {
        return None;
    }
    let mut p = i + 1;
    let mut total = 0usize;
    let mut parens = false;
    let mut best = None;
    loop {
        let (g, close) = if at(b, p) == b'(' && !parens {
            parens = true;
            let g = run(b, p + 1, DIGIT, 6);
            if g == 0 || at(b, p + 1 + g) != b')' {
                break;
            }
            (g, 2)
        } else {
            (run(b, p, DIGIT, 16), 0)
        };
        if g == 0 || total + g > 15 {
            break;
        }
        total += g;
        p += g + close;
        if total >= 8
            && let Some(e) = phone_end(b, p)
        {
            best = Some(e);
        }
        let c = at(b, p);
        if matches!(c, b' ' | b'-' | b'.') && (is_digit(b, p + 1) || at(b, p + 1) == b'(') {
            p += 1;
        } else if c == b'(' || (close == 2 && c.is_ascii_digit()) {
            // `+44(20)…`: a parenthesised group right after digits;
            // `+41 (0)21 …`: digits right after one (the trunk 0 that
            // international callers leave out).
        } else {
            break;
        }
    }
    best
}

fn ipv4(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) {
        return None;
    }
    let mut p = i;
    for k in 0..4 {
        let d = run(b, p, DIGIT, 4);
        if d == 0 || d > 3 || (d > 1 && b[p] == b'0') {
            return None;
        }
        let v = b[p..p + d]
            .iter()
            .fold(0u32, |a, c| a * 10 + u32::from(c - b'0'));
        if v > 255 {
            return None;
        }
        p += d;
        if k < 3 {
            if at(b, p) != b'.' {
                return None;
            }
            p += 1;
        }
    }
    right_ok(b, p).then_some(p)
}

fn mac(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) {
        return None;
    }
    let h = run(b, i, HEX, 5);
    let p = if h == 4 {
        // Cisco: xxxx.xxxx.xxxx
        for k in 0..3 {
            let s = i + k * 5;
            if run(b, s, HEX, 5) != 4 || (k < 2 && at(b, s + 4) != b'.') {
                return None;
            }
        }
        i + 14
    } else {
        let sep = at(b, i + 2);
        for k in 0..6 {
            let s = i + k * 3;
            if run(b, s, HEX, 3) != 2 || (k < 5 && at(b, s + 2) != sep) {
                return None;
            }
        }
        i + 17
    };
    right_ok_hex(b, p).then_some(p)
}

fn ipv6(b: &[u8], i: usize) -> Option<usize> {
    if !left_ok(b, i) {
        return None;
    }
    const MAX: usize = 45;
    let mut len = 0;
    let mut colons = 0;
    let mut has_digit = false;
    while len <= MAX {
        let c = at(b, i + len);
        if c == b':' {
            colons += 1;
        } else if c.is_ascii_digit() {
            has_digit = true;
        } else if !(c.is_ascii_hexdigit() || c == b'.') {
            break;
        }
        len += 1;
    }
    if len > MAX || colons < 2 || !has_digit {
        return None;
    }
    // Trailing `:` or `.` may be punctuation: try without them too.
    let mut e = i + len;
    for _ in 0..3 {
        let s = std::str::from_utf8(&b[i..e]).ok()?;
        if s.parse::<std::net::Ipv6Addr>().is_ok() {
            return right_ok_hex(b, e).then_some(e);
        }
        if e > i && matches!(b[e - 1], b':' | b'.') {
            e -= 1;
        } else {
            return None;
        }
    }
    None
}

fn iban(b: &[u8], i: usize) -> Option<usize> {
    let cc = [at(b, i), at(b, i + 1)];
    if class(b, i + 1) & UPPER == 0 || !is_digit(b, i + 2) || !is_digit(b, i + 3) {
        return None;
    }
    let len = checks::iban_length(cc)?;
    if !left_ok(b, i) {
        return None;
    }
    let mut compact = [0u8; 34];
    let grouped = at(b, i + 4) == b' ';
    let mut p = i;
    let mut k = 0;
    while k < len {
        if grouped && k > 0 && k % 4 == 0 {
            if at(b, p) != b' ' {
                return None;
            }
            p += 1;
        }
        let c = at(b, p);
        if !(c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return None;
        }
        compact[k] = c;
        k += 1;
        p += 1;
    }
    (checks::iban_mod97(&compact[..len]) && !is_word(b, p)).then_some(p)
}

fn github(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i..];
    if rest.starts_with(b"github_pat_") {
        return min_tail(b, i, 11, 22, WORD, WORD);
    }
    if rest.len() >= 4
        && rest.starts_with(b"gh")
        && matches!(rest[2], b'p' | b'o' | b's' | b'u')
        && rest[3] == b'_'
    {
        return min_tail(b, i, 4, 36, ALNUM, WORD);
    }
    None
}

fn slack(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i..];
    if rest.len() >= 5
        && rest.starts_with(b"xox")
        && matches!(rest[3], b'b' | b'a' | b'p' | b'r' | b's')
        && rest[4] == b'-'
    {
        return min_tail(b, i, 5, 10, ALNUM | B64URL, B64URL);
    }
    None
}

fn jwt(b: &[u8], i: usize) -> Option<usize> {
    use base64::Engine as _;
    // Not inside a longer base64url run: each run is tried once, so text
    // like `eyJ-eyJ-eyJ-…` costs linear time.
    if !b[i..].starts_with(b"eyJ") || !left_ok(b, i) || class(b, i.wrapping_sub(1)) & B64URL != 0 {
        return None;
    }
    const PART_MAX: usize = 64 * 1024;
    let h = run(b, i, B64URL, PART_MAX);
    if h < 10 || at(b, i + h) != b'.' {
        return None;
    }
    let p2 = i + h + 1;
    let pl = run(b, p2, B64URL, PART_MAX);
    if pl == 0 || at(b, p2 + pl) != b'.' {
        return None;
    }
    let p3 = p2 + pl + 1;
    let sl = run(b, p3, B64URL, PART_MAX);
    let e = p3 + sl;
    if sl == PART_MAX {
        return None;
    }
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&b[i..i + h])
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&header).ok()?;
    v.get("alg")?.as_str()?;
    Some(e)
}

fn private_key(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && b[i - 1] == b'-' {
        return None;
    }
    // The header line: `-----BEGIN [LABEL ]PRIVATE KEY[ BLOCK]-----`.
    let line_end =
        memchr::memchr(b'\n', &b[i..b.len().min(i + 80)]).map_or(b.len().min(i + 80), |k| i + k);
    let line = &b[i..line_end];
    let hdr = memchr::memmem::find(line, b"PRIVATE KEY")?;
    let close = memchr::memmem::find(&line[hdr..], b"-----")? + hdr;
    let header_end = i + close + 5;
    // The body and `-----END …-----`, when within 64 KiB.
    let window = &b[header_end..b.len().min(header_end + 64 * 1024)];
    if let Some(k) = memchr::memmem::find(window, b"-----END ") {
        let end_line = &window[k + 9..window.len().min(k + 9 + 64)];
        if let Some(c) = memchr::memmem::find(end_line, b"-----") {
            return Some(header_end + k + 9 + c + 5);
        }
    }
    // No footer: take the base64 body that follows.
    let body = window
        .iter()
        .take_while(|&&c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'+' | b'/' | b'=' | b'\n' | b'\r' | b' ' | b':' | b'-' | b','
                )
        })
        .count();
    Some(header_end + body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Vec<(Detector, &str)> {
        let mut hits = Vec::new();
        scan(text, DetectorSet::ALL, &mut hits);
        hits.sort_by_key(|h| (h.start, h.end));
        hits.iter()
            .map(|h| (h.detector, &text[h.start..h.end]))
            .collect()
    }

    fn one(text: &str, d: Detector, value: &str) {
        let got = find(text);
        assert_eq!(got, vec![(d, value)], "in {text:?}");
    }

    fn none(text: &str) {
        assert_eq!(find(text), vec![], "in {text:?}");
    }

    #[test]
    fn email() {
        one(
            "mail alice@example.com now",
            Detector::Email,
            "alice@example.com",
        );
        one(
            "<a.b-c+tag@mail.example.co.uk>.",
            Detector::Email,
            "a.b-c+tag@mail.example.co.uk",
        );
        one("end: bob@example.org.", Detector::Email, "bob@example.org");
        none("user@localhost");
        none("a@b.c");
        none("@example.com");
        none("x..y@example.com");
        none("x@-bad.com");
        none("x@example.c0m");
    }

    #[test]
    fn phone() {
        one(
            "call (415) 555-0132 today",
            Detector::Phone,
            "(415) 555-0132",
        );
        one("call 415-555-0132.", Detector::Phone, "415-555-0132");
        one("call 415.555.0132", Detector::Phone, "415.555.0132");
        one("call 1-800-555-0199", Detector::Phone, "1-800-555-0199");
        one("uk 020 7946 0958", Detector::Phone, "020 7946 0958");
        one("de 030 1234567", Detector::Phone, "030 1234567");
        one("de 030/1234567", Detector::Phone, "030/1234567");
        one("+44 20 7946 0958", Detector::Phone, "+44 20 7946 0958");
        one("tel:+14155550132", Detector::Phone, "+14155550132");
        one("+1 (415) 555-0132", Detector::Phone, "+1 (415) 555-0132");
        one("+49 30 1234567", Detector::Phone, "+49 30 1234567");
        one("+44 20 7946 0958 2024", Detector::Phone, "+44 20 7946 0958");
        // near misses
        none("order 4155550132 shipped");
        none("415-555-01325");
        none("115-555-0132"); // area code cannot start with 1
        none("415-155-0132"); // nor the exchange
        none("415-555.0132"); // mixed separators
        none("on 01 02 2023"); // a date, too few digits
        none("05/12/2024");
        none("+12345"); // too short
        none("+1234567890123456"); // too long
        none("v2.415-555-0132x");
    }

    #[test]
    fn false_positives_found_by_the_presidio_comparison() {
        // The tail of a card or IBAN that failed its checksum is no phone.
        none("card 3525 0169 1485 4563, expiry");
        let iban = "to FR45 0419 4187 5508 0769 6886 905 bounced";
        assert!(
            find(iban).iter().all(|(d, _)| *d != Detector::Phone),
            "{:?}",
            find(iban)
        );
        // Only groups of four after a group of four: a year before a
        // number is no such group.
        one("since 2024 020 7946 0958", Detector::Phone, "020 7946 0958");
        one("call 0113 496 0000", Detector::Phone, "0113 496 0000");
        // An SSN in a range never issued is not a phone number either.
        none("wrote 052-00-5056 in the SSN field");
        // But a national number after a word and a space still is.
        one("tel 020 7946 0958", Detector::Phone, "020 7946 0958");
        one("1 415 555 0132", Detector::Phone, "1 415 555 0132");
    }

    #[test]
    fn email_with_non_ascii_local_part() {
        // Was found as `hlich@example.com`: half an address, the rest leaked.
        one(
            "mail nettebela+fröhlich@example.com now",
            Detector::Email,
            "nettebela+fröhlich@example.com",
        );
        one("an jörg@example.de.", Detector::Email, "jörg@example.de");
        none("x@example.coü");
        // Quotes and dashes are not part of it.
        one("“alice@example.com”", Detector::Email, "alice@example.com");
        one("see—bob@example.org", Detector::Email, "bob@example.org");
    }

    #[test]
    fn phone_forms_found_by_the_presidio_comparison() {
        // Extensions (they made the whole number a miss: `x` is a letter).
        one(
            "desk 900-978-6150x807 now",
            Detector::Phone,
            "900-978-6150x807",
        );
        one("(806)990-1627x1234.", Detector::Phone, "(806)990-1627x1234");
        one(
            "+1-212-555-0147x1234",
            Detector::Phone,
            "+1-212-555-0147x1234",
        );
        one(
            "call 415-555-0132 ext. 12",
            Detector::Phone,
            "415-555-0132 ext. 12",
        );
        one("uk 020 7946 0958 x22", Detector::Phone, "020 7946 0958 x22");
        // The trunk 0 in parentheses after the country code.
        one(
            "+41 (0)66 936 76 32 mobile",
            Detector::Phone,
            "+41 (0)66 936 76 32",
        );
        one(
            "+44 (0)20 7946 0958",
            Detector::Phone,
            "+44 (0)20 7946 0958",
        );
        // A national area code in parentheses.
        one("fax (07700) 003791 now", Detector::Phone, "(07700) 003791");
        one("(020) 7946 0958", Detector::Phone, "(020) 7946 0958");
        one("(030)1234567", Detector::Phone, "(030)1234567");
        one("(0123)-456789", Detector::Phone, "(0123)-456789");
        // The international prefix 00 instead of `+`.
        one(
            "call 001-415-555-0132 ok",
            Detector::Phone,
            "001-415-555-0132",
        );
        one("0049 30 1234567", Detector::Phone, "0049 30 1234567");
        one("0049(0)1234 567890", Detector::Phone, "0049(0)1234 567890");
        // Still not phone numbers.
        none("415-555-0132xyz");
        none("415-555-0132x1234567"); // extension too long
        none("(00) 1234 5678");
        none("(0) 1234");
        none("(020) 79"); // too few digits
        none("00 12 34 56 78");
        none("00441234567 8"); // a bare run, not 00 + country code
        none("room 2-114, ext. 4417");
        // Only `00` is an international prefix.
        none("2022-09-11 10:55:40");
        one(
            "from 109.229.41.216 blocked",
            Detector::Ipv4,
            "109.229.41.216",
        );
        none("card 5018-4200-3789");
        none("3589 0012 8940 3368"); // the tail of a grouped number
    }

    #[test]
    fn credit_card() {
        one(
            "card 4111 1111 1111 1111 exp",
            Detector::CreditCard,
            "4111 1111 1111 1111",
        );
        one(
            "card 4111-1111-1111-1111",
            Detector::CreditCard,
            "4111-1111-1111-1111",
        );
        one(
            "card 4111111111111111,",
            Detector::CreditCard,
            "4111111111111111",
        );
        one(
            "amex 3782 822463 10005",
            Detector::CreditCard,
            "3782 822463 10005",
        );
        one(
            "mc 5555555555554444",
            Detector::CreditCard,
            "5555555555554444",
        );
        one(
            "4111 1111 1111 1111 2024",
            Detector::CreditCard,
            "4111 1111 1111 1111",
        );
        none("card 4111 1111 1111 1112"); // Luhn fails
        none("id 1234567812345670"); // Luhn ok, no issuer
        none("4111 1111-1111 1111"); // mixed separators
        none("41111 111 1111 1111"); // groups do not start with four
        none("x4111111111111111");
        none("4111111111111111111111"); // too long
        // JCB's 15-digit numbers (IIN 1800 and 2131).
        one(
            "card 180095931034138.",
            Detector::CreditCard,
            "180095931034138",
        );
        one(
            "card 213113678377700",
            Detector::CreditCard,
            "213113678377700",
        );
        none("card 1800959310341380"); // Luhn-valid, but 16 digits: not JCB
        none("card 180095931034139"); // Luhn fails
    }

    #[test]
    fn iban() {
        one(
            "IBAN DE89370400440532013000.",
            Detector::Iban,
            "DE89370400440532013000",
        );
        one(
            "to DE89 3704 0044 0532 0130 00 ok",
            Detector::Iban,
            "DE89 3704 0044 0532 0130 00",
        );
        one(
            "GB82 WEST 1234 5698 7654 32",
            Detector::Iban,
            "GB82 WEST 1234 5698 7654 32",
        );
        one(
            "FR1420041010050500013M02606",
            Detector::Iban,
            "FR1420041010050500013M02606",
        );
        none("DE89370400440532013001"); // checksum
        none("DE8937040044053201300"); // too short for DE
        none("DE893704004405320130000"); // too long
        none("US89370400440532013000"); // no IBAN country
        none("DE89 3704 00440532 0130 00"); // broken grouping
    }

    #[test]
    fn ssn() {
        one("ssn 123-45-6789.", Detector::Ssn, "123-45-6789");
        none("000-45-6789");
        none("666-45-6789");
        none("900-45-6789");
        none("123-00-6789");
        none("123-45-0000");
        none("123-45-67890");
        none("1123-45-6789");
    }

    #[test]
    fn ip_addresses() {
        one("from 10.0.0.1:8080", Detector::Ipv4, "10.0.0.1");
        one("net 192.168.1.0/24", Detector::Ipv4, "192.168.1.0");
        one("ip 255.255.255.255.", Detector::Ipv4, "255.255.255.255");
        none("256.1.1.1");
        none("1.2.3");
        none("1.2.3.4.5");
        none("01.2.3.4");
        one("v6 2001:db8::1 ok", Detector::Ipv6, "2001:db8::1");
        one(
            "[fe80::1ff:fe23:4567:890a]:443",
            Detector::Ipv6,
            "fe80::1ff:fe23:4567:890a",
        );
        one("lo ::1.", Detector::Ipv6, "::1");
        one(
            "full 2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            Detector::Ipv6,
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        );
        one(
            "mapped ::ffff:192.0.2.1",
            Detector::Ipv6,
            "::ffff:192.0.2.1",
        );
        none("at 12:30:45");
        none("std::vector");
        none("2001:db8:::1");
        none("1:2:3:4:5:6:7:8:9");
    }

    #[test]
    fn mac() {
        one(
            "mac 00:1a:2b:3c:4d:5e",
            Detector::MacAddress,
            "00:1a:2b:3c:4d:5e",
        );
        one(
            "mac 00-1A-2B-3C-4D-5E.",
            Detector::MacAddress,
            "00-1A-2B-3C-4D-5E",
        );
        one("mac 001a.2b3c.4d5e", Detector::MacAddress, "001a.2b3c.4d5e");
        none("00:1a:2b:3c:4d");
        none("00:1a:2b:3c:4d:5e:6f");
        none("00:1a-2b:3c:4d:5e");
        none("00:1g:2b:3c:4d:5e");
    }

    #[test]
    fn keys() {
        one(
            "k=AKIAIOSFODNN7EXAMPLE;",
            Detector::AwsAccessKey,
            "AKIAIOSFODNN7EXAMPLE",
        );
        one(
            "ASIAIOSFODNN7EXAMPLE",
            Detector::AwsAccessKey,
            "ASIAIOSFODNN7EXAMPLE",
        );
        none("AKIAIOSFODNN7EXAMPL");
        none("AKIAIOSFODNN7EXAMPLEX");
        none("AKIAiosfodnn7example");
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        one(&format!("token {gh}"), Detector::GithubToken, &gh);
        none(&format!("ghx_{}", "a1B2".repeat(9)));
        none("ghp_short");
        let pat = format!("github_pat_{}", "11ABCDEFG_".repeat(8));
        one(&pat, Detector::GithubToken, &pat);
        one(
            "xoxb-123456789012-abcdefABCDEF",
            Detector::SlackToken,
            "xoxb-123456789012-abcdefABCDEF",
        );
        none("xoxq-123456789012-abcdef");
        let sk = format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc");
        one(&sk, Detector::StripeKey, &sk);
        none("sk_test_4eC39HqLyjWDarjtT1zdp7dc");
        let g = format!("AIza{}", "SyD-abcdefghijklmnopqrstuvwxyz01234");
        one(&format!("key={g}&"), Detector::GoogleApiKey, &g);
        none(&format!("AIza{}", "SyD-abcdefghijklmnopqrstuvwxyz0123"));
    }

    #[test]
    fn jwt() {
        // {"alg":"HS256","typ":"JWT"}.{"sub":"1234567890"}.sig
        let t = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        one(&format!("Bearer {t} x"), Detector::Jwt, t);
        // header without alg: {"typ":"JWT"}
        none("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc");
        none("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.only-two");
        none("eyJzzzzzzzzzzzz.eyJz.abc");
        none(&format!("-{t}"));
    }

    #[test]
    fn private_key() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc=\n-----END RSA PRIVATE KEY-----";
        one(&format!("key:\n{pem}\nrest"), Detector::PrivateKey, pem);
        let open = "-----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEA";
        one(open, Detector::PrivateKey, open);
        none("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----");
        none("-----BEGIN CERTIFICATE-----");
    }

    #[test]
    fn prose_has_no_findings() {
        none(
            "The quick brown fox, in 2024, ran 3.5 km at 12:30 on 05/12 (see page 42) - done: v1.2.3 ok.",
        );
        none("Rust paths a::b and Foo::bar, ratios 4:3, scores 10-12, std::io::Error.");
    }

    #[test]
    fn swar_prefilter_covers_key_bytes() {
        for c in 0..=255u8 {
            let key = CLASS[c as usize] & KEY != 0;
            for (pos, fill) in
                (0..8).flat_map(|p| [b'a', 0, 0xff, b' ', 0x27, 0x60].map(|f| (p, f)))
            {
                let mut a = [fill; 8];
                a[pos] = c;
                let hit = maybe_key(u64::from_le_bytes(a));
                assert_eq!(hit, (0x28..=0x5f).contains(&c), "byte {c:#x} at {pos}");
                assert!(!key || hit, "key byte {c:#x} missed");
            }
        }
    }

    #[test]
    fn pathological_inputs_stay_linear() {
        // Each would be quadratic if a detector re-scanned a long run from
        // every position; 256 KiB of each must finish quickly even unoptimised.
        let n = 256 * 1024;
        let start = std::time::Instant::now();
        for unit in [
            "eyJ-",
            "eyJhbGci.",
            "-----BEGIN PRIVATE KEY-----",
            "a@",
            "a.",
            "1.",
            "1:",
            ":",
            "1 ",
            "0 1",
            "+1 ",
            "ghp_",
            "DE89 ",
            "4111 ",
            "xoxb-",
            "AKIA",
        ] {
            let text = unit.repeat(n / unit.len());
            let mut hits = Vec::new();
            scan(&text, DetectorSet::ALL, &mut hits);
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn spans_respect_utf8() {
        let t = "é alice@example.com ü 415-555-0132 ñ";
        for (_, v) in find(t) {
            assert!(t.contains(v));
        }
        assert_eq!(find(t).len(), 2);
    }
}
