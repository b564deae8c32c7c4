"""Loaders for the original MBPP (``mbpp/mbpp.jsonl``) and sanitized MBPP (``mbpp/sanitized-mbpp.json``)."""

from __future__ import annotations

import ast
import builtins
import json
import os
import warnings

from execrl.errors import ExecrlError
from execrl.tasks.locate import locate_data_file
from execrl.tasks.types import Task

# Inclusive task-id ranges of the standard splits (google-research mbpp/README.md). They are constants
# rather than read from mbpp/splits.json so that a Hub download, which has no such file, splits the same;
# a test checks that they agree with the data directory's splits.json.
MBPP_SPLITS: dict[str, tuple[int, int]] = {
    "prompt": (1, 10),
    "test": (11, 510),
    "validation": (511, 600),
    "train": (601, 974),
}


def split_of(number: int) -> str | None:
    """The standard split that MBPP task ``number`` belongs to."""
    return next((name for name, (lo, hi) in MBPP_SPLITS.items() if lo <= number <= hi), None)


def mbpp_task_id(number: int) -> str:
    """The task id used across execrl for MBPP task ``number`` (EvalPlus's spelling: ``Mbpp/<n>``)."""
    return f"Mbpp/{number}"


def _defined_functions(code: str) -> set[str]:
    try:
        with warnings.catch_warnings():  # old MBPP code has invalid escape sequences
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def entry_point_of(code: str, first_assert: str) -> str:
    """The function the tests call: the first function called in the first assert that the code defines,
    else the first called name that is not a builtin."""
    defined = _defined_functions(code)
    calls = [
        node.func.id
        for node in ast.walk(ast.parse(first_assert))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    for name in calls:
        if name in defined:
            return name
    return next((name for name in calls if not hasattr(builtins, name)), calls[0] if calls else "")


def _check_split(split: str | None) -> None:
    if split is not None and split not in MBPP_SPLITS:
        raise ExecrlError(f"unknown MBPP split {split!r}: choose one of {', '.join(MBPP_SPLITS)}")


def _make_task(
    number: int, prompt: str, code: str, tests: list[str], setup: str, challenge: list[str]
) -> Task:
    code = code.replace("\r\n", "\n")
    return Task(
        task_id=mbpp_task_id(number),
        prompt=prompt,
        entry_point=entry_point_of(code, tests[0]),
        canonical_solution=code,
        test_asserts=tuple(tests),
        test_setup=setup.replace("\r\n", "\n"),
        challenge_asserts=tuple(challenge),
        split=split_of(number),
    )


def load_mbpp(
    data_dir: str | os.PathLike[str] | None = None, split: str | None = None, download: bool = True
) -> list[Task]:
    """The 974 MBPP tasks (or one standard split's), in task-id order; ``prompt`` is the problem text."""
    _check_split(split)
    path = locate_data_file("mbpp/mbpp.jsonl", data_dir, download)
    tasks = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            r = json.loads(line)
            tasks.append(
                _make_task(
                    int(r["task_id"]),
                    r["text"],
                    r["code"],
                    r["test_list"],
                    r.get("test_setup_code", ""),
                    r.get("challenge_test_list", []),
                )
            )
    tasks.sort(key=lambda t: int(t.task_id.split("/")[1]))
    return [t for t in tasks if split is None or t.split == split]


def load_sanitized_mbpp(
    data_dir: str | os.PathLike[str] | None = None, split: str | None = None, download: bool = True
) -> list[Task]:
    """The 427 hand-checked tasks of sanitized MBPP (or one split's); ``test_imports`` become the setup."""
    _check_split(split)
    path = locate_data_file("mbpp/sanitized-mbpp.json", data_dir, download)
    records = json.loads(path.read_text(encoding="utf-8"))
    tasks = [
        _make_task(
            int(r["task_id"]), r["prompt"], r["code"], r["test_list"], "\n".join(r["test_imports"]), []
        )
        for r in records
    ]
    tasks.sort(key=lambda t: int(t.task_id.split("/")[1]))
    return [t for t in tasks if split is None or t.split == split]
