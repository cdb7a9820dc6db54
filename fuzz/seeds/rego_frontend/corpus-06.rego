package p

risk(score) := "high" if score >= 70
else := "medium" if score >= 40
else := "low"

x := [risk(90), risk(40), risk(1)]
