package p

x := count("héllo")
