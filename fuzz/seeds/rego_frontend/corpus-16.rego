package p

x := regex.match(`\d{3}`, "ticket-4521")
