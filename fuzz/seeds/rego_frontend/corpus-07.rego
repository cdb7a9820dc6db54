package p

severity("critical") := 4

severity("high") := 3

severity(s) := 1 if not s in {"critical", "high"}

x := [severity("critical"), severity("high"), severity("info")]
