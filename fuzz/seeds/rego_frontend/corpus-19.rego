package p

x := strings.replace_n({"{tenant}": "acme", "{id}": "7"}, "/t/{tenant}/i/{id}")
