package companyos.dlp_test

import data.companyos.dlp

fields := [
	{"path": "customer.email", "class": "email"},
	{"path": "customer.name", "class": "name"},
	{"path": "customer.ssn", "class": "ssn"},
	{"path": "payment.card", "class": "credit_card"},
	{"path": "order.id", "class": "order_id"},
]

egress(party) := {"destination": {"party": party, "region": "US"}, "fields": fields, "purpose": "support"}

test_vendor_gets_hashed_and_dropped if {
	d := dlp.decision with input as egress("vendor")
	d.allow
	d.obligations == [
		{"type": "redact", "operator": "drop", "fields": ["customer.ssn"]},
		{"type": "redact", "operator": "hash", "fields": ["customer.email", "customer.name"]},
		{"type": "redact", "operator": "redact", "fields": ["order.id", "payment.card"]},
	]
}

test_public_redacts_everything_personal if {
	d := dlp.decision with input as egress("public")
	d.allow
	ops := {o.operator: o.fields | some o in d.obligations}
	ops.redact == ["customer.email", "customer.name", "order.id"]
	ops.drop == ["customer.ssn", "payment.card"]
}

test_internal_masks_only_regulated if {
	d := dlp.decision with input as egress("internal")
	d.allow
	d.obligations == [{"type": "redact", "operator": "mask", "fields": ["customer.ssn", "payment.card"]}]
}

test_secret_never_leaves if {
	d := dlp.decision with input as {"destination": {"party": "vendor"}, "fields": [{"path": "config.api_key", "class": "secret"}]}
	not d.allow
	[r.code | some r in d.reasons] == ["SECRET_EGRESS"]
}

test_secret_internal_ok if {
	d := dlp.decision with input as {"destination": {"party": "internal"}, "fields": [{"path": "config.api_key", "class": "secret"}]}
	d.allow
}

test_ceiling_exceeded_internal if {
	inp := {"destination": {"party": "internal"}, "classification_ceiling": "INTERNAL", "fields": [{"path": "c.email", "class": "email"}]}
	d := dlp.decision with input as inp
	not d.allow
	[r.code | some r in d.reasons] == ["CLASSIFICATION_CEILING"]
}

test_no_fields_no_obligations if {
	d := dlp.decision with input as {"destination": {"party": "vendor"}, "fields": []}
	d.allow
	d.obligations == []
}
