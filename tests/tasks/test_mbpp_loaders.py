from __future__ import annotations

import json
from pathlib import Path

import pytest

from execrl.errors import ExecrlError
from execrl.tasks import MBPP_SPLITS, load_mbpp, load_sanitized_mbpp
from execrl.tasks.mbpp import entry_point_of


def test_mbpp_has_974_tasks_in_standard_splits(data_dir: Path) -> None:
    tasks = load_mbpp(data_dir, download=False)
    assert len(tasks) == 974
    assert [t.task_id for t in tasks[:2]] == ["Mbpp/1", "Mbpp/2"]
    sizes = {split: len(load_mbpp(data_dir, split=split, download=False)) for split in MBPP_SPLITS}
    assert sizes == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    assert all(len(t.test_asserts) == 3 for t in tasks)
    assert sum(bool(t.test_setup) for t in tasks) == 2
    assert sum(bool(t.challenge_asserts) for t in tasks) == 11
    assert all("\r\n" not in t.canonical_solution for t in tasks)
    assert all(f"def {t.entry_point}" in t.canonical_solution for t in tasks)


def test_split_constants_agree_with_the_data_directory(data_dir: Path) -> None:
    recorded = json.loads((data_dir / "mbpp" / "splits.json").read_text())
    assert {name: tuple(recorded[name]) for name in MBPP_SPLITS} == MBPP_SPLITS


def test_sanitized_mbpp_splits(data_dir: Path) -> None:
    tasks = load_sanitized_mbpp(data_dir, download=False)
    assert len(tasks) == 427
    sizes = {split: len(load_sanitized_mbpp(data_dir, split=split, download=False)) for split in MBPP_SPLITS}
    assert sizes == {"prompt": 7, "test": 257, "validation": 43, "train": 120}
    assert sum(bool(t.test_setup) for t in tasks) == 13


def test_entry_point_is_the_tested_function_the_code_defines() -> None:
    code = "def helper(x):\n    return x\n\ndef solve(a):\n    return helper(a)\n"
    assert entry_point_of(code, "assert sorted(solve([2, 1])) == [1, 2]") == "solve"


def test_unknown_split_is_a_clear_error(data_dir: Path) -> None:
    with pytest.raises(ExecrlError, match="unknown MBPP split 'dev'"):
        load_mbpp(data_dir, split="dev", download=False)


@pytest.mark.parametrize(
    ("loader", "relative"),
    [(load_mbpp, "mbpp/mbpp.jsonl"), (load_sanitized_mbpp, "mbpp/sanitized-mbpp.json")],
)
def test_missing_data_names_the_file_and_its_source(
    loader, relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXECRL_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ExecrlError) as info:
        loader(tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / relative) in message
    assert "google-research" in message
