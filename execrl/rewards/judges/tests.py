"""The tests judge: runs each candidate's assert tests in the sandbox, the whole batch in one call.

Score (``scoring``): ``all`` (the default, the field's practice) gives ``1 + all_pass_bonus`` when
every test passes and 0.0 otherwise, so passing the tests the prompt shows (by hard-coding them) or
the ones a constant answer happens to match (``return True``) earns nothing an honest wrong answer
does not; ``partial`` gives the share of the tests the prompt does not show (``Candidate.shown_tests``;
all of them when every test is shown) that pass, plus ``all_pass_bonus`` when every test passes.
Either lies in ``[0, 1 + bonus]``. Test statements that do not parse (or are empty) are not the
candidate's fault: they are left out of the count and reported as ``invalid-test`` findings; with no
valid test (or no tests at all, or no code) the score is 0.0 and nothing runs.

Findings: an error raised in the candidate's code is located on the line it came from; a failing
comparison (no line of the candidate to blame) covers the definition of the function or class the
test calls, or else all the code; timeouts, crashes, early exits and load-time errors are findings
on their line or on all the code. ``executed_spans`` are the response spans of the lines that ran
(``None`` when ``trace_lines`` is off).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, PositiveFloat

from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, describe, failed, register_judge
from execrl.rewards.extract import ExtractedCode
from execrl.sandbox import AssertTests, Job, JobResult, Limits, Status, default_sandbox

_NOT_RUN = "NotRun"  # the sandbox's error type for tests skipped after the program stopped


class TestsSettings(JudgeSettings):
    scoring: Literal["all", "partial"] = "all"
    all_pass_bonus: float = Field(0.5, ge=0)
    timeout_s: PositiveFloat = 5.0
    memory_mb: int = Field(2048, gt=0)
    # Tracing gives executed_spans (for the ``executed`` credit) but slows loop-heavy code several
    # times over (MBPP task 123: 4.3 s -> 29 s), so it is off unless that credit asks for it.
    trace_lines: bool = False


@register_judge("tests", TestsSettings, credit="uniform")
class TestsJudge:
    def __init__(self, settings: TestsSettings) -> None:
        self.settings = settings
        self.limits = Limits(timeout_s=settings.timeout_s, memory_mb=settings.memory_mb)

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        plans = [_plan(c) for c in batch]
        to_run = [i for i, (valid, _) in enumerate(plans) if valid and batch[i].extracted.has_code]
        jobs = [
            Job(
                code=batch[i].code,
                tests=AssertTests(statements=tuple(s for s, _ in plans[i][0]), setup=batch[i].test_setup),
                limits=self.limits,
                trace_lines=self.settings.trace_lines,
            )
            for i in to_run
        ]
        ran = dict(zip(to_run, default_sandbox().run(jobs) if jobs else [], strict=True))
        results = []
        for i, candidate in enumerate(batch):
            valid, invalid = plans[i]
            if i not in ran:
                results.append(JudgeResult(0.0, invalid))
                continue
            try:
                results.append(self._result(candidate, valid, invalid, ran[i]))
            except Exception as exc:  # noqa: BLE001 - whatever it is, it is this response's alone
                results.append(failed(candidate, 0.0, f"judging the test results failed: {describe(exc)}"))
        return results

    def _result(
        self,
        candidate: Candidate,
        valid: list[tuple[str, ast.Module]],
        invalid: tuple[Finding, ...],
        job: JobResult,
    ) -> JudgeResult:
        extracted = candidate.extracted
        score = self._score(candidate, valid, {t.index for t in job.tests if t.passed})
        findings = list(invalid)
        definitions = _definitions(extracted.code)
        for outcome in job.tests:
            if outcome.passed or outcome.error_type == _NOT_RUN:
                continue
            statement, tree = valid[outcome.index]
            if outcome.error_line is not None:
                start, end = extracted.lines_span(outcome.error_line)
            else:
                start, end = _called_definition_span(tree, definitions, extracted)
            findings.append(
                Finding(
                    start,
                    end,
                    1.0,
                    outcome.error_type or "TestFailed",
                    f"{statement}: {outcome.error_message or 'failed'}",
                )
            )
        own_errors = any(not t.passed and t.error_type != _NOT_RUN for t in job.tests)
        if not job.passed and not own_errors:
            findings.append(_job_finding(job, extracted))
        executed = None if job.executed_lines is None else _executed_spans(job.executed_lines, extracted)
        return JudgeResult(score, tuple(findings), executed)

    def _score(self, candidate: Candidate, valid: list[tuple[str, ast.Module]], passed: set[int]) -> float:
        """The score of a run in which the tests at ``passed`` (indices into ``valid``) passed."""
        every = set(range(len(valid)))
        bonus = self.settings.all_pass_bonus if every <= passed else 0.0
        if self.settings.scoring == "all":
            return 1.0 + bonus if every <= passed else 0.0
        tests = candidate.tests or ()
        shown = {tests[i] for i in candidate.shown_tests if 0 <= i < len(tests)}
        counted = {k for k, (statement, _) in enumerate(valid) if statement not in shown} or every
        return len(counted & passed) / len(counted) + bonus


def _plan(candidate: Candidate) -> tuple[list[tuple[str, ast.Module]], tuple[Finding, ...]]:
    """The candidate's test statements that parse (with their trees), and findings for those that do not."""
    valid, invalid = [], []
    for index, statement in enumerate(candidate.tests or ()):
        try:
            tree = ast.parse(statement)
            problem = "" if tree.body else "it is empty"
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            problem = f"it does not parse: {exc}"
        if problem:
            start, end = candidate.extracted.code_span()
            invalid.append(
                Finding(start, end, 1.0, "invalid-test", f"test {index + 1} not counted: {problem}")
            )
        else:
            valid.append((statement, tree))
    return valid, tuple(invalid)


def _definitions(code: str) -> dict[str, tuple[int, int]]:
    """Top-level function and class names -> their first and last lines."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep to parse: no definitions
        return {}
    return {
        node.name: (node.lineno, node.end_lineno or node.lineno)
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def _called_definition_span(
    test: ast.Module, definitions: dict[str, tuple[int, int]], extracted: ExtractedCode
) -> tuple[int, int]:
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in definitions:
            return extracted.lines_span(*definitions[node.func.id])
    return extracted.code_span()


def _job_finding(job: JobResult, extracted: ExtractedCode) -> Finding:
    """The program-level failure: a load-time error, timeout, crash, early exit, ..."""
    if job.error_line is None:
        start, end = extracted.code_span()
    elif job.status is Status.SYNTAX_ERROR and job.error_column is not None:
        start, end = extracted.position_span(job.error_line, job.error_column - 1)
    else:
        start, end = extracted.lines_span(job.error_line)
    message = job.error_message or job.status.value
    return Finding(start, end, 1.0, job.error_type or job.status.value, message)


def _executed_spans(lines: frozenset[int], extracted: ExtractedCode) -> tuple[tuple[int, int], ...]:
    """Response spans of the executed lines, adjacent lines merged (across their line break only)."""
    spans: list[tuple[int, int]] = []
    for line in sorted(lines):
        start, end = extracted.span(extracted.offset(line), extracted.offset(line, 1 << 30))
        if spans and start - spans[-1][1] <= 2:  # only a line break between them
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return tuple(spans)
