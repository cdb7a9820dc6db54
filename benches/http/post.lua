-- wrk script: POST one baseline ABAC decision request (OPA Data API shape):
-- the input of cos_benches::baseline_abac_input (the Rust benchmarks' request).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"input": {"subject": {"id": "u-42", "tenant": "acme", "roles": ["analyst", "viewer"], "attributes": {"clearance": "CONFIDENTIAL", "step_up": false}}, "action": "read", "resource": {"type": "dataset", "id": "ds-7", "tenant": "globex", "classification": "CONFIDENTIAL", "residency": "EU-Only"}, "context": {"time": "2026-11-22T10:00:00Z", "grants": [{"tenant": "globex", "role": "analyst", "actions": ["read"], "expires": "2026-12-31T00:00:00Z"}]}}}]]

-- Count answers that are not a decision (a failed request must not look fast).
local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"allow"', 1, true) then
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-decision answers: %d\n", bad))
end
