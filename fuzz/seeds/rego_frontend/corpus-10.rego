package p

x if every r in input.resources { r.tenant == input.tenant }
