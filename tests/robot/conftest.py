from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from execrl.robot.checks import Trace
from execrl.robot.rewrite import upstream_rewrite
from execrl.robot.runner import ENTRY_FUNCTION, SIMULATOR_SOURCE, UPSTREAM_ENTRY_FUNCTION, RobotRun
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
    """Run a trusted test program the way the sandbox does (prelude, then code, then the entry
    function), in this process: fast enough to test the simulator call by call."""
    namespace: dict[str, Any] = {"__name__": "__execrl__"}
    exec(compile(SIMULATOR_SOURCE, "<prelude>", "exec"), namespace)  # noqa: S102 - our own test programs
    try:
        exec(compile(program, "<candidate>", "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 - a crash at load, as the sandbox reports it
        return RobotRun("exception", Trace(), type(exc).__name__, str(exc))
    return RobotRun.from_report(namespace[ENTRY_FUNCTION](state, timeout_s))


def run_local_upstream(program: str, state: dict[str, Any], timeout_s: float = 1.0) -> RobotRun:
    """Run a trusted test program in this process as the upstream semantics does (the benchmark's
    rewrite, then the simulator's upstream entry function)."""
    namespace: dict[str, Any] = {"__name__": "__execrl__"}
    exec(compile(SIMULATOR_SOURCE, "<prelude>", "exec"), namespace)  # noqa: S102 - our own test programs
    report = namespace[UPSTREAM_ENTRY_FUNCTION](state, timeout_s, upstream_rewrite(program))
    return RobotRun.from_report(report)


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
