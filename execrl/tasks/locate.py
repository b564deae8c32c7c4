"""Finding a benchmark file: the data directory first, then the download cache, then a download."""

from __future__ import annotations

import os
from pathlib import Path

from execrl.cache import cache_dir
from execrl.data_dir import data_file
from execrl.errors import ExecrlError


def locate_data_file(
    relative: str, data_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> Path:
    """The path of ``relative``; if the data directory lacks it, a cached or fresh download.

    Raises ExecrlError naming the file, where to get it and why the download did not work.
    """
    try:
        return data_file(relative, data_dir)
    except ExecrlError as missing:
        cached = cache_dir() / "data" / relative
        if cached.is_file():
            return cached
        if not download:
            raise
        # Imported here: downloading is the rare path, and the download module needs the loaders' constants.
        from execrl.tasks.download import fetch_into_cache

        reason = fetch_into_cache(relative, cache_dir() / "data")
        if reason is None and cached.is_file():
            return cached
        raise ExecrlError(f"{missing}; automatic download failed: {reason}") from None
