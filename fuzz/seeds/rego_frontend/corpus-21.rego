package p

x := time.parse_ns("2006-01-02", "2024-02-29")
