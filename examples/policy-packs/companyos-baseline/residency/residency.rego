# Data residency: may a dataset go to a destination region? Seed acceptance
# AC-4: EU-Only data to a US region is blocked without an approved
# disclosure pack and allowed with one.
package companyos.residency

import data.companyos.lib

dataset := input.dataset

destination := lib.country(input.destination.region)

in_region if lib.within(dataset.residency, destination)

pack := object.get(input, "disclosure_pack", {})

pack_covers if {
	pack.approved == true
	lib.country(pack.destination) == destination
	dataset.id in pack.data_ids
	lib.before(input.context.time, pack.expires)
}

# RESTRICTED data leaves its region only for purposes tagged cross-border
# and cleared for RESTRICTED.
purpose_allows if {
	tag := data.companyos["purpose-tags"][pack.purpose]
	tag.cross_border == true
	lib.level(tag.max_classification) >= lib.level(dataset.classification)
}

transfer_ok if {
	pack_covers
	lib.level(dataset.classification) < 3
}

transfer_ok if {
	pack_covers
	purpose_allows
}

default decision := {
	"allow": false,
	"reasons": [{"code": "MALFORMED_REQUEST", "message": "input needs dataset.residency and destination.region"}],
	"obligations": [],
}

decision := {"allow": true, "reasons": [], "obligations": []} if {
	in_region
}

decision := {
	"allow": true,
	"reasons": [{"code": "DISCLOSURE_PACK_APPROVED", "message": sprintf("transfer to %s covered by disclosure pack %s", [destination, pack.id])}],
	"obligations": [],
} if {
	not in_region
	transfer_ok
}

decision := {
	"allow": false,
	"reasons": [{"code": "RESIDENCY_VIOLATION", "message": sprintf("%s data may not go to %s without an approved disclosure pack", [dataset.residency, destination])}],
	"obligations": [{"type": "disclosure_pack", "purpose": object.get(input, "purpose", "unspecified"), "destination": destination}],
} if {
	dataset.residency
	input.destination.region
	not in_region
	not transfer_ok
}
