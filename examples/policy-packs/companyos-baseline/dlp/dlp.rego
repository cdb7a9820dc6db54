# DLP on egress: which fields to redact, mask, hash or drop for the
# receiving party, and secrets that must never leave.
package companyos.dlp

import data.companyos.lib

party := object.get(input, ["destination", "party"], "public")

operator_for(class) := data.companyos.dlp.operators[party][class]

# Fields of an unknown class are treated as RESTRICTED and redacted for
# anyone outside the company.
operator_for(class) := "redact" if {
	not data.companyos.dlp.classes[class]
	party != "internal"
}

fields_by_operator[op] contains f.path if {
	some f in input.fields
	op := operator_for(f.class)
}

secret_egress if {
	some f in input.fields
	f.class == "secret"
	party != "internal"
}

ceiling_exceeded contains f.path if {
	some f in input.fields
	cls := object.get(data.companyos.dlp.classes, [f.class, "classification"], "RESTRICTED")
	lib.level(cls) > lib.level(object.get(input, "classification_ceiling", "RESTRICTED"))
	not operator_for(f.class)
}

obligations := [{"type": "redact", "operator": op, "fields": sort(fields_by_operator[op])} | some op in sort(object.keys(fields_by_operator))]

default decision := {"allow": false, "reasons": [{"code": "MALFORMED_REQUEST", "message": "input needs fields"}], "obligations": []}

decision := {
	"allow": false,
	"reasons": [{"code": "SECRET_EGRESS", "message": sprintf("secrets may not go to a %s party", [party])}],
	"obligations": [],
} if {
	input.fields
	secret_egress
}

decision := {
	"allow": false,
	"reasons": [{"code": "CLASSIFICATION_CEILING", "message": sprintf("fields above the recipient's ceiling with no DLP operator: %v", [sort(ceiling_exceeded)])}],
	"obligations": obligations,
} if {
	input.fields
	not secret_egress
	count(ceiling_exceeded) > 0
}

decision := {"allow": true, "reasons": [], "obligations": obligations} if {
	input.fields
	not secret_egress
	count(ceiling_exceeded) == 0
}
