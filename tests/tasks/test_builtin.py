from __future__ import annotations

import json
from collections import defaultdict

import pytest

from execrl.cli import main
from execrl.errors import ExecrlError
from execrl.sandbox import AssertTests, Job, default_sandbox
from execrl.tasks.builtin import FAMILIES, LEVELS, generate_python_tasks, template_keys
from execrl.tasks.task_file import read_tasks, write_tasks


def _template(task_id: str) -> str:
    return task_id.split("/")[2]


@pytest.fixture(scope="module")
def tasks():
    return generate_python_tasks(600, seed=7)


def test_same_seed_same_tasks_other_seed_other_tasks() -> None:
    first = generate_python_tasks(40, seed=3)
    again = generate_python_tasks(40, seed=3)
    other = generate_python_tasks(40, seed=4)
    assert [(t.task_id, t.prompt, t.canonical_solution, t.test_asserts) for t in first] == [
        (t.task_id, t.prompt, t.canonical_solution, t.test_asserts) for t in again
    ]
    assert [t.prompt for t in first] != [t.prompt for t in other]


def test_every_family_level_and_template_is_covered(tasks) -> None:
    seen = {_template(t.task_id) for t in tasks}
    assert seen == {key for key, _, _ in template_keys()}
    assert {t.task_id.split("/")[1] for t in tasks} == set(FAMILIES)
    levels_by_family = defaultdict(set)
    for key, family, level in template_keys():
        levels_by_family[family].add(level)
    assert all(levels == set(LEVELS) for levels in levels_by_family.values())


def test_prompts_are_distinct_and_varied(tasks) -> None:
    assert len({t.prompt for t in tasks}) == len(tasks)
    assert len({t.entry_point for t in tasks}) >= 40
    assert len({t.prompt.split("`")[0] for t in tasks}) >= 5  # several phrasings
    for task in tasks[:50]:
        assert f"`{task.entry_point}(" in task.prompt
        assert len(task.test_asserts) >= 3
        assert all(s.startswith(f"assert {task.entry_point}(") for s in task.test_asserts)


def test_levels_restrict_templates() -> None:
    easy = generate_python_tasks(60, seed=0, levels=[1])
    keys_level_1 = {key for key, _, level in template_keys([1])}
    assert {_template(t.task_id) for t in easy} <= keys_level_1


def test_heldout_instances_never_appear_in_training() -> None:
    train = generate_python_tasks(1500, seed=11)
    heldout = generate_python_tasks(150, seed=11, split="heldout")
    assert {t.split for t in train} == {"train"} and {t.split for t in heldout} == {"heldout"}
    seen = {(t.canonical_solution, t.test_asserts) for t in train}
    assert not any((t.canonical_solution, t.test_asserts) in seen for t in heldout)


def test_canonical_solutions_pass_and_wrong_ones_fail_in_the_sandbox(tasks) -> None:
    one_per_template = {}
    for task in tasks:
        one_per_template.setdefault(_template(task.task_id), task)
    chosen = list(one_per_template.values()) + tasks[:40]
    jobs = [Job(t.canonical_solution, AssertTests(statements=t.test_asserts)) for t in chosen]
    wrong = [
        Job(f"def {t.entry_point}(*args):\n    return None\n", AssertTests(statements=t.test_asserts))
        for t in one_per_template.values()
    ]
    results = default_sandbox().run(jobs + wrong)
    good, bad = results[: len(jobs)], results[len(jobs) :]
    failures = [(t.task_id, r.status, r.tests) for t, r in zip(chosen, good) if not r.passed]
    assert not failures
    assert not any(r.passed for r in bad)


def test_bad_arguments_are_user_errors() -> None:
    with pytest.raises(ExecrlError, match="split"):
        generate_python_tasks(5, split="test")
    with pytest.raises(ExecrlError, match="levels"):
        generate_python_tasks(5, levels=[4])


def test_task_file_round_trip(tmp_path, tasks) -> None:
    path = tmp_path / "py.jsonl"
    assert write_tasks(path, tasks[:20]) == 20
    back = read_tasks(path)
    assert [(t.task_id, t.test_asserts, t.split) for t in back] == [(t.task_id, t.test_asserts, t.split) for t in tasks[:20]]
    path.write_text('{"kind": "python", "task_id": 1}\n')
    with pytest.raises(ExecrlError, match=":1:"):
        read_tasks(path)


def test_cli_writes_python_tasks(tmp_path, capsys) -> None:
    out = tmp_path / "py.jsonl"
    assert main(["tasks", "python", "--n", "12", "--seed", "2", "--levels", "2,3", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 12 and all(row["kind"] == "python" for row in rows)
    assert "wrote 12" in capsys.readouterr().out
    assert main(["tasks", "python", "--n", "3", "--levels", "x", "--out", str(out)]) == 2
