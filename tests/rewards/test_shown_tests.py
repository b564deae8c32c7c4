"""Which tests a prompt shows (issue 19, hole 7): read from the prompt's text, wherever it came from."""

from __future__ import annotations

import json

import pytest

from execrl.rewards import Candidate
from execrl.rewards.samples import BadLine, read_samples
from execrl.rl.data import _with_tests
from execrl.tasks.builtin import generate_python_tasks
from execrl.tasks.types import Task, shown_asserts

ASSERTS = ("assert f(1) == 1", "assert f(2) == 4", "assert f(10) == 100")


@pytest.mark.parametrize(
    ("prompt", "shown"),
    [
        ("Write f. Your code should pass these tests:\nassert f(1) == 1", (0,)),
        ("Write f. For example: `f(2) == 4`.", (1,)),
        ('def f(x):\n    """Square x.\n    assert f(10)  ==  100\n    """\n', (2,)),  # whitespace runs as one
        ("Write f; f(1) == 10 and f(1) == 1.5 and g.f(1) == 1 and f(1) == 1_0.", ()),  # longer expressions
        ("f(2) == 4, f(1) == 1", (0, 1)),
        ("Write a function that squares its argument.", ()),
    ],
)
def test_shown_asserts_finds_the_asserts_a_prompt_shows(prompt: str, shown: tuple[int, ...]) -> None:
    assert shown_asserts(prompt, ASSERTS) == shown


def test_builtin_tasks_show_their_last_assert() -> None:
    for task in generate_python_tasks(64, seed=2):
        assert task.shown_tests == (len(task.test_asserts) - 1,), task.prompt


def test_mbpp_prompts_show_the_first_asserts() -> None:
    tasks = [Task(f"t{i}", f"Write f{i}.", "f", "", ASSERTS) for i in range(2)]
    for count in (1, 2):
        assert [t.shown_tests for t in _with_tests(tasks, count)] == [tuple(range(count))] * 2
    assert [t.shown_tests for t in tasks] == [(), ()]


def test_a_candidate_takes_the_shown_tests_from_its_task_unless_told() -> None:
    task = Task("t", "Write f. For example: `f(2) == 4`.", "f", "", ASSERTS)
    assert Candidate.from_response("x", tests=ASSERTS, task=task).shown_tests == (1,)
    assert Candidate.from_response("x", tests=ASSERTS, task=task, shown_tests=(0,)).shown_tests == (0,)
    assert Candidate.from_response("x", tests=ASSERTS).shown_tests == ()


def test_reward_samples_read_shown_tests_from_the_prompt_or_the_line(tmp_path) -> None:
    path = tmp_path / "samples.jsonl"
    lines = [
        {"prompt": "Write f. For example: `f(2) == 4`.", "response": "x", "tests": list(ASSERTS)},
        {"prompt": "Write f.", "response": "x", "tests": list(ASSERTS), "shown_tests": [0, 2]},
        {"prompt": "Write f.", "response": "x", "tests": list(ASSERTS), "shown_tests": [3]},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    from_prompt, explicit, bad = read_samples(path)
    assert from_prompt.shown_tests == (1,) and explicit.shown_tests == (0, 2)
    assert isinstance(bad, BadLine) and "not indices of its 3 tests" in bad.problem
