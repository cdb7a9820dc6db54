package companyos.residency_test

import data.companyos.residency

eu_dataset := {"id": "ds-eu-1", "classification": "CONFIDENTIAL", "residency": "EU-Only"}

req(dest) := {"dataset": eu_dataset, "destination": {"region": dest, "party": "internal"}, "context": {"time": "2026-11-22T10:00:00Z"}, "purpose": "support"}

approved_pack := {"id": "dp-7", "approved": true, "purpose": "support", "destination": "US", "expires": "2027-01-01T00:00:00Z", "data_ids": ["ds-eu-1"]}

with_pack(r, p) := object.union(r, {"disclosure_pack": p})

# Seed acceptance AC-4, first half: EU-Only data to a US region is blocked
# without an approved disclosure pack.
test_ac4_eu_only_to_us_blocked_without_pack if {
	d := residency.decision with input as req("us-east-1")
	not d.allow
	[r.code | some r in d.reasons] == ["RESIDENCY_VIOLATION"]
	d.obligations == [{"type": "disclosure_pack", "purpose": "support", "destination": "US"}]
}

# AC-4, second half: allowed with one.
test_ac4_eu_only_to_us_allowed_with_approved_pack if {
	d := residency.decision with input as with_pack(req("us-east-1"), approved_pack)
	d.allow
	[r.code | some r in d.reasons] == ["DISCLOSURE_PACK_APPROVED"]
}

test_eu_only_within_eu_allowed if {
	d := residency.decision with input as req("eu-central-1")
	d.allow
	d.reasons == []
}

test_eu_only_to_country_code if {
	d := residency.decision with input as req("fr")
	d.allow
}

test_eu_only_to_uk_blocked if {
	d := residency.decision with input as req("eu-west-2")
	not d.allow
}

test_unapproved_pack_blocked if {
	d := residency.decision with input as with_pack(req("us-east-1"), object.union(approved_pack, {"approved": false}))
	not d.allow
}

test_expired_pack_blocked if {
	d := residency.decision with input as with_pack(req("us-east-1"), object.union(approved_pack, {"expires": "2026-01-01T00:00:00Z"}))
	not d.allow
}

test_pack_for_other_destination_blocked if {
	d := residency.decision with input as with_pack(req("us-east-1"), object.union(approved_pack, {"destination": "JP"}))
	not d.allow
}

test_pack_for_other_dataset_blocked if {
	d := residency.decision with input as with_pack(req("us-east-1"), object.union(approved_pack, {"data_ids": ["ds-other"]}))
	not d.allow
}

restricted_req := object.union(req("us-east-1"), {"dataset": object.union(eu_dataset, {"classification": "RESTRICTED"})})

test_restricted_needs_cross_border_purpose if {
	d := residency.decision with input as with_pack(restricted_req, object.union(approved_pack, {"purpose": "analytics"}))
	not d.allow
}

test_restricted_with_legal_purpose_allowed if {
	d := residency.decision with input as with_pack(restricted_req, object.union(approved_pack, {"purpose": "legal"}))
	d.allow
}

test_us_only_to_eu_blocked if {
	r := object.union(req("eu-west-1"), {"dataset": object.union(eu_dataset, {"residency": "US-Only"})})
	d := residency.decision with input as r
	not d.allow
}

test_global_anywhere if {
	r := object.union(req("ap-southeast-1"), {"dataset": object.union(eu_dataset, {"residency": "Global"})})
	d := residency.decision with input as r
	d.allow
}

test_country_residency if {
	r := object.union(req("eu-west-1"), {"dataset": object.union(eu_dataset, {"residency": "DE-Only"})})
	d := residency.decision with input as r
	not d.allow
	r2 := object.union(req("eu-central-1"), {"dataset": object.union(eu_dataset, {"residency": "DE-Only"})})
	d2 := residency.decision with input as r2
	d2.allow
}

test_malformed if {
	d := residency.decision with input as {}
	[r.code | some r in d.reasons] == ["MALFORMED_REQUEST"]
}
