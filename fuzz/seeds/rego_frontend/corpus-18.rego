package p

x := union({{"read"}, {"write"}, {"read", "export"}})
