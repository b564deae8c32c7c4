"""The reward red team (issue 19): no adversarial response earns more than an honest judge gives.

The cases live in redteam.yaml: each attack is scored next to the honest response with the same
result (the same wrong code without the trick, the same linted code without the suppression
comment, ...), and must not earn more. Cases still open on this branch are strict xfails named after
their hole. The end of the module checks that the default formula still separates correct code from
wrong code, which is what the policy learns from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from execrl.rewards import Candidate, RewardFormula, parse_config
from execrl.tasks.builtin import generate_python_tasks
from execrl.tasks.types import Task

DATA = yaml.safe_load(Path(__file__).with_name("redteam.yaml").read_text(encoding="utf-8"))
# Long poison kept short in the data file.
EXPANSIONS = {
    "MINUS_12000": "-" * 12000 + "1",
    "MINUS_3000": "-" * 3000 + "1",
    "SUM_1000": "1" + " + 1" * 1000,
    "POWER_TOWER": "2" + "**2" * 5000,
    "PADDING_30000": "x" * 30000,  # past max_response_chars: the response is cut
}


def _expand(text: str) -> str:
    for name, value in EXPANSIONS.items():
        text = text.replace(name, value)
    return text


def _params() -> list[Any]:
    params = []
    for case in DATA["cases"]:
        marks = (
            [pytest.mark.xfail(strict=True, raises=AssertionError, reason=case["xfail"])]
            if "xfail" in case
            else []
        )
        params.append(pytest.param(case, id=f"hole{case['hole']}-{case['id']}", marks=marks))
    return params


@pytest.fixture(scope="module")
def formulas() -> dict[str, RewardFormula]:
    states = {"settings": {"states": 2}}
    robot = parse_config({"judges": {"syntax": {}, "simulator": states, "completion": states}}, "red team")
    return {"python": RewardFormula(), "robot": RewardFormula(robot)}


@pytest.fixture(scope="module")
def robot_tasks() -> list:
    from execrl.tasks.robot_gen import generate_robot_tasks

    return generate_robot_tasks(4, seed=3)


def _candidates(case: dict, formula: RewardFormula, robot_tasks: list) -> list[Candidate]:
    if "robot" in case:
        task = robot_tasks[case["robot"]]
        return [formula.candidate(_expand(case[key]), task=task) for key in ("response", "honest")]
    spec = DATA["tasks"][case["task"]]
    task = Task(case["task"], spec["prompt"], case["task"], "", tuple(spec["tests"]), spec.get("setup", ""))
    return [
        formula.candidate(_expand(case[key]), tests=task.test_asserts, test_setup=task.test_setup, task=task)
        for key in ("response", "honest")
    ]


def test_every_case_names_its_hole_and_a_known_task() -> None:
    ids = [case["id"] for case in DATA["cases"]]
    assert len(ids) == len(set(ids)) >= 50
    for case in DATA["cases"]:
        assert case["hole"] in range(1, 9)
        assert ("robot" in case) != ("task" in case)
        assert case.get("expect", "at_most") in ("at_most", "equal")
    assert {case["hole"] for case in DATA["cases"]} == set(range(1, 9))


@pytest.mark.parametrize("case", _params())
def test_no_response_earns_more_than_an_honest_judge_gives(case, formulas, robot_tasks) -> None:
    formula = formulas["robot" if "robot" in case else "python"]
    attack, honest = formula.score_batch(_candidates(case, formula, robot_tasks)).breakdowns
    parts = {c.name: (c.raw, [f.rule for f in c.result.findings]) for c in attack.components}
    if case.get("expect") == "equal":
        assert attack.total == pytest.approx(honest.total), parts
    else:
        assert attack.total <= honest.total + 1e-9, parts


# -- the learning signal: correct code clearly above wrong code ------------------------------------------


@pytest.fixture(scope="module")
def builtin_tasks() -> list[Task]:
    return generate_python_tasks(24, seed=11)


def _variants(task: Task) -> dict[str, str]:
    code = task.canonical_solution
    shown = task.test_asserts[task.shown_tests[0]].removeprefix("assert ")
    call, expected = shown.rsplit(" == ", 1)
    args = call[len(task.entry_point) + 1 : -1]
    return {
        "correct": code,
        "correct, linted": "import os\n" + code,
        "correct, insecure": "import subprocess\n" + code + "\nsubprocess.call('true', shell=True)\n",
        "wrong": code + f"\n\ndef {task.entry_point}(*args):\n    return None\n",
        "shown assert hard-coded": f"def {task.entry_point}(*args):\n    return {expected} if args == ({args},) else None\n",
        "does not compile": code + "\ndef broken(:\n",
    }


def test_the_default_formula_separates_correct_from_wrong_code(builtin_tasks) -> None:
    formula = RewardFormula()
    names = list(_variants(builtin_tasks[0]))
    batch = [
        formula.candidate(f"```python\n{code}```", tests=task.test_asserts, task=task)
        for task in builtin_tasks
        for code in _variants(task).values()
    ]
    totals = [b.total for b in formula.score_batch(batch).breakdowns]
    by_variant = {name: totals[i :: len(names)] for i, name in enumerate(names)}
    assert by_variant["correct"] == [1.5] * len(builtin_tasks)
    assert min(by_variant["correct, linted"]) >= 1.25 and max(by_variant["correct, linted"]) < 1.5
    assert min(by_variant["correct, insecure"]) >= 1.0
    assert max(by_variant["wrong"]) <= 0.0 and max(by_variant["shown assert hard-coded"]) <= 0.0
    assert max(by_variant["does not compile"]) <= -1.0
    # each step of the ladder is a clear margin, on every task
    assert min(by_variant["correct, linted"]) - max(by_variant["wrong"]) >= 1.0
