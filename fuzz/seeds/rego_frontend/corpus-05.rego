package p

default allow := false

allow if "admin" in input.user.roles
