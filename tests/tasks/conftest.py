from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(os.environ.get("EXECRL_DATA_DIR", "/work/shared/data"))
