package p

deny contains msg if {
	input.resource.tenant != input.user.tenant
	msg := "cross-tenant access"
}

deny contains msg if {
	input.resource.classification > input.user.clearance
	msg := sprintf("clearance %d below classification %d", [input.user.clearance, input.resource.classification])
}
