package p

x := [to_number("42"), to_number("-1.5"), to_number(true), to_number(null)]
