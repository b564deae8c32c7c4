"""Samples to evaluate, in EvalPlus's format: one JSON object per line with ``task_id`` and either
``solution`` (a whole program) or ``completion`` (text that continues the task's prompt)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError

_NUMBERED_ID = re.compile(r"(?:mbpp/)?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Sample:
    """One candidate for one task; ``where`` says where it came from (for messages)."""

    task_id: str
    solution: str | None = None
    completion: str | None = None
    where: str = ""

    def program(self, prompt: str) -> str:
        """The program to run: the solution, or the prompt followed by the completion (as EvalPlus)."""
        return self.solution if self.solution is not None else prompt + (self.completion or "")


@dataclass(frozen=True)
class LoadedSamples:
    """Samples that could be read, in order, and one message per line or record that could not."""

    samples: tuple[Sample, ...]
    problems: tuple[str, ...] = ()


def normalize_task_id(value: Any) -> str:
    """``11``, ``"11"``, ``"mbpp/11"`` and ``"Mbpp/11"`` all become ``"Mbpp/11"``; other ids stay as given."""
    text = str(value).strip()
    match = _NUMBERED_ID.fullmatch(text)
    return f"Mbpp/{int(match.group(1))}" if match else text


def _sample(record: Any, where: str) -> Sample | str:
    if not isinstance(record, Mapping):
        return f"{where}: expected a JSON object, got {type(record).__name__}"
    if "task_id" not in record:
        return f"{where}: no task_id"
    if "solution" not in record and "completion" not in record:
        return f"{where}: needs a 'solution' (whole program) or a 'completion' (continues the prompt)"
    for key in ("solution", "completion"):
        if key in record and not isinstance(record[key], str):
            return f"{where}: '{key}' must be a string (repeat the task_id for several samples)"
    return Sample(
        task_id=normalize_task_id(record["task_id"]),
        solution=record.get("solution"),
        completion=None if "solution" in record else record["completion"],
        where=where,
    )


def coerce_samples(items: Iterable[Sample | Mapping[str, Any]]) -> LoadedSamples:
    """Samples from records or dicts; malformed ones become messages and the rest are kept."""
    samples: list[Sample] = []
    problems: list[str] = []
    for index, item in enumerate(items, start=1):
        parsed = item if isinstance(item, Sample) else _sample(item, f"sample {index}")
        (samples if isinstance(parsed, Sample) else problems).append(parsed)
    return LoadedSamples(tuple(samples), tuple(problems))


def load_samples(path: str | os.PathLike[str]) -> LoadedSamples:
    """Read a samples ``.jsonl`` file; each malformed line gets a message naming its line number."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExecrlError(f"samples file {file} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExecrlError(f"cannot read samples file {file}: {exc}") from None
    samples: list[Sample] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{file}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        parsed = _sample(record, where)
        (samples if isinstance(parsed, Sample) else problems).append(parsed)
    return LoadedSamples(tuple(samples), tuple(problems))


def known_samples(
    loaded: LoadedSamples, known_ids: Mapping[str, Any], dataset: str
) -> tuple[list[Sample], list[str]]:
    """The samples whose task is in ``known_ids``, and the problems so far plus one per unknown task id."""
    problems = list(loaded.problems)
    kept = []
    for sample in loaded.samples:
        if sample.task_id in known_ids:
            kept.append(sample)
        else:
            where = f"{sample.where}: " if sample.where else ""
            problems.append(f"{where}unknown {dataset} task id {sample.task_id!r}; the sample was skipped")
    return kept, problems
