"""The rule for tests whose data is missing: skip on a developer's machine with one summary line, fail in CI.

The end-to-end cases run pytest itself on one data test file, in a subprocess, as `make test` would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import prerequisites

REPO = Path(__file__).resolve().parents[1]
DATA_TESTS = "tests/tasks/test_mbpp_loaders.py"  # 4 of its 7 tests read the data directory


@pytest.mark.parametrize(
    ("ci", "require", "fails"),
    [
        (None, None, False),
        ("true", None, True),
        ("1", None, True),
        (None, "1", True),
        ("true", "0", False),  # an explicit setting wins over CI
        ("false", None, False),
    ],
)
def test_when_missing_data_fails(monkeypatch, ci, require, fails) -> None:
    for name, value in (("CI", ci), (prerequisites.REQUIRE_ENV_VAR, require)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert prerequisites.missing_is_failure() is fails


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", prerequisites.REQUIRE_ENV_VAR)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", DATA_TESTS],
        cwd=REPO, env={**clean, "EXECRL_DATA_DIR": str(tmp_path / "no-data"), **env},
        capture_output=True, text=True, check=False, timeout=300,
    )


def test_without_data_the_tests_skip_with_one_summary_line(tmp_path) -> None:
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    lines = [line for line in done.stdout.splitlines() if "skipped for lack of" in line]
    assert lines == [
        f"4 tests skipped for lack of the benchmark data directory (EXECRL_DATA_DIR={tmp_path / 'no-data'} "
        f"does not exist); get it with {prerequisites.DATA.how}"
    ]
    assert "3 passed, 4 skipped" in done.stdout


@pytest.mark.parametrize("setting", [{"CI": "true"}, {"EXECRL_REQUIRE_DATA": "1"}])
def test_in_ci_missing_data_is_a_failure(tmp_path, setting) -> None:
    done = _pytest(tmp_path, **setting)
    assert done.returncode == 1
    assert "3 passed, 4 errors" in done.stdout
    assert "skipped" not in done.stdout
    assert "does not exist; this run requires it" in done.stdout


def test_with_data_nothing_is_skipped(data_dir, tmp_path) -> None:
    done = _pytest(tmp_path, EXECRL_DATA_DIR=str(data_dir), CI="true")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "7 passed" in done.stdout and "skipped" not in done.stdout
