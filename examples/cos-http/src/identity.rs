//! The identity of a client that presented a verified certificate (mutual
//! TLS), in the form OPA gives it to policy.

use crate::error::{Error, Result};

/// Who the client is, by its verified certificate: put into the
/// extensions of every request of a connection whose client presented a
/// certificate that the server verified (mutual TLS, [`TlsConfig`] with a
/// client CA). Requests on plain connections, or on TLS connections
/// without client verification, carry none.
///
/// An authorisation layer reads it with
/// `request.extensions().get::<cos_http::ClientIdentity>()`, or in axum
/// with the `Option<Extension<ClientIdentity>>` extractor.
///
/// [`TlsConfig`]: crate::TlsConfig
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClientIdentity {
    /// The subject of the client's (leaf) certificate, exactly as OPA sets
    /// `input.identity` under `--authentication=tls`: Go's
    /// `cert.Subject.ToRDNSequence().String()`.
    ///
    /// That is Go's *parsed* `pkix.Name` written back out, RFC 2253 style:
    /// - the attributes Go knows, most specific first: `SERIALNUMBER`,
    ///   `CN`, `OU`, `O`, `POSTALCODE`, `STREET`, `L`, `ST`, `C`, whatever
    ///   their order in the certificate (e.g. a subject `O=Acme, CN=client`
    ///   is `CN=client,O=Acme`);
    /// - several values of one attribute (two `OU`s) as one RDN joined with
    ///   `+` in certificate order (`OU=a+OU=b`); only the last `CN` and the
    ///   last `SERIALNUMBER`; an empty `CN` or `SERIALNUMBER` left out;
    /// - every other attribute (e.g. `emailAddress`, `DC`, `UID`) left out,
    ///   as Go leaves them out;
    /// - in values, `,` `+` `"` `\` `<` `>` `;` escaped with `\`, and also
    ///   `#` at the start and a space at the start or end.
    pub subject: String,
}

impl ClientIdentity {
    /// The identity of a DER-encoded X.509 certificate, read from its
    /// subject. Fails (as Go's certificate parser fails) on a subject that
    /// is not DER, or whose attribute values are not strings Go reads
    /// (UTF8String, PrintableString, IA5String, NumericString, T61String,
    /// BMPString) or not valid ones.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self> {
        let subject = subject_of(der)?;
        Ok(ClientIdentity {
            subject: format_name(subject)?,
        })
    }
}

fn bad(reason: &'static str) -> Error {
    Error::Certificate { reason }
}

/// A reader of DER's tag-length-value items (low tag numbers, definite
/// lengths: all X.509's structures up to the subject need).
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Der { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next item's tag and contents.
    fn any(&mut self) -> Result<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first().ok_or(bad("truncated DER"))?;
        if tag & 0x1f == 0x1f {
            return Err(bad("unsupported DER tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(bad("truncated DER"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(bad("bad DER length"));
            }
            let (bytes, after) = rest.split_at(n);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        if rest.len() < len {
            return Err(bad("truncated DER"));
        }
        let (contents, after) = rest.split_at(len);
        self.rest = after;
        Ok((tag, contents))
    }

    /// The next item's contents, which must have this tag.
    fn expect(&mut self, want: u8, what: &'static str) -> Result<&'a [u8]> {
        match self.any()? {
            (tag, contents) if tag == want => Ok(contents),
            _ => Err(bad(what)),
        }
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// The contents of the subject `Name` (an RDNSequence) of a certificate.
fn subject_of(cert: &[u8]) -> Result<&[u8]> {
    let certificate = Der::new(cert).expect(SEQUENCE, "not an X.509 certificate")?;
    let tbs = Der::new(certificate).expect(SEQUENCE, "not an X.509 certificate")?;
    let mut tbs = Der::new(tbs);
    if tbs.peek_tag() == Some(0xa0) {
        tbs.any()?; // version
    }
    tbs.expect(0x02, "no serial number")?;
    tbs.expect(SEQUENCE, "no signature algorithm")?;
    tbs.expect(SEQUENCE, "no issuer")?;
    tbs.expect(SEQUENCE, "no validity")?;
    tbs.expect(SEQUENCE, "no subject")
}

/// The attributes Go's `pkix.Name` keeps, in the order
/// `Name.ToRDNSequence` writes them (`String` then prints them reversed),
/// with their names and the last byte of their OID `2.5.4.n`.
const KNOWN: [(u8, &str); 9] = [
    (6, "C"),
    (8, "ST"),
    (7, "L"),
    (9, "STREET"),
    (17, "POSTALCODE"),
    (10, "O"),
    (11, "OU"),
    (3, "CN"),
    (5, "SERIALNUMBER"),
];

/// Go's `Name.FillFromRDNSequence` then `ToRDNSequence().String()` of the
/// contents of an RDNSequence.
fn format_name(rdns: &[u8]) -> Result<String> {
    // Values of each of KNOWN, in certificate order.
    let mut values: [Vec<String>; 9] = Default::default();
    let mut seq = Der::new(rdns);
    while !seq.is_empty() {
        let mut set = Der::new(seq.expect(SET, "bad RDNSequence")?);
        while !set.is_empty() {
            let mut atv = Der::new(set.expect(SEQUENCE, "bad attribute")?);
            let oid = atv.expect(OID, "bad attribute type")?;
            if oid.is_empty() {
                return Err(bad("bad attribute type"));
            }
            let (tag, raw) = atv.any()?;
            // Go parses every value, known attribute or not.
            let value = asn1_string(tag, raw)?;
            if let [0x55, 0x04, n] = oid
                && let Some(i) = KNOWN.iter().position(|(k, _)| k == n)
            {
                if KNOWN[i].1 == "CN" || KNOWN[i].1 == "SERIALNUMBER" {
                    // One string each in Go's Name: the last wins.
                    values[i] = vec![value];
                } else {
                    values[i].push(value);
                }
            }
        }
    }
    let mut out = String::new();
    for (i, (_, name)) in KNOWN.iter().enumerate().rev() {
        let vals = &values[i];
        let single = *name == "CN" || *name == "SERIALNUMBER";
        if vals.is_empty() || (single && vals.iter().all(String::is_empty)) {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        for (j, v) in vals.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(name);
            out.push('=');
            escape_into(&mut out, v);
        }
    }
    Ok(out)
}

/// Go's escaping in `RDNSequence.String`.
fn escape_into(out: &mut String, value: &str) {
    let last = value.len().saturating_sub(1);
    for (k, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Go's `parseASN1String` (crypto/x509/parser.go).
fn asn1_string(tag: u8, value: &[u8]) -> Result<String> {
    match tag {
        // T61String, read as Latin-1.
        0x14 => Ok(value.iter().map(|b| char::from(*b)).collect()),
        // PrintableString, with the '*' and '&' Go lets through.
        0x13 => {
            if value.iter().all(|b| printable(*b)) {
                Ok(value.iter().map(|b| char::from(*b)).collect())
            } else {
                Err(bad("invalid PrintableString"))
            }
        }
        0x0c => String::from_utf8(value.to_vec()).map_err(|_| bad("invalid UTF8String")),
        // BMPString: UCS-2, a trailing NUL dropped.
        0x1e => {
            if !value.len().is_multiple_of(2) {
                return Err(bad("invalid BMPString"));
            }
            let value = match value {
                [rest @ .., 0, 0] => rest,
                v => v,
            };
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            if units.iter().any(|&u| {
                u == 0xfffe
                    || u == 0xffff
                    || (0xfdd0..=0xfdef).contains(&u)
                    || (0xd800..=0xdfff).contains(&u)
            }) {
                return Err(bad("invalid BMPString"));
            }
            String::from_utf16(&units).map_err(|_| bad("invalid BMPString"))
        }
        // IA5String: ASCII.
        0x16 => {
            if value.is_ascii() {
                Ok(value.iter().map(|b| char::from(*b)).collect())
            } else {
                Err(bad("invalid IA5String"))
            }
        }
        // NumericString.
        0x12 => {
            if value.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
                Ok(value.iter().map(|b| char::from(*b)).collect())
            } else {
                Err(bad("invalid NumericString"))
            }
        }
        _ => Err(bad("unsupported string type in the subject")),
    }
}

fn printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || (b'\''..=b')').contains(&b)
        || (b'+'..=b'/').contains(&b)
        || matches!(b, b' ' | b':' | b'=' | b'?' | b'*' | b'&')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = contents.len();
        if n < 0x80 {
            out.push(n as u8);
        } else if n < 0x100 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(contents);
        out
    }

    /// An attribute of type 2.5.4.n.
    fn attr(n: u8, tag: u8, value: &[u8]) -> Vec<u8> {
        attr_oid(&[0x55, 0x04, n], tag, value)
    }

    fn attr_oid(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        let mut c = tlv(OID, oid);
        c.extend(tlv(tag, value));
        tlv(SEQUENCE, &c)
    }

    fn rdn(attrs: &[Vec<u8>]) -> Vec<u8> {
        tlv(SET, &attrs.concat())
    }

    /// A certificate (unsigned: only its shape matters here) with this
    /// subject.
    fn cert(rdns: &[Vec<u8>]) -> Vec<u8> {
        let mut tbs = tlv(0xa0, &tlv(0x02, &[2]));
        tbs.extend(tlv(0x02, &[0x01, 0x23]));
        tbs.extend(tlv(
            SEQUENCE,
            &tlv(OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2]),
        ));
        tbs.extend(tlv(SEQUENCE, &rdn(&[attr(3, 0x0c, b"Issuer CA")])));
        tbs.extend(tlv(
            SEQUENCE,
            &[tlv(0x17, b"250101000000Z"), tlv(0x18, b"21250101000000Z")].concat(),
        ));
        tbs.extend(tlv(SEQUENCE, &rdns.concat()));
        let mut c = tlv(SEQUENCE, &tbs);
        c.extend(tlv(
            SEQUENCE,
            &tlv(OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2]),
        ));
        c.extend(tlv(0x03, &[0, 1, 2]));
        tlv(SEQUENCE, &c)
    }

    fn subject(rdns: &[Vec<u8>]) -> String {
        ClientIdentity::from_certificate_der(&cert(rdns))
            .unwrap()
            .subject
    }

    #[test]
    fn known_attributes_print_most_specific_first() {
        // O then CN in the certificate: CN first, as Go prints it.
        let s = subject(&[
            rdn(&[attr(10, 0x0c, b"Acme")]),
            rdn(&[attr(3, 0x0c, b"client")]),
        ]);
        assert_eq!(s, "CN=client,O=Acme");
        // The order in the certificate does not matter: Go's Name has fixed fields.
        let s = subject(&[
            rdn(&[attr(3, 0x13, b"svc")]),
            rdn(&[attr(6, 0x13, b"DE")]),
            rdn(&[attr(11, 0x0c, b"eng")]),
            rdn(&[attr(5, 0x13, b"42")]),
            rdn(&[attr(8, 0x0c, b"Berlin")]),
            rdn(&[attr(7, 0x0c, b"Mitte")]),
            rdn(&[attr(9, 0x0c, b"Main St 1")]),
            rdn(&[attr(17, 0x0c, b"10115")]),
            rdn(&[attr(10, 0x0c, b"Acme")]),
        ]);
        assert_eq!(
            s,
            "SERIALNUMBER=42,CN=svc,OU=eng,O=Acme,POSTALCODE=10115,STREET=Main St 1,L=Mitte,ST=Berlin,C=DE"
        );
    }

    #[test]
    fn values_of_one_attribute_join_with_plus() {
        // Two OUs in separate RDNs, and a multi-valued RDN O+OU: Go
        // flattens them into its fields and writes one RDN per attribute.
        let s = subject(&[
            rdn(&[attr(11, 0x0c, b"a")]),
            rdn(&[attr(10, 0x0c, b"Acme"), attr(11, 0x0c, b"b")]),
            rdn(&[attr(3, 0x0c, b"first"), attr(3, 0x0c, b"last")]),
        ]);
        assert_eq!(s, "CN=last,OU=a+OU=b,O=Acme");
    }

    #[test]
    fn other_attributes_are_left_out_and_empty_cn_too() {
        let email = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
        let s = subject(&[
            rdn(&[attr_oid(&email, 0x16, b"a@example.com")]),
            rdn(&[attr_oid(&[0x2a, 0x03, 0x04], 0x0c, b"x")]),
            rdn(&[attr(10, 0x0c, b"Acme")]),
            rdn(&[attr(3, 0x0c, b"")]),
        ]);
        assert_eq!(s, "O=Acme");
        // An empty O is kept (a list in Go's Name), an empty subject is "".
        assert_eq!(subject(&[rdn(&[attr(10, 0x0c, b"")])]), "O=");
        assert_eq!(subject(&[]), "");
    }

    #[test]
    fn escaping_follows_go() {
        let s = subject(&[rdn(&[attr(3, 0x0c, br#"a,b+c"d\e<f>g;h"#)])]);
        assert_eq!(s, r#"CN=a\,b\+c\"d\\e\<f\>g\;h"#);
        let s = subject(&[rdn(&[attr(3, 0x0c, b"#lead # mid ")])]);
        assert_eq!(s, r"CN=\#lead # mid\ ");
        let s = subject(&[rdn(&[attr(3, 0x0c, b" x")])]);
        assert_eq!(s, r"CN=\ x");
        assert_eq!(subject(&[rdn(&[attr(3, 0x0c, b" ")])]), r"CN=\ ");
        // '=' and non-ASCII are not escaped.
        assert_eq!(
            subject(&[rdn(&[attr(3, 0x0c, "a=b é".as_bytes())])]),
            "CN=a=b é"
        );
    }

    #[test]
    fn string_types_decode_as_go_decodes_them() {
        // T61String as Latin-1.
        assert_eq!(subject(&[rdn(&[attr(3, 0x14, b"caf\xe9")])]), "CN=café");
        // BMPString, a trailing NUL dropped.
        assert_eq!(
            subject(&[rdn(&[attr(3, 0x1e, &[0, b'h', 0, 0xe9, 0, 0])])]),
            "CN=hé"
        );
        assert_eq!(subject(&[rdn(&[attr(3, 0x16, b"ia5")])]), "CN=ia5");
        assert_eq!(
            subject(&[rdn(&[attr(5, 0x12, b"12 34")])]),
            "SERIALNUMBER=12 34"
        );
        assert_eq!(subject(&[rdn(&[attr(3, 0x13, b"a*&b")])]), "CN=a*&b");
    }

    #[test]
    fn values_go_cannot_read_are_errors() {
        let refused = |rdns: &[Vec<u8>]| ClientIdentity::from_certificate_der(&cert(rdns)).is_err();
        assert!(refused(&[rdn(&[attr(3, 0x13, b"under_score")])]));
        assert!(refused(&[rdn(&[attr(3, 0x0c, b"\xff")])]));
        assert!(refused(&[rdn(&[attr(3, 0x16, b"\x80")])]));
        assert!(refused(&[rdn(&[attr(3, 0x12, b"12a")])]));
        assert!(refused(&[rdn(&[attr(3, 0x1e, &[0xd8, 0x00])])]));
        assert!(refused(&[rdn(&[attr(3, 0x1e, &[0x00])])]));
        // An INTEGER value, even of an attribute Go does not keep.
        assert!(refused(&[rdn(&[attr_oid(&[0x2a, 3], 0x02, &[1])])]));
    }

    #[test]
    fn malformed_der_is_an_error_not_a_panic() {
        let good = cert(&[rdn(&[attr(3, 0x0c, b"client")])]);
        for n in 0..good.len() {
            assert!(
                ClientIdentity::from_certificate_der(&good[..n]).is_err(),
                "{n}"
            );
        }
        for bytes in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x1f, 0],
        ] {
            assert!(ClientIdentity::from_certificate_der(bytes).is_err());
        }
        // Every byte flipped: an error or a subject, never a panic.
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0xff;
            let _ = ClientIdentity::from_certificate_der(&b);
        }
    }
}
