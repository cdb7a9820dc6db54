//! CVSS v3.0, v3.1 and v4.0 scores computed from vector strings, with the
//! RustSec `cvss` crate (ADR-0010), behind a stricter parser for v3.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::finding::Severity;
use crate::error::{Error, Result};

/// The longest vector string accepted (a full v4.0 vector with every
/// metric is about 250 characters).
pub const MAX_VECTOR_LEN: usize = 512;

/// A CVSS version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CvssVersion {
    /// CVSS v2.0 (vectors are recognised and kept, never scored here).
    #[serde(rename = "2.0")]
    V2,
    /// CVSS v3.0.
    #[serde(rename = "3.0")]
    V3_0,
    /// CVSS v3.1.
    #[serde(rename = "3.1")]
    V3_1,
    /// CVSS v4.0.
    #[serde(rename = "4.0")]
    V4_0,
}

impl CvssVersion {
    /// `2.0`, `3.0`, `3.1` or `4.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V3_0 => "3.0",
            CvssVersion::V3_1 => "3.1",
            CvssVersion::V4_0 => "4.0",
        }
    }
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A vector and the score computed from it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CvssScore {
    /// The vector as given (trimmed).
    pub vector: String,
    /// Its CVSS version.
    pub version: CvssVersion,
    /// The score computed from the vector, 0.0–10.0 with one decimal: the
    /// base score for v3.x (temporal and environmental metrics in the vector
    /// are ignored, and listed in `ignored_metrics`); for v4.0 the score of
    /// the vector as given (its `nomenclature` says which metric groups
    /// took part: `CVSS-B`, `CVSS-BT`, `CVSS-BE`, `CVSS-BTE`).
    pub score: f64,
    /// The qualitative rating of the score.
    pub severity: Severity,
    /// v4.0 only: `CVSS-B`, `CVSS-BT`, `CVSS-BE` or `CVSS-BTE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nomenclature: Option<String>,
    /// v3.x metrics present in the vector that the base score does not use.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_metrics: Vec<String>,
}

fn invalid(vector: &str, reason: impl Into<String>) -> Error {
    Error::InvalidCvssVector {
        vector: vector.chars().take(80).collect(),
        reason: reason.into(),
    }
}

/// v3.x metrics: name, allowed values, and whether the base score uses it.
const V3_METRICS: &[(&str, &[&str], bool)] = &[
    ("AV", &["N", "A", "L", "P"], true),
    ("AC", &["L", "H"], true),
    ("PR", &["N", "L", "H"], true),
    ("UI", &["N", "R"], true),
    ("S", &["U", "C"], true),
    ("C", &["H", "L", "N"], true),
    ("I", &["H", "L", "N"], true),
    ("A", &["H", "L", "N"], true),
    ("E", &["X", "U", "P", "F", "H"], false),
    ("RL", &["X", "O", "T", "W", "U"], false),
    ("RC", &["X", "U", "R", "C"], false),
    ("CR", &["X", "L", "M", "H"], false),
    ("IR", &["X", "L", "M", "H"], false),
    ("AR", &["X", "L", "M", "H"], false),
    ("MAV", &["X", "N", "A", "L", "P"], false),
    ("MAC", &["X", "L", "H"], false),
    ("MPR", &["X", "N", "L", "H"], false),
    ("MUI", &["X", "N", "R"], false),
    ("MS", &["X", "U", "C"], false),
    ("MC", &["X", "N", "L", "H"], false),
    ("MI", &["X", "N", "L", "H"], false),
    ("MA", &["X", "N", "L", "H"], false),
];

/// Scores a CVSS v3.0, v3.1 or v4.0 vector string (with its `CVSS:3.x/` or
/// `CVSS:4.0/` prefix).
///
/// v3.x vectors are checked strictly before scoring (as the specification
/// and PyPI `cvss` do): upper-case metric names and values, each metric at
/// most once, all eight base metrics present; v4.0 vectors are checked by
/// the `cvss` crate (every mandatory metric, no duplicates, known values).
/// CVSS v2 vectors are refused: use [`CvssVersion`] detection in
/// [`detect_version`] to keep them without a score.
pub fn score_vector(vector: &str) -> Result<CvssScore> {
    let v = vector.trim();
    if v.len() > MAX_VECTOR_LEN {
        return Err(invalid(
            v,
            format!("longer than {MAX_VECTOR_LEN} characters"),
        ));
    }
    match detect_version(v) {
        Some(CvssVersion::V3_0) => score_v3(v, CvssVersion::V3_0),
        Some(CvssVersion::V3_1) => score_v3(v, CvssVersion::V3_1),
        Some(CvssVersion::V4_0) => score_v4(v),
        Some(CvssVersion::V2) => Err(invalid(v, "CVSS v2 vectors are not scored")),
        None => Err(invalid(
            v,
            "expected a CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/ prefix",
        )),
    }
}

/// The CVSS version of a vector string, from its prefix; a vector without a
/// prefix that has v2's `Au:` metric is v2. `None` when it is none of these.
pub fn detect_version(vector: &str) -> Option<CvssVersion> {
    let v = vector.trim();
    if v.starts_with("CVSS:3.0/") {
        Some(CvssVersion::V3_0)
    } else if v.starts_with("CVSS:3.1/") {
        Some(CvssVersion::V3_1)
    } else if v.starts_with("CVSS:4.0/") {
        Some(CvssVersion::V4_0)
    } else if v.starts_with("CVSS:2.0/")
        || v.trim_start_matches('(')
            .split('/')
            .any(|m| m.starts_with("Au:"))
    {
        Some(CvssVersion::V2)
    } else {
        None
    }
}

fn score_v3(v: &str, version: CvssVersion) -> Result<CvssScore> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut ignored = Vec::new();
    for component in v.split('/').skip(1) {
        let Some((name, value)) = component.split_once(':') else {
            return Err(invalid(
                v,
                format!("component {component:?} is not METRIC:VALUE"),
            ));
        };
        let Some((_, allowed, base)) = V3_METRICS.iter().find(|(n, _, _)| *n == name) else {
            return Err(invalid(v, format!("unknown metric {name:?}")));
        };
        if !allowed.contains(&value) {
            return Err(invalid(v, format!("{name}:{value} is not a valid value")));
        }
        if seen.iter().any(|(n, _)| *n == name) {
            return Err(invalid(v, format!("metric {name} appears twice")));
        }
        seen.push((name, value));
        if !base {
            ignored.push(format!("{name}:{value}"));
        }
    }
    let mut base = format!("CVSS:{}", version.as_str());
    for (name, _, _) in V3_METRICS.iter().filter(|m| m.2) {
        let Some((_, value)) = seen.iter().find(|(n, _)| n == name) else {
            return Err(invalid(v, format!("base metric {name} is missing")));
        };
        base.push_str(&format!("/{name}:{value}"));
    }
    let parsed = cvss::v3::Base::from_str(&base).map_err(|e| invalid(v, e.to_string()))?;
    let score = parsed.score().value();
    Ok(CvssScore {
        vector: v.to_owned(),
        version,
        score,
        severity: Severity::from_score(score),
        nomenclature: None,
        ignored_metrics: ignored,
    })
}

fn score_v4(v: &str) -> Result<CvssScore> {
    let parsed = cvss::v4::Vector::from_str(v).map_err(|e| invalid(v, e.to_string()))?;
    let score = parsed.score().value();
    Ok(CvssScore {
        vector: v.to_owned(),
        version: CvssVersion::V4_0,
        score,
        severity: Severity::from_score(score),
        nomenclature: Some(parsed.nomenclature().to_string()),
        ignored_metrics: Vec::new(),
    })
}

/// Adds the `CVSS:x.y/` prefix that some formats leave out (CycloneDX
/// ratings with `method: CVSSv31` often give `AV:N/AC:L/…`); `None` when the
/// method is not a CVSS v3/v4 one. A vector that already has a prefix is
/// returned as it is.
pub(crate) fn with_prefix(vector: &str, method: &str) -> Option<String> {
    let v = vector.trim();
    if v.starts_with("CVSS:") {
        return Some(v.to_owned());
    }
    let prefix = match method {
        "CVSSv3" => "CVSS:3.0/",
        "CVSSv31" => "CVSS:3.1/",
        "CVSSv4" | "CVSSv40" => "CVSS:4.0/",
        _ => return None,
    };
    Some(format!("{prefix}{v}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Examples from FIRST's CVSS v3.1 and v4.0 examples documents.
    #[test]
    fn first_examples() {
        for (v, want) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
            ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                7.3,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
                5.2,
            ),
        ] {
            let s = score_vector(v).unwrap();
            assert_eq!(s.score, want, "{v}");
            assert_eq!(s.severity, Severity::from_score(want));
        }
        let v4 =
            score_vector("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U")
                .unwrap();
        assert_eq!(v4.nomenclature.as_deref(), Some("CVSS-BT"));
    }

    #[test]
    fn v3_temporal_and_environmental_metrics_do_not_change_the_base_score() {
        let s = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/MAV:L")
            .unwrap();
        assert_eq!(s.score, 9.8);
        assert_eq!(s.ignored_metrics, ["E:P", "RL:O", "RC:C", "MAV:L"]);
        // Any order of the base metrics.
        assert_eq!(
            score_vector("CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H")
                .unwrap()
                .score,
            9.8
        );
    }

    #[test]
    fn malformed_vectors_are_typed_errors() {
        for bad in [
            "",
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1",
            "CVSS:3.1/",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:X",
            "CVSS:3.1/av:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y",
            "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/SA:N",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        ] {
            let e = score_vector(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_cvss_vector", "{bad}");
        }
        assert_eq!(
            detect_version("AV:N/AC:L/Au:N/C:P/I:P/A:P"),
            Some(CvssVersion::V2)
        );
        assert_eq!(
            detect_version("(AV:N/AC:L/Au:N/C:P/I:P/A:P)"),
            Some(CvssVersion::V2)
        );
    }

    #[test]
    fn prefixes_from_cyclonedx_methods() {
        assert_eq!(
            with_prefix("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSSv31").as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
        );
        assert_eq!(
            with_prefix("CVSS:3.0/AV:N", "CVSSv31").as_deref(),
            Some("CVSS:3.0/AV:N")
        );
        assert_eq!(with_prefix("AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSSv2"), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_scores_stay_in_range(s in "CVSS:[34]\\.[01]/[A-Z:/]{0,120}") {
            if let Ok(x) = score_vector(&s) {
                prop_assert!((0.0..=10.0).contains(&x.score));
            }
        }

        #[test]
        fn every_v3_base_vector_scores(
            av in 0usize..4, ac in 0usize..2, pr in 0usize..3, ui in 0usize..2,
            s in 0usize..2, c in 0usize..3, i in 0usize..3, a in 0usize..3, minor in 0usize..2,
        ) {
            let pick = |k: usize, idx: usize| V3_METRICS[k].1[idx];
            let v = format!(
                "CVSS:3.{minor}/AV:{}/AC:{}/PR:{}/UI:{}/S:{}/C:{}/I:{}/A:{}",
                pick(0, av), pick(1, ac), pick(2, pr), pick(3, ui), pick(4, s), pick(5, c), pick(6, i), pick(7, a)
            );
            let x = score_vector(&v).unwrap();
            prop_assert!((0.0..=10.0).contains(&x.score));
            prop_assert_eq!((x.score * 10.0).round() / 10.0, x.score);
        }
    }
}
