package p

import data.role_perms

default allow := false

allow if {
	count(deny) == 0
	some r in input.user.roles
	input.action in role_perms[r]
}

allow if {
	count(deny) == 0
	input.user.name == input.resource.owner
	input.action in {"read", "write"}
}

deny contains "cross-tenant" if input.user.tenant != input.resource.tenant

deny contains "clearance" if input.resource.classification > input.user.clearance

decision := {"allow": allow, "deny": sort(deny)}
