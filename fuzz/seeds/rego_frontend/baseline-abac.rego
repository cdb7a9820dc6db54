# Attribute-based access control: roles, tenant isolation, clearance and
# step-up for RESTRICTED data.
package companyos.abac

import data.companyos.lib

subject := input.subject

resource := input.resource

permitted if {
	some role in subject.roles
	input.action in data.companyos.roles[role].actions
}

same_tenant if subject.tenant == resource.tenant

# An explicit, unexpired grant for the resource's tenant, naming the subject
# or one of its roles, and the action.
granted if {
	some g in object.get(input, ["context", "grants"], [])
	g.tenant == resource.tenant
	input.action in g.actions
	grantee_matches(g)
	lib.before(input.context.time, g.expires)
}

grantee_matches(g) if g.subject == subject.id

grantee_matches(g) if g.role in subject.roles

tenant_ok if same_tenant

tenant_ok if granted

resource_level := lib.level(resource.classification)

cleared if lib.level(object.get(subject, ["attributes", "clearance"], "PUBLIC")) >= resource_level

restricted if resource_level == 3

stepped_up if subject.attributes.step_up == true

destructive if input.action in {"delete", "admin"}

steward if {
	some role in subject.roles
	role in {"data-steward", "admin"}
}

# Auditors read everything in their own tenant, and nothing else.
auditor_only if {
	"auditor" in subject.roles
	count(subject.roles) == 1
}

reasons contains {"code": "NOT_PERMITTED", "message": sprintf("no role of %v allows %q", [subject.roles, input.action])} if not permitted

reasons contains {"code": "CROSS_TENANT", "message": sprintf("resource belongs to tenant %q and no grant covers %q", [resource.tenant, input.action])} if not tenant_ok

reasons contains {"code": "AUDITOR_CROSS_TENANT", "message": "auditors read only within their own tenant"} if {
	auditor_only
	not same_tenant
}

reasons contains {"code": "INSUFFICIENT_CLEARANCE", "message": sprintf("clearance below %s", [resource.classification])} if {
	not cleared
	not auditor_only
}

reasons contains {"code": "STEWARD_REQUIRED", "message": "deleting or administering RESTRICTED data needs the data-steward or admin role"} if {
	restricted
	destructive
	not steward
}

reasons contains {"code": "STEP_UP_REQUIRED", "message": "RESTRICTED data needs a step-up (MFA) in this session"} if {
	restricted
	not stepped_up
}

obligations contains {"type": "step_up", "method": "mfa"} if {
	restricted
	not stepped_up
}

default decision := {
	"allow": false,
	"reasons": [{"code": "MALFORMED_REQUEST", "message": "input needs subject, action and resource"}],
	"obligations": [],
}

decision := {
	"allow": count(reasons) == 0,
	"reasons": lib.sorted_reasons(reasons),
	"obligations": [o | some o in obligations],
} if {
	input.subject.id
	input.action
	input.resource.classification
}
