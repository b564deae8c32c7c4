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

# Where each data file comes from, keyed by its path relative to the data directory. `execrl data fetch`
# downloads them all (execrl.tasks.download pins the exact URLs and hashes).
SOURCES: dict[str, str] = {
    "mbpp/mbpp.jsonl": "google-research/google-research mbpp/mbpp.jsonl (LF line ends)",
    "mbpp/sanitized-mbpp.json": "google-research/google-research mbpp/sanitized-mbpp.json",
    "mbpp/splits.json": "the split ranges of google-research mbpp/README.md (written by `execrl data fetch`)",
    "mbppplus/MbppPlus-v0.2.0.jsonl": (
        "the evalplus/mbppplus_release v0.2.0 release asset MbppPlus.jsonl.gz (gunzip it), "
        "or run `evalplus.evaluate --dataset mbpp` once and copy it from ~/.cache/evalplus"
    ),
    "mbppplus/MbppPlus-v0.1.0.jsonl": "the evalplus/mbppplus_release v0.1.0 release asset MbppPlus.jsonl.gz (gunzip it)",
    "roboeval/roboeval_tasks.json": "ut-amrl/codebotler benchmark/tasks/*.py, parsed by `execrl data fetch`",
    "roboeval/roboeval_prompts.jsonl": "ut-amrl/codebotler benchmark/tasks/*.py, parsed by `execrl data fetch`",
    "roboeval/robo-instruct_roboeval_data.csv": "ut-amrl/robo-instruct robo_instruct/generate_data/roboeval_data.csv",
    "roboeval/robo-instruct_seed_instructions.csv": (
        "ut-amrl/robo-instruct robo_instruct/generate_data/seed_instructions.csv"
    ),
}


def configured_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The data directory that is asked for (it may not exist yet): ``explicit``, else ``$EXECRL_DATA_DIR``."""
    value = explicit if explicit is not None else os.environ.get(ENV_VAR)
    return Path(value).expanduser() if value else None


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``explicit`` if given, else ``$EXECRL_DATA_DIR``; an error if neither is set."""
    path = configured_data_dir(explicit)
    if path is None:
        raise ExecrlError(
            f"no data directory: pass --data-dir DIR or set {ENV_VAR}=DIR "
            f"(`execrl data fetch --data-dir DIR` downloads it; layout in docs/data.md)"
        )
    if not path.is_dir():
        raise ExecrlError(
            f"data directory {path} does not exist (from --data-dir or {ENV_VAR}); "
            f"`execrl data fetch --data-dir {path}` downloads it"
        )
    return path


def data_file(relative: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The path of one data file, checked to exist; the error names the file and where to get it."""
    root = resolve_data_dir(data_dir)
    path = root / relative
    if not path.is_file():
        source = SOURCES.get(relative, "see docs/data.md")
        raise ExecrlError(
            f"missing data file {path}: run `execrl data fetch --data-dir {root}`, "
            f"or obtain it from {source} and place it at that path"
        )
    return path
