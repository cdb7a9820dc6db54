//! `cos policy eval`, `cos policy check` and `cos policy test`.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use crate::{
    Failure, MAX_JSON_INPUT, json_line, load_pack, millis, read_input, secs, write_stdout,
};

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
    /// Evaluate a document (`data.x.y`) for an input; prints `{"result": …}`,
    /// or `{}` when undefined, as OPA's Data API does.
    Eval {
        /// Pack directory, pack or bundle `.tar.gz`.
        #[arg(long, value_name = "PATH")]
        pack: PathBuf,
        /// Document to evaluate (`data.x.y` or `x/y`).
        #[arg(long, value_name = "QUERY")]
        query: String,
        /// Input document (JSON file, or `-` for standard input); without it `input` is undefined.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// Fail on builtin errors instead of treating them as undefined.
        #[arg(long)]
        strict_builtin_errors: bool,
        /// Time limit for the evaluation (`1s`, `250ms`; a bare number is milliseconds).
        #[arg(long, default_value = "1000", value_name = "DURATION", value_parser = millis)]
        timeout_ms: std::time::Duration,
    },
    /// Check a pack like `opa check --strict`: parse and compile every
    /// module (tests included) with the OPA-parity checks; exit 1 on any
    /// error.
    Check {
        /// Pack directory, pack or bundle `.tar.gz`.
        path: PathBuf,
    },
    /// Run a pack's tests like `opa test` (exit 1 on any FAIL or ERROR).
    Test {
        /// Pack directory, pack or bundle `.tar.gz`.
        path: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value_t = TestFormat::Pretty)]
        format: TestFormat,
        /// List every test, not only failures.
        #[arg(short, long)]
        verbose: bool,
        /// Only tests whose `data.pkg.name` contains this text.
        #[arg(long, value_name = "TEXT")]
        run: Option<String>,
        /// Print the line coverage report (OPA's JSON shape) instead of the results.
        #[arg(long)]
        coverage: bool,
        /// Fail on builtin errors instead of treating them as undefined.
        #[arg(long)]
        strict_builtin_errors: bool,
        /// Time limit of each test, as `opa test --timeout` (`500ms`, `5s`, `1m`; `0`: none).
        #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = test_timeout)]
        timeout: TestTimeout,
    },
}

/// `cos policy test --timeout`: `None` for no limit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TestTimeout(Option<std::time::Duration>);

/// A duration as `opa test --timeout` takes it (`500ms`, `5s`, `2m`; `0` for none).
fn test_timeout(s: &str) -> Result<TestTimeout, String> {
    let d = secs(s)?;
    Ok(TestTimeout((!d.is_zero()).then_some(d)))
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum TestFormat {
    Pretty,
    Json,
}

/// Runs a `cos policy` command.
pub(crate) fn run(command: PolicyCommand) -> Result<(), Failure> {
    match command {
        PolicyCommand::Eval {
            pack,
            query,
            input,
            strict_builtin_errors,
            timeout_ms,
        } => policy_eval(
            &pack,
            &query,
            input.as_deref(),
            strict_builtin_errors,
            timeout_ms,
        ),
        PolicyCommand::Check { path } => policy_check(&path),
        PolicyCommand::Test {
            path,
            format,
            verbose,
            run,
            coverage,
            strict_builtin_errors,
            timeout,
        } => policy_test(
            &path,
            format,
            verbose,
            run.as_deref(),
            coverage,
            strict_builtin_errors,
            timeout.0,
        ),
    }
}

fn policy_eval(
    pack: &Path,
    query: &str,
    input: Option<&Path>,
    strict: bool,
    timeout_ms: std::time::Duration,
) -> Result<(), Failure> {
    let pack = load_pack(pack)?;
    let options = cos_policy::EngineOptions {
        strict_builtin_errors: strict,
        time_limit: Some(timeout_ms),
        ..Default::default()
    };
    let engine = cos_policy::PolicyEngine::new(&pack, options)?;
    let input = match input {
        Some(p) => {
            let bytes = read_input(p, MAX_JSON_INPUT)?;
            // Every number exact, as OPA reads it; one beyond the float
            // range (`1e400`) is refused (exit 2), not decided on rounded.
            let input = cos_policy::Input::from_json_text("input", &bytes)
                .map_err(|e| Failure::Usage(format!("input: {e}")))?;
            Some(input)
        }
        None => None,
    };
    // `{"result": …}` as OPA's `eval --format json` of a Data API answer,
    // the result's numbers written exactly.
    let doc = match engine.evaluate(query, input.as_ref())? {
        Some(result) => format!(
            "{{\n  \"result\": {}\n}}\n",
            result.to_json_pretty()?.replace('\n', "\n  ")
        ),
        None => "{}\n".to_owned(),
    };
    write_stdout(doc.as_bytes())
}

fn policy_check(path: &Path) -> Result<(), Failure> {
    let pack = load_pack(path)?;
    match cos_policy::PolicyEngine::with_tests(&pack, cos_policy::EngineOptions::default()) {
        Ok(_) => {
            let n = pack.modules().len() + pack.tests().len();
            write_stdout(format!("ok: {n} modules\n").as_bytes())
        }
        Err(e @ cos_policy::Error::Compile { .. }) => Err(Failure::Invalid(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

fn policy_test(
    path: &Path,
    format: TestFormat,
    verbose: bool,
    run: Option<&str>,
    coverage: bool,
    strict: bool,
    timeout: Option<std::time::Duration>,
) -> Result<(), Failure> {
    let pack = load_pack(path)?;
    // Each test is one evaluation: the engine's time limit is the test's.
    let options = cos_policy::EngineOptions {
        strict_builtin_errors: strict,
        time_limit: timeout,
        ..Default::default()
    };
    let report = if coverage {
        cos_policy::run_tests_with_coverage(&pack, options, run)?
    } else {
        cos_policy::run_tests(&pack, options, run)?
    };
    match (report.coverage_json(), format) {
        (Some(cov), _) => json_line(&cov)?,
        (None, TestFormat::Pretty) => write_stdout(report.to_text(verbose).as_bytes())?,
        (None, TestFormat::Json) => json_line(&report.to_json())?,
    }
    if report.success() {
        Ok(())
    } else {
        Err(Failure::Invalid(format!(
            "{} failed, {} errors of {} tests",
            report.failed(),
            report.errored(),
            report.results.len()
        )))
    }
}
