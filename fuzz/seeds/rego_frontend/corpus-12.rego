package p

deny contains "cross-tenant" if input.user.tenant != input.resource.tenant

x if not "cross-tenant" in deny
