"""The Rego conformance corpus: policies, data, inputs and queries.

Expected answers are never written by hand: `regenerate.py` asks the real OPA
engine and writes `cases.json`, which the Rust test
`tests/tests/conformance.rs` compares cos against.
"""

ABAC_DATA = {"roles": {"admin": ["read", "write", "delete"], "viewer": ["read"]}, "tenants": ["acme", "globex"]}


def expr(name, expression, input=None, data=None, v0=False):
    """A case evaluating one expression as `x := <expression>` (or `x = …` in v0)."""
    op = "=" if v0 else ":="
    c = {"name": name, "modules": {"p.rego": f"package p\n\nx {op} {expression}\n"}, "query": "data.p.x"}
    if input is not None:
        c["input"] = input
    if data is not None:
        c["data"] = data
    if v0:
        c["rego_version"] = 0
    return c


def policy(name, source, query="data.p.x", input=None, data=None, v0=False):
    c = {"name": name, "modules": {"p.rego": source}, "query": query}
    if input is not None:
        c["input"] = input
    if data is not None:
        c["data"] = data
    if v0:
        c["rego_version"] = 0
    return c


EXPRESSIONS = {
    # sets
    "sets/union": "{1, 2} | {2, 3}",
    "sets/intersection": "{1, 2, 3} & {2, 3, 4}",
    "sets/difference": "{1, 2, 3} - {2}",
    "sets/member": "2 in {1, 2, 3}",
    "sets/not_member": "5 in {1, 2, 3}",
    "sets/count": "count({\"a\", \"b\", \"a\"})",
    "sets/comprehension": "{y | some y in [1, 2, 2, 3]; y > 1}",
    "sets/union_builtin": "union({{1}, {2}, {3, 1}})",
    "sets/intersection_builtin": "intersection({{1, 2}, {2, 3}})",
    "sets/nested": "{{1, 2}, {2, 1}}",
    # arrays
    "arrays/concat": "array.concat([1, 2], [3])",
    "arrays/slice": "array.slice([1, 2, 3, 4], 1, 3)",
    "arrays/reverse": "array.reverse([1, 2, 3])",
    "arrays/comprehension": "[y * 2 | some y in [1, 2, 3]]",
    "arrays/index": "[10, 20, 30][1]",
    "arrays/out_of_range": "[10, 20][5]",
    "arrays/sort_numbers": "sort([3, 1, 2])",
    "arrays/sort_strings": "sort([\"b\", \"a\", \"C\"])",
    "arrays/sort_mixed": "sort([\"a\", 1, null, true, [1], {\"k\": 1}])",
    "arrays/equality": "[1, 2] == [1, 2]",
    # objects
    "objects/get": "object.get({\"a\": {\"b\": 1}}, [\"a\", \"b\"], 0)",
    "objects/get_default": "object.get({\"a\": 1}, \"z\", \"dflt\")",
    "objects/union": "object.union({\"a\": 1, \"b\": {\"c\": 1}}, {\"b\": {\"d\": 2}})",
    "objects/union_n": "object.union_n([{\"a\": 1}, {\"a\": 2, \"b\": 3}])",
    "objects/remove": "object.remove({\"a\": 1, \"b\": 2}, [\"a\"])",
    "objects/filter": "object.filter({\"a\": 1, \"b\": 2, \"c\": 3}, [\"a\", \"c\"])",
    "objects/keys": "object.keys({\"a\": 1, \"b\": 2})",
    "objects/comprehension": "{k: v * 10 | some k, v in {\"a\": 1, \"b\": 2}}",
    "objects/subset": "object.subset({\"a\": 1, \"b\": 2}, {\"a\": 1})",
    "objects/count": "count({\"a\": 1, \"b\": 2})",
    # numbers
    "numbers/add": "1 + 2.5",
    "numbers/div": "7 / 2",
    "numbers/div_exact": "6 / 3",
    "numbers/rem": "7 % 3",
    "numbers/round": "round(2.5)",
    "numbers/ceil": "ceil(1.2)",
    "numbers/floor": "floor(-1.2)",
    "numbers/abs": "abs(-3)",
    "numbers/range": "numbers.range(1, 4)",
    "numbers/range_desc": "numbers.range(3, 1)",
    "numbers/sum": "sum([1, 2, 3.5])",
    "numbers/product": "product([2, 3, 4])",
    "numbers/max": "max([3, 9, 1])",
    "numbers/min": "min({3, 9, 1})",
    "numbers/big": "9007199254740993 + 0",
    "numbers/float_eq": "1.0 == 1",
    "numbers/compare": "2 > 1.5",
    "numbers/to_number": "to_number(\"42.5\")",
    "numbers/to_number_bad": "to_number(\"x\")",
    "numbers/div_zero": "1 / 0",
    "numbers/bits_and": "bits.and(12, 10)",
    "numbers/bits_lsh": "bits.lsh(1, 4)",
    # strings
    "strings/concat": "concat(\", \", [\"a\", \"b\", \"c\"])",
    "strings/sprintf_v": "sprintf(\"%v-%v\", [1, \"x\"])",
    "strings/sprintf_d": "sprintf(\"%d items\", [3])",
    "strings/sprintf_s": "sprintf(\"hello %s\", [\"world\"])",
    "strings/sprintf_q": "sprintf(\"%q\", [\"a\\\"b\"])",
    "strings/split": "split(\"a,b,,c\", \",\")",
    "strings/replace": "replace(\"aaa\", \"a\", \"b\")",
    "strings/replace_n": "strings.replace_n({\"a\": \"1\", \"b\": \"2\"}, \"abc\")",
    "strings/trim": "trim(\"  x  \", \" \")",
    "strings/trim_space": "trim_space(\"\\t x \\n\")",
    "strings/trim_prefix": "trim_prefix(\"prefix-rest\", \"prefix-\")",
    "strings/trim_suffix": "trim_suffix(\"name.rego\", \".rego\")",
    "strings/trim_left": "trim_left(\"xxabc\", \"x\")",
    "strings/upper": "upper(\"mIxEd\")",
    "strings/lower": "lower(\"MiXeD\")",
    "strings/startswith": "startswith(\"companyos\", \"company\")",
    "strings/endswith": "endswith(\"companyos\", \"os\")",
    "strings/contains": "contains(\"residency\", \"side\")",
    "strings/indexof": "indexof(\"hello\", \"l\")",
    "strings/indexof_n": "indexof_n(\"hello\", \"l\")",
    "strings/substring": "substring(\"abcdef\", 1, 3)",
    "strings/substring_neg": "substring(\"abcdef\", 2, -1)",
    "strings/format_int": "format_int(255, 16)",
    "strings/reverse": "strings.reverse(\"abc\")",
    "strings/any_prefix": "strings.any_prefix_match([\"eu-west-1\"], [\"eu-\", \"us-\"])",
    "strings/count": "strings.count(\"banana\", \"a\")",
    "strings/unicode_upper": "upper(\"straße\")",
    "strings/length": "count(\"héllo\")",
    # regex and glob
    "regex/match": "regex.match(\"^[a-z]+-[0-9]+$\", \"ds-42\")",
    "regex/no_match": "regex.match(\"^[a-z]+$\", \"ds-42\")",
    "regex/find_n": "regex.find_n(\"[0-9]+\", \"a1b22c333\", -1)",
    "regex/split": "regex.split(\"[,;]\", \"a,b;c\")",
    "regex/replace": "regex.replace(\"ab12cd34\", \"[0-9]+\", \"#\")",
    "regex/is_valid": "regex.is_valid(\"[\")",
    "regex/template": "regex.template_match(\"urn:foo:{.*}\", \"urn:foo:bar:baz\", \"{\", \"}\")",
    "regex/find_submatch": "regex.find_all_string_submatch_n(\"([a-z])([0-9])\", \"a1 b2\", -1)",
    "glob/match_default": "glob.match(\"*.example.com\", [], \"api.example.com\")",
    "glob/match_dot": "glob.match(\"*.example.com\", [\".\"], \"a.b.example.com\")",
    "glob/match_star_delim": "glob.match(\"case:*\", [\"*\"], \"case:read\")",
    "glob/match_colon": "glob.match(\"tenant:*:read\", [\":\"], \"tenant:acme:read\")",
    "glob/no_match": "glob.match(\"a*\", [], \"ba\")",
    "glob/quote_meta": "glob.quote_meta(\"*.txt\")",
    # time (deterministic only)
    "time/parse": "time.parse_rfc3339_ns(\"2026-11-22T10:00:00Z\")",
    "time/parse_offset": "time.parse_rfc3339_ns(\"2026-11-22T12:00:00+02:00\")",
    "time/compare": "time.parse_rfc3339_ns(\"2026-01-01T00:00:00Z\") < time.parse_rfc3339_ns(\"2026-12-31T00:00:00Z\")",
    "time/date": "time.date(1795340223000000000)",
    "time/clock": "time.clock(1795340223000000000)",
    "time/weekday": "time.weekday(1795340223000000000)",
    "time/add_date": "time.add_date(1795340223000000000, 0, 1, 0)",
    "time/diff": "time.diff(1795340223000000000, 1700000000000000000)",
    "time/parse_duration": "time.parse_duration_ns(\"1h30m\")",
    "time/parse_layout": "time.parse_ns(\"2006-01-02\", \"2026-11-22\")",
    "time/format": "time.format(1795340223000000000)",
    "time/parse_bad": "time.parse_rfc3339_ns(\"yesterday\")",
    # JSON and encoding
    "json/marshal": "json.marshal({\"b\": 1, \"a\": [true]})",
    "json/unmarshal": "json.unmarshal(\"{\\\"a\\\": [1, 2]}\")",
    "json/is_valid": "json.is_valid(\"{\")",
    "json/filter": "json.filter({\"a\": {\"b\": 1, \"c\": 2}, \"d\": 3}, [\"a/b\", \"d\"])",
    "json/remove": "json.remove({\"a\": {\"b\": 1, \"c\": 2}}, [\"a/b\"])",
    "json/patch": "json.patch({\"a\": 1}, [{\"op\": \"add\", \"path\": \"/b\", \"value\": 2}, {\"op\": \"replace\", \"path\": \"/a\", \"value\": 3}])",
    "json/marshal_indent": "json.marshal_with_options({\"a\": 1}, {\"pretty\": true, \"indent\": \"  \"})",
    "yaml/unmarshal": "yaml.unmarshal(\"a: 1\\nb: [x, y]\\n\")",
    "yaml/marshal": "yaml.marshal({\"a\": 1})",
    "encoding/base64": "base64.encode(\"hello\")",
    "encoding/base64_decode": "base64.decode(\"aGVsbG8=\")",
    "encoding/base64url": "base64url.encode(\"??>>\")",
    "encoding/base64url_nopad": "base64url.encode_no_pad(\"hi\")",
    "encoding/hex": "hex.encode(\"abc\")",
    "encoding/hex_decode": "hex.decode(\"616263\")",
    "encoding/urlquery": "urlquery.encode(\"a b&c\")",
    "encoding/urlquery_object": "urlquery.encode_object({\"q\": \"x y\", \"n\": \"1\"})",
    "encoding/urlquery_decode": "urlquery.decode(\"a%20b\")",
    # types
    "types/is_string": "is_string(\"x\")",
    "types/is_number": "is_number(\"1\")",
    "types/is_set": "is_set({1})",
    "types/is_object": "is_object({})",
    "types/is_array": "is_array([])",
    "types/is_null": "is_null(null)",
    "types/type_name": "[type_name(1), type_name(\"a\"), type_name({1}), type_name({}), type_name([]), type_name(null), type_name(true)]",
    "types/to_string_cmp": "\"1\" == 1",
    # units, semver, uuid-free misc
    "units/bytes": "units.parse_bytes(\"10KiB\")",
    "units/bytes_si": "units.parse_bytes(\"1MB\")",
    "units/parse": "units.parse(\"250m\")",
    "semver/compare": "semver.compare(\"1.10.0\", \"1.9.3\")",
    "semver/is_valid": "semver.is_valid(\"1.2\")",
    "net/cidr_contains": "net.cidr_contains(\"10.0.0.0/8\", \"10.1.2.3\")",
    "net/cidr_intersects": "net.cidr_intersects(\"10.0.0.0/8\", \"10.1.0.0/16\")",
    "net/cidr_merge": "net.cidr_merge([\"10.0.0.0/24\", \"10.0.1.0/24\"])",
    "crypto/sha256": "crypto.sha256(\"abc\")",
    "crypto/md5": "crypto.md5(\"abc\")",
    "crypto/hmac": "crypto.hmac.sha256(\"msg\", \"key\")",
    "jwt/decode": "io.jwt.decode(\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\")",
    # aggregates and misc
    "aggregates/all_any": "[all([true, true]), any([false, true])]",
    "aggregates/count_string": "count(\"abc\")",
    "misc/walk_count": "count([p | walk({\"a\": {\"b\": 1}}, [p, _])])",
    "misc/object_from_pairs": "{k: v | some [k, v] in [[\"a\", 1], [\"b\", 2]]}",
    "misc/input_missing": "input.missing",
    "misc/data_missing": "data.nope.nothing",
    "misc/ref_on_scalar": "\"x\".y",
    "misc/equality_object": "{\"a\": 1} == {\"a\": 1.0}",
}

CASES = [expr(name, e) for name, e in EXPRESSIONS.items()]

# Input and data driven expressions.
CASES += [
    expr("input/field", "input.user.name", input={"user": {"name": "alice"}}),
    expr("input/nested_missing", "input.user.email", input={"user": {}}),
    expr("input/array_member", "\"admin\" in input.roles", input={"roles": ["viewer", "admin"]}),
    expr("input/whole", "input", input={"a": [1, {"b": None}]}),
    expr("data/roles", "data.roles.admin", data=ABAC_DATA),
    expr("data/lookup_with_input", "input.action in data.roles[input.role]", input={"role": "viewer", "action": "write"}, data=ABAC_DATA),
    expr("data/keys", "{r | some r, _ in data.roles}", data=ABAC_DATA),
]

POLICIES = [
    policy("rules/default_false", "package p\n\ndefault x := false\n\nx if input.ok\n", input={"ok": False}),
    policy("rules/default_true_path", "package p\n\ndefault x := false\n\nx if input.ok\n", input={"ok": True}),
    policy("rules/undefined_without_default", "package p\n\nx if input.ok\n", input={}),
    policy("rules/else_chain_first", "package p\n\nx := \"a\" if input.n > 10\nelse := \"b\" if input.n > 5\nelse := \"c\"\n", input={"n": 11}),
    policy("rules/else_chain_middle", "package p\n\nx := \"a\" if input.n > 10\nelse := \"b\" if input.n > 5\nelse := \"c\"\n", input={"n": 7}),
    policy("rules/else_chain_last", "package p\n\nx := \"a\" if input.n > 10\nelse := \"b\" if input.n > 5\nelse := \"c\"\n", input={"n": 1}),
    policy("rules/partial_set", "package p\n\nx contains u if {\n\tsome u in input.users\n\tstartswith(u, \"a\")\n}\n", input={"users": ["ann", "bob", "al"]}),
    policy("rules/partial_set_empty", "package p\n\nx contains u if {\n\tsome u in input.users\n\tstartswith(u, \"z\")\n}\n", input={"users": ["ann"]}),
    policy("rules/partial_object", "package p\n\nx[k] := v if {\n\tsome k, v in input.m\n\tv > 1\n}\n", input={"m": {"a": 1, "b": 2, "c": 3}}),
    policy("rules/multiple_bodies_or", "package p\n\nx if input.a\n\nx if input.b\n", input={"a": False, "b": True}),
    policy("rules/conflict", "package p\n\nx := 1 if input.a\n\nx := 2 if input.b\n", input={"a": True, "b": True}),
    policy("rules/conflict_not_reached", "package p\n\nx := 1 if input.a\n\nx := 2 if input.b\n", input={"a": True, "b": False}),
    policy("rules/conflict_partial_object", "package p\n\nx[k] := 1 if some k in input.ks\n\nx[k] := 2 if some k in input.ks\n", input={"ks": ["a"]}),
    policy("rules/function", "package p\n\ndouble(n) := n * 2\n\nx := double(21)\n"),
    policy("rules/function_multi", "package p\n\nkind(n) := \"neg\" if n < 0\n\nkind(n) := \"pos\" if n > 0\n\nkind(0) := \"zero\"\n\nx := [kind(-1), kind(0), kind(3)]\n"),
    policy("rules/function_conflict", "package p\n\nf(_) := 1\n\nf(_) := 2\n\nx := f(0)\n"),
    policy("rules/function_undefined_arg", "package p\n\nf(n) := n if n > 0\n\nx := f(-1)\n"),
    policy("rules/every_true", "package p\n\nx if every n in input.ns { n > 0 }\n", input={"ns": [1, 2]}),
    policy("rules/every_false", "package p\n\nx if every n in input.ns { n > 0 }\n", input={"ns": [1, -2]}),
    policy("rules/every_empty", "package p\n\nx if every n in input.ns { n > 0 }\n", input={"ns": []}),
    policy("rules/every_nested", "package p\n\nx if {\n\tevery row in input.m {\n\t\tevery v in row { v > 0 }\n\t}\n}\n", input={"m": [[1, 2], [3]]}),
    policy("rules/every_object", "package p\n\nx if every k, v in input.o { startswith(v, k) }\n", input={"o": {"a": "ab", "b": "bc"}}),
    policy("rules/some_in_object", "package p\n\nx := [k | some k, v in input.o; v == 1]\n", input={"o": {"a": 1, "b": 2, "c": 1}}),
    policy("rules/some_var", "package p\n\nx := [i | some i; input.arr[i] == \"b\"]\n", input={"arr": ["a", "b", "c", "b"]}),
    policy("rules/not", "package p\n\nx if not input.blocked\n", input={"blocked": False}),
    policy("rules/not_undefined", "package p\n\nx if not input.missing\n", input={}),
    policy("rules/not_true", "package p\n\nx if not input.blocked\n", input={"blocked": True}),
    policy("rules/with_input", "package p\n\nallow if input.user == \"alice\"\n\nx if allow with input as {\"user\": \"alice\"}\n"),
    policy("rules/with_data", "package p\n\nallow if \"alice\" in data.admins\n\nx if allow with data.admins as [\"alice\"]\n", data={"admins": []}),
    policy("rules/with_builtin", "package p\n\nx := count([1, 2]) with count as sum\n"),
    policy("rules/ref_head", "package p\n\nx.a.b := 1\n\nx.a.c := 2\n"),
    policy("rules/ref_head_var", "package p\n\nx[u].role := r if some u, r in input.m\n", input={"m": {"ann": "admin"}}),
    policy("rules/assign_eq", "package p\n\nx if {\n\ty := 2\n\ty == 2\n}\n"),
    policy("rules/unify", "package p\n\nx := y if [y, 2] = [1, 2]\n"),
    policy("rules/package_document", "package p\n\na := 1\n\nb := {\"k\": true}\n", query="data.p"),
    policy("rules/nested_package", "package p.q.r\n\ny := 3\n", query="data.p.q.r.y"),
    policy("rules/undefined_package", "package p\n\ny := 3\n", query="data.zzz"),
    policy("rules/comprehension_in_comprehension", "package p\n\nx := [[y * z | some z in [1, 2]] | some y in [1, 2]]\n"),
    policy("rules/set_from_input_dupes", "package p\n\nx := {r | some r in input.rs}\n", input={"rs": ["b", "a", "b"]}),
    policy("rules/object_merge_data", "package p\n\nx := object.union(data.base, input.override)\n", input={"override": {"b": 3}}, data={"base": {"a": 1, "b": 2}}),
    policy("rules/import_alias", "package p\n\nimport data.roles as r\n\nx := r.viewer\n", data=ABAC_DATA),
    policy("rules/import_input", "package p\n\nimport input.user\n\nx := user.name\n", input={"user": {"name": "bo"}}),
    policy("rules/rego_v1_import", "package p\n\nimport rego.v1\n\nx if \"a\" in [\"a\"]\n"),
    policy("rules/future_then_v1", "package p\n\nimport future.keywords.if\nimport rego.v1\n\nx if true\n"),
    policy("rules/print_ignored", "package p\n\nx := 1 if print(\"debug\")\n"),
    # OPA compile errors
    policy("errors/recursion", "package p\n\na if b\n\nb if a\n\nx := a\n"),
    policy("errors/unknown_builtin", "package p\n\nx := foo.bar(1)\n"),
    policy("errors/input_arg", "package p\n\nf(input) := input\n\nx := f(1)\n"),
    policy("errors/unsafe_var", "package p\n\nx if y > 1\n"),
    policy("errors/unsafe_under_not", "package p\n\nx if not input.a[_] == 1\n", input={"a": [2]}),
    policy("errors/some_then_assign", "package p\n\nx if {\n\tsome y\n\ty := 1\n\ty == 1\n}\n"),
    policy("errors/wrong_arity", "package p\n\nx := count(1, 2)\n"),
    policy("errors/type_error", "package p\n\nx := 1 + \"a\"\n"),
    # ABAC-flavoured policies
    policy("abac/role_permits", "package p\n\nx if {\n\tsome role in input.roles\n\tinput.action in data.roles[role]\n}\n", input={"roles": ["viewer"], "action": "read"}, data=ABAC_DATA),
    policy("abac/role_denies", "package p\n\nx if {\n\tsome role in input.roles\n\tinput.action in data.roles[role]\n}\n", input={"roles": ["viewer"], "action": "delete"}, data=ABAC_DATA),
    policy("abac/tenant_grant_time", "package p\n\nx if {\n\tsome g in input.grants\n\tg.tenant == input.tenant\n\ttime.parse_rfc3339_ns(g.expires) > time.parse_rfc3339_ns(input.now)\n}\n", input={"tenant": "globex", "now": "2026-11-22T00:00:00Z", "grants": [{"tenant": "globex", "expires": "2026-12-01T00:00:00Z"}]}),
    policy("abac/decision_object", "package p\n\nreasons contains \"NO_ROLE\" if count(input.roles) == 0\n\nreasons contains \"NO_TENANT\" if not input.tenant\n\nx := {\"allow\": count(reasons) == 0, \"reasons\": sort(reasons)}\n", input={"roles": []}),
    policy("abac/classification_levels", "package p\n\nlevels := {\"PUBLIC\": 0, \"INTERNAL\": 1, \"CONFIDENTIAL\": 2, \"RESTRICTED\": 3}\n\nx := levels[input.a] >= levels[input.b]\n", input={"a": "CONFIDENTIAL", "b": "INTERNAL"}),
    policy("abac/residency_group", "package p\n\neu := {\"DE\", \"FR\", \"IE\"}\n\nx if {\n\tinput.residency == \"EU-Only\"\n\tupper(input.dest) in eu\n}\n", input={"residency": "EU-Only", "dest": "de"}),
    policy("abac/dlp_grouping", "package p\n\nops := {\"email\": \"hash\", \"ssn\": \"drop\", \"name\": \"hash\"}\n\nby_op[op] contains f.path if {\n\tsome f in input.fields\n\top := ops[f.class]\n}\n\nx := {op: sort(ps) | some op, ps in by_op}\n", input={"fields": [{"path": "a", "class": "email"}, {"path": "b", "class": "ssn"}, {"path": "c", "class": "name"}]}),
    policy("abac/sprintf_reason", "package p\n\nx := sprintf(\"no role of %v allows %q\", [input.roles, input.action])\n", input={"roles": ["viewer", "analyst"], "action": "delete"}),
]
CASES += POLICIES

# Rego v0 syntax.
V0 = [
    policy("v0/allow_braces", "package p\n\ndefault x = false\n\nx { input.user == \"alice\" }\n", input={"user": "alice"}, v0=True),
    policy("v0/deny_set", "package p\n\nx[msg] { input.n > 3; msg := sprintf(\"too many: %d\", [input.n]) }\n", input={"n": 5}, v0=True),
    policy("v0/deny_set_empty", "package p\n\nx[msg] { input.n > 3; msg := \"too many\" }\n", input={"n": 1}, v0=True),
    policy("v0/object_rule", "package p\n\nx[k] = v { v := input.m[k]; v > 1 }\n", input={"m": {"a": 1, "b": 2}}, v0=True),
    policy("v0/function", "package p\n\nf(a) = b { b := a * 3 }\n\nx = f(2)\n", v0=True),
    policy("v0/future_in", "package p\n\nimport future.keywords.in\n\nx { \"a\" in input.l }\n", input={"l": ["a"]}, v0=True),
    policy("v0/future_if_contains", "package p\n\nimport future.keywords.if\nimport future.keywords.contains\n\nx contains y if { y := input.v }\n", input={"v": 1}, v0=True),
    policy("v0/future_every", "package p\n\nimport future.keywords.every\n\nx { every v in input.l { v > 0 } }\n", input={"l": [1, 2]}, v0=True),
    policy("v0/else", "package p\n\nx = \"big\" { input.n > 10 } else = \"small\" { true }\n", input={"n": 3}, v0=True),
    policy("v0/some_iteration", "package p\n\nx[i] { some i; input.l[i] == \"b\" }\n", input={"l": ["a", "b"]}, v0=True),
    policy("v0/wildcard", "package p\n\nx { input.l[_] == 2 }\n", input={"l": [1, 2]}, v0=True),
    policy("v0/negation", "package p\n\nx { not input.blocked }\n", input={}, v0=True),
    policy("v0/comprehension", "package p\n\nx = [y | y := input.l[_]; y > 1]\n", input={"l": [1, 2, 3]}, v0=True),
    policy("v0/default_object", "package p\n\ndefault x = {\"allow\": false}\n\nx = {\"allow\": true} { input.ok }\n", input={"ok": True}, v0=True),
    policy("v0/multiple_outputs_conflict", "package p\n\nx = 1 { true }\n\nx = 2 { true }\n", v0=True),
    policy("v0/with", "package p\n\nallow { input.u == \"a\" }\n\nx { allow with input as {\"u\": \"a\"} }\n", v0=True),
    policy("v0/import_data", "package p\n\nimport data.roles\n\nx = roles.admin\n", data=ABAC_DATA, v0=True),
    policy("v0/set_literal_ops", "package p\n\nx = s { s := {1, 2} | {3} }\n", v0=True),
    policy("v0/keyword_as_name", "package p\n\ncontains = 1\n\nx = contains\n", v0=True),
    policy("v0/if_as_name", "package p\n\nif = 2\n\nx = if\n", v0=True),
    policy("v0/regex", "package p\n\nx { re_match(\"^a+$\", \"aaa\") }\n", v0=True),
    policy("v0/deprecated_any", "package p\n\nx = any([false, true])\n", v0=True),
]
CASES += V0
