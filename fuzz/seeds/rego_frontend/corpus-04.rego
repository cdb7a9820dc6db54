package good

default allow := false

allow if input.user == "alice"
