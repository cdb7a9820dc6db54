package p

x := glob.match("[a-]", [], "-")
