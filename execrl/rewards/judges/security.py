"""The security judge: Bandit, in-process.

Score: ``-min(1, sum(severity weight x confidence weight) / saturation)`` over Bandit's issues, so
0.0 is clean and issues worth ``saturation`` (by default one HIGH-severity, HIGH-confidence issue)
give -1.0. Each finding's severity is its weight. Code that Python cannot compile scores 0.0 (the
syntax judge owns that).

``# nosec`` comments are not honoured (``ignore_nosec``): a policy would learn to append them. A file
Bandit did not fully analyse scores -1.0 with a ``bandit-skipped`` finding: one it skipped although
Python compiles it (a bogus ``# coding: xyz`` declaration, which Python ignores in a str but Bandit
does not; a ~1000-term ``1 + 1 + ...`` that overflows its walker's recursion), and one on which a
Bandit test raised (``mark_safe()`` without arguments breaks B703), since its issues went unreported. Such a file is scanned once more on its own first, so that a
failure that does not recur costs the response nothing.

Bandit reads strings only through the private ``BanditManager._parse_file`` (about 2.5 ms per program,
against ~310 ms for a CLI process per program; shared/specs/judges.md). That is why bandit is pinned
in pyproject.toml and tests/rewards compares this path with the CLI.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

from bandit.core import config as bandit_config
from bandit.core import manager as bandit_manager
from pydantic import Field, PositiveFloat, field_validator

from execrl.errors import ExecrlError
from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, describe, failed, register_judge
from execrl.rewards.extract import compiles

BANDIT_SKIPPED = "bandit-skipped"
LEVELS = ("LOW", "MEDIUM", "HIGH")
Level = Literal["LOW", "MEDIUM", "HIGH"]


class SecuritySettings(JudgeSettings):
    # B101 flags every ``assert``: in generated snippets those are self-checks, not a security risk.
    skip: tuple[str, ...] = ("B101",)
    severity_weights: dict[Level, PositiveFloat] = Field(
        default_factory=lambda: {"LOW": 1.0, "MEDIUM": 2.0, "HIGH": 3.0}
    )
    confidence_weights: dict[Level, PositiveFloat] = Field(
        default_factory=lambda: {"LOW": 0.33, "MEDIUM": 0.67, "HIGH": 1.0}
    )
    saturation: PositiveFloat = 3.0

    @field_validator("severity_weights", "confidence_weights")
    @classmethod
    def _every_level(cls, weights: dict[str, float]) -> dict[str, float]:
        if set(weights) != set(LEVELS):
            raise ValueError(f"give a weight for each of {', '.join(LEVELS)}")
        return weights


@register_judge("security", SecuritySettings)
class SecurityJudge:
    failure_score = -1.0

    def __init__(self, settings: SecuritySettings) -> None:
        if not hasattr(bandit_manager.BanditManager, "_parse_file"):
            raise ExecrlError("this bandit version lacks BanditManager._parse_file; install bandit==1.9.4")
        self.settings = settings
        self.config = bandit_config.BanditConfig()
        # Bandit logs an error for what it could not analyse (read through _BanditErrors); nothing
        # below ERROR is of use, and it warns for every in-memory file that it has no package name for it.
        logging.getLogger("bandit").setLevel(logging.ERROR)

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        issues, problems = self._scan(dict(enumerate(batch)))
        # A file that compiles but that Bandit could not analyse gets one more try on a fresh manager:
        # CI once saw a Bandit test raise on a plain two-line program and never again, and a program's
        # score must not depend on such luck. What fails twice (a bogus coding line) stays a failure.
        retry = {i: batch[i] for i in problems if compiles(batch[i].code)}
        if retry:
            for i in retry:
                del problems[i]
                issues.pop(i, None)
            again_issues, again_problems = self._scan(retry)
            issues.update(again_issues)
            problems.update(again_problems)
        results = []
        for i, candidate in enumerate(batch):
            problem = problems.get(i)
            try:
                if problem is not None and compiles(candidate.code):
                    results.append(failed(candidate, self.failure_score, problem, BANDIT_SKIPPED))
                elif problem is not None:  # not a program: the syntax judge's business
                    results.append(JudgeResult(0.0))
                else:
                    results.append(self._result(candidate, issues.get(i, ())))
            except Exception as exc:  # noqa: BLE001 - whatever it is, it is this response's alone
                results.append(
                    failed(candidate, self.failure_score, f"the security check failed: {describe(exc)}")
                )
        return results

    def _scan(self, candidates: dict[int, Candidate]) -> tuple[dict[int, list], dict[int, str]]:
        """Bandit on each candidate (keyed by batch index): its issues, and why it could not judge one."""
        # One manager per scan: creating it is cheap (~0.1 ms) and it accumulates per-file state.
        mgr = bandit_manager.BanditManager(
            self.config, "file", quiet=True, ignore_nosec=True, profile={"exclude": list(self.settings.skip)}
        )
        problems: dict[str, str] = {}
        with _BanditErrors.capture() as errors:
            for i, candidate in candidates.items():
                if not candidate.extracted.has_code:
                    continue
                name = f"c{i}.py"
                errors.clear()
                try:
                    mgr._parse_file(name, io.BytesIO(candidate.code.encode("utf-8")), [name])
                except Exception as exc:  # noqa: BLE001 - _parse_file catches most; the rest is this file's
                    problems[name] = f"bandit failed: {describe(exc)}"
                    continue
                if errors:
                    problems[name] = f"bandit could not analyse all of it: {errors[0]}"
        for name, reason in mgr.skipped:
            problems.setdefault(name, f"bandit skipped it: {reason}")
        issues: dict[int, list] = {}
        for issue in mgr.results:
            issues.setdefault(_index(issue.fname), []).append(issue)
        return issues, {_index(name): reason for name, reason in problems.items()}

    def _result(self, candidate: Candidate, issues: Sequence) -> JudgeResult:
        extracted = candidate.extracted
        findings = []
        for issue in issues:
            weight = (
                self.settings.severity_weights[issue.severity]
                * self.settings.confidence_weights[issue.confidence]
            )
            # Bandit columns are 0-based UTF-8 byte offsets; the end column belongs to the last line.
            end_line = max(issue.linerange or [issue.lineno])
            start, end = extracted.position_span(
                issue.lineno,
                extracted.char_column(issue.lineno, issue.col_offset),
                end_line,
                extracted.char_column(end_line, issue.end_col_offset),
            )
            findings.append(
                Finding(
                    start,
                    end,
                    weight,
                    issue.test_id,
                    f"{issue.text} (severity {issue.severity}, confidence {issue.confidence})",
                )
            )
        if not findings:
            return JudgeResult(0.0)
        total = sum(f.severity for f in findings)
        return JudgeResult(-min(1.0, total / self.settings.saturation), tuple(findings))


def _index(name: str) -> int:
    return int(name[1:-3])  # c<index>.py


class _BanditErrors(logging.Handler):
    """Bandit's ERROR records (a test that raised, a file it gave up on) logged by the current thread."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage().split("Traceback")[0].strip()[:300])

    @classmethod
    @contextmanager
    def capture(cls) -> Iterator[list[str]]:
        handler = cls()
        logger = logging.getLogger("bandit")
        logger.addHandler(handler)
        try:
            yield handler.messages
        finally:
            logger.removeHandler(handler)
