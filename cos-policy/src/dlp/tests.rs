//! Unit tests of the DLP configuration, text redaction and JSON walking.

use serde_json::json;

use super::*;

#[test]
fn placeholder() {
    let r = Dlp::default().redact_text("x alice@example.com").unwrap();
    assert_eq!(r.output, "x [REDACTED:EMAIL]");
}
