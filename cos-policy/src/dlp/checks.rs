//! Checksums and range rules that turn a shape into a finding: Luhn and
//! issuer prefixes for cards, ISO 13616 lengths and mod-97 for IBANs, SSA
//! ranges for US social security numbers.

/// Luhn (mod 10) over ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (k, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if k % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The first `n` digits as a number (`n` ≤ 6, `digits.len()` ≥ `n`).
fn prefix(digits: &[u8], n: usize) -> u32 {
    digits.iter().take(n).fold(0u32, |acc, d| {
        acc * 10 + u32::from(d.wrapping_sub(b'0') % 10)
    })
}

/// Whether `digits` (13–19 ASCII digits) start with an issuer identification
/// number of a card network, with a length that network issues.
pub(crate) fn card_issuer_ok(digits: &[u8]) -> bool {
    let len = digits.len();
    if !(13..=19).contains(&len) {
        return false;
    }
    let p1 = prefix(digits, 1);
    let p2 = prefix(digits, 2);
    let p3 = prefix(digits, 3);
    let p4 = prefix(digits, 4);
    let p6 = prefix(digits, 6);
    // Visa
    (p1 == 4 && matches!(len, 13 | 16 | 19))
        // Mastercard
        || (((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16)
        // American Express
        || (matches!(p2, 34 | 37) && len == 15)
        // Discover (incl. the UnionPay co-branded 622126–622925 range)
        || ((p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
            && (16..=19).contains(&len))
        // UnionPay
        || (p2 == 62 && (16..=19).contains(&len))
        // Diners Club
        || (((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len))
        // JCB
        || ((3528..=3589).contains(&p4) && (16..=19).contains(&len))
        // JCB's older 15-digit numbers
        || (matches!(p4, 1800 | 2131) && len == 15)
        // Maestro
        || (matches!(p4, 5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763)
            && (13..=19).contains(&len))
}

/// The IBAN length of a country (ISO 13616 registry), or `None` for a
/// country that does not use IBANs.
pub(crate) fn iban_length(cc: [u8; 2]) -> Option<usize> {
    let n = match &cc {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" | b"SD" | b"FK" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"XK" | b"MN" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"TL" | b"OM" | b"SO" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" | b"ST" | b"LY" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" | b"BI" | b"DJ" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HU" | b"LB" | b"PL" | b"SV" | b"HN"
        | b"NI" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    };
    Some(n)
}

/// ISO 7064 mod 97-10 over a compact IBAN (upper-case letters and digits):
/// true when the remainder is 1.
pub(crate) fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem = 0u32;
    for &c in tail.iter().chain(head) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// SSA rules for `AAA-GG-SSSS`: area not 000, 666 or 900–999, group not 00,
/// serial not 0000.
pub(crate) fn ssn_ok(area: u32, group: u32, serial: u32) -> bool {
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_numbers() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b"79927398710"));
        assert!(!luhn(b"41x1"));
    }

    #[test]
    fn issuers() {
        assert!(card_issuer_ok(b"4111111111111111")); // Visa 16
        assert!(card_issuer_ok(b"4222222222222")); // Visa 13
        assert!(card_issuer_ok(b"5555555555554444")); // Mastercard
        assert!(card_issuer_ok(b"2223003122003222")); // Mastercard 2-series
        assert!(card_issuer_ok(b"378282246310005")); // Amex
        assert!(card_issuer_ok(b"6011111111111117")); // Discover
        assert!(card_issuer_ok(b"30569309025904")); // Diners 14
        assert!(card_issuer_ok(b"3530111333300000")); // JCB
        assert!(!card_issuer_ok(b"1234567812345670")); // no network starts with 1
        assert!(!card_issuer_ok(b"378282246310005000")); // Amex is 15 long
        assert!(!card_issuer_ok(b"411111111111")); // too short
    }

    #[test]
    fn iban_checks() {
        assert_eq!(iban_length(*b"DE"), Some(22));
        assert_eq!(iban_length(*b"GB"), Some(22));
        assert_eq!(iban_length(*b"US"), None);
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(iban_mod97(b"FR1420041010050500013M02606"));
        assert!(!iban_mod97(b"DE89370400440532013001"));
        assert!(!iban_mod97(b"GB83WEST12345698765432"));
        assert!(!iban_mod97(b"DE8"));
        assert!(!iban_mod97(b"de89370400440532013000"));
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_ok(123, 45, 6789));
        assert!(ssn_ok(899, 99, 9999));
        assert!(!ssn_ok(0, 45, 6789));
        assert!(!ssn_ok(666, 45, 6789));
        assert!(!ssn_ok(900, 45, 6789));
        assert!(!ssn_ok(999, 45, 6789));
        assert!(!ssn_ok(123, 0, 6789));
        assert!(!ssn_ok(123, 45, 0));
    }
}
