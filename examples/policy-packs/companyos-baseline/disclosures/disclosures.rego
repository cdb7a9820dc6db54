# Disclosures: when a request needs an approved disclosure pack, and whether
# the pack given is good enough.
package companyos.disclosures

import data.companyos.lib

request := input.request

level := lib.level(request.classification)

purpose_tag := data.companyos["purpose-tags"][request.purpose]

purpose_allowed if lib.level(purpose_tag.max_classification) >= level

cross_border if {
	request.residency
	not lib.within(request.residency, lib.country(request.destination))
}

external if request.party != "internal"

required if {
	level >= 2
	external
}

required if cross_border

pack := object.get(input, "pack", null)

approvers := {a.approver | some a in pack.approvals}

approver_roles := {a.role | some a in pack.approvals}

approvals_ok if {
	level < 3
	count(approvers) >= 1
}

approvals_ok if {
	level == 3
	count(approvers) >= 2
	"dpo" in approver_roles
}

pack_expired if not lib.before(input.context.time, pack.expires)

pack_scope_ok if {
	pack.purpose == request.purpose
	every id in request.data_ids {
		id in pack.data_ids
	}
}

reasons contains {"code": "PURPOSE_NOT_ALLOWED", "message": sprintf("purpose %q does not allow %s data", [request.purpose, request.classification])} if not purpose_allowed

reasons contains {"code": "DISCLOSURE_PACK_REQUIRED", "message": "this disclosure needs an approved disclosure pack"} if {
	required
	pack == null
}

reasons contains {"code": "PACK_NOT_APPROVED", "message": "the disclosure pack is not approved"} if {
	required
	pack != null
	pack.approved != true
}

reasons contains {"code": "PACK_EXPIRED", "message": "the disclosure pack has expired"} if {
	required
	pack != null
	pack_expired
}

reasons contains {"code": "INSUFFICIENT_APPROVALS", "message": "RESTRICTED disclosures need two approvers including the DPO; others need one"} if {
	required
	pack != null
	not approvals_ok
}

reasons contains {"code": "PACK_SCOPE_MISMATCH", "message": "the disclosure pack does not cover this purpose and data"} if {
	required
	pack != null
	not pack_scope_ok
}

obligations contains {"type": "disclosure_pack", "purpose": request.purpose, "destination": request.destination} if {
	required
	pack == null
}

default decision := {"allow": false, "reasons": [{"code": "MALFORMED_REQUEST", "message": "input needs request.purpose and request.classification"}], "obligations": []}

decision := {
	"allow": count(reasons) == 0,
	"reasons": array.concat(lib.sorted_reasons(reasons), approved_note),
	"obligations": [o | some o in obligations],
} if {
	request.purpose
	request.classification
}

approved_note := [{"code": "DISCLOSURE_PACK_APPROVED", "message": "covered by an approved disclosure pack"}] if {
	required
	count(reasons) == 0
} else := []
