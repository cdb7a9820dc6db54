//! Waivers files and gate policies (YAML or JSON), and the small parsers
//! under them (RFC 3339 times, purls, CVSS vectors): never panic; a waiver
//! that parses has every required field and an expiry that prints as RFC
//! 3339 text that parses back; a time that parses prints and parses back.

#![no_main]

use cos_supplychain::vuln::{self, Limits, Policy, Purl, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_findings: 64,
        max_statements: 64,
        max_waivers: 16,
    };
    if let Ok(waivers) = vuln::parse_waivers(data, &limits) {
        assert!(waivers.len() <= limits.max_waivers);
        for w in &waivers {
            assert!(!w.id.is_empty() && !w.package.is_empty());
            assert!(!w.reason.is_empty() && !w.approver.is_empty() && !w.expires.is_empty());
            let printed = w.expires_at.to_string();
            assert_eq!(
                Timestamp::parse(&printed).ok(),
                Some(w.expires_at),
                "{printed}"
            );
        }
    }
    if let Ok(p) = Policy::from_slice(data) {
        assert!((0.0..=10.0).contains(&p.threshold));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines().take(16) {
        if let Ok(t) = Timestamp::parse(line) {
            assert_eq!(Timestamp::parse(&t.to_string()).ok(), Some(t));
        }
        let _ = Timestamp::parse_end_of(line);
        if let Some(p) = Purl::parse(line) {
            let again = Purl::parse(&p.to_string()).expect("a printed purl parses");
            assert_eq!(again.to_string(), p.to_string());
            assert!(p.without_version().matches(&p));
        }
        if let Ok(s) = vuln::score_vector(line) {
            assert!((0.0..=10.0).contains(&s.score), "{line}: {}", s.score);
        }
    }
});
