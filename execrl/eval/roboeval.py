"""RoboEval: run robot programs against every world state of their task and score them.

A program passes only if it passes every state of its task: no crash, no timeout unless the state
expects one, and the state's check accepts the trace. pass@1 is computed per (task, prompt) and
averaged over the pairs evaluated. Errors are classified as in Robo-Instruct (shared/specs/roboeval.md
sections 8 and 10): per (program, state), and per program by the first crash or unexpected timeout
across its states, else CompletionError if a check failed, else Success.

Programs run under the benchmark's own semantics by default (``semantics="upstream"``: its textual
rewrite and its reading of a timed-out run's trace), so that pass@1 and the error breakdown compare
with published tables; ``semantics="injected"`` runs them with the API injected instead. Every report
says which was used.

RoboEval's licence forbids training on it: evaluation only.
"""

from __future__ import annotations

import ast
import csv
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from execrl.data_dir import data_file
from execrl.errors import ExecrlError
from execrl.eval.passk import pass_at_k
from execrl.robot.batch import RunSpec, run_all
from execrl.robot.outcome import (
    CATEGORIES,
    COMPLETION_ERROR,
    CRASHES,
    PYTHON_ERROR,
    ROBOT_EXECUTION_ERROR,
    SUCCESS,
    judge_check,
)
from execrl.robot.rewrite import (
    DESCRIPTIONS,
    INJECTED,
    UPSTREAM,
    Semantics,
    check_semantics,
    lowercase_double_quoted,
)
from execrl.robot.runner import SIMULATION_TIMEOUT_S, RobotRun
from execrl.robot.tasks import RoboEvalTask, TaskState, load_tasks
from execrl.sandbox import Sandbox

__all__ = [
    "CATEGORIES",
    "COMPLETION_ERROR",
    "INJECTED",
    "PYTHON_ERROR",
    "ROBOT_EXECUTION_ERROR",
    "SUCCESS",
    "UPSTREAM",
    "RoboEvalReport",
    "RoboEvalSample",
    "evaluate_reference_programs",
    "evaluate_roboeval",
    "load_reference_programs",
]

REFERENCE_FILE = "roboeval/robo-instruct_roboeval_data.csv"
PROGRAM_HEADER = "def task_program():"


@dataclass(frozen=True)
class RoboEvalSample:
    """One program for one prompt of one task; ``program`` starts with ``def task_program():``."""

    id: str
    task: str
    prompt_index: int
    program: str


@dataclass(frozen=True)
class InputError:
    """A sample that could not be evaluated: where it was (1-based) and why."""

    line: int
    id: str | None
    message: str


@dataclass(frozen=True)
class StateResult:
    """One program run against one state of its task."""

    id: str
    task: str
    prompt_index: int
    state_index: int
    passed: bool
    status: str  # success / timeout / exception
    category: str
    error: str | None = None
    error_line: int | None = None  # 1-based, in the program
    timeout_expected: bool = False
    trace_length: int = 0


@dataclass(frozen=True)
class ProgramResult:
    id: str
    task: str
    prompt_index: int
    passed_all_states: bool
    category: str
    states_passed: int
    states: int


@dataclass(frozen=True)
class RoboEvalSummary:
    """Scores and error shares. Keys of the ``by_prompt`` dict are ``<Task>_<promptIndex>``.
    ``semantics``: how the programs were run (``upstream`` or ``injected``), with its description."""

    semantics: str
    semantics_description: str
    programs: int
    invalid_inputs: int
    pass_at_1: float | None  # mean over the (task, prompt) pairs evaluated
    pass_at_1_by_prompt: dict[str, float]
    pass_at_1_by_task: dict[str, float]
    passed_by_task: dict[str, int]
    programs_by_task: dict[str, int]
    categories: dict[str, int]  # per program
    state_categories: dict[str, int]  # per (program, state)
    execution_failure_share: float | None  # share of programs whose category is a robot or Python error


@dataclass(frozen=True)
class RoboEvalReport:
    results: tuple[StateResult, ...]
    programs: tuple[ProgramResult, ...]
    summary: RoboEvalSummary
    input_errors: tuple[InputError, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Plain data for a JSON file: ``results``, ``programs``, ``summary`` and ``input_errors``."""
        return {
            "results": [asdict(result) for result in self.results],
            "programs": [asdict(program) for program in self.programs],
            "summary": asdict(self.summary),
            "input_errors": [asdict(error) for error in self.input_errors],
        }


def _defines_task_program(program: str) -> bool | None:
    """Whether the program defines ``task_program`` at top level; None when it does not parse
    (a syntax error is the program's failure, reported by the run)."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return None
    return any(isinstance(node, ast.FunctionDef) and node.name == "task_program" for node in tree.body)


def _sample(record: Any, tasks: Mapping[str, RoboEvalTask]) -> RoboEvalSample | str:
    if not isinstance(record, Mapping):
        return f"expected a JSON object with id, task, prompt_index and program, got {type(record).__name__}"
    missing = [key for key in ("id", "task", "prompt_index", "program") if key not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    task, index, program = record["task"], record["prompt_index"], record["program"]
    if task not in tasks:
        return f"unknown task {task!r}; RoboEval's tasks are {', '.join(tasks)}"
    prompts = len(tasks[task].prompts)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < prompts:
        return f"prompt_index must be an integer from 0 to {prompts - 1}, got {index!r}"
    if not isinstance(program, str):
        return f"program must be a string, got {type(program).__name__}"
    if _defines_task_program(program) is False:
        return f"program does not define task_program(); it must start with {PROGRAM_HEADER!r}"
    return RoboEvalSample(id=str(record["id"]), task=task, prompt_index=index, program=program)


def read_samples(
    items: Iterable[str | Mapping[str, Any] | RoboEvalSample], tasks: Mapping[str, RoboEvalTask]
) -> tuple[list[RoboEvalSample], list[InputError]]:
    """Samples from JSON lines, dicts or records; each bad one becomes an :class:`InputError` (its
    1-based position in ``items``) and is skipped."""
    samples: list[RoboEvalSample] = []
    errors: list[InputError] = []
    seen: set[str] = set()
    for line, item in enumerate(items, start=1):
        record: Any = asdict(item) if isinstance(item, RoboEvalSample) else item
        if isinstance(item, str):
            if not item.strip():
                continue
            try:
                record = json.loads(item)
            except json.JSONDecodeError as exc:
                errors.append(InputError(line, None, f"not valid JSON ({exc.msg} at column {exc.colno})"))
                continue
        parsed = _sample(record, tasks)
        sample_id = str(record["id"]) if isinstance(record, Mapping) and "id" in record else None
        if isinstance(parsed, RoboEvalSample) and parsed.id in seen:
            parsed = f"duplicate id {parsed.id!r}"
        if isinstance(parsed, str):
            errors.append(InputError(line, sample_id, parsed))
            continue
        seen.add(parsed.id)
        samples.append(parsed)
    return samples, errors


def _judge(sample: RoboEvalSample, state: TaskState, run: RobotRun) -> StateResult:
    outcome = judge_check(run, state.timeout_expected, state.check)
    return StateResult(
        id=sample.id,
        task=sample.task,
        prompt_index=sample.prompt_index,
        state_index=state.index,
        passed=outcome.completed,
        status=run.status,
        category=outcome.category,
        error=outcome.error,
        error_line=outcome.error_line,
        timeout_expected=state.timeout_expected,
        trace_length=len(run.trace),
    )


def _program(sample: RoboEvalSample, results: list[StateResult]) -> ProgramResult:
    categories = [result.category for result in results]
    crash = next((category for category in categories if category in CRASHES), None)
    category = crash or (SUCCESS if all(result.passed for result in results) else COMPLETION_ERROR)
    passed = sum(result.passed for result in results)
    return ProgramResult(
        id=sample.id,
        task=sample.task,
        prompt_index=sample.prompt_index,
        passed_all_states=passed == len(results),
        category=category,
        states_passed=passed,
        states=len(results),
    )


def _summary(
    programs: list[ProgramResult], results: list[StateResult], invalid: int, semantics: Semantics
) -> RoboEvalSummary:
    by_prompt: dict[str, list[bool]] = defaultdict(list)
    by_task: dict[str, list[bool]] = defaultdict(list)
    for program in programs:
        by_prompt[f"{program.task}_{program.prompt_index}"].append(program.passed_all_states)
        by_task[program.task].append(program.passed_all_states)
    pass_by_prompt = {key: pass_at_k(len(runs), sum(runs), 1) for key, runs in sorted(by_prompt.items())}
    prompts_of_task: dict[str, list[float]] = defaultdict(list)
    for key, value in pass_by_prompt.items():
        prompts_of_task[key.rsplit("_", 1)[0]].append(value)
    categories = Counter(program.category for program in programs)
    crashes = sum(categories[category] for category in CRASHES)
    return RoboEvalSummary(
        semantics=semantics,
        semantics_description=DESCRIPTIONS[semantics],
        programs=len(programs),
        invalid_inputs=invalid,
        pass_at_1=sum(pass_by_prompt.values()) / len(pass_by_prompt) if pass_by_prompt else None,
        pass_at_1_by_prompt=pass_by_prompt,
        pass_at_1_by_task={
            task: sum(values) / len(values) for task, values in sorted(prompts_of_task.items())
        },
        passed_by_task={task: sum(runs) for task, runs in sorted(by_task.items())},
        programs_by_task={task: len(runs) for task, runs in sorted(by_task.items())},
        categories={category: categories[category] for category in CATEGORIES},
        state_categories={category: sum(r.category == category for r in results) for category in CATEGORIES},
        execution_failure_share=crashes / len(programs) if programs else None,
    )


def evaluate_roboeval(
    samples: Iterable[str | Mapping[str, Any] | RoboEvalSample],
    data_dir: str | os.PathLike[str] | None = None,
    sandbox: Sandbox | None = None,
    *,
    timeout_s: float = SIMULATION_TIMEOUT_S,
    semantics: Semantics = UPSTREAM,
) -> RoboEvalReport:
    """Evaluate programs given as JSON lines, dicts ``{"id", "task", "prompt_index", "program"}`` or
    :class:`RoboEvalSample` records. Bad inputs are reported in ``input_errors`` and the rest is evaluated.

    ``upstream`` (default): each program gets the benchmark's whole textual rewrite and runs as its
    evaluator runs it. ``injected``: double-quoted strings are lowercased as upstream, and the API is
    injected into the program's namespace instead of substituted into its text.
    """
    try:
        semantics = check_semantics(semantics)
    except ValueError as exc:
        raise ExecrlError(str(exc)) from None
    tasks = load_tasks(data_dir)
    valid, errors = read_samples(samples, tasks)
    pairs = [(sample, state) for sample in valid for state in tasks[sample.task].states]
    specs = [
        RunSpec(
            sample.program if semantics == UPSTREAM else lowercase_double_quoted(sample.program),
            state.state,
            timeout_s,
            semantics,
        )
        for sample, state in pairs
    ]
    runs = run_all(specs, sandbox) if specs else []
    results = [_judge(sample, state, run) for (sample, state), run in zip(pairs, runs, strict=True)]
    by_id: dict[str, list[StateResult]] = defaultdict(list)
    for result in results:
        by_id[result.id].append(result)
    programs = [_program(sample, by_id[sample.id]) for sample in valid]
    return RoboEvalReport(
        results=tuple(results),
        programs=tuple(programs),
        summary=_summary(programs, results, len(errors), semantics),
        input_errors=tuple(errors),
    )


def load_reference_programs(data_dir: str | os.PathLike[str] | None = None) -> list[RoboEvalSample]:
    """The 80 reference programs that Robo-Instruct ships with RoboEval's prompts (one per prompt)."""
    path = data_file(REFERENCE_FILE, data_dir)
    samples = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name, text = row["taskname"], row["prompt_program"]
            task, _, index = name.rpartition("_")
            start = text.find(PROGRAM_HEADER)
            if not task or not index.isdigit() or start < 0:
                raise ExecrlError(
                    f"{path}: row {name!r} is not '<Task>_<index>' with a task_program() program"
                )
            samples.append(RoboEvalSample(id=name, task=task, prompt_index=int(index), program=text[start:]))
    return samples


def evaluate_reference_programs(
    data_dir: str | os.PathLike[str] | None = None,
    sandbox: Sandbox | None = None,
    semantics: Semantics = UPSTREAM,
) -> RoboEvalReport:
    """Evaluate the reference programs; ``summary.passed_by_task`` says how many pass per task."""
    return evaluate_roboeval(load_reference_programs(data_dir), data_dir, sandbox, semantics=semantics)
