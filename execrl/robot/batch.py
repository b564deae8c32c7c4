"""Running many robot programs against world states at once, each distinct run made only once.

The simulator and completion judges score the same responses on the same states of one batch, in
parallel threads, and a held-out evaluation may repeat what training just ran: runs are keyed by what
determines them (program text, state, time budget, semantics) and shared through a bounded memo of
recent runs; a caller that needs a run another caller has in flight waits for it instead of running it
again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from execrl.robot.checks import Trace
from execrl.robot.rewrite import INJECTED, Semantics
from execrl.robot.runner import SIMULATION_TIMEOUT_S, RobotRun, decode_run, robot_job
from execrl.sandbox import JobResult, Sandbox, default_sandbox

_MAX_REMEMBERED = 8192


@dataclass(frozen=True)
class RunSpec:
    """One run: ``program`` (as ``robot_job`` takes it) against ``state``."""

    program: str
    state: dict[str, Any]
    timeout_s: float = SIMULATION_TIMEOUT_S
    semantics: Semantics = INJECTED

    def key(self) -> tuple[str, str, float, str]:
        return (self.program, json.dumps(self.state, sort_keys=True), float(self.timeout_s), self.semantics)


_lock = threading.Lock()
_runs: OrderedDict[tuple[str, str, float, str], Future[RobotRun]] = OrderedDict()


def run_all(specs: Sequence[RunSpec], sandbox: Sandbox | None = None) -> list[RobotRun]:
    """The run of every spec, in order; the ones not remembered or in flight go to the sandbox together."""
    keys = [spec.key() for spec in specs]
    owned: dict[tuple[str, str, float, str], tuple[Future[RobotRun], RunSpec]] = {}
    futures: list[Future[RobotRun]] = []
    with _lock:
        for key, spec in zip(keys, specs, strict=True):
            future = _runs.get(key)
            if future is None:
                future = Future()
                _runs[key] = future
                owned[key] = (future, spec)
            else:
                _runs.move_to_end(key)
            futures.append(future)
        while len(_runs) > _MAX_REMEMBERED:
            _runs.popitem(last=False)  # waiters keep their own reference to an evicted future
    if owned:
        jobs, waiting = [], []
        for future, spec in owned.values():
            try:
                jobs.append(robot_job(spec.program, spec.state, spec.timeout_s, spec.semantics))
            except ValueError as exc:  # a world state the simulator cannot build fails its own runs
                future.set_result(RobotRun("exception", Trace(), "ValueError", str(exc)))
                continue
            waiting.append(future)
        try:
            results = (sandbox or default_sandbox()).run(jobs) if jobs else []
        except BaseException as exc:
            with _lock:
                for key in owned:
                    _runs.pop(key, None)  # not remembered: a later call tries again
            for future in waiting:
                future.set_exception(exc)
            raise
        for future, result in zip(waiting, results, strict=True):
            future.set_result(_decoded(result))
    return [future.result() for future in futures]


def _decoded(result: JobResult) -> RobotRun:
    """The run a job result describes; a result that cannot be read is that program's failure, never
    the batch's."""
    try:
        return decode_run(result)
    except Exception as exc:  # noqa: BLE001 - untrusted data from the program's process
        return RobotRun(
            "exception", Trace(), "RobotReportError", f"the run's report could not be read ({exc!r:.200})"
        )


def forget_runs() -> None:
    """Drop every remembered run (tests that change the simulator in between, long-lived processes)."""
    with _lock:
        _runs.clear()
