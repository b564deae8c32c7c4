"""The style judge: Ruff, one process per batch.

Score: ``-min(max_penalty, violations / code statements)``, so 0.0 is clean and each violation per
statement costs one point, capped. Syntax errors are left to the syntax judge (Ruff's
``invalid-syntax`` diagnostics are dropped); no code scores 0.0.

The denominator counts code, not lines, so that padding cannot dilute the rate: the statements of
the program's syntax tree, without the ones that do nothing (``pass``, ``...``, docstrings and other
lone constants), a statement repeated verbatim counted once. Comments, blank lines, form feeds,
U+2028 and other characters that ``str.splitlines`` breaks at add nothing. Code that does not parse
falls back to its non-blank lines that are not only a comment (Python's own line breaks).

Suppression comments are not honoured (``--ignore-noqa``: ``# noqa``, ``# ruff: noqa``,
``# flake8: noqa`` and Ruff's range suppressions): a policy would learn to append them.

Ruff has no Python API, and a process costs 6-10 ms whatever its input, so the batch's programs are
written to files in a tmpfs directory and checked by a single ``ruff check`` (docs: shared/specs/judges.md).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ruff
from pydantic import Field

from execrl.errors import ExecrlError
from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, register_judge
from execrl.rewards.extract import LINE_BREAK

# Real defects and unidiomatic code that models often write; no line-length or docstring rules,
# which would mostly measure formatting.
DEFAULT_SELECT = ("E4", "E7", "E9", "F", "W", "B", "C4", "SIM", "UP", "N")
_SHM = "/dev/shm"


class StyleSettings(JudgeSettings):
    select: tuple[str, ...] = Field(DEFAULT_SELECT, min_length=1)
    # W292 (no newline at the end) would judge how the code was cut out of the response, not the code.
    ignore: tuple[str, ...] = ("W292",)
    target_version: str = "py310"
    max_penalty: float = Field(1.0, gt=0)
    timeout_s: float = Field(60.0, gt=0)


@register_judge("style", StyleSettings)
class StyleJudge:
    def __init__(self, settings: StyleSettings) -> None:
        self.settings = settings
        self.ruff = ruff.find_ruff_bin()
        self._check({})  # a bad rule selector or target version fails here, at configuration time

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        indices = [i for i, c in enumerate(batch) if c.extracted.has_code]
        diagnostics = self._check({i: batch[i].code for i in indices}) if indices else {}
        results = []
        for i, candidate in enumerate(batch):
            extracted = candidate.extracted
            findings = []
            for diag in diagnostics.get(i, ()):
                if diag.get("code") in (None, "invalid-syntax"):
                    continue
                # Ruff: 1-based rows, 1-based columns counting Unicode characters.
                start, end = extracted.position_span(
                    diag["location"]["row"],
                    diag["location"]["column"] - 1,
                    diag["end_location"]["row"],
                    diag["end_location"]["column"] - 1,
                )
                findings.append(Finding(start, end, 1.0, diag["code"], diag["message"]))
            rate = len(findings) / max(code_statements(candidate.code), 1)
            score = -min(self.settings.max_penalty, rate) if findings else 0.0
            results.append(JudgeResult(score, tuple(findings)))
        return results

    def _check(self, programs: dict[int, str]) -> dict[int, list[dict]]:
        """Ruff's diagnostics for each program, keyed like ``programs``."""
        tmp_root = _SHM if os.access(_SHM, os.W_OK) else None
        with tempfile.TemporaryDirectory(prefix="execrl-style-", dir=tmp_root) as tmp_dir:
            tmp = os.path.realpath(tmp_dir)
            by_name = {}
            for i, code in programs.items():
                path = os.path.join(tmp, f"c{i}.py")
                Path(path).write_text(code, encoding="utf-8", newline="")
                by_name[path] = i
            command = [
                self.ruff,
                "check",
                "--isolated",
                "--no-cache",
                "--exit-zero",
                "--ignore-noqa",
                "--output-format",
                "json",
                "--target-version",
                self.settings.target_version,
                "--select",
                ",".join(self.settings.select),
            ]
            if self.settings.ignore:
                command += ["--ignore", ",".join(self.settings.ignore)]
            try:
                done = subprocess.run(
                    [*command, tmp],
                    capture_output=True,
                    text=True,
                    timeout=self.settings.timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ExecrlError(f"ruff took over {self.settings.timeout_s} s on one batch") from exc
            if done.returncode != 0:
                raise ExecrlError(
                    f"ruff failed (exit {done.returncode}): {done.stderr.strip()[:500]}"
                    " -- check the style judge's select/ignore/target_version settings"
                )
        grouped: dict[int, list[dict]] = {}
        for diag in json.loads(done.stdout or "[]"):
            index = by_name.get(os.path.realpath(diag["filename"]))
            if index is not None:
                grouped.setdefault(index, []).append(diag)
        return grouped


def code_statements(code: str) -> int:
    """How much code there is to lint: see the module docstring."""
    try:
        statements = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.stmt) and not _does_nothing(n)]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return sum(1 for line in LINE_BREAK.split(code) if line.strip() and not line.lstrip().startswith("#"))
    try:
        return len({ast.dump(statement) for statement in statements})
    except (RecursionError, MemoryError):  # nested too deeply to compare: count every statement
        return len(statements)


def _does_nothing(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Pass) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )
