"""Where benchmark data lives: one setting for every loader.

Order of precedence: an explicit argument (the CLI's ``--data-dir``), then ``EXECRL_DATA_DIR``.
Benchmark data is never bundled with execrl (licences), so a missing file is an error that says
how to obtain it.
"""

from __future__ import annotations

import os
from pathlib import Path

from execrl.errors import ExecrlError

ENV_VAR = "EXECRL_DATA_DIR"

# How to obtain each data file, keyed by its path relative to the data directory.
SOURCES: dict[str, str] = {
    "mbpp/mbpp.jsonl": "google-research/google-research, path mbpp/mbpp.jsonl",
    "mbpp/sanitized-mbpp.json": "google-research/google-research, path mbpp/sanitized-mbpp.json",
    "mbppplus/MbppPlus-v0.2.0.jsonl": (
        "the evalplus/mbppplus_release v0.2.0 release asset MbppPlus.jsonl.gz (gunzip it), "
        "or run `evalplus.evaluate --dataset mbpp` once and copy it from ~/.cache/evalplus"
    ),
    "roboeval/roboeval_tasks.json": "extracted from ut-amrl/codebotler benchmark/tasks (see shared/data/README.md)",
    "roboeval/roboeval_prompts.jsonl": "extracted from ut-amrl/codebotler benchmark/tasks (see shared/data/README.md)",
    "roboeval/robo-instruct_roboeval_data.csv": "ut-amrl/robo-instruct robo_instruct/generate_data/roboeval_data.csv",
}


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``explicit`` if given, else ``$EXECRL_DATA_DIR``; an error if neither is set."""
    value = explicit if explicit is not None else os.environ.get(ENV_VAR)
    if not value:
        raise ExecrlError(
            f"no data directory: pass --data-dir DIR or set {ENV_VAR}=DIR "
            "(a directory with mbpp/, mbppplus/ and roboeval/ as described in docs/data.md)"
        )
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ExecrlError(f"data directory {path} does not exist (from --data-dir or {ENV_VAR})")
    return path


def data_file(relative: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The path of one data file, checked to exist; the error names the file and where to get it."""
    path = resolve_data_dir(data_dir) / relative
    if not path.is_file():
        source = SOURCES.get(relative, "see docs/data.md")
        raise ExecrlError(f"missing data file {path}: obtain it from {source} and place it at that path")
    return path
