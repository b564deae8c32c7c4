"""The simulator judge: runs each robot program against the world states of its task, in the sandbox.

Score: the share of the first ``states`` world states of the candidate's :class:`RobotTask` on which the
program runs to its end without a robot-API error or a Python error and does something (at least one
robot action); on a state where waiting forever is correct (``timeout_expected``), running out of time
counts as success too. So the score lies in ``[0, 1]``. It measures executability only: ``say("done")``
earns it in full, so train with the ``completion`` judge beside it (execrl/rewards/judges/completion.py).

The program is the extracted code when it defines ``task_program``; otherwise the code is taken as the
body of ``def task_program():`` (what a completion model writes after the benchmark's prompt). By
default double-quoted strings are lowercased first, as RoboEval's evaluator does, so that training sees
the evaluation's semantics; the API itself is injected (``semantics: injected``) rather than substituted
into the text as upstream does (docs/roboeval.md says why; ``semantics: upstream`` is available, with
a warning: it reads the trace from the program's output, which the program can forge).

The program never holds the world: it runs in the sandbox with stubs for the robot API, and the world
and the trace stay in this process (``execrl.robot.simulator``, docs/roboeval.md), so the trace a
judge checks is the calls the program made, never what it printed or reported.

Findings, one per distinct failure (its severity the number of states it happened on): a crash is
located on the candidate line it came from (the failing API call, or the Python error's line), a
syntax error on its line; an unexpected timeout, a program that never acts, and a task without world
states cover all the code.

Runs are shared with the completion judge through ``execrl.robot.batch``: both judges in one formula
run each (program, state) once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field, PositiveFloat

from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, register_judge
from execrl.rewards.extract import ExtractedCode
from execrl.robot.batch import RunSpec, run_all
from execrl.robot.outcome import PYTHON_ERROR, ROBOT_EXECUTION_ERROR, StateOutcome, judge_requirements
from execrl.robot.rewrite import INJECTED, UPSTREAM, Semantics
from execrl.robot.runner import SIMULATION_TIMEOUT_S, RobotRun, lowercase_double_quoted
from execrl.tasks.robot_gen.task import ENTRY_POINT, RobotTask, WorldState

HEADER = f"def {ENTRY_POINT}():"
_log = logging.getLogger(__name__)
_DEFINES_ENTRY = re.compile(rf"^def\s+{ENTRY_POINT}\s*\(", re.MULTILINE)


class SimulatorSettings(JudgeSettings):
    states: int = Field(3, gt=0)  # world states run per candidate (the task's first ones)
    timeout_s: PositiveFloat = SIMULATION_TIMEOUT_S  # simulated time budget per run
    benchmark_rewrite: bool = True  # injected semantics: lowercase double-quoted strings, as RoboEval does
    semantics: Semantics = INJECTED  # or "upstream": RoboEval's whole textual rewrite (docs/roboeval.md)


def warn_if_upstream(settings: SimulatorSettings) -> None:
    """Upstream semantics reads the trace from the program's output, which the program writes."""
    if settings.semantics == UPSTREAM:
        _log.warning(
            "robot judge with semantics: upstream: the trace is read from the program's output, so a "
            "program can print its errand or hide steps behind a print (docs/roboeval.md); use it to "
            "measure, not to train"
        )


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


@dataclass(frozen=True)
class RobotPlan:
    """A candidate that can run: its program, the states it runs on, and then its runs (one per state)."""

    program: _Program
    states: tuple[WorldState, ...]
    runs: tuple[RobotRun, ...] = ()


def plan_and_run(
    batch: Sequence[Candidate], settings: SimulatorSettings
) -> tuple[list[JudgeResult | None], dict[int, RobotPlan]]:
    """For each candidate, either its result already (no states, no code, a syntax error) or its runs."""
    results: list[JudgeResult | None] = []
    plans: dict[int, RobotPlan] = {}
    for i, candidate in enumerate(batch):
        early, plan = _plan(candidate, settings)
        results.append(early)
        if plan is not None:
            plans[i] = plan
    specs = [
        RunSpec(_runnable(plan.program.text, settings), world.state, settings.timeout_s, settings.semantics)
        for plan in plans.values()
        for world in plan.states
    ]
    runs = iter(run_all(specs) if specs else [])
    ran = {i: RobotPlan(p.program, p.states, tuple(next(runs) for _ in p.states)) for i, p in plans.items()}
    return results, ran


def _runnable(text: str, settings: SimulatorSettings) -> str:
    # Upstream semantics applies its whole rewrite, lowercasing included, when the job is built.
    return (
        lowercase_double_quoted(text)
        if settings.benchmark_rewrite and settings.semantics == INJECTED
        else text
    )


def _plan(candidate: Candidate, settings: SimulatorSettings) -> tuple[JudgeResult | None, RobotPlan | None]:
    extracted = candidate.extracted
    task = candidate.task
    states = task.states[: settings.states] if isinstance(task, RobotTask) else ()
    if not states:
        start, end = extracted.code_span()
        finding = Finding(
            start, end, 1.0, "no-world-state", "the task has no robot world states to run against"
        )
        return JudgeResult(0.0, (finding,)), None
    if not extracted.has_code:
        return JudgeResult(0.0), None
    program = as_program(extracted.code)
    try:
        compile(program.text, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        # RecursionError and MemoryError: a program nested too deeply for the compiler is this
        # response's syntax failure, not the batch's.
        line = getattr(exc, "lineno", None)
        span = line_span(extracted, program, line)
        message = str(getattr(exc, "msg", None) or exc or type(exc).__name__)
        return JudgeResult(0.0, (Finding(*span, 1.0, "SyntaxError", message),)), None
    return None, RobotPlan(program, states)


def line_span(extracted: ExtractedCode, program: _Program, line: int | None) -> tuple[int, int]:
    """The response span of a program line; all the code when the line is not the candidate's own."""
    if line is None or line - program.shift < 1:
        return extracted.code_span()
    return extracted.lines_span(line - program.shift)


@register_judge("simulator", SimulatorSettings)
class SimulatorJudge:
    """Runs each program on its task's states; subclasses read another verdict from the same runs."""

    def __init__(self, settings: SimulatorSettings) -> None:
        warn_if_upstream(settings)
        self.settings = settings

    @staticmethod
    def verdict(extracted: ExtractedCode, plan: RobotPlan) -> JudgeResult:
        return _verdict(extracted, plan)

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        results, plans = plan_and_run(batch, self.settings)
        for i, plan in plans.items():
            results[i] = self.verdict(batch[i].extracted, plan)
        return [r if r is not None else JudgeResult(0.0) for r in results]


def _failure(run: RobotRun, outcome: StateOutcome) -> tuple[str, str, int | None] | None:
    """(rule, message, program line) of a failed run, or ``None`` when the state went fine."""
    if outcome.ran:
        return (
            None if outcome.acted else ("NoRobotAction", "the program ended without any robot action", None)
        )
    if run.status != "exception":
        return "Timeout", "the program was still running when its time ran out", None
    rule = outcome.category if outcome.category == ROBOT_EXECUTION_ERROR else (run.error_type or PYTHON_ERROR)
    return rule, outcome.error or "the program crashed", outcome.error_line


def _verdict(extracted: ExtractedCode, plan: RobotPlan) -> JudgeResult:
    passed = 0
    counts: dict[tuple[int, int, str], int] = {}
    messages: dict[tuple[int, int, str], str] = {}
    for index, (world, run) in enumerate(zip(plan.states, plan.runs, strict=True)):
        failure = _failure(run, judge_requirements(run, world.timeout_expected, world.checks))
        if failure is None:
            passed += 1
            continue
        rule, message, line = failure
        start, end = line_span(extracted, plan.program, line)
        key = (start, end, rule)
        counts[key] = counts.get(key, 0) + 1
        messages.setdefault(key, f"world state {index}: {message}")
    findings = tuple(
        Finding(start, end, float(count), rule, messages[(start, end, rule)])
        for (start, end, rule), count in counts.items()
    )
    return JudgeResult(passed / len(plan.states), findings)
