"""Where execrl keeps what it can recompute or re-download: ``$EXECRL_CACHE_DIR`` or ``~/.cache/execrl``."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV_VAR = "EXECRL_CACHE_DIR"


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory (not created): ``explicit``, else ``$EXECRL_CACHE_DIR``, else ``~/.cache/execrl``."""
    value = explicit if explicit is not None else os.environ.get(CACHE_ENV_VAR)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "execrl"
