//! Unit tests of the DLP configuration, text redaction and JSON walking.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn keyed() -> Dlp {
    Dlp::builder().hash_key(b"k").build().unwrap()
}

#[test]
fn redact_text_default_labels() {
    let r = Dlp::default()
        .redact_text("x alice@example.com, ssn 123-45-6789; ip 10.1.2.3.")
        .unwrap();
    assert_eq!(
        r.output,
        "x [REDACTED:EMAIL], ssn [REDACTED:SSN]; ip [REDACTED:IPV4]."
    );
    let kinds: Vec<_> = r
        .report
        .findings
        .iter()
        .map(|f| f.entity.as_str())
        .collect();
    assert_eq!(kinds, ["email", "ssn", "ipv4"]);
    assert_eq!(r.report.findings[0].span, Some(Span { start: 2, end: 19 }));
    assert_eq!(r.report.counts().get("ssn"), Some(&1));
}

#[test]
fn operators_in_text() {
    let text = "card 4111-1111-1111-1111 mail bob@example.org ip 10.0.0.1 end";
    let dlp = Dlp::builder()
        .operator("credit_card", Operator::mask_last(4))
        .operator("email", Operator::Hash)
        .operator("ipv4", Operator::Drop)
        .hash_key(b"secret")
        .build()
        .unwrap();
    let r = dlp.redact_text(text).unwrap();
    let hash = HmacKey::new(b"secret").hex(b"bob@example.org");
    assert_eq!(
        r.output,
        format!("card ****-****-****-1111 mail {hash} ip  end")
    );
    let ops: Vec<_> = r.report.findings.iter().map(|f| f.operator).collect();
    assert_eq!(
        ops,
        [OperatorKind::Mask, OperatorKind::Hash, OperatorKind::Drop]
    );
    // Deterministic for a key, different for another.
    assert_eq!(dlp.redact_text(text).unwrap().output, r.output);
    let other = Dlp::builder()
        .operator("email", Operator::Hash)
        .hash_key(b"other")
        .build()
        .unwrap();
    assert!(!other.redact_text(text).unwrap().output.contains(&hash));

    let dlp = Dlp::builder()
        .default_operator(Operator::Replace {
            value: "<x>".into(),
        })
        .build()
        .unwrap();
    assert_eq!(dlp.redact_text("a 10.0.0.1 b").unwrap().output, "a <x> b");
    let dlp = Dlp::builder()
        .redact_template("<{entity}>")
        .build()
        .unwrap();
    assert_eq!(
        dlp.redact_text("a 10.0.0.1 b").unwrap().output,
        "a <ipv4> b"
    );
}

#[test]
fn detectors_can_be_chosen() {
    let text = "bob@example.org 10.0.0.1";
    let only = Dlp::builder().detectors([Detector::Ipv4]).build().unwrap();
    let found: Vec<_> = only
        .scan(text)
        .unwrap()
        .into_iter()
        .map(|d| d.entity)
        .collect();
    assert_eq!(found, ["ipv4"]);
    let without = Dlp::builder().without(Detector::Ipv4).build().unwrap();
    let found: Vec<_> = without
        .scan(text)
        .unwrap()
        .into_iter()
        .map(|d| d.entity)
        .collect();
    assert_eq!(found, ["email"]);
}

#[test]
fn hash_needs_a_key() {
    let e = Dlp::builder()
        .operator("email", Operator::Hash)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "dlp_invalid_operator");
    let e = Dlp::builder()
        .default_operator(Operator::Hash)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "dlp_invalid_operator");
    let rules = FieldRules::new().field("a", Operator::Hash).unwrap();
    let e = Dlp::default()
        .redact_json(&json!({"a": 1}), &rules)
        .unwrap_err();
    assert_eq!(e.code(), "dlp_invalid_operator");
    assert_eq!(
        Dlp::default().operator_named("hash").unwrap_err().code(),
        "dlp_invalid_operator"
    );
}

#[test]
fn operator_for_unknown_entity_is_refused() {
    let e = Dlp::builder()
        .operator("e-mail", Operator::Drop)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "dlp_invalid_operator");
}

#[test]
fn custom_patterns() {
    let data = json!({"companyos": {"dlp": {"patterns": [
        {"name": "employee_id", "pattern": "\\bEMP-[0-9]{6}\\b", "classification": "CONFIDENTIAL", "operator": "mask"},
        {"name": "ticket", "pattern": "TCK[0-9]+", "operator": {"type": "replace", "value": "TCK?"}}
    ]}}});
    let patterns = CustomPattern::from_pack_data(&data).unwrap();
    assert_eq!(patterns.len(), 2);
    let dlp = Dlp::builder().patterns(patterns).build().unwrap();
    let r = dlp
        .redact_text("by EMP-123456 in TCK42, mail a@example.com")
        .unwrap();
    assert_eq!(r.output, "by ***-**3456 in TCK?, mail [REDACTED:EMAIL]");
    assert_eq!(r.report.findings[0].entity, "employee_id");
    assert_eq!(
        r.report.findings[0].classification,
        Some(Classification::Confidential)
    );
    let log = serde_json::to_value(&r.report.findings[0]).unwrap();
    assert_eq!(
        log,
        json!({"entity": "employee_id", "span": {"start": 3, "end": 13},
               "classification": "CONFIDENTIAL", "operator": "mask"})
    );
    // The caller's operator wins over the pattern's.
    let dlp = Dlp::builder()
        .patterns(CustomPattern::from_pack_data(&data).unwrap())
        .operator("employee_id", Operator::Redact)
        .build()
        .unwrap();
    assert_eq!(
        dlp.redact_text("EMP-123456").unwrap().output,
        "[REDACTED:EMPLOYEE_ID]"
    );
    // No patterns in the data: none.
    assert!(
        CustomPattern::from_pack_data(&json!({}))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn custom_pattern_wins_at_the_same_span() {
    let dlp = Dlp::builder()
        .pattern(CustomPattern::new("test_ip", r"10\.0\.0\.1"))
        .build()
        .unwrap();
    let found = dlp.scan("at 10.0.0.1").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].entity, "test_ip");
}

#[test]
fn custom_pattern_errors() {
    let code = |p: CustomPattern| Dlp::builder().pattern(p).build().unwrap_err().code();
    assert_eq!(
        code(CustomPattern::new("x", "(unclosed")),
        "dlp_invalid_pattern"
    );
    assert_eq!(code(CustomPattern::new("x", "a*")), "dlp_invalid_pattern"); // matches ""
    assert_eq!(
        code(CustomPattern::new("x", "a".repeat(MAX_PATTERN_LEN + 1))),
        "dlp_invalid_pattern"
    );
    assert_eq!(
        code(CustomPattern::new("x", r"\w{1000}\w{1000}")),
        "dlp_invalid_pattern"
    ); // size limit
    assert_eq!(
        code(CustomPattern::new("email", "x")),
        "dlp_invalid_pattern"
    );
    assert_eq!(code(CustomPattern::new("", "x")), "dlp_invalid_pattern");
    assert_eq!(code(CustomPattern::new("a b", "x")), "dlp_invalid_pattern");
    let e = Dlp::builder()
        .pattern(CustomPattern::new("x", "a"))
        .pattern(CustomPattern::new("x", "b"))
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "dlp_invalid_pattern");
    let many = (0..=MAX_CUSTOM_PATTERNS).map(|k| CustomPattern::new(format!("p{k}"), "x"));
    assert_eq!(
        Dlp::builder().patterns(many).build().unwrap_err().code(),
        "dlp_invalid_pattern"
    );
    // Bad shapes in pack data.
    for bad in [
        json!({"companyos": {"dlp": {"patterns": {"name": "x"}}}}),
        json!({"companyos": {"dlp": {"patterns": [{"name": "x"}]}}}),
        json!({"companyos": {"dlp": {"patterns": [{"name": "x", "pattern": "a", "extra": 1}]}}}),
        json!({"companyos": {"dlp": {"patterns": [{"name": "x", "pattern": "a", "operator": "shred"}]}}}),
        json!({"companyos": {"dlp": {"patterns": [{"name": "x", "pattern": "a", "classification": "SECRET"}]}}}),
    ] {
        let e = CustomPattern::from_pack_data(&bad).unwrap_err();
        assert_eq!(e.code(), "dlp_invalid_pattern", "{bad}");
    }
}

#[test]
fn input_limits() {
    let dlp = Dlp::builder()
        .max_input_bytes(10)
        .max_depth(3)
        .build()
        .unwrap();
    assert_eq!(
        dlp.scan(&"x".repeat(11)).unwrap_err().code(),
        "dlp_input_too_large"
    );
    assert_eq!(
        dlp.redact_text(&"x".repeat(11)).unwrap_err().code(),
        "dlp_input_too_large"
    );
    assert!(dlp.redact_text(&"x".repeat(10)).is_ok());
    let e = dlp
        .redact_json(&json!({"k": "0123456789"}), &FieldRules::new())
        .unwrap_err();
    assert_eq!(e.code(), "dlp_input_too_large");
    let e = dlp
        .redact_json(&json!([[[[1]]]]), &FieldRules::new())
        .unwrap_err();
    assert_eq!(e.code(), "dlp_input_too_large");
    assert!(dlp.redact_json(&json!([[[1]]]), &FieldRules::new()).is_ok());
    let mut doc = json!({"k": "0123456789 a@b.io"});
    let before = doc.clone();
    assert!(
        dlp.redact_json_in_place(&mut doc, &FieldRules::new())
            .is_err()
    );
    assert_eq!(doc, before);
}

#[test]
fn json_rules_and_scanning() {
    let dlp = keyed();
    let doc = json!({
        "customer": {"email": "ann@example.com", "name": "Ann", "note": "cell +44 20 7946 0958"},
        "items": [{"card": "4111111111111111", "sku": "A1"}, {"card": 5555555555554444u64, "sku": "B2"}],
        "tags": ["x", "ip 10.0.0.1"],
        "secret": {"api": "AKIAIOSFODNN7EXAMPLE", "nested": [1, 2]}
    });
    let rules = FieldRules::new()
        .field("customer.email", Operator::Hash)
        .unwrap()
        .field("items[*].card", Operator::mask_last(4))
        .unwrap()
        .field("secret", Operator::Redact)
        .unwrap()
        .field("tags[0]", Operator::Drop)
        .unwrap();
    let r = dlp.redact_json(&doc, &rules).unwrap();
    let hash = HmacKey::new(b"k").hex(b"ann@example.com");
    assert_eq!(
        r.output,
        json!({
            "customer": {"email": hash, "name": "Ann", "note": "cell [REDACTED:PHONE]"},
            "items": [{"card": "************1111", "sku": "A1"}, {"card": "************4444", "sku": "B2"}],
            "tags": ["ip [REDACTED:IPV4]"],
            "secret": "[REDACTED:FIELD]"
        })
    );
    let log: Vec<_> = r
        .report
        .findings
        .iter()
        .map(|f| {
            (
                f.entity.as_str(),
                f.path.as_deref().unwrap_or_default(),
                f.span.map(|s| (s.start, s.end)),
                f.operator.as_str(),
            )
        })
        .collect();
    assert_eq!(
        log,
        [
            ("field", "customer.email", None, "hash"),
            ("phone", "customer.note", Some((5, 21)), "redact"),
            ("field", "items[0].card", None, "mask"),
            ("field", "items[1].card", None, "mask"),
            ("field", "secret", None, "redact"),
            ("field", "tags[0]", None, "drop"),
            ("ipv4", "tags[1]", Some((3, 11)), "redact"),
        ]
    );
    // The report never holds the values.
    let text = serde_json::to_string(&r.report).unwrap();
    for secret in [
        "ann@example.com",
        "7946",
        "4111111111111111",
        "AKIA",
        "10.0.0.1",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn json_strictest_rule_wins_and_drop_in_arrays() {
    let rules = FieldRules::new()
        .field("a[*]", Operator::mask_last(1))
        .unwrap()
        .field("a[1]", Operator::Drop)
        .unwrap()
        .field("a[3]", Operator::Drop)
        .unwrap();
    let r = Dlp::default()
        .redact_json(&json!({"a": ["ab", "cd", "ef", "gh"]}), &rules)
        .unwrap();
    assert_eq!(r.output, json!({"a": ["*b", "*f"]}));
    let paths: Vec<_> = r
        .report
        .findings
        .iter()
        .filter_map(|f| f.path.clone())
        .collect();
    assert_eq!(paths, ["a[0]", "a[1]", "a[2]", "a[3]"]);
}

#[test]
fn json_without_scanning_and_odd_keys() {
    let doc = json!({"a.b": {"x y": "bob@example.org"}, "c": "bob@example.org"});
    let rules = FieldRules::new()
        .scan_strings(false)
        .field(r#"["a.b"]["x y"]"#, Operator::Redact)
        .unwrap();
    let r = Dlp::default().redact_json(&doc, &rules).unwrap();
    assert_eq!(
        r.output,
        json!({"a.b": {"x y": "[REDACTED:FIELD]"}, "c": "bob@example.org"})
    );
    assert_eq!(
        r.report.findings[0].path.as_deref(),
        Some(r#"["a.b"]["x y"]"#)
    );
    // Scanning on: the string is scanned and its path reported.
    let r = Dlp::default()
        .redact_json(&json!({"a.b": ["x bob@example.org"]}), &FieldRules::new())
        .unwrap();
    assert_eq!(r.report.findings[0].path.as_deref(), Some(r#"["a.b"][0]"#));
    // Scalars that are not strings are left alone by the detectors.
    let r = Dlp::default()
        .redact_json(
            &json!({"n": 4111111111111111u64, "b": true, "z": null}),
            &FieldRules::new(),
        )
        .unwrap();
    assert!(r.report.is_empty());
}

#[test]
fn json_classified_fields() {
    let fields = [
        ("customer.email", "email"),
        ("customer.ssn", "ssn"),
        ("customer.city", "address"),
    ];
    let ops = BTreeMap::from([
        ("email".to_owned(), Operator::Redact),
        ("ssn".to_owned(), Operator::Drop),
    ]);
    let rules = FieldRules::classified(fields, &ops).unwrap();
    let doc = json!({"customer": {"email": "a@example.com", "ssn": "123-45-6789", "city": "Oslo"}});
    let r = Dlp::default().redact_json(&doc, &rules).unwrap();
    assert_eq!(
        r.output,
        json!({"customer": {"email": "[REDACTED:EMAIL]", "city": "Oslo"}})
    );
    assert_eq!(r.report.findings[0].entity, "email");
    assert_eq!(r.report.findings[1].entity, "ssn");
}

#[test]
fn obligations_from_the_baseline_shape() {
    let obligations: Vec<Obligation> = serde_json::from_value(json!([
        {"type": "redact", "operator": "drop", "fields": ["customer.ssn"]},
        {"type": "redact", "operator": "hash", "fields": ["customer.email", "customer.name"]},
        {"type": "redact", "operator": "redact", "fields": ["order.id", "payment.card"], "classification": "RESTRICTED"},
        {"type": "step_up", "method": "mfa"},
        {"type": "something_else", "x": 1}
    ]))
    .unwrap();
    let doc = json!({
        "customer": {"name": "Ann", "email": "ann@example.com", "ssn": "123-45-6789", "note": "ann@example.com"},
        "order": {"id": 7},
        "payment": {"card": "4111 1111 1111 1111"}
    });
    let dlp = Dlp::builder()
        .hash_key(b"k")
        .named_operator("mask", Operator::mask_last(2))
        .build()
        .unwrap();
    let r = dlp.apply_obligations(&doc, &obligations).unwrap();
    let key = HmacKey::new(b"k");
    assert_eq!(
        r.output,
        json!({
            "customer": {"name": key.hex(b"Ann"), "email": key.hex(b"ann@example.com"), "note": "ann@example.com"},
            "order": {"id": "[REDACTED]"},
            "payment": {"card": "[REDACTED]"}
        })
        .to_string()
        .replace("[REDACTED]", "[REDACTED:FIELD]")
        .parse::<serde_json::Value>()
        .unwrap()
    );
    assert_eq!(r.report.findings.len(), 5);
    let restricted: Vec<_> = r
        .report
        .findings
        .iter()
        .filter(|f| f.classification == Some(Classification::Restricted))
        .filter_map(|f| f.path.as_deref())
        .collect();
    assert_eq!(restricted, ["order.id", "payment.card"]);
    // A renamed operator.
    let o: Vec<Obligation> =
        serde_json::from_value(json!([{"type": "redact", "operator": "mask", "fields": ["p"]}]))
            .unwrap();
    assert_eq!(
        dlp.apply_obligations(&json!({"p": "1234"}), &o)
            .unwrap()
            .output,
        json!({"p": "**34"})
    );
    // No operator: redact.
    let o: Vec<Obligation> =
        serde_json::from_value(json!([{"type": "redact", "fields": ["p"]}])).unwrap();
    assert_eq!(
        Dlp::default()
            .apply_obligations(&json!({"p": 1}), &o)
            .unwrap()
            .output,
        json!({"p": "[REDACTED:FIELD]"})
    );
    // Errors.
    let o: Vec<Obligation> =
        serde_json::from_value(json!([{"type": "redact", "operator": "shred", "fields": ["p"]}]))
            .unwrap();
    assert_eq!(
        Dlp::default()
            .apply_obligations(&json!({}), &o)
            .unwrap_err()
            .code(),
        "dlp_invalid_operator"
    );
    let o: Vec<Obligation> =
        serde_json::from_value(json!([{"type": "redact", "operator": "drop", "fields": ["a..b"]}]))
            .unwrap();
    assert_eq!(
        Dlp::default()
            .apply_obligations(&json!({}), &o)
            .unwrap_err()
            .code(),
        "dlp_invalid_path"
    );
}

#[test]
fn overlapping_matches_keep_the_longest() {
    // An IPv4 inside what the custom pattern covers.
    let dlp = Dlp::builder()
        .pattern(CustomPattern::new("host", r"host=[0-9.]+"))
        .build()
        .unwrap();
    let found = dlp.scan("host=10.0.0.1 and 10.0.0.2").unwrap();
    let names: Vec<_> = found.iter().map(|d| d.entity.as_str()).collect();
    assert_eq!(names, ["host", "ipv4"]);
}

#[test]
fn error_codes_are_stable() {
    let e = DlpError::InputTooLarge {
        what: "text bytes".into(),
        size: 2,
        limit: 1,
    };
    assert_eq!(e.code(), "dlp_input_too_large");
    assert_eq!(
        e.to_string(),
        "DLP input too large: text bytes is 2 (limit 1)"
    );
}

/// Values the generator mixes into prose; every one is detected.
const PII: &[&str] = &[
    "alice@example.com",
    "(415) 555-0132",
    "+44 20 7946 0958",
    "020 7946 0958",
    "030 1234567",
    "4111 1111 1111 1111",
    "5555555555554444",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "123-45-6789",
    "192.168.0.17",
    "2001:db8::8a2e:370:7334",
    "00:1a:2b:3c:4d:5e",
    "AKIAIOSFODNN7EXAMPLE",
    "xoxb-123456789012-abcdefABCDEF",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
];

const WORDS: &[&str] = &[
    "the", "order", "shipped", "to", "café", "naïve", "über", "日本", "ok,", "(see", "it)", "—",
    "2024", "v1.2", "a-b",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_and_spans_are_sound(text in "\\PC{0,300}") {
        let dlp = Dlp::builder()
            .pattern(CustomPattern::new("digits", "[0-9]{5}"))
            .operator("credit_card", Operator::mask_last(4))
            .hash_key(b"k")
            .operator("email", Operator::Hash)
            .operator("ipv4", Operator::Drop)
            .build()
            .unwrap();
        let found = dlp.scan(&text).unwrap();
        let mut last = 0;
        for d in &found {
            prop_assert!(d.span.start >= last && d.span.start < d.span.end);
            prop_assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end));
            last = d.span.end;
        }
        let r = dlp.redact_text(&text).unwrap();
        prop_assert_eq!(r.report.findings.len(), found.len());
        let doc = json!({"t": text, "a": [text.clone()]});
        dlp.redact_json(&doc, &FieldRules::new()).unwrap();
    }

    #[test]
    fn never_panics_on_pii_like_bytes(text in "[0-9a-fA-F:.@+() /_-]{0,80}|[A-Z0-9 ]{0,60}|(eyJ|AKIA|ghp_|xoxb-|-----BEGIN )[A-Za-z0-9_.=+/ -]{0,60}") {
        let found = Dlp::default().scan(&text).unwrap();
        for d in &found {
            prop_assert!(text.get(d.span.start..d.span.end).is_some());
        }
        Dlp::default().redact_text(&text).unwrap();
    }

    #[test]
    fn redacted_text_holds_no_detected_value(
        parts in proptest::collection::vec((0..WORDS.len(), proptest::option::weighted(0.3, 0..PII.len())), 1..40)
    ) {
        let mut text = String::new();
        for (w, p) in parts {
            text.push_str(WORDS[w]);
            text.push(' ');
            if let Some(p) = p {
                text.push_str(PII[p]);
                text.push(' ');
            }
        }
        let dlp = Dlp::default();
        let found = dlp.scan(&text).unwrap();
        let r = dlp.redact_text(&text).unwrap();
        for d in &found {
            let value = &text[d.span.start..d.span.end];
            prop_assert!(!r.output.contains(value), "{} left in {}", value, r.output);
        }
        for p in PII {
            prop_assert!(!r.output.contains(p), "{} not redacted in {}", p, r.output);
        }
        // Redacting again finds nothing.
        prop_assert!(dlp.scan(&r.output).unwrap().is_empty());
    }
}

#[test]
fn configuration_as_data() {
    let config: DlpConfig = serde_json::from_value(json!({
        "detectors": ["email", "credit_card", "phone"],
        "without": ["phone"],
        "patterns": [{"name": "employee_id", "pattern": "\\bEMP-[0-9]{6}\\b", "operator": "drop"}],
        "operators": {"credit_card": {"type": "mask", "keep": 4}, "email": "hash"},
        "default_operator": {"type": "replace", "value": "<x>"},
        "named_operators": {"mask": {"type": "mask", "keep": 2}},
        "redact_template": "<{entity}>",
        "max_input_bytes": 1000,
        "max_depth": 4
    }))
    .unwrap();
    let dlp = config.clone().build(Some(b"k")).unwrap();
    let r = dlp
        .redact_text("a@example.com 4111 1111 1111 1111 EMP-123456 415-555-0132")
        .unwrap();
    assert_eq!(
        r.output.len(),
        64 + " **** **** **** 1111  415-555-0132".len()
    );
    assert!(r.output.ends_with(" **** **** **** 1111  415-555-0132"));
    let kinds: Vec<_> = r.report.findings.iter().map(|f| f.operator).collect();
    assert_eq!(
        kinds,
        [OperatorKind::Hash, OperatorKind::Mask, OperatorKind::Drop]
    );
    assert_eq!(dlp.operator_named("mask").unwrap(), Operator::mask_last(2));
    assert_eq!(
        dlp.redact_text(&"x".repeat(1001)).unwrap_err().code(),
        "dlp_input_too_large"
    );
    // The same checks as the builder: hash without a key.
    assert_eq!(
        config.build(None).unwrap_err().code(),
        "dlp_invalid_operator"
    );
    // Unknown fields and detector names are refused by the parser.
    assert!(serde_json::from_value::<DlpConfig>(json!({"detector": ["email"]})).is_err());
    assert!(serde_json::from_value::<DlpConfig>(json!({"detectors": ["emails"]})).is_err());
    assert_eq!(
        serde_json::from_value::<DlpConfig>(json!({}))
            .unwrap()
            .build(None)
            .unwrap()
            .redact_text("a@example.com")
            .unwrap()
            .output,
        "[REDACTED:EMAIL]"
    );
}

#[test]
fn field_rules_as_data() {
    let rules: FieldRulesConfig = serde_json::from_value(json!({
        "fields": [
            {"path": "customer.ssn", "operator": "drop"},
            {"path": "items[*].card", "operator": "mask", "class": "credit_card",
             "classification": "RESTRICTED"}
        ]
    }))
    .unwrap();
    assert!(rules.scan_strings);
    let doc = json!({"customer": {"ssn": "123-45-6789", "note": "a@example.com"},
                     "items": [{"card": "4111111111111111"}]});
    let r = Dlp::default()
        .redact_json(&doc, &rules.build().unwrap())
        .unwrap();
    assert_eq!(
        r.output,
        json!({"customer": {"note": "[REDACTED:EMAIL]"}, "items": [{"card": "************1111"}]})
    );
    let log = serde_json::to_value(&r.report).unwrap();
    assert_eq!(
        log["findings"][2],
        json!({"entity": "credit_card", "path": "items[0].card",
               "classification": "RESTRICTED", "operator": "mask"})
    );
    let bad: FieldRulesConfig =
        serde_json::from_value(json!({"fields": [{"path": "a..b", "operator": "drop"}]})).unwrap();
    assert_eq!(bad.build().unwrap_err().code(), "dlp_invalid_path");
    let many = FieldRulesConfig {
        scan_strings: true,
        fields: vec![
            FieldRuleConfig {
                path: "a".into(),
                operator: Operator::Drop,
                class: None,
                classification: None,
            };
            MAX_FIELD_RULES + 1
        ],
    };
    assert_eq!(many.build().unwrap_err().code(), "limit_exceeded");
    assert_eq!(FieldRulesConfig::default().fields.len(), 0);
}
