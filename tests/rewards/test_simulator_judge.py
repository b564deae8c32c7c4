from __future__ import annotations

import pytest

from execrl.rewards import Candidate, judge_kind, judge_kinds
from execrl.rewards.judges.simulator import SimulatorSettings, as_program
from execrl.tasks.robot_gen import RobotTask, WorldState, generate_robot_tasks


@pytest.fixture(scope="module")
def tasks() -> list[RobotTask]:
    return generate_robot_tasks(48, seed=21)


@pytest.fixture(scope="module")
def judge():
    kind = judge_kind("simulator")
    return kind.build(kind.settings(states=4))


def _task(tasks, family: str, variant: str | None = None) -> RobotTask:
    return next(t for t in tasks if t.family == family and (variant is None or t.variant == variant))


def _one(judge, response: str, task) -> tuple:
    candidate = Candidate.from_response(response, task=task)
    [result] = judge([candidate])
    return result, [(f.rule, candidate.response[f.start : f.end]) for f in result.findings]


def test_registered_with_localized_credit() -> None:
    assert "simulator" in judge_kinds()
    assert judge_kind("simulator").credit == "localized"
    with pytest.raises(ValueError):
        SimulatorSettings(states=0)


def test_reference_programs_score_one(judge, tasks) -> None:
    one_per_family = {t.family: t for t in tasks}
    candidates = [Candidate.from_response(f"```python\n{t.canonical_solution}```", task=t) for t in one_per_family.values()]
    results = judge(candidates)
    assert [(r.score, r.findings) for r in results] == [(1.0, ())] * len(candidates)


def test_a_body_without_header_is_judged_as_task_program(judge, tasks) -> None:
    task = _task(tasks, "deliver")
    body = task.canonical_solution.split("\n", 1)[1]
    assert as_program(body).shift == 1
    result, findings = _one(judge, body, task)
    assert result.score == 1.0 and findings == []


def test_failing_api_call_is_located_on_its_line(judge, tasks) -> None:
    task = _task(tasks, "deliver")
    response = "Here you go:\n```python\ndef task_program():\n    say(\"on my way\")\n    go_to(\"the moon\")\n```\n"
    result, findings = _one(judge, response, task)
    assert result.score == 0.0
    assert findings == [("RobotExecutionError", 'go_to("the moon")')]
    assert result.findings[0].severity == 4.0  # all four states


def test_wrong_argument_types_and_python_errors(judge, tasks) -> None:
    task = _task(tasks, "survey")
    result, findings = _one(judge, "def task_program():\n    go_to(get_all_rooms()[0])\n    ask(1, 2, 3)\n", task)
    assert result.score == 0.0 and findings == [("RobotExecutionError", "ask(1, 2, 3)")]
    result, findings = _one(judge, "def task_program():\n    say('hi')\n    x = 1 / 0\n", task)
    assert result.score == 0.0 and findings == [("ZeroDivisionError", "x = 1 / 0")]


def test_programs_that_never_act_or_do_not_parse(judge, tasks) -> None:
    task = _task(tasks, "find")
    result, findings = _one(judge, "def task_program():\n    rooms = get_all_rooms()\n", task)
    assert result.score == 0.0 and [rule for rule, _ in findings] == ["NoRobotAction"]
    result, findings = _one(judge, "def task_program(:\n    say('x')\n", task)
    assert result.score == 0.0 and findings == [("SyntaxError", "def task_program(:")]
    result, _ = _one(judge, "Sorry, I cannot help with that.", task)
    assert result.score == 0.0


def test_partial_credit_when_only_some_states_work(judge, tasks) -> None:
    task = _task(generate_robot_tasks(20, seed=21, families=["conditional"]), "conditional", "if_object")
    room = task.canonical_solution.split("go_to(")[1].split(")")[0]
    obj = task.canonical_solution.split("pick(")[1].split(")")[0]
    # Picks without looking: fine where the object is, a RobotPickError where it is not.
    response = f"def task_program():\n    go_to({room})\n    pick({obj})\n"
    result, findings = _one(judge, response, task)
    assert 0.0 < result.score < 1.0
    assert findings == [("RobotExecutionError", f"pick({obj})")]


def test_waiting_forever_is_right_only_where_nobody_comes(judge, tasks) -> None:
    task = _task(tasks, "wait")
    assert any(w.timeout_expected for w in task.states)
    result, _ = _one(judge, task.canonical_solution, task)
    assert result.score == 1.0
    spin = "def task_program():\n    while True:\n        pass\n"
    result, findings = _one(judge, spin, task)
    assert result.score == 0.0 and {rule for rule, _ in findings} == {"Timeout", "NoRobotAction"}


def test_tasks_without_world_states_get_a_defined_result(judge) -> None:
    results = judge(
        [
            Candidate.from_response("def task_program():\n    say('hi')\n"),
            Candidate.from_response("def task_program():\n    say('hi')\n", task=RobotTask("t", "p", "task_program", "")),
        ]
    )
    assert [r.score for r in results] == [0.0, 0.0]
    assert all(r.findings[0].rule == "no-world-state" for r in results)


def test_unsatisfiable_world_gives_robot_errors_not_a_crash(judge) -> None:
    empty = {"locations": ["start_loc"], "objects": {}, "agents": {}, "robot_location": "start_loc"}
    task = RobotTask("t", "Bring the mug from the kitchen.", "task_program", "", states=(WorldState(empty),))
    result, findings = _one(judge, 'def task_program():\n    go_to("kitchen")\n    pick("mug")\n', task)
    assert result.score == 0.0 and findings == [("RobotExecutionError", 'go_to("kitchen")')]


def test_batch_keeps_order(judge, tasks) -> None:
    good = [Candidate.from_response(t.canonical_solution, task=t) for t in tasks[:6]]
    bad = Candidate.from_response("def task_program():\n    go_to('nowhere at all')\n", task=tasks[0])
    results = judge([good[0], bad, *good[1:]])
    assert [r.score for r in results] == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
