from __future__ import annotations

from pathlib import Path

import pytest

from execrl.sandbox import Sandbox
from execrl.tasks import MbppPlusDataset, load_mbppplus


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


@pytest.fixture(scope="session")
def mbppplus(data_dir: Path) -> MbppPlusDataset:
    return load_mbppplus(data_dir, download=False)


@pytest.fixture(scope="session")
def expected_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One expected-output cache per test session: computed once, shared by every MBPP+ test."""
    return tmp_path_factory.mktemp("execrl-cache")
