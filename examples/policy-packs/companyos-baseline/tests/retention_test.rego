package companyos.retention_test

import data.companyos.retention

test_max_age_known_and_default if {
	retention.max_age_days("telemetry") == 90
	retention.max_age_days("unknown-category") == 365
}

test_telemetry_expires_after_90_days if {
	retention.expired with input as {"category": "telemetry", "created": "2026-01-01T00:00:00Z", "now": "2026-06-01T00:00:00Z"}
}

test_not_expired_yet if {
	not retention.expired with input as {"category": "audit_log", "created": "2026-01-01T00:00:00Z", "now": "2026-06-01T00:00:00Z"}
}

test_legal_hold_keeps_data if {
	not retention.expired with input as {"category": "telemetry", "created": "2020-01-01T00:00:00Z", "now": "2026-06-01T00:00:00Z", "legal_hold": true}
}
