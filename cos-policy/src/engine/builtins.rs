//! Which of OPA's builtins the engine lacks, and a load-time check that a
//! pack calls none of them.
//!
//! regorus implements most of OPA's builtins but not all (JWT, most crypto,
//! some `net.*`, …). OPA would run a policy that calls them; regorus fails
//! only when the call is reached, which turns into a denial at the worst
//! moment. cos refuses such a pack when it is loaded, naming the builtin and
//! where it is called.

use std::collections::BTreeSet;

use crate::bundle::pack::Module;
use crate::error::{Error, Result};

/// OPA v1.22.2's builtin names (`opa capabilities --current`).
const OPA_BUILTINS: &str = include_str!("opa_builtins.txt");

/// OPA's infix operators and `print`, which regorus implements in the
/// interpreter rather than as named builtins.
const INFIX: &[&str] = &[
    "print",
    "internal.print",
    "and",
    "assign",
    "div",
    "eq",
    "equal",
    "gt",
    "gte",
    "internal.member_2",
    "internal.member_3",
    "lt",
    "lte",
    "minus",
    "mul",
    "neq",
    "or",
    "plus",
    "rem",
];

/// Whether a name is one of OPA's operators or `print`, which regorus
/// implements in the evaluator rather than as named builtins.
pub(crate) fn is_infix(name: &str) -> bool {
    INFIX.contains(&name)
}

/// Builtins OPA has and the engine does not, sorted.
///
/// ```
/// let missing = cos_policy::unsupported_builtins();
/// assert!(missing.contains(&"net.lookup_ip_addr"));
/// assert!(!missing.contains(&"count"));
/// ```
pub fn unsupported_builtins() -> Vec<&'static str> {
    opa_builtins()
        .filter(|name| {
            !INFIX.contains(name)
                && (NO_IO.contains(name) || !regorus::unstable::BUILTINS.contains_key(name))
        })
        .collect()
}

/// Builtins that do I/O, refused like missing ones: a decision reads only
/// its pack, its data and its input. (regorus's `http.send` sends nothing
/// and answers undefined, which OPA never does.)
const NO_IO: &[&str] = &["http.send", "net.lookup_ip_addr"];

/// OPA's builtin names.
pub fn opa_builtins() -> impl Iterator<Item = &'static str> {
    opa_builtin_lines().map(|(name, _)| name)
}

/// (name, arity) from the embedded list; arity `None` for variadic.
fn opa_builtin_lines() -> impl Iterator<Item = (&'static str, Option<usize>)> {
    OPA_BUILTINS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().unwrap_or_default();
            (name, parts.next().and_then(|a| a.parse().ok()))
        })
}

/// The number of arguments OPA declares for a builtin: `Some(None)` for a
/// variadic one (`print`), `None` when OPA has no such builtin.
pub(crate) fn opa_arity(name: &str) -> Option<Option<usize>> {
    static ARITY: std::sync::OnceLock<std::collections::HashMap<&'static str, Option<usize>>> =
        std::sync::OnceLock::new();
    ARITY
        .get_or_init(|| opa_builtin_lines().collect())
        .get(name)
        .copied()
}

/// Replaces comments and string literals with spaces, keeping line breaks,
/// so that a scan for calls sees only code.
pub(crate) fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push(' ');
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => out.push('\n'),
                        _ => {}
                    }
                }
                out.push(' ');
            }
            '`' => {
                out.push(' ');
                for d in chars.by_ref() {
                    if d == '`' {
                        break;
                    }
                    if d == '\n' {
                        out.push('\n');
                    }
                }
                out.push(' ');
            }
            c => out.push(c),
        }
    }
    out
}

/// Checks that no module calls a builtin the engine lacks; the error names
/// the builtin, the file and the line.
pub(crate) fn check_modules<'a>(modules: impl IntoIterator<Item = &'a Module>) -> Result<()> {
    let modules: Vec<&Module> = modules.into_iter().collect();
    let mut missing: BTreeSet<&str> = unsupported_builtins().into_iter().collect();
    // An I/O builtin that the pack replaces with `with NAME as …` (its tests
    // mock `http.send`) may be called: the call reaches the mock. Unmocked,
    // regorus's `http.send` still sends nothing.
    for m in &modules {
        let code = code_only(&m.source);
        for name in NO_IO {
            if mocked(&code, name) {
                missing.remove(name);
            }
        }
    }
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.');
    for m in modules {
        let code = code_only(&m.source);
        for (lineno, line) in code.lines().enumerate() {
            // Each dotted name (`io.jwt.decode`) followed by `(`.
            let bytes = line.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if !is_name(bytes[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < bytes.len() && is_name(bytes[i]) {
                    i += 1;
                }
                let name = &line[start..i];
                if line[i..].trim_start().starts_with('(') && missing.contains(name) {
                    let why = if NO_IO.contains(&name) {
                        "an OPA builtin that does I/O, which cos refuses (a decision reads only its pack, its data and its input)"
                    } else {
                        "an OPA builtin that cos's Rego engine (regorus) does not implement"
                    };
                    return Err(Error::Compile {
                        path: m.path.clone(),
                        message: format!(
                            "line {}: calls {name}, {why}; see docs/policy-builtins.md",
                            lineno + 1
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Whether `code` has `with NAME as` (words apart, any whitespace between).
fn mocked(code: &str, name: &str) -> bool {
    let words: Vec<&str> = code.split_whitespace().collect();
    words
        .windows(3)
        .any(|w| w[0] == "with" && w[1] == name && w[2] == "as")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(src: &str) -> Module {
        Module {
            path: "p.rego".into(),
            source: src.into(),
        }
    }

    #[test]
    fn finds_calls_to_missing_builtins() {
        let missing = unsupported_builtins();
        assert!(missing.len() < 100, "{missing:?}");
        assert!(opa_builtins().count() > 150);
        assert!(
            !missing.contains(&"plus"),
            "infix operators are implemented"
        );
        let e = check_modules([&module(
            "package p\n\nx := rego.parse_module(\"p.rego\", input.k)\n",
        )])
        .unwrap_err();
        assert!(e.to_string().contains("line 3: calls rego.parse_module, an OPA builtin that cos's Rego engine (regorus) does not implement"), "{e}");
        assert_eq!(e.code(), "compile_error");
        let e = check_modules([&module(
            "package p\n\nx := http.send({\"method\": \"get\", \"url\": input.u})\n",
        )])
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("calls http.send, an OPA builtin that does I/O"),
            "{e}"
        );
        // Mocked in the pack: the call reaches the mock.
        check_modules([
            &module("package p\n\nx := http.send({\"url\": input.u})\n"),
            &module("package p\n\ntest_x if { x with http.send as {\"status\": 200} }\n"),
        ])
        .unwrap();
    }

    /// The hand-written "Limits" section at the end of docs/policy-builtins.md.
    const LIMITS_DOC: &str = "
## Limits

An evaluation must not crash, hang or exhaust memory on any policy or input
(issue 18). These bounds hold in the vendored regorus (vendor/regorus/COS-PATCHES.md,
patches 12-17); OPA computes what lies beyond them, so each is a divergence,
set far above what the conformance corpus or a real policy uses.

| Bound | Default | Beyond it |
|---|---|---|
| Time limit, also inside builtin loops (`EngineOptions::time_limit`) | 1 s | `timeout` |
| Size of one value a builtin builds (`EngineOptions::max_value_bytes`): bytes of a string, 4 bytes an element of an array, set or object | 64 MiB (16 Mi elements) | `resource_limit` |
| `bits.lsh` result | 64 Ki bits | `resource_limit` |
| `units.parse`, `units.parse_bytes` number | 20,000 digits | `resource_limit` |
| `units.*` exponent (OPA's own bound) | 1e6 | builtin error `exponent too large` |
| `sprintf` width or precision (Go's own bound) | 1e6 | `%!(NOVERB)`, as Go |
| `yaml.unmarshal` nesting (the reader's own bound) | 128 | builtin error |
| `graphql.parse_query`, `graphql.parse_schema`, `graphql.schema_is_valid` nesting (selection sets, values, list types; gqlparser has no bound) | 128 | builtin error |
| `graph.reachable_paths` path | 1,024 nodes | `resource_limit` |
| `glob.match` matching steps (a class or delimiter list costs one more per 16 entries) | 10^6 | builtin error |
| Expression nesting in a module (unary minus, parentheses, collections, comprehensions, brackets, calls, bodies) | 64 levels (parentheses: 32, collections: 16) | `compile_error`, `rego_parse_error` with the line |
| Operator or reference chain (`a + b + ...`, `a.b[c]...`) | 128 links | `compile_error`, `rego_parse_error` with the line |

A `timeout` or `resource_limit` is an error even without strict builtin
errors, never an undefined value: `not bits.lsh(1, 100000000) == 0` does not
allow.

Every builtin, by how its work and output compare with its arguments (n, m:
their sizes). Fine: linear or n log n work, output at most a constant times
the input; the arguments are values the evaluation already took time to
build. Bounded: output or work can be far larger than the arguments, so the
builtin checks the value-size cap before the work and/or the deadline in its
loop (tests: cos-policy/tests/hostile_builtins.rs).

| Builtins | Work and output | Class |
|---|---|---|
| `count`, `sum`, `max`, `min`, `sort` | linear, n log n | fine |
| `product` | digits of the result: those of the factors together; work quadratic in them | bounded: deadline after each multiplication once the product is a big integer |
| `abs`, `ceil`, `floor`, `round`, `rand.intn`, `bits.and`, `bits.or`, `bits.xor`, `bits.negate`, `bits.rsh` | linear in the number | fine |
| `bits.lsh` | result of 2^shift | bounded: cap (64 Ki bits) |
| `numbers.range`, `numbers.range_step` | elements: the range's length | bounded: cap first, deadline in the loop |
| `to_number`, `json.unmarshal` numbers | read as JSON numbers: beyond f64 (`1e1000000000`) a builtin error as in OPA, no big integer | fine |
| number literals, input numbers, arithmetic operators | an integer literal is an exact big integer (exponent at most 10,000: `1e10000` is 10,001 digits; beyond, a parse error), a fraction an f64 it must equal exactly (else a parse error: patch 20b); inputs are f64 or 64-bit; `*` builds sum-of-sizes digits and the evaluator checks the deadline between expressions; a float `+ - * /` is computed on 64-bit mantissas from the operands' shortest decimals (an integer operand of n digits: O(n²) once) | fine |
| `format_int`, `sprintf` `%d` of big integers | digits of the number | fine |
| `contains`, `startswith`, `endswith`, `lower`, `upper`, `split`, `substring`, `trim_prefix`, `trim_suffix`, `trim_space`, `strings.reverse`, `strings.count` | linear (split: at most n + 1 parts) | fine; `strings.count` with an empty substring panicked, now Go's count (characters + 1) |
| `trim`, `trim_left`, `trim_right` | each character looked up in the cutset: n log m | fine (was n m) |
| `indexof` | one substring search | fine (was n m) |
| `indexof_n` | overlapping matches of a long substring cost n m (in OPA too) | bounded: deadline after every MiB searched |
| `concat` | delimiter repeated between n strings: n m | bounded: cap on the length, computed first |
| `internal.template_string` (template strings `$\"…{x}…\"`) | the parts joined, each value rendered as Rego text: linear in the parts | bounded: cap on the length after each part |
| `replace`, `strings.replace_n` | each match replaced: n m (`replace_n` makes one pass, as Go's `strings.Replacer`: pairs times positions compared) | bounded: cap on the length, checked as the result grows; deadline every 4096 positions |
| `sprintf` | widths and precisions | bounded: Go's width bound, cap |
| `strings.any_prefix_match`, `strings.any_suffix_match` | every pair compared: n m | bounded: deadline every 2^16 pairs |
| `regex.match`, `regex.is_valid`, `regex.split`, `regex.find_n`, `regex.template_match` | regex crate: no backtracking, work at most text times pattern (compiled size limited), output at most the text | fine (the product is left open: see below) |
| `regex.find_all_string_submatch_n` | each match repeated in every group capturing it, one match per character for empty ones: text times groups | bounded: result size under the cap before each match, deadline every 1024 matches |
| `regex.replace` | every match replaced, each `$` expanding to the match: n m | bounded: cap on the length before each replacement, deadline every 1024 matches |
| `glob.match` (cos's own, cos-policy/src/engine/glob.rs) | backtracking over `*`, `{...}` | bounded: step budget (builtin error) |
| `glob.quote_meta` | linear | fine |
| `base64.*`, `base64url.*`, `hex.*`, `urlquery.*`, `json.is_valid`, `yaml.is_valid`, `json.unmarshal`, `yaml.unmarshal` | linear; nesting bounded at 128 | fine |
| `graphql.parse_query`, `graphql.parse_schema`, `graphql.schema_is_valid` (vendored regorus patch 23) | linear parse; the AST a constant times the input; schema validation quadratic in the fields of one type (duplicate checks, as gqlparser); nesting bounded at 128 | fine: the AST checked against the value cap, deadline every 1024 tokens |
| `json.marshal`, `json.marshal_with_options`, `yaml.marshal` | a value sharing its parts (`b := [a, a]`) writes out exponentially larger than it is; `indent` repeats once per level on each line | bounded: written size walked against the cap first (deadline every 1024 nodes); indented length counted line by line |
| `object.get`, `object.keys`, `object.remove`, `object.filter`, `object.union`, `object.union_n`, `json.filter`, `json.remove` | linear in the objects and paths, n log n look-ups | fine (`object.union_n` copied the merged object for each element: quadratic; now merged in place) |
| `object.subset` | an array run compared at every offset: n m | bounded: deadline every 2^20 elements compared; an empty array panicked, now a subset |
| `json.patch` | a `copy` doubles the document per operation; a shared document is materialised | bounded: nodes entering the edit tree counted against the cap, nodes copied or tested against the deadline |
| `json.verify_schema`, `json.match_schema` | jsonschema crate, its regex engines' own limits | fine |
| `array.concat`, `array.reverse`, `array.slice`, `union`, `intersection`, set operators | linear, n log n | fine |
| `graph.reachable` | each node once | fine |
| `graph.reachable_paths` | every simple path: exponential in the graph | bounded: visits under the deadline, paths under the cap, recursion at 1,024 nodes |
| `walk` | a path per node, and a shared value has exponentially many | bounded: result elements under the cap, deadline every 1024 paths |
| `net.cidr_contains`, `net.cidr_is_valid`, `net.cidr_intersects` | constant, linear | fine |
| `net.cidr_contains_matches` | every pair of the two collections: n m | bounded: deadline every 1024 pairs, result under the cap |
| `net.cidr_merge` | sorted, then adjacent ranges merged: n log n, a removal per merge (n^2 moves at worst, as in OPA) | bounded: deadline in the merge and partition loops |
| `net.cidr_expand` | 2^host-bits addresses | bounded: cap first |
| `strings.split_n`, `array.flatten` | linear (one level flattened) | fine: result under the cap |
| `regex.globs_match` | glob-intersection's backtracking over `*` and `+`: exponential in flagged tokens | bounded: deadline every 1024 steps, recursion at 2,048 levels (builtin error) |
| `uri.parse`, `uri.is_valid` | Go's `net/url.Parse`: linear | fine |
| `providers.aws.sign_req` | SigV4: hashes of the request and body, body JSON written once | bounded: body size under the cap while it is written |
| `strings.render_template` | text/template subset: output can repeat `range` bodies (n m) | bounded: output under the cap and deadline at every node; nesting at 64 levels |
| `time.*` (`time.add_date` is cos's own) | layouts and values read once; output a constant per layout element | fine |
| `semver.is_valid`, `semver.compare`, `uuid.parse`, `uuid.rfc4122` | linear, constant | fine |
| `units.parse`, `units.parse_bytes` | exponent | bounded: OPA's exponent bound, 20,000 digits |
| `type_name`, `is_*`, `opa.runtime`, `trace` | constant, linear | fine |
| `crypto.md5`, `crypto.sha1`, `crypto.sha256`, `crypto.hmac.*` | linear | fine |
| `io.jwt.*` (patch 21) | linear in the token; RSA exponentiation in the modulus size; a nested token is shorter at each level | bounded: RSA moduli up to 16,384 bits (an `Unsupported` error beyond, never undefined), `encode_sign`'s JSON under the cap |
| `crypto.x509.parse_certificates`, `parse_certificate_request`, `parse_keypair`, `parse_rsa_private_key`, `crypto.parse_private_keys` (patch 26) | one pass over the DER; the result (Go's struct JSON) a constant factor of the input; RSA private-key checks one multiplication and three reductions | bounded: RSA moduli up to 16,384 bits; what is not reproduced exactly (name constraints, DSA, multi-prime RSA, escaped URIs, ...) an `Unsupported` error |
| `crypto.x509.parse_and_verify_certificates`, `parse_and_verify_certificates_with_options` (patch 33) | patch 26's parsing, then Go's chain building: at most 100 signature checks (Go's own bound), each an RSA exponentiation in the modulus size or one ECDSA/Ed25519 verification; the result the verified certificates' objects | bounded: RSA moduli up to 16,384 bits, 1,024 policies and policy mappings in a chain (RFC 9618's policy graph: their product at worst); what cos does not check as Go does (name constraints, ECDSA with P-384 and SHA-512) an `Unsupported` error, never `true` or `false` |

The builtins listed above are not implemented: a pack calling them is refused when it is loaded. Left open:
a value sharing its parts is exponentially large when it is compared with
`==` or returned as a result (the evaluator and the JSON conversion walk it
whole; no builtin is involved); and one regex search cannot be interrupted,
so a pattern with hundreds of capture groups over megabytes of text takes
seconds (the regex crate's bound is text times pattern).
";

    /// docs/policy-builtins.md lists exactly the unsupported builtins.
    /// `COS_REGENERATE=1 cargo test -p cos-policy builtins_doc` rewrites it.
    #[test]
    fn builtins_doc_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policy-builtins.md");
        let mut doc = String::from(
            "# OPA builtins cos does not implement\n\n\
             cos-policy evaluates Rego with regorus. These builtins of OPA v1.22.2 are not\n\
             implemented there. A pack whose modules call one of them is refused when it\n\
             is loaded (`compile_error`, naming the builtin, file and line), so that a\n\
             decision never fails on them at run time. This list is generated and checked\n\
             by `builtins_doc_is_current` in `cos-policy/src/engine/builtins.rs`\n\
             (`COS_REGENERATE=1 cargo test -p cos-policy builtins_doc` rewrites it); OPA's\n\
             list is checked against the real `opa capabilities` in the interop tests.\n\n",
        );
        let missing = unsupported_builtins();
        doc.push_str(&format!(
            "{} of {} OPA builtins:\n\n",
            missing.len(),
            opa_builtins().count()
        ));
        for name in missing {
            doc.push_str(&format!("- `{name}`\n"));
        }
        doc.push_str(LIMITS_DOC);
        if std::env::var_os("COS_REGENERATE").is_some() {
            std::fs::write(&path, &doc).unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            current, doc,
            "docs/policy-builtins.md is stale: run COS_REGENERATE=1 cargo test -p cos-policy builtins_doc"
        );
    }

    #[test]
    fn ignores_comments_strings_and_lookalikes() {
        let src = r#"package p

# net.lookup_ip_addr(x) in a comment
x := "net.lookup_ip_addr(y)"
y := `raw net.lookup_ip_addr(z)`
my.net.lookup_ip_addr := 1
z := count([1])
"#;
        check_modules([&module(src)]).unwrap();
    }
}
