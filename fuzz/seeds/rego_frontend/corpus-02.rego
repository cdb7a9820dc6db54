package p

x if {
	some i
	not input.roles[i]
}
