package p

depts := {u.dept | some u in input.users}

x := {d: count([u | some u in input.users; u.dept == d]) | some d in depts}
