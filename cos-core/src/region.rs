//! Regions (ISO 3166-1 alpha-2 countries and named groups) and residency tags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result, excerpt};

/// Every officially assigned ISO 3166-1 alpha-2 code (249), sorted.
///
/// Checked against PyPI `pycountry` by the interop tests.
pub const ISO_3166_1_ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The 27 member states of the European Union.
const EU: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];
/// The European Economic Area: the EU plus Iceland, Liechtenstein and Norway.
const EEA: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];
/// The European Free Trade Association.
const EFTA: &[&str] = &["CH", "IS", "LI", "NO"];

const GROUP_NAMES: &str = "EU, EEA, EFTA";

/// A named group of countries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RegionGroup {
    /// European Union (27 member states).
    Eu,
    /// European Economic Area (EU + IS, LI, NO).
    Eea,
    /// European Free Trade Association (CH, IS, LI, NO).
    Efta,
}

impl RegionGroup {
    /// All groups.
    pub const ALL: [RegionGroup; 3] = [RegionGroup::Eu, RegionGroup::Eea, RegionGroup::Efta];

    /// The group's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionGroup::Eu => "EU",
            RegionGroup::Eea => "EEA",
            RegionGroup::Efta => "EFTA",
        }
    }

    /// The member countries' alpha-2 codes, sorted.
    pub fn members(self) -> &'static [&'static str] {
        match self {
            RegionGroup::Eu => EU,
            RegionGroup::Eea => EEA,
            RegionGroup::Efta => EFTA,
        }
    }
}

/// A region: one country (ISO 3166-1 alpha-2) or a named group of countries.
///
/// Parsing is case-insensitive; `UK` is accepted as the common name of `GB`.
///
/// ```
/// use cos_core::Region;
/// let eu: Region = "EU".parse().unwrap();
/// let de: Region = "de".parse().unwrap();
/// assert!(eu.contains(&de));
/// assert!(!eu.contains(&"US".parse().unwrap()));
/// assert!("EEA".parse::<Region>().unwrap().contains(&eu));
/// assert_eq!("uk".parse::<Region>().unwrap().to_string(), "GB");
/// assert!("XX".parse::<Region>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    /// A single country by its index in [`ISO_3166_1_ALPHA2`].
    Country(CountryCode),
    /// A named group.
    Group(RegionGroup),
}

/// An ISO 3166-1 alpha-2 country code known to be assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(u8);

impl CountryCode {
    /// Looks up an alpha-2 code (case-insensitive).
    pub fn new(code: &str) -> Option<Self> {
        let upper = code.to_ascii_uppercase();
        ISO_3166_1_ALPHA2
            .binary_search(&upper.as_str())
            .ok()
            .and_then(|i| u8::try_from(i).ok())
            .map(CountryCode)
    }

    /// The upper-case alpha-2 code.
    pub fn as_str(self) -> &'static str {
        ISO_3166_1_ALPHA2[self.0 as usize]
    }
}

impl Region {
    /// The countries this region covers, as alpha-2 codes.
    pub fn countries(&self) -> Vec<&'static str> {
        match self {
            Region::Country(c) => vec![c.as_str()],
            Region::Group(g) => g.members().to_vec(),
        }
    }

    /// Whether every country of `other` lies within this region.
    pub fn contains(&self, other: &Region) -> bool {
        match (self, other) {
            (Region::Country(a), Region::Country(b)) => a == b,
            (Region::Group(g), Region::Country(c)) => g.members().contains(&c.as_str()),
            (Region::Country(_), Region::Group(_)) => false,
            (Region::Group(a), Region::Group(b)) => {
                b.members().iter().all(|m| a.members().contains(m))
            }
        }
    }

    /// The region's name: the alpha-2 code or the group name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Region::Country(c) => c.as_str(),
            Region::Group(g) => g.as_str(),
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if let Some(g) = RegionGroup::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s))
        {
            return Ok(Region::Group(g));
        }
        let code = if s.eq_ignore_ascii_case("UK") {
            "GB"
        } else {
            s
        };
        if code.len() == 2
            && let Some(c) = CountryCode::new(code)
        {
            return Ok(Region::Country(c));
        }
        Err(Error::InvalidRegion {
            input: excerpt(s),
            groups: GROUP_NAMES,
        })
    }
}

/// A data residency tag: where data may be stored and processed.
///
/// `<REGION>-Only` (e.g. `EU-Only`, `US-Only`, `DE-Only`) confines data to a
/// region; `Global` places no restriction. Parsing is case-insensitive;
/// printing uses the `EU-Only` / `Global` spelling.
///
/// ```
/// use cos_core::{Region, Residency};
/// let tag: Residency = "EU-Only".parse().unwrap();
/// assert!(tag.permits(&"FR".parse::<Region>().unwrap()));
/// assert!(!tag.permits(&"US".parse::<Region>().unwrap()));
/// assert!("Global".parse::<Residency>().unwrap().permits(&"US".parse().unwrap()));
/// assert_eq!(tag.to_string(), "EU-Only");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Residency {
    /// Data must stay within the region.
    Only(Region),
    /// No residency restriction.
    Global,
}

impl Residency {
    /// Whether data with this tag may go to `destination`.
    pub fn permits(&self, destination: &Region) -> bool {
        match self {
            Residency::Global => true,
            Residency::Only(r) => r.contains(destination),
        }
    }
}

impl fmt::Display for Residency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Residency::Global => f.write_str("Global"),
            Residency::Only(r) => write!(f, "{r}-Only"),
        }
    }
}

impl FromStr for Residency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("Global") {
            return Ok(Residency::Global);
        }
        let region = s
            .len()
            .checked_sub(5)
            .filter(|&i| s.is_char_boundary(i) && s[i..].eq_ignore_ascii_case("-only"))
            .map(|i| &s[..i])
            .ok_or_else(|| Error::InvalidResidency {
                input: excerpt(s),
                reason: "expected <REGION>-Only (e.g. EU-Only, US-Only) or Global".into(),
            })?;
        let region = region
            .parse::<Region>()
            .map_err(|e| Error::InvalidResidency {
                input: excerpt(s),
                reason: e.to_string(),
            })?;
        Ok(Residency::Only(region))
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
string_serde!(Region);
string_serde!(Residency);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tables_are_sorted_and_consistent() {
        assert!(ISO_3166_1_ALPHA2.windows(2).all(|w| w[0] < w[1]));
        for g in RegionGroup::ALL {
            assert!(g.members().windows(2).all(|w| w[0] < w[1]), "{g:?}");
            for m in g.members() {
                assert!(CountryCode::new(m).is_some(), "{m}");
            }
        }
        assert_eq!(EU.len(), 27);
        assert_eq!(EEA.len(), 30);
    }

    #[test]
    fn containment() {
        let r = |s: &str| s.parse::<Region>().unwrap();
        assert!(r("EEA").contains(&r("NO")));
        assert!(!r("EU").contains(&r("NO")));
        assert!(!r("EU").contains(&r("EEA")));
        assert!(!r("EU").contains(&r("CH")));
        assert!(r("EFTA").contains(&r("CH")));
        assert!(!r("DE").contains(&r("EU")));
        assert!(r("US").contains(&r("us")));
    }

    #[test]
    fn residency_parsing() {
        for (tag, shown) in [
            ("EU-Only", "EU-Only"),
            ("us-only", "US-Only"),
            ("UK-ONLY", "GB-Only"),
            ("global", "Global"),
        ] {
            assert_eq!(tag.parse::<Residency>().unwrap().to_string(), shown);
        }
        for bad in [
            "EU", "-Only", "XX-Only", "EU-Onl", "EU_Only", "", "é-Only", "ééé",
        ] {
            let e = bad.parse::<Residency>().unwrap_err();
            assert_eq!(e.code(), "invalid_residency", "{bad:?}");
        }
        let json = serde_json::to_string(&["EU-Only".parse::<Residency>().unwrap()]).unwrap();
        assert_eq!(json, r#"["EU-Only"]"#);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,12}") {
            let _ = s.parse::<Region>();
            let _ = s.parse::<Residency>();
        }

        #[test]
        fn country_roundtrip(i in 0usize..249) {
            let r: Region = ISO_3166_1_ALPHA2[i].to_lowercase().parse().unwrap();
            prop_assert_eq!(r.to_string(), ISO_3166_1_ALPHA2[i]);
        }
    }
}
