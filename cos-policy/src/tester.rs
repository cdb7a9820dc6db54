//! An `opa test`-style runner for a pack's tests.
//!
//! Test rules are the rules named `test_*` in the pack's test modules; rules
//! named `todo_test_*` are reported as skipped (OPA's prefixes). A test passes when it is defined
//! and not `false`, fails when it is undefined or `false`, and errors when
//! evaluation fails. Reports come in OPA's text and JSON shapes.

use std::time::Instant;

use regorus::unstable::{Rule, RuleHead};
use serde::Serialize;

use crate::bundle::pack::{Layout, Module, Pack};
use crate::engine::{EngineOptions, PolicyEngine};
use crate::error::{Error, Result};

/// Prefix of tests that are reported as skipped, as in OPA.
pub const SKIP_PREFIX: &str = "todo_test_";

/// Where a test rule is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestLocation {
    /// Module path in the pack.
    pub file: String,
    /// Line (1-based).
    pub row: u32,
    /// Column (1-based).
    pub col: u32,
}

/// The outcome of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutcome {
    /// Defined and not `false`.
    Pass,
    /// Undefined or `false`.
    Fail,
    /// Evaluation failed.
    Error(String),
    /// A `todo_test_` rule: not run.
    Skipped,
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// Where it is defined.
    pub location: TestLocation,
    /// Package as a data path (`data.companyos.abac_test`).
    pub package: String,
    /// Rule name (`test_allow_own_tenant`).
    pub name: String,
    /// What happened.
    pub outcome: TestOutcome,
    /// Evaluation time in nanoseconds.
    pub duration_ns: u64,
}

/// The results of a test run, in module and definition order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestReport {
    /// Every test, in order.
    pub results: Vec<TestResult>,
    /// Line coverage of the policy modules, when asked for.
    pub coverage: Option<Coverage>,
}

/// Line coverage of the policy modules by the tests (from regorus), in the
/// shape of `opa test --coverage --format=json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Per policy file (tests left out).
    pub files: std::collections::BTreeMap<String, FileCoverage>,
    /// Covered lines over all files, percent.
    pub coverage: f64,
}

/// Coverage of one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileCoverage {
    /// Covered line ranges.
    pub covered: Vec<LineRange>,
    /// Lines that could run but did not.
    pub not_covered: Vec<LineRange>,
    /// Covered over coverable lines, percent.
    pub coverage: f64,
}

/// A range of lines, as OPA writes it: `{"start": {"row": 3}, "end": {"row": 5}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineRange {
    /// First line.
    pub start: CoverageRow,
    /// Last line.
    pub end: CoverageRow,
}

/// A line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CoverageRow {
    /// 1-based line.
    pub row: u32,
}

fn ranges(lines: &std::collections::BTreeSet<u32>) -> Vec<LineRange> {
    let mut out: Vec<LineRange> = Vec::new();
    for &l in lines {
        match out.last_mut() {
            Some(r) if r.end.row + 1 == l => r.end.row = l,
            _ => out.push(LineRange {
                start: CoverageRow { row: l },
                end: CoverageRow { row: l },
            }),
        }
    }
    out
}

fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        (covered as f64 * 10_000.0 / total as f64).round() / 100.0
    }
}

/// A test rule found in a module.
struct Found {
    package: String,
    name: String,
    location: TestLocation,
}

fn discover(module: &Module, rego_v1: bool) -> Result<Vec<Found>> {
    let parsed = crate::check::parity::parse_module(module, rego_v1)?;
    let package = format!("data.{}", parsed.package.refr.span().text());
    let mut out: Vec<Found> = Vec::new();
    for rule in &parsed.policy {
        let Rule::Spec { head, .. } = rule.as_ref() else {
            continue;
        };
        let refr = match head {
            RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } => refr,
            RuleHead::Func { .. } => continue,
        };
        let span = refr.span();
        let name = span.text().to_owned();
        if !(name.starts_with("test_") || name.starts_with(SKIP_PREFIX))
            || name.contains(['.', '['])
        {
            continue;
        }
        // A rule defined by several bodies is one test, as in OPA.
        if out.iter().any(|f| f.name == name) {
            continue;
        }
        out.push(Found {
            package: package.clone(),
            name,
            location: TestLocation {
                file: module.path.clone(),
                row: span.line,
                col: span.col,
            },
        });
    }
    Ok(out)
}

/// The modules whose `test_` rules are a pack's tests: [`Pack::tests`], and
/// in an OPA bundle its `*_test.rego` modules too (policy there, as OPA
/// serves them, and tests, as `opa test` runs them).
pub(crate) fn test_modules(pack: &Pack) -> impl Iterator<Item = &Module> {
    let bundle_tests = pack
        .modules()
        .iter()
        .filter(move |m| pack.layout() == Layout::Bundle && m.path.ends_with("_test.rego"));
    pack.tests().iter().chain(bundle_tests)
}

/// The options of a binding's test run (`Pack.runTests` in Node,
/// `Pack.run_tests` in Python): plain data, read by the bindings
/// (ADR-0020).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunTestsOptions {
    /// Run only tests whose package or name contains this (as `opa test --run`).
    pub run: Option<String>,
    /// OPA's `--strict-builtin-errors`.
    pub strict_builtin_errors: bool,
}

impl RunTestsOptions {
    /// Runs `pack`'s tests with these options ([`run_tests`]).
    pub fn run_tests(&self, pack: &Pack) -> Result<TestReport> {
        let options = EngineOptions {
            strict_builtin_errors: self.strict_builtin_errors,
            ..EngineOptions::default()
        };
        run_tests(pack, options, self.run.as_deref())
    }
}

/// A test run as the bindings return it: OPA's JSON report
/// ([`TestReport::to_json`]) and whether every test passed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestRun {
    /// OPA's JSON test report (one object per test).
    pub report: serde_json::Value,
    /// Whether every test passed ([`TestReport::success`]).
    pub success: bool,
}

impl From<&TestReport> for TestRun {
    fn from(r: &TestReport) -> Self {
        TestRun {
            report: r.to_json(),
            success: r.success(),
        }
    }
}

/// Runs every test of a pack.
///
/// `filter`, when given, keeps tests whose `package.name` contains it (like
/// `opa test --run`, without regular expressions).
pub fn run_tests(pack: &Pack, options: EngineOptions, filter: Option<&str>) -> Result<TestReport> {
    run(pack, options, filter, false)
}

/// Like [`run_tests`], also measuring line coverage of the policy modules.
pub fn run_tests_with_coverage(
    pack: &Pack,
    options: EngineOptions,
    filter: Option<&str>,
) -> Result<TestReport> {
    run(pack, options, filter, true)
}

fn run(
    pack: &Pack,
    options: EngineOptions,
    filter: Option<&str>,
    with_coverage: bool,
) -> Result<TestReport> {
    let engine = PolicyEngine::with_tests(pack, options)?;
    // One engine for the whole run, so that coverage accumulates.
    let mut raw = engine.raw_clone();
    if with_coverage {
        raw.set_enable_coverage(true);
    }
    let rego_v1 = pack.manifest().rego_version == 1;
    let mut report = TestReport::default();
    for module in test_modules(pack) {
        for found in discover(module, rego_v1)? {
            let full = format!("{}.{}", found.package, found.name);
            if filter.is_some_and(|f| !full.contains(f)) {
                continue;
            }
            let (outcome, duration_ns) = if found.name.starts_with(SKIP_PREFIX) {
                (TestOutcome::Skipped, 0)
            } else {
                let start = Instant::now();
                let r = engine.eval_on(&mut raw, &full);
                let ns = start.elapsed().as_nanos() as u64;
                let outcome = match r {
                    Ok(Some(serde_json::Value::Bool(false))) | Ok(None) => TestOutcome::Fail,
                    Ok(Some(_)) => TestOutcome::Pass,
                    Err(e) => TestOutcome::Error(e.to_string()),
                };
                (outcome, ns)
            };
            report.results.push(TestResult {
                location: found.location,
                package: found.package,
                name: found.name,
                outcome,
                duration_ns,
            });
        }
    }
    if with_coverage {
        let raw_report = raw.get_coverage_report().map_err(|e| Error::Evaluation {
            query: "coverage".into(),
            message: e.to_string(),
        })?;
        let tests: Vec<&str> = test_modules(pack).map(|t| t.path.as_str()).collect();
        let mut cov = Coverage::default();
        let (mut all_covered, mut all_total) = (0, 0);
        for f in raw_report.files {
            if tests.contains(&f.path.as_str()) {
                continue;
            }
            let (c, n) = (f.covered.len(), f.not_covered.len());
            all_covered += c;
            all_total += c + n;
            cov.files.insert(
                f.path.clone(),
                FileCoverage {
                    covered: ranges(&f.covered),
                    not_covered: ranges(&f.not_covered),
                    coverage: percent(c, c + n),
                },
            );
        }
        cov.coverage = percent(all_covered, all_total);
        report.coverage = Some(cov);
    }
    Ok(report)
}

fn human_duration(ns: u64) -> String {
    if ns >= 1_000_000_000 {
        format!("{:.3}s", ns as f64 / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.3}ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1}µs", ns as f64 / 1e3)
    } else {
        format!("{ns}ns")
    }
}

impl TestReport {
    fn count(&self, f: impl Fn(&TestOutcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }

    /// Tests that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| *o == TestOutcome::Pass)
    }

    /// Tests that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| *o == TestOutcome::Fail)
    }

    /// Tests whose evaluation errored.
    pub fn errored(&self) -> usize {
        self.count(|o| matches!(o, TestOutcome::Error(_)))
    }

    /// `todo_test_` tests.
    pub fn skipped(&self) -> usize {
        self.count(|o| *o == TestOutcome::Skipped)
    }

    /// True when nothing failed or errored.
    pub fn success(&self) -> bool {
        self.failed() == 0 && self.errored() == 0
    }

    /// OPA's text report: failures, errors and skipped tests (every test with `verbose`),
    /// grouped by file, then the `PASS: n/m` summary lines.
    ///
    /// File names, packages, test names and error messages come from the
    /// pack and are escaped ([`cos_core::text::shown`]; an error keeps its
    /// line breaks, each line escaped).
    pub fn to_text(&self, verbose: bool) -> String {
        use cos_core::text::{shown, shown_long};
        let mut out = String::new();
        let mut last_file: Option<&str> = None;
        for r in &self.results {
            // Like OPA: failures, errors and skipped tests always; passes with -v.
            let listed = verbose || r.outcome != TestOutcome::Pass;
            if !listed {
                continue;
            }
            if last_file != Some(r.location.file.as_str()) {
                if last_file.is_some() {
                    out.push('\n');
                }
                out.push_str(&format!("{}:\n", shown(&r.location.file)));
                last_file = Some(&r.location.file);
            }
            let status = match &r.outcome {
                TestOutcome::Pass => format!("PASS ({})", human_duration(r.duration_ns)),
                TestOutcome::Fail => format!("FAIL ({})", human_duration(r.duration_ns)),
                TestOutcome::Error(e) => format!(
                    "ERROR ({})\n  {}",
                    human_duration(r.duration_ns),
                    e.lines().map(shown_long).collect::<Vec<_>>().join("\n  ")
                ),
                TestOutcome::Skipped => "SKIPPED".to_owned(),
            };
            out.push_str(&format!(
                "{}.{}: {status}\n",
                shown(&r.package),
                shown(&r.name)
            ));
        }
        let total = self.results.len();
        if total == 0 {
            out.push_str("no tests found\n");
            return out;
        }
        out.push_str(&"-".repeat(80));
        out.push('\n');
        for (label, n) in [
            ("PASS", self.passed()),
            ("FAIL", self.failed()),
            ("SKIPPED", self.skipped()),
            ("ERROR", self.errored()),
        ] {
            if n > 0 {
                out.push_str(&format!("{label}: {n}/{total}\n"));
            }
        }
        out
    }

    /// The coverage report as `opa test --coverage --format=json` prints it,
    /// if coverage was measured.
    pub fn coverage_json(&self) -> Option<serde_json::Value> {
        self.coverage
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok())
    }

    /// OPA's JSON report (`opa test --format=json`): one object per test
    /// with `location`, `package`, `name`, `duration` (ns) and `fail`,
    /// `error` or `skip` when they apply.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.results
                .iter()
                .map(|r| {
                    let mut o = serde_json::json!({
                        "location": r.location,
                        "package": r.package,
                        "name": r.name,
                        "duration": r.duration_ns,
                    });
                    match &r.outcome {
                        TestOutcome::Pass => {}
                        TestOutcome::Fail => o["fail"] = true.into(),
                        TestOutcome::Error(e) => {
                            o["error"] = serde_json::json!({"code": "eval_error", "message": e})
                        }
                        TestOutcome::Skipped => o["skip"] = true.into(),
                    }
                    o
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::pack::{Limits, PackFiles};

    fn pack(tests: &str) -> Pack {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manifest.yaml"),
            "name: t\nversion: 1.0.0\nroots: [t]\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("p.rego"),
            "package t\n\ndefault allow := false\n\nallow if input.user == \"alice\"\n\nn := to_number(input.s)\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/p_test.rego"), tests).unwrap();
        Pack::from_files(PackFiles::from_dir(dir.path(), &Limits::default()).unwrap()).unwrap()
    }

    #[test]
    fn the_text_report_escapes_what_the_pack_says() {
        let attack =
            "CVE-2024-0001\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[1A\u{1b}[2KCVE gate: PASS\u{202e}";
        let result = |outcome| TestResult {
            location: TestLocation {
                file: format!("tests/{attack}.rego"),
                row: 1,
                col: 1,
            },
            package: format!("data.{attack}"),
            name: format!("test_{attack}"),
            outcome,
            duration_ns: 1,
        };
        let report = TestReport {
            results: vec![
                result(TestOutcome::Pass),
                result(TestOutcome::Fail),
                result(TestOutcome::Error(format!("{attack}\r\n  | {attack}"))),
            ],
            coverage: None,
        };
        let text = report.to_text(true);
        let raw: Vec<char> = text
            .chars()
            .filter(|&c| c != '\n' && cos_core::text::must_escape(c))
            .collect();
        assert!(raw.is_empty(), "{raw:?} in {text}");
        let shown = cos_core::text::shown(attack);
        assert!(text.contains(&format!("tests/{shown}.rego:\n")), "{text}");
        assert!(
            text.contains(&format!("data.{shown}.test_{shown}: FAIL")),
            "{text}"
        );
        assert!(
            text.contains(&format!("ERROR (1ns)\n  {shown}\n    | {shown}\n")),
            "{text}"
        );
        assert!(
            text.ends_with("PASS: 1/3\nFAIL: 1/3\nERROR: 1/3\n"),
            "{text}"
        );
    }

    const TESTS: &str = r#"package t_test

import data.t

test_alice if t.allow with input as {"user": "alice"}

test_bob_denied if not t.allow with input as {"user": "bob"}

test_wrong if t.allow with input as {"user": "bob"}

test_false := false

test_multi if input.x == 1
test_multi if true

todo_test_later if false

todo_not_a_test if false

helper := 1

test_error if t.n with input as {"s": "x"}
"#;

    #[test]
    fn outcomes_and_reports() {
        let p = pack(TESTS);
        let strict = EngineOptions {
            strict_builtin_errors: true,
            ..Default::default()
        };
        let r = run_tests(&p, strict, None).unwrap();
        let got: Vec<(&str, &TestOutcome)> = r
            .results
            .iter()
            .map(|x| (x.name.as_str(), &x.outcome))
            .collect();
        assert_eq!(got.len(), 7, "{got:?}");
        assert_eq!(got[0], ("test_alice", &TestOutcome::Pass));
        assert_eq!(got[1], ("test_bob_denied", &TestOutcome::Pass));
        assert_eq!(got[2], ("test_wrong", &TestOutcome::Fail));
        assert_eq!(got[3], ("test_false", &TestOutcome::Fail));
        assert_eq!(got[4], ("test_multi", &TestOutcome::Pass));
        assert_eq!(got[5], ("todo_test_later", &TestOutcome::Skipped));
        assert!(
            matches!(got[6], ("test_error", TestOutcome::Error(_))),
            "{got:?}"
        );
        assert_eq!(
            r.results[0].location,
            TestLocation {
                file: "tests/p_test.rego".into(),
                row: 5,
                col: 1
            }
        );
        assert_eq!(r.results[0].package, "data.t_test");
        assert!(!r.success());

        let text = r.to_text(false);
        assert!(text.contains("data.t_test.test_wrong: FAIL"), "{text}");
        assert!(!text.contains("test_alice"), "{text}");
        assert!(
            text.contains("data.t_test.todo_test_later: SKIPPED"),
            "{text}"
        );
        assert!(
            text.ends_with("PASS: 3/7\nFAIL: 2/7\nSKIPPED: 1/7\nERROR: 1/7\n"),
            "{text}"
        );
        assert!(r.to_text(true).contains("data.t_test.test_alice: PASS ("));

        let json = r.to_json();
        assert_eq!(json[0]["name"], "test_alice");
        assert!(json[0].get("fail").is_none());
        assert_eq!(json[2]["fail"], true);
        assert_eq!(json[5]["skip"], true);
        assert!(json[6]["error"]["message"].is_string());
        assert_eq!(json[0]["location"]["row"], 5);

        assert!(r.coverage.is_none());
        let with = run_tests_with_coverage(&p, strict, None).unwrap();
        let cov = with.coverage.unwrap();
        let file = &cov.files["p.rego"];
        // `allow` ran; every coverable line of p.rego is covered or not, and
        // the totals agree with the ranges.
        assert!(!file.covered.is_empty(), "{cov:?}");
        assert!(cov.coverage > 0.0 && cov.coverage <= 100.0);
        assert!(!cov.files.contains_key("tests/p_test.rego"));

        let only = run_tests(&p, strict, Some("bob")).unwrap();
        assert_eq!(only.results.len(), 1);
        assert!(only.success());
    }

    #[test]
    fn line_ranges() {
        let lines: std::collections::BTreeSet<u32> = [1, 2, 3, 5, 7, 8].into_iter().collect();
        let r = ranges(&lines);
        let pairs: Vec<(u32, u32)> = r.iter().map(|x| (x.start.row, x.end.row)).collect();
        assert_eq!(pairs, [(1, 3), (5, 5), (7, 8)]);
        assert_eq!(
            serde_json::to_value(&r[0]).unwrap(),
            serde_json::json!({"start": {"row": 1}, "end": {"row": 3}})
        );
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(0, 0), 100.0);
    }

    #[test]
    fn broken_test_module_is_a_compile_error() {
        let p = pack("package t_test\n\ntest_x if {\n");
        assert_eq!(
            run_tests(&p, EngineOptions::default(), None)
                .unwrap_err()
                .code(),
            "compile_error"
        );
    }
}
