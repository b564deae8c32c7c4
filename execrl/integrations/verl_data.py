"""execrl tasks as rows of the parquet files verl's RL dataset (``RLHFDataset``) reads.

One row per task, in verl's layout: ``data_source``, ``prompt`` (chat messages), ``ability``,
``reward_model`` (``style``, ``ground_truth``) and ``extra_info`` (``split``, ``index``, ``task_id``).
``ground_truth`` is the JSON text of a ``TaskCheck``: what execrl's judges check a response against
(the task id, entry point, test asserts and their setup). It is JSON text, not a nested column,
so it survives parquet and pandas unchanged (nested lists come back as numpy arrays otherwise).

Needs pyarrow (a dependency of verl), imported only when writing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError
from execrl.rl.config import TasksConfig
from execrl.tasks.types import Task

DATA_SOURCE_PREFIX = "execrl/"


@dataclass(frozen=True)
class TaskCheck:
    """The part of a task the judges need: carried in ``reward_model.ground_truth``."""

    task_id: str
    entry_point: str
    test_asserts: tuple[str, ...]
    test_setup: str = ""

    @classmethod
    def of(cls, task: Task) -> TaskCheck:
        return cls(task.task_id, task.entry_point, tuple(task.test_asserts), task.test_setup)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_ground_truth(cls, ground_truth: Any) -> TaskCheck:
        """The check written by ``verl_rows``; an ``ExecrlError`` saying how to make one otherwise."""
        try:
            record = json.loads(ground_truth) if isinstance(ground_truth, str) else dict(ground_truth)
            return cls(
                task_id=str(record["task_id"]),
                entry_point=str(record.get("entry_point", "")),
                test_asserts=tuple(str(t) for t in record["test_asserts"]),
                test_setup=str(record.get("test_setup", "")),
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise ExecrlError(
                f"reward_model.ground_truth is not an execrl task check ({type(exc).__name__}: {exc}); "
                "write the data set with execrl.integrations.verl_data.write_verl_parquet, or give a JSON "
                'object {"task_id": ..., "test_asserts": [...], "test_setup": ""}'
            ) from None

    def task(self, prompt: str = "") -> Task:
        """A task the judges accept (``execrl.rl.rewarding.judge_responses``)."""
        return Task(
            task_id=self.task_id,
            prompt=prompt,
            entry_point=self.entry_point,
            canonical_solution="",
            test_asserts=self.test_asserts,
            test_setup=self.test_setup,
        )


def verl_rows(tasks: Sequence[Task], source: str, split: str) -> list[dict[str, Any]]:
    """verl dataset rows for ``tasks``; ``data_source`` is ``execrl/<source>``."""
    return [
        {
            "data_source": DATA_SOURCE_PREFIX + source,
            "prompt": [{"role": "user", "content": task.prompt}],
            "ability": "code",
            "reward_model": {"style": "execrl", "ground_truth": TaskCheck.of(task).to_json()},
            "extra_info": {"split": split, "index": index, "task_id": task.task_id},
        }
        for index, task in enumerate(tasks)
    ]


def write_verl_parquet(path: str | os.PathLike[str], tasks: Sequence[Task], source: str, split: str) -> int:
    """Write ``tasks`` as a verl RL parquet file; returns the number of rows."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ExecrlError("writing verl data sets needs pyarrow: pip install pyarrow (verl installs it)") from exc
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(verl_rows(tasks, source, split)), path)
    return len(tasks)


def write_verl_splits(config: TasksConfig, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The train and held-out tasks of a training config's ``tasks`` section (builtin or MBPP) as
    ``train.parquet`` and ``test.parquet`` in ``out_dir``."""
    from execrl.rl.data import load_task_splits

    if config.source == "robot":
        raise ExecrlError("robot tasks need the simulator judge's world states, which verl rows do not carry")
    splits = load_task_splits(config)
    out = Path(out_dir)
    train, test = out / "train.parquet", out / "test.parquet"
    write_verl_parquet(train, splits.train, config.source, "train")
    write_verl_parquet(test, splits.eval, config.source, "test")
    return train, test
