from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from execrl.robot.runner import RobotRun, run_in_process
from execrl.robot.tasks import RoboEvalTask, load_tasks
from execrl.sandbox import Sandbox

RunLocal = Callable[..., RobotRun]


@pytest.fixture(scope="session")
def data_dir(data_dir: Path) -> str:
    """The root conftest's data directory (skipped or failed without data), as the string these tests join."""
    return str(data_dir)


@pytest.fixture(scope="session")
def tasks(data_dir: str) -> dict[str, RoboEvalTask]:
    return load_tasks(data_dir)


def run_local(program: str, state: dict[str, Any], timeout_s: float = 1.0) -> RobotRun:
    """Run a trusted test program in this process, the API injected: the sandbox job's stubs, channel
    codec, simulator and verdict, fast enough to test the simulator call by call."""
    return run_in_process(program, state, timeout_s, "injected")


def run_local_upstream(program: str, state: dict[str, Any], timeout_s: float = 1.0) -> RobotRun:
    """The same under the upstream semantics (the benchmark's rewrite and trace reading)."""
    return run_in_process(program, state, timeout_s, "upstream")


@pytest.fixture()
def local() -> RunLocal:
    return run_local


@pytest.fixture()
def local_upstream() -> RunLocal:
    return run_local_upstream


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(workers=2) as pool:
        yield pool
