"""The style judge: Ruff, one process per batch.

Score: ``-min(max_penalty, violations / code statements)``, so 0.0 is clean and each violation per
statement costs one point, capped. Syntax errors are left to the syntax judge (Ruff's
``invalid-syntax`` diagnostics are dropped); no code scores 0.0.

The denominator counts code, not lines, so that padding cannot dilute the rate: the statements of
the program's syntax tree, without the ones that do nothing (``pass``, ``...``, docstrings and other
lone constants, a constant stored in names that nothing reads), a statement repeated verbatim
counted once. Comments, blank lines, form feeds,
U+2028 and other characters that ``str.splitlines`` breaks at add nothing. Code that does not parse
falls back to its non-blank lines that are not only a comment (Python's own line breaks).

Suppression comments are not honoured (``--ignore-noqa``: ``# noqa``, ``# ruff: noqa``,
``# flake8: noqa`` and Ruff's range suppressions): a policy would learn to append them.

Ruff has no Python API, and a process costs 6-10 ms whatever its input, so the batch's programs are
written to files in a tmpfs directory and checked by a single ``ruff check`` (docs: shared/specs/judges.md).
A program Ruff cannot check (it reports it could not lint the file, or crashes: its parser overflows
its stack on ``y = ---...-1``, and on shallower nesting when it lints several files at once) scores
``-max_penalty`` with a ``ruff-failed`` finding; when Ruff fails on the whole batch, it checks each
half again, down to single programs, so that only the ones Ruff cannot check fail.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ruff
from pydantic import Field

from execrl.errors import ExecrlError
from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, describe, failed, register_judge
from execrl.rewards.extract import LINE_BREAK

# Real defects and unidiomatic code that models often write; no line-length or docstring rules,
# which would mostly measure formatting.
DEFAULT_SELECT = ("E4", "E7", "E9", "F", "W", "B", "C4", "SIM", "UP", "N")
RUFF_FAILED = "ruff-failed"
_SHM = "/dev/shm"
_RULE_CODE = re.compile(r"[A-Z]+[0-9]+")
_SYNTAX = (None, "invalid-syntax")  # the syntax judge's business
_UNREADABLE = "E902"  # Ruff's io-error: it could not read the file
# What Ruff writes to stderr about a file it did not lint ("warning: Failed to lint c3.py: ...").
_NOT_LINTED = re.compile(r"(?:Failed to lint|[Pp]anick?ed)\b.*?\bc(\d+)\.py\b")


class StyleSettings(JudgeSettings):
    select: tuple[str, ...] = Field(DEFAULT_SELECT, min_length=1)
    # W292 (no newline at the end) would judge how the code was cut out of the response, not the code.
    ignore: tuple[str, ...] = ("W292",)
    target_version: str = "py310"
    max_penalty: float = Field(1.0, gt=0)
    timeout_s: float = Field(60.0, gt=0)


class _RuffFailed(ExecrlError):
    """One ``ruff check`` run that gave no usable output (crash, timeout, output that is not JSON)."""


@register_judge("style", StyleSettings)
class StyleJudge:
    def __init__(self, settings: StyleSettings) -> None:
        self.settings = settings
        self.failure_score = -settings.max_penalty
        self.ruff = ruff.find_ruff_bin()
        try:
            self._check({})  # a bad rule selector or target version fails here, at configuration time
        except _RuffFailed as exc:
            raise ExecrlError(
                f"{exc} -- check the style judge's select/ignore/target_version settings"
            ) from exc

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        checked = self._check_each({i: c.code for i, c in enumerate(batch) if c.extracted.has_code})
        results = []
        for i, candidate in enumerate(batch):
            outcome = checked.get(i, [])
            if isinstance(outcome, str):
                results.append(failed(candidate, self.failure_score, outcome, RUFF_FAILED))
                continue
            try:
                results.append(self._result(candidate, outcome))
            except Exception as exc:  # noqa: BLE001 - whatever it is, it is this response's alone
                results.append(
                    failed(candidate, self.failure_score, f"the style check failed: {describe(exc)}")
                )
        return results

    def _result(self, candidate: Candidate, diagnostics: list[dict]) -> JudgeResult:
        extracted = candidate.extracted
        findings = []
        for diag in diagnostics:
            if diag.get("code") in _SYNTAX:
                continue
            # Ruff: 1-based rows, 1-based columns counting Unicode characters.
            start, end = extracted.position_span(
                diag["location"]["row"],
                diag["location"]["column"] - 1,
                diag["end_location"]["row"],
                diag["end_location"]["column"] - 1,
            )
            findings.append(Finding(start, end, 1.0, diag["code"], diag["message"]))
        if not findings:
            return JudgeResult(0.0)
        rate = len(findings) / max(code_statements(candidate.code), 1)
        return JudgeResult(-min(self.settings.max_penalty, rate), tuple(findings))

    def _check_each(self, programs: dict[int, str]) -> dict[int, list[dict] | str]:
        """``_check`` on the batch; if Ruff fails on it, on each half, down to single programs, so
        that only the programs Ruff cannot check fail (one bad program: ~2 log2(n) runs, not n)."""
        if not programs:
            return {}
        try:
            return self._check(programs)
        except _RuffFailed as exc:
            if len(programs) == 1:
                return {i: f"ruff could not check this program: {exc}" for i in programs}
        items = list(programs.items())
        half = len(items) // 2
        return {**self._check_each(dict(items[:half])), **self._check_each(dict(items[half:]))}

    def _check(self, programs: dict[int, str]) -> dict[int, list[dict] | str]:
        """Ruff's diagnostics for each program, keyed like ``programs``, or why Ruff did not lint it."""
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
                raise _RuffFailed(f"ruff took over {self.settings.timeout_s} s") from exc
            if done.returncode != 0:
                raise _RuffFailed(f"ruff failed (exit {done.returncode}): {done.stderr.strip()[:300]}")
        try:
            diagnostics = json.loads(done.stdout or "[]")
        except json.JSONDecodeError as exc:
            raise _RuffFailed(f"ruff's output is not JSON ({exc})") from exc
        grouped: dict[int, list[dict] | str] = {i: [] for i in programs}
        for diag in diagnostics:
            index = by_name.get(os.path.realpath(diag["filename"]))
            if index is None or isinstance(grouped[index], str):
                continue
            code = diag.get("code")
            if code == _UNREADABLE or (code not in _SYNTAX and not _RULE_CODE.fullmatch(str(code))):
                grouped[index] = f"ruff did not lint this program: {code}: {diag.get('message', '')[:300]}"
            else:
                grouped[index].append(diag)
        for line in done.stderr.splitlines():
            match = _NOT_LINTED.search(line)
            if match and int(match.group(1)) in grouped:
                grouped[int(match.group(1))] = f"ruff did not lint this program: {line.strip()[:300]}"
        return grouped


def code_statements(code: str) -> int:
    """How much code there is to lint: see the module docstring."""
    try:
        tree = ast.parse(code)
        nodes = list(ast.walk(tree))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return sum(1 for line in LINE_BREAK.split(code) if line.strip() and not line.lstrip().startswith("#"))
    read = {n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    read |= {name for n in nodes if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
    statements = [n for n in nodes if isinstance(n, ast.stmt) and not _does_nothing(n, read)]
    try:
        return len({ast.dump(statement) for statement in statements})
    except (RecursionError, MemoryError):  # nested too deeply to compare: count every statement
        return len(statements)


def _does_nothing(statement: ast.stmt, read: set[str]) -> bool:
    """``pass``, a lone constant (docstrings, ``...``), or a constant stored in names nothing reads."""
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant)
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [node for target in targets for node in ast.walk(target)]
        return (
            all(isinstance(node, (ast.Name, ast.Tuple, ast.List, ast.Store)) for node in names)
            and not any(
                isinstance(node, ast.Name) and (node.id in read or node.id == "__all__") for node in names
            )
            and _is_literal(statement.value)
        )
    return False


def _is_literal(node: ast.expr) -> bool:
    return all(
        isinstance(
            part, (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.unaryop, ast.Load)
        )
        for part in ast.walk(node)
    )
