# Helpers shared by the CompanyOS baseline policies.
package companyos.lib

levels := {"PUBLIC": 0, "INTERNAL": 1, "CONFIDENTIAL": 2, "RESTRICTED": 3}

# level(c) is the rank of a classification label; unknown labels rank as
# RESTRICTED so that a typo never lowers protection.
level(c) := object.get(levels, upper(c), 3)

# country(r) maps a cloud region ("eu-west-1") or a country code ("de") to an
# upper-case ISO 3166-1 alpha-2 code.
country(r) := object.get(data.companyos.regions.cloud, lower(r), upper(r))

# within(residency, c): whether country c satisfies a residency tag such as
# "EU-Only", "US-Only", "DE-Only" or "Global".
within(residency, _) if lower(residency) == "global"

within(residency, c) if {
	endswith(lower(residency), "-only")
	scope := upper(trim_suffix(lower(residency), "-only"))
	c in data.companyos.regions.groups[scope]
}

within(residency, c) if {
	endswith(lower(residency), "-only")
	scope := upper(trim_suffix(lower(residency), "-only"))
	not data.companyos.regions.groups[scope]
	c == scope
}

# before(a, b): RFC 3339 time a is strictly before b.
before(a, b) if time.parse_rfc3339_ns(a) < time.parse_rfc3339_ns(b)

# sorted_reasons(rs): a set of {code, message} objects as an array sorted by code.
sorted_reasons(rs) := [r | some code in sort({x.code | some x in rs}); some r in rs; r.code == code]
