package p

allow := true
