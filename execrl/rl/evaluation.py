"""Held-out pass rate: greedy decoding, then each task's check in the sandbox.

A task with tests passes when its response passes all of them; a robot task passes when its program
(the cleaned completion, as RoboEval takes it) gets the simulator judge's full score: it runs on every
one of the task's world states without a robot-API or Python error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from execrl.models import ActorCritic, GenerationSettings, generate
from execrl.rewards import extract_code
from execrl.rewards.base import Candidate
from execrl.rewards.judges.simulator import SimulatorJudge, SimulatorSettings
from execrl.rl.rollout import Autocast
from execrl.robot.prompting import program_from_completion
from execrl.sandbox import AssertTests, Job, Limits, default_sandbox
from execrl.tasks.robot_gen import RobotTask
from execrl.tasks.types import Task


def pass_rate(
    model: ActorCritic,
    tokenizer: Any,
    tasks: Sequence[Task],
    prompt_ids: Sequence[Sequence[int]],
    settings: GenerationSettings,
    batch_size: int,
    timeout_s: float,
    autocast: Autocast,
) -> float:
    """Fraction of ``tasks`` whose greedy response passes the task's check (see the module docstring)."""
    if not tasks:
        return float("nan")
    responses: list[str] = []
    for start in range(0, len(tasks), batch_size):
        with autocast():
            generated = generate(model.policy, tokenizer, prompt_ids[start : start + batch_size], settings, greedy=True)
        responses += [
            tokenizer.decode(generated.response(i), skip_special_tokens=True) for i in range(len(generated.lengths))
        ]
    robot = [(text, task) for text, task in zip(responses, tasks) if isinstance(task, RobotTask)]
    tested = [(text, task) for text, task in zip(responses, tasks) if not isinstance(task, RobotTask)]
    return (_robot_passed(robot) + _tests_passed(tested, timeout_s)) / len(tasks)


def _tests_passed(pairs: Sequence[tuple[str, Task]], timeout_s: float) -> int:
    jobs = [
        Job(
            code=extract_code(text).code,
            tests=AssertTests(task.test_asserts, setup=task.test_setup),
            limits=Limits(timeout_s=timeout_s),
        )
        for text, task in pairs
    ]
    return sum(r.passed for r in default_sandbox().run(jobs)) if jobs else 0


def _robot_passed(pairs: Sequence[tuple[str, RobotTask]]) -> int:
    if not pairs:
        return 0
    judge = SimulatorJudge(SimulatorSettings(states=max(1, *(len(task.states) for _, task in pairs))))
    candidates = [Candidate.from_response(program_from_completion(text), task=task) for text, task in pairs]
    return sum(result.score == 1.0 for result in judge(candidates))
