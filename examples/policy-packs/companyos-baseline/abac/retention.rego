# Retention periods by data category (data/companyos/retention.json).
package companyos.retention

max_age_days(category) := data.companyos.retention.categories[category].days

max_age_days(category) := data.companyos.retention.default_days if not data.companyos.retention.categories[category]

# expired: input {category, created (RFC 3339), now (RFC 3339), legal_hold}
default expired := false

expired if {
	not input.legal_hold
	age_ns := time.parse_rfc3339_ns(input.now) - time.parse_rfc3339_ns(input.created)
	age_ns > max_age_days(input.category) * 86400000000000
}
