"""Reading a YAML config file, with the errors every config loader needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from execrl.errors import ExecrlError


def read_yaml(path: str | os.PathLike[str], what: str) -> Any:
    """The parsed file (``None`` for an empty one); ``what`` names it in errors ("training config")."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExecrlError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ExecrlError(f"{what} {path} is not valid YAML: {exc}") from exc
