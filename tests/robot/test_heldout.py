"""Held-out robot metrics (what `execrl train` and `execrl sweep` report for robot tasks): pass rate,
execution-failure share and completion rate, through the sandbox."""

from __future__ import annotations

import pytest

from execrl.robot.heldout import evaluate_programs
from execrl.tasks.robot_gen import RobotTask, WorldState, generate_robot_tasks

IDLE = 'def task_program():\n    say("done")\n'
CRASH = 'def task_program():\n    say("on my way")\n    go_to("the moon")\n'


@pytest.fixture(scope="module")
def tasks() -> list[RobotTask]:
    return generate_robot_tasks(8, seed=41)


def test_each_kind_of_program_lands_in_its_metric(tasks, sandbox):
    references = evaluate_programs([t.canonical_solution for t in tasks], tasks, sandbox=sandbox)
    assert (references.pass_rate, references.execution_failure_share, references.completion_rate) == (
        1.0,
        0.0,
        1.0,
    )
    assert references.state_completion_rate == 1.0 and references.tasks == 8
    idle = evaluate_programs([IDLE] * len(tasks), tasks, sandbox=sandbox)
    assert (idle.pass_rate, idle.execution_failure_share, idle.completion_rate) == (1.0, 0.0, 0.0)
    crash = evaluate_programs([CRASH] * len(tasks), tasks, sandbox=sandbox)
    assert (crash.pass_rate, crash.execution_failure_share, crash.completion_rate) == (0.0, 1.0, 0.0)


def test_mixed_programs_give_shares(tasks, sandbox):
    mixed = evaluate_programs(
        [tasks[0].canonical_solution, IDLE, CRASH, tasks[3].canonical_solution], tasks[:4], sandbox=sandbox
    )
    assert mixed.pass_rate == 0.75 and mixed.passed == 3
    assert mixed.execution_failure_share == 0.25
    assert mixed.completion_rate == 0.5
    assert mixed.metrics() == {
        "eval/robot_pass_rate": 0.75,
        "eval/robot_execution_failure_share": 0.25,
        "eval/robot_completion_rate": 0.5,
        "eval/robot_state_completion_rate": 0.5,
    }


def test_a_program_that_fails_one_state_does_not_complete(sandbox):
    task = next(
        t for t in generate_robot_tasks(16, seed=41, families=["conditional"]) if t.variant == "if_object"
    )
    always_missing = task.canonical_solution.replace("    if is_in_room(", "    if 0 * is_in_room(")
    result = evaluate_programs([always_missing], [task], sandbox=sandbox)
    assert result.pass_rate == 1.0 and result.completion_rate == 0.0 and result.state_completion_rate == 0.5


def test_bad_input(tasks):
    with pytest.raises(ValueError, match="one program per task"):
        evaluate_programs([IDLE], tasks[:2])
    empty = RobotTask("t", "p", "task_program", "", states=())
    result = evaluate_programs([IDLE], [empty])
    assert (result.pass_rate, result.completion_rate) == (0.0, 0.0)
    unchecked = RobotTask("t", "p", "task_program", "", states=(WorldState(tasks[0].states[0].state),))
    assert evaluate_programs([tasks[0].canonical_solution], [unchecked]).completion_rate == 0.0
