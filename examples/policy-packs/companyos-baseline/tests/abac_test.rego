package companyos.abac_test

import data.companyos.abac

base := {
	"subject": {"id": "u1", "tenant": "acme", "roles": ["analyst"], "attributes": {"clearance": "CONFIDENTIAL", "step_up": false}},
	"action": "read",
	"resource": {"type": "dataset", "id": "d1", "tenant": "acme", "classification": "CONFIDENTIAL", "residency": "EU-Only"},
	"context": {"time": "2026-11-22T10:00:00Z", "grants": []},
}

codes(d) := [r.code | some r in d.reasons]

test_same_tenant_read_allowed if {
	d := abac.decision with input as base
	d.allow
	d.reasons == []
	d.obligations == []
}

test_action_not_permitted if {
	d := abac.decision with input as json.patch(base, [{"op": "replace", "path": "/action", "value": "delete"}])
	not d.allow
	codes(d) == ["NOT_PERMITTED"]
}

test_cross_tenant_denied_without_grant if {
	d := abac.decision with input as json.patch(base, [{"op": "replace", "path": "/resource/tenant", "value": "globex"}])
	not d.allow
	codes(d) == ["CROSS_TENANT"]
}

grant(expires) := {"tenant": "globex", "role": "analyst", "actions": ["read"], "expires": expires}

test_cross_tenant_allowed_with_grant if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/resource/tenant", "value": "globex"},
		{"op": "replace", "path": "/context/grants", "value": [grant("2026-12-31T00:00:00Z")]},
	])
	d := abac.decision with input as inp
	d.allow
}

test_cross_tenant_expired_grant_denied if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/resource/tenant", "value": "globex"},
		{"op": "replace", "path": "/context/grants", "value": [grant("2026-11-01T00:00:00Z")]},
	])
	d := abac.decision with input as inp
	codes(d) == ["CROSS_TENANT"]
}

test_grant_for_other_action_denied if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/resource/tenant", "value": "globex"},
		{"op": "replace", "path": "/action", "value": "export"},
		{"op": "replace", "path": "/context/grants", "value": [grant("2026-12-31T00:00:00Z")]},
	])
	d := abac.decision with input as inp
	codes(d) == ["CROSS_TENANT"]
}

test_grant_to_subject_id if {
	g := {"tenant": "globex", "subject": "u1", "actions": ["read"], "expires": "2026-12-31T00:00:00Z"}
	inp := json.patch(base, [
		{"op": "replace", "path": "/resource/tenant", "value": "globex"},
		{"op": "replace", "path": "/context/grants", "value": [g]},
	])
	d := abac.decision with input as inp
	d.allow
}

test_insufficient_clearance if {
	inp := json.patch(base, [{"op": "replace", "path": "/subject/attributes/clearance", "value": "INTERNAL"}])
	d := abac.decision with input as inp
	codes(d) == ["INSUFFICIENT_CLEARANCE"]
}

restricted := json.patch(base, [
	{"op": "replace", "path": "/resource/classification", "value": "RESTRICTED"},
	{"op": "replace", "path": "/subject/attributes/clearance", "value": "RESTRICTED"},
])

test_restricted_needs_step_up if {
	d := abac.decision with input as restricted
	not d.allow
	codes(d) == ["STEP_UP_REQUIRED"]
	d.obligations == [{"type": "step_up", "method": "mfa"}]
}

test_restricted_with_step_up_allowed if {
	d := abac.decision with input as json.patch(restricted, [{"op": "replace", "path": "/subject/attributes/step_up", "value": true}])
	d.allow
	d.obligations == []
}

test_restricted_delete_needs_steward if {
	inp := json.patch(restricted, [
		{"op": "replace", "path": "/subject/attributes/step_up", "value": true},
		{"op": "replace", "path": "/subject/roles", "value": ["engineer"]},
		{"op": "replace", "path": "/action", "value": "delete"},
	])
	d := abac.decision with input as inp
	codes(d) == ["NOT_PERMITTED", "STEWARD_REQUIRED"]
}

test_steward_may_delete_restricted if {
	inp := json.patch(restricted, [
		{"op": "replace", "path": "/subject/attributes/step_up", "value": true},
		{"op": "replace", "path": "/subject/roles", "value": ["data-steward"]},
		{"op": "replace", "path": "/action", "value": "delete"},
	])
	d := abac.decision with input as inp
	d.allow
}

test_auditor_reads_restricted_in_own_tenant if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/subject/roles", "value": ["auditor"]},
		{"op": "replace", "path": "/subject/attributes/clearance", "value": "PUBLIC"},
		{"op": "replace", "path": "/subject/attributes/step_up", "value": true},
		{"op": "replace", "path": "/resource/classification", "value": "RESTRICTED"},
	])
	d := abac.decision with input as inp
	d.allow
}

test_auditor_cannot_write if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/subject/roles", "value": ["auditor"]},
		{"op": "replace", "path": "/action", "value": "write"},
	])
	d := abac.decision with input as inp
	codes(d) == ["NOT_PERMITTED"]
}

test_auditor_other_tenant_denied if {
	inp := json.patch(base, [
		{"op": "replace", "path": "/subject/roles", "value": ["auditor"]},
		{"op": "replace", "path": "/resource/tenant", "value": "globex"},
	])
	d := abac.decision with input as inp
	codes(d) == ["AUDITOR_CROSS_TENANT", "CROSS_TENANT"]
}

test_several_reasons_sorted if {
	inp := json.patch(restricted, [
		{"op": "replace", "path": "/resource/tenant", "value": "globex"},
		{"op": "replace", "path": "/subject/attributes/clearance", "value": "INTERNAL"},
	])
	d := abac.decision with input as inp
	codes(d) == ["CROSS_TENANT", "INSUFFICIENT_CLEARANCE", "STEP_UP_REQUIRED"]
}

test_unknown_classification_treated_as_restricted if {
	inp := json.patch(base, [{"op": "replace", "path": "/resource/classification", "value": "SECRET"}])
	d := abac.decision with input as inp
	"STEP_UP_REQUIRED" in codes(d)
	"INSUFFICIENT_CLEARANCE" in codes(d)
}

test_malformed_request if {
	d := abac.decision with input as {"subject": {"id": "u1"}}
	codes(d) == ["MALFORMED_REQUEST"]
}

todo_test_time_of_day_restrictions if false
