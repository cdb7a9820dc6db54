package p

x := is_owner(input.user)
