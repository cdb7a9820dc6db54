"""Shared fixtures for the interop tests: where the `cos` binary is and how to run it.

The binary comes from the environment variable COS_BIN (scripts/test.sh sets it),
else target/debug/cos of this workspace. A missing binary is a test failure,
never a skip: these tests are the evidence that cos agrees with outside oracles.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COS_BIN = REPO_ROOT / "target" / "debug" / "cos"

# One cos invocation should take milliseconds; this only stops a hung test.
COS_TIMEOUT_S = 60


@dataclass(frozen=True)
class CosResult:
    """The outcome of one `cos` run (stdout and stderr as bytes)."""

    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    def describe(self) -> str:
        """A readable summary for assertion messages."""
        return (
            f"cos {' '.join(self.args)}\n"
            f"  exit code: {self.returncode}\n"
            f"  stdout: {self.stdout[:2000]!r}\n"
            f"  stderr: {self.stderr.decode('utf-8', 'replace')[:2000]}"
        )


@pytest.fixture(scope="session")
def cos_bin() -> Path:
    """Path of the `cos` binary under test; fails (does not skip) if it is missing."""
    raw = os.environ.get("COS_BIN")
    path = Path(raw) if raw else DEFAULT_COS_BIN
    source = "COS_BIN" if raw else "the default path"
    if not path.is_file():
        pytest.fail(
            f"cos binary not found at {path} ({source}). Build it with "
            f"`cd {REPO_ROOT} && cargo build -p cos-cli`, or set COS_BIN to its path.",
            pytrace=False,
        )
    if not os.access(path, os.X_OK):
        pytest.fail(f"cos binary at {path} ({source}) is not executable.", pytrace=False)
    return path


def run_cos_at(
    cos: Path,
    *args: str | os.PathLike[str],
    input: bytes | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> CosResult:
    """Run `cos ARGS...`, capturing stdout, stderr and the exit code."""
    str_args = tuple(os.fspath(a) for a in args)
    proc = subprocess.run(
        [os.fspath(cos), *str_args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        timeout=COS_TIMEOUT_S,
        check=False,
    )
    return CosResult(str_args, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def run_cos(cos_bin: Path):
    """A function `run_cos(*args, input=None, cwd=None) -> CosResult`."""

    def _run(*args, input: bytes | None = None, cwd=None) -> CosResult:
        return run_cos_at(cos_bin, *args, input=input, cwd=cwd)

    return _run
