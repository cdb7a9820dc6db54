package companyos.disclosures_test

import data.companyos.disclosures

req := {
	"request": {"purpose": "support", "data_ids": ["d1", "d2"], "classification": "CONFIDENTIAL", "destination": "US", "party": "vendor", "residency": "Global"},
	"context": {"time": "2026-11-22T10:00:00Z"},
}

pack := {"id": "dp-1", "approved": true, "purpose": "support", "expires": "2027-01-01T00:00:00Z", "data_ids": ["d1", "d2", "d3"], "approvals": [{"approver": "ann", "role": "security"}]}

codes(d) := [r.code | some r in d.reasons]

test_pack_required_for_confidential_to_vendor if {
	d := disclosures.decision with input as req
	not d.allow
	codes(d) == ["DISCLOSURE_PACK_REQUIRED"]
	d.obligations == [{"type": "disclosure_pack", "purpose": "support", "destination": "US"}]
}

test_approved_pack_allows if {
	d := disclosures.decision with input as object.union(req, {"pack": pack})
	d.allow
	codes(d) == ["DISCLOSURE_PACK_APPROVED"]
}

test_internal_party_needs_no_pack if {
	d := disclosures.decision with input as json.patch(req, [{"op": "replace", "path": "/request/party", "value": "internal"}])
	d.allow
	d.reasons == []
}

test_public_data_needs_no_pack if {
	r := json.patch(req, [
		{"op": "replace", "path": "/request/classification", "value": "PUBLIC"},
		{"op": "replace", "path": "/request/purpose", "value": "marketing"},
	])
	d := disclosures.decision with input as r
	d.allow
}

test_eu_only_cross_border_needs_pack_even_internal if {
	r := json.patch(req, [
		{"op": "replace", "path": "/request/party", "value": "internal"},
		{"op": "replace", "path": "/request/residency", "value": "EU-Only"},
	])
	d := disclosures.decision with input as r
	codes(d) == ["DISCLOSURE_PACK_REQUIRED"]
}

test_purpose_not_allowed if {
	r := json.patch(req, [{"op": "replace", "path": "/request/purpose", "value": "research"}])
	d := disclosures.decision with input as object.union(r, {"pack": object.union(pack, {"purpose": "research"})})
	codes(d) == ["PURPOSE_NOT_ALLOWED"]
}

test_expired_pack if {
	d := disclosures.decision with input as object.union(req, {"pack": object.union(pack, {"expires": "2026-01-01T00:00:00Z"})})
	codes(d) == ["PACK_EXPIRED"]
}

test_unapproved_pack if {
	d := disclosures.decision with input as object.union(req, {"pack": object.union(pack, {"approved": false})})
	codes(d) == ["PACK_NOT_APPROVED"]
}

test_pack_scope_mismatch if {
	d := disclosures.decision with input as object.union(req, {"pack": object.union(pack, {"data_ids": ["d1"]})})
	codes(d) == ["PACK_SCOPE_MISMATCH"]
}

restricted_req := json.patch(req, [
	{"op": "replace", "path": "/request/classification", "value": "RESTRICTED"},
	{"op": "replace", "path": "/request/purpose", "value": "legal"},
])

restricted_pack := object.union(pack, {"purpose": "legal"})

test_restricted_needs_two_approvers_with_dpo if {
	d := disclosures.decision with input as object.union(restricted_req, {"pack": restricted_pack})
	codes(d) == ["INSUFFICIENT_APPROVALS"]
}

test_restricted_two_approvers_without_dpo if {
	p := object.union(restricted_pack, {"approvals": [{"approver": "ann", "role": "security"}, {"approver": "bob", "role": "legal"}]})
	d := disclosures.decision with input as object.union(restricted_req, {"pack": p})
	codes(d) == ["INSUFFICIENT_APPROVALS"]
}

test_restricted_same_approver_twice if {
	p := object.union(restricted_pack, {"approvals": [{"approver": "ann", "role": "dpo"}, {"approver": "ann", "role": "security"}]})
	d := disclosures.decision with input as object.union(restricted_req, {"pack": p})
	codes(d) == ["INSUFFICIENT_APPROVALS"]
}

test_restricted_with_dpo_allowed if {
	p := object.union(restricted_pack, {"approvals": [{"approver": "ann", "role": "security"}, {"approver": "dora", "role": "dpo"}]})
	d := disclosures.decision with input as object.union(restricted_req, {"pack": p})
	d.allow
}
