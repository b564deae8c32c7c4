"""The simulator judge: runs each robot program against the world states of its task, in the sandbox.

Score: the share of the first ``states`` world states of the candidate's :class:`RobotTask` on which the
program runs to its end without a robot-API error or a Python error and does something (at least one
robot action); on a state where waiting forever is correct (``timeout_expected``), running out of time
counts as success too. So the score lies in ``[0, 1]``.

The program is the extracted code when it defines ``task_program``; otherwise the code is taken as the
body of ``def task_program():`` (what a completion model writes after the benchmark's prompt). By
default double-quoted strings are lowercased first, as RoboEval's evaluator does, so that training sees
the evaluation's semantics.

Findings, one per distinct failure (its severity the number of states it happened on): a crash is
located on the candidate line it came from (the failing API call, or the Python error's line), a
syntax error on its line; an unexpected timeout, a program that never acts, and a task without world
states cover all the code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field, PositiveFloat

from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, register_judge
from execrl.rewards.extract import ExtractedCode
from execrl.robot.runner import SIMULATION_TIMEOUT_S, RobotRun, decode_run, lowercase_double_quoted, robot_job
from execrl.sandbox import default_sandbox
from execrl.tasks.robot_gen.task import ENTRY_POINT, RobotTask, WorldState

HEADER = f"def {ENTRY_POINT}():"
_DEFINES_ENTRY = re.compile(rf"^def\s+{ENTRY_POINT}\s*\(", re.MULTILINE)


class SimulatorSettings(JudgeSettings):
    states: int = Field(3, gt=0)  # world states run per candidate (the task's first ones)
    timeout_s: PositiveFloat = SIMULATION_TIMEOUT_S  # simulated time budget per run
    benchmark_rewrite: bool = True  # lowercase double-quoted strings, as RoboEval's evaluator does


@dataclass(frozen=True)
class _Program:
    """The program to run and how many lines it has before the candidate's first line."""

    text: str
    shift: int


def as_program(code: str) -> _Program:
    """``code`` as a runnable robot program: itself if it defines ``task_program``, else the body of one."""
    if _DEFINES_ENTRY.search(code):
        return _Program(code, 0)
    lines = code.split("\n")
    indented = all(not line.strip() or line[:1] in " \t" for line in lines)
    body = code if indented else "\n".join(f"    {line}" if line.strip() else line for line in lines)
    return _Program(f"{HEADER}\n{body}\n", 1)


@register_judge("simulator", SimulatorSettings)
class SimulatorJudge:
    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        results: list[JudgeResult | None] = []
        jobs, owners = [], []
        plans: dict[int, tuple[_Program, tuple[WorldState, ...]]] = {}
        for i, candidate in enumerate(batch):
            early, plan = self._plan(candidate)
            results.append(early)
            if plan is not None:
                plans[i] = plan
                program, states = plan
                text = lowercase_double_quoted(program.text) if self.settings.benchmark_rewrite else program.text
                for world in states:
                    jobs.append(robot_job(text, world.state, self.settings.timeout_s))
                    owners.append(i)
        runs: dict[int, list[RobotRun]] = {i: [] for i in plans}
        for owner, result in zip(owners, default_sandbox().run(jobs) if jobs else [], strict=True):
            runs[owner].append(decode_run(result))
        for i, (program, states) in plans.items():
            results[i] = _verdict(batch[i].extracted, program, states, runs[i])
        return [r if r is not None else JudgeResult(0.0) for r in results]

    def _plan(self, candidate: Candidate) -> tuple[JudgeResult | None, tuple[_Program, tuple[WorldState, ...]] | None]:
        extracted = candidate.extracted
        task = candidate.task
        states = task.states[: self.settings.states] if isinstance(task, RobotTask) else ()
        if not states:
            start, end = extracted.code_span()
            finding = Finding(start, end, 1.0, "no-world-state", "the task has no robot world states to run against")
            return JudgeResult(0.0, (finding,)), None
        if not extracted.has_code:
            return JudgeResult(0.0), None
        program = as_program(extracted.code)
        try:
            compile(program.text, "<candidate>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            span = _line_span(extracted, program, line)
            return JudgeResult(0.0, (Finding(*span, 1.0, "SyntaxError", str(getattr(exc, "msg", exc))),)), None
        return None, (program, states)


def _line_span(extracted: ExtractedCode, program: _Program, line: int | None) -> tuple[int, int]:
    """The response span of a program line; all the code when the line is not the candidate's own."""
    if line is None or line - program.shift < 1:
        return extracted.code_span()
    return extracted.lines_span(line - program.shift)


def _failure(run: RobotRun, world: WorldState) -> tuple[str, str, int | None] | None:
    """(rule, message, program line) of a failed run, or ``None`` when the state went fine."""
    if run.status == "exception":
        error = run.error or "the program crashed"
        rule = "RobotExecutionError" if "Robot" in error else (run.error_type or "PythonError")
        return rule, error, run.error_line
    if run.status == "timeout" and not world.timeout_expected:
        return "Timeout", "the program was still running when its time ran out", None
    if not run.trace:
        return "NoRobotAction", "the program ended without any robot action", None
    return None


def _verdict(
    extracted: ExtractedCode, program: _Program, states: tuple[WorldState, ...], runs: list[RobotRun]
) -> JudgeResult:
    passed = 0
    counts: dict[tuple[int, int, str], int] = {}
    messages: dict[tuple[int, int, str], str] = {}
    for index, (world, run) in enumerate(zip(states, runs, strict=True)):
        failure = _failure(run, world)
        if failure is None:
            passed += 1
            continue
        rule, message, line = failure
        start, end = _line_span(extracted, program, line)
        key = (start, end, rule)
        counts[key] = counts.get(key, 0) + 1
        messages.setdefault(key, f"world state {index}: {message}")
    findings = tuple(
        Finding(start, end, float(count), rule, messages[(start, end, rule)])
        for (start, end, rule), count in counts.items()
    )
    return JudgeResult(passed / len(states), findings)
