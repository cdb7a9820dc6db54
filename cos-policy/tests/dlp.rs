//! DLP behaviour: the baseline pack's DLP decision drives redaction of a
//! real-looking record; free text and documents are redacted with a report
//! fit for a decision log; custom patterns come from pack data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure should panic with context"
)]

use cos_policy::dlp::{CustomPattern, Detector, Dlp, FieldRules, Operator, Report};
use cos_policy::{EngineOptions, Limits, Pack, PolicyEngine};
use serde_json::{Value, json};

fn baseline() -> Pack {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/policy-packs/companyos-baseline");
    Pack::load(dir, &Limits::default()).unwrap()
}

fn record() -> Value {
    json!({
        "customer": {
            "name": "Ann Example",
            "email": "ann@example.com",
            "ssn": "123-45-6789",
            "note": "prefers calls on (415) 555-0132"
        },
        "payment": {"card": "4111 1111 1111 1111"},
        "order": {"id": "o-77", "ip": "203.0.113.9"}
    })
}

fn egress(party: &str) -> Value {
    json!({
        "destination": {"party": party, "region": "US"},
        "purpose": "support",
        "fields": [
            {"path": "customer.name", "class": "name"},
            {"path": "customer.email", "class": "email"},
            {"path": "customer.ssn", "class": "ssn"},
            {"path": "payment.card", "class": "credit_card"},
            {"path": "order.ip", "class": "ip"}
        ]
    })
}

#[test]
fn baseline_obligations_for_a_vendor() {
    let engine = PolicyEngine::new(&baseline(), EngineOptions::default()).unwrap();
    let decision = engine.decide("dlp", &egress("vendor")).unwrap();
    assert!(decision.allow, "{decision:?}");
    let dlp = Dlp::builder().hash_key(b"tenant-key").build().unwrap();
    let r = dlp
        .apply_obligations(&record(), &decision.obligations)
        .unwrap();

    // vendor: name/email/ip hashed, card redacted, ssn dropped.
    let out = &r.output;
    assert!(out["customer"].get("ssn").is_none());
    assert_eq!(out["payment"]["card"], "[REDACTED:FIELD]");
    for (path, value) in [
        ("/customer/name", "Ann Example"),
        ("/customer/email", "ann@example.com"),
        ("/order/ip", "203.0.113.9"),
    ] {
        let h = out.pointer(path).unwrap().as_str().unwrap();
        assert_eq!(h.len(), 64, "{path}");
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(h, value);
    }
    // Untouched: fields no obligation names (obligations alone do not scan).
    assert_eq!(out["customer"]["note"], "prefers calls on (415) 555-0132");
    assert_eq!(out["order"]["id"], "o-77");

    let ops: Vec<(String, String)> = r
        .report
        .findings
        .iter()
        .map(|f| (f.path.clone().unwrap(), f.operator.to_string()))
        .collect();
    let mut sorted = ops.clone();
    sorted.sort();
    assert_eq!(ops, sorted, "findings are in document order (sorted keys)");
    assert_eq!(ops.len(), 5);

    // Same key, same hashes: joinable across records and runs.
    let again = dlp
        .apply_obligations(&record(), &decision.obligations)
        .unwrap();
    assert_eq!(again.output, r.output);
    assert_eq!(again.report, r.report);
}

#[test]
fn baseline_obligations_for_internal_and_public() {
    let engine = PolicyEngine::new(&baseline(), EngineOptions::default()).unwrap();
    let dlp = Dlp::default();

    let internal = engine.decide("dlp", &egress("internal")).unwrap();
    let r = dlp
        .apply_obligations(&record(), &internal.obligations)
        .unwrap();
    assert_eq!(r.output["customer"]["ssn"], "***-**-6789");
    assert_eq!(r.output["payment"]["card"], "**** **** **** 1111");
    assert_eq!(r.output["customer"]["email"], "ann@example.com");

    let public = engine.decide("dlp", &egress("public")).unwrap();
    let rules = dlp
        .rules_from_obligations(&public.obligations)
        .unwrap()
        .scan_strings(true);
    let r = dlp.redact_json(&record(), &rules).unwrap();
    assert_eq!(
        r.output,
        json!({
            "customer": {"name": "[REDACTED:FIELD]", "email": "[REDACTED:FIELD]",
                         "note": "prefers calls on [REDACTED:PHONE]"},
            "payment": {},
            "order": {"id": "o-77", "ip": "[REDACTED:FIELD]"}
        })
    );
    let phone = r
        .report
        .findings
        .iter()
        .find(|f| f.entity == "phone")
        .unwrap();
    assert_eq!(phone.path.as_deref(), Some("customer.note"));
}

#[test]
fn custom_patterns_from_pack_data() {
    let mut data = baseline().data().clone();
    data["companyos"]["dlp"]["patterns"] = json!([
        {"name": "order_id", "pattern": "\\bo-[0-9]+\\b", "classification": "INTERNAL", "operator": {"type": "replace", "value": "o-?"}}
    ]);
    let dlp = Dlp::builder()
        .patterns(CustomPattern::from_pack_data(&data).unwrap())
        .build()
        .unwrap();
    let r = dlp.redact_json(&record(), &FieldRules::new()).unwrap();
    assert_eq!(r.output["order"]["id"], "o-?");
    let f = r
        .report
        .findings
        .iter()
        .find(|f| f.entity == "order_id")
        .unwrap();
    assert_eq!(
        serde_json::to_value(f).unwrap(),
        json!({"entity": "order_id", "path": "order.id", "span": {"start": 0, "end": 4},
               "classification": "INTERNAL", "operator": "replace"})
    );
    // Everything else in the record was found by the detectors.
    let counts = r.report.counts();
    assert_eq!(counts.get("email"), Some(&1));
    assert_eq!(counts.get("ssn"), Some(&1));
    assert_eq!(counts.get("phone"), Some(&1));
    assert_eq!(counts.get("credit_card"), Some(&1));
    assert_eq!(counts.get("ipv4"), Some(&1));

    data["companyos"]["dlp"]["patterns"] = json!([{"name": "bad", "pattern": "(["}]);
    let e = Dlp::builder()
        .patterns(CustomPattern::from_pack_data(&data).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "dlp_invalid_pattern");
    assert!(e.to_string().contains("\"bad\""), "{e}");
}

#[test]
fn free_text_report_for_a_decision_log() {
    let text = "Ticket from ann@example.com (IBAN DE89 3704 0044 0532 0130 00), \
                token ghp_0123456789abcdefghijABCDEFGHIJ012345 and key AKIAIOSFODNN7EXAMPLE; \
                server fe80::1ff:fe23:4567:890a, MAC 00-1A-2B-3C-4D-5E, call +49 30 1234567.";
    let dlp = Dlp::builder()
        .operator("iban", Operator::mask_last(4))
        .build()
        .unwrap();
    let r = dlp.redact_text(text).unwrap();
    assert_eq!(
        r.output,
        "Ticket from [REDACTED:EMAIL] (IBAN **** **** **** **** **30 00), \
         token [REDACTED:GITHUB_TOKEN] and key [REDACTED:AWS_ACCESS_KEY]; \
         server [REDACTED:IPV6], MAC [REDACTED:MAC_ADDRESS], call [REDACTED:PHONE]."
    );
    let log = serde_json::to_string(&r.report).unwrap();
    for secret in [
        "ann@example.com",
        "DE89",
        "ghp_",
        "AKIA",
        "fe80",
        "00-1A",
        "1234567",
    ] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
    // The report round-trips, and spans point into the original text.
    let back: Report = serde_json::from_str(&log).unwrap();
    assert_eq!(back, r.report);
    let email = back.findings[0].span.unwrap();
    assert_eq!(&text[email.start..email.end], "ann@example.com");
    let entities: Vec<_> = back.findings.iter().map(|f| f.entity.as_str()).collect();
    assert_eq!(
        entities,
        [
            "email",
            "iban",
            "github_token",
            "aws_access_key",
            "ipv6",
            "mac_address",
            "phone"
        ]
    );
}

#[test]
fn all_detectors_in_one_text() {
    let samples = [
        (Detector::Email, "dpo@example.eu"),
        (Detector::Phone, "020 7946 0958"),
        (Detector::CreditCard, "3782 822463 10005"),
        (Detector::Iban, "GB82WEST12345698765432"),
        (Detector::Ssn, "078-05-1120"),
        (Detector::Ipv4, "198.51.100.7"),
        (Detector::Ipv6, "2001:db8::1"),
        (Detector::MacAddress, "001a.2b3c.4d5e"),
        (
            Detector::Jwt,
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl",
        ),
        (Detector::AwsAccessKey, "ASIAY34FZKBOKMUTVV7A"),
        (
            Detector::GithubToken,
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        ),
        (Detector::SlackToken, "xoxp-2048-4096-abcdefABCDEF"),
        (Detector::StripeKey, "rk_live_51HxYzABCDEFGHIJKLmnop"),
        (
            Detector::GoogleApiKey,
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        ),
        (
            Detector::PrivateKey,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        ),
    ];
    assert_eq!(samples.len(), Detector::ALL.len());
    let text: String = samples
        .iter()
        .enumerate()
        .map(|(k, (_, v))| format!("item {k}: {v}\n"))
        .collect();
    let found = Dlp::default().scan(&text).unwrap();
    let got: Vec<(String, &str)> = found
        .iter()
        .map(|d| (d.entity.clone(), &text[d.span.start..d.span.end]))
        .collect();
    let want: Vec<(String, &str)> = samples
        .iter()
        .map(|(d, v)| (d.name().to_owned(), *v))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn near_misses_are_left_alone() {
    let text = "Build 2024.11.30, version 1.2.3.4.5, port 8080, ratio 16:9, total 1,234,567.89; \
                card-like 4111 1111 1111 1112 and 1234 5678 9012 3456; IBAN DE89370400440532013001; \
                ssn 666-12-3456 or 123-00-4567; ip 256.1.1.1 and 10.0.0; phone 12345 678; \
                AKIA-not-a-key, ghp_short, sk_test_4eC39HqLyjWDarjtT1zdp7dc, eyJnot.a.jwt, \
                a::b, 12:34:56, -----BEGIN PUBLIC KEY-----.";
    let found = Dlp::default().scan(text).unwrap();
    let values: Vec<&str> = found
        .iter()
        .map(|d| &text[d.span.start..d.span.end])
        .collect();
    assert!(found.is_empty(), "{values:?}");
}

#[test]
fn limits_are_typed_errors() {
    let dlp = Dlp::builder().max_input_bytes(1024).build().unwrap();
    let e = dlp.redact_text(&"a".repeat(1025)).unwrap_err();
    assert_eq!(e.code(), "dlp_input_too_large");
    let mut deep = json!("x");
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let e = Dlp::default()
        .redact_json(&deep, &FieldRules::new())
        .unwrap_err();
    assert_eq!(e.code(), "dlp_input_too_large");
}
