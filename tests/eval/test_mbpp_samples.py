from __future__ import annotations

from pathlib import Path

import pytest

from execrl.errors import ExecrlError
from execrl.eval.samples import Sample, coerce_samples, load_samples, normalize_task_id


def test_load_samples_keeps_good_lines_and_names_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"task_id": "Mbpp/2", "solution": "def f(): pass"}\n'
        "\n"
        "not json\n"
        '{"task_id": "Mbpp/3"}\n'
        '{"solution": "x"}\n'
        '{"task_id": 11, "completion": "def g(): pass"}\n'
        '{"task_id": "Mbpp/4", "solution": ["a", "b"]}\n'
        "[1, 2]\n"
    )
    loaded = load_samples(path)
    assert [s.task_id for s in loaded.samples] == ["Mbpp/2", "Mbpp/11"]
    assert loaded.samples[1].completion == "def g(): pass" and loaded.samples[1].solution is None
    lines = [p.split(":")[1] for p in loaded.problems]
    assert lines == ["3", "4", "5", "7", "8"]
    assert "not valid JSON" in loaded.problems[0]
    assert "needs a 'solution'" in loaded.problems[1]
    assert "no task_id" in loaded.problems[2]
    assert "must be a string" in loaded.problems[3]


def test_missing_samples_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExecrlError, match="does not exist"):
        load_samples(tmp_path / "nope.jsonl")


def test_completion_continues_the_prompt_and_solution_stands_alone() -> None:
    assert Sample("Mbpp/2", completion="    return 1\n").program("def f():\n") == "def f():\n    return 1\n"
    assert Sample("Mbpp/2", solution="x = 1\n").program("ignored") == "x = 1\n"


def test_task_ids_are_normalised() -> None:
    assert normalize_task_id(7) == "Mbpp/7"
    assert normalize_task_id("mbpp/07") == "Mbpp/7"
    assert normalize_task_id("HumanEval/1") == "HumanEval/1"
    loaded = coerce_samples([{"task_id": "7", "solution": "a"}, "junk"])
    assert [s.task_id for s in loaded.samples] == ["Mbpp/7"]
    assert loaded.problems == ("sample 2: expected a JSON object, got str",)
