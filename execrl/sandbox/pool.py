"""The sandbox: a pool of isolated workers that runs batches of jobs in parallel."""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import pickle
import queue
import select
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from execrl.errors import ExecrlError
from execrl.sandbox.asserts import AssertPlan, TestParseError, plan_assert
from execrl.sandbox.backend import SandboxBackend
from execrl.sandbox.isolation import (
    Isolation,
    WorkerLaunch,
    bubblewrap_path,
    launch_with_namespaces,
    launch_without_namespaces,
    per_job_user_available,
)
from execrl.sandbox.types import AssertTests, CallTests, Job, JobResult, Status
from execrl.sandbox.verdict import build_result, cpu_seconds
from execrl.sandbox.worker import write_job

_START_TIMEOUT_S = 30.0
_SLACK_S = 30.0  # how long past a job's own timeout a silent worker is given before it is replaced
_warned: set[str] = set()


class SandboxUnavailable(ExecrlError):
    """The requested isolation cannot be had on this machine."""


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


class _WorkerDied(Exception):
    pass


class _WorkerProcess:
    """One worker: a process that forks a child per job, speaking frames over its stdin/stdout."""

    def __init__(self, launch: WorkerLaunch) -> None:
        self.launch = launch
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            launch.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=launch.env,
            close_fds=True,
            start_new_session=True,
        )
        try:
            ready = self._read(time.monotonic() + _START_TIMEOUT_S)
        except _WorkerDied:
            self.close()
            raise
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.close()
            raise _WorkerDied(f"worker did not start: {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode("utf-8", "replace").strip() or "(no output)"

    def _read(self, deadline: float) -> Any:
        fd = self.proc.stdout.fileno()
        header = self._read_exact(fd, 4, deadline)
        payload = self._read_exact(fd, struct.unpack(">I", header)[0], deadline)
        return json.loads(payload.decode("utf-8", "surrogatepass"))

    def _read_exact(self, fd: int, n: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise _WorkerDied("worker did not answer in time")
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise _WorkerDied(f"worker exited: {self.stderr_tail()}")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def execute(self, payload: bytes, timeout_s: float) -> dict[str, Any]:
        try:
            write_job(self.proc.stdin.fileno(), payload)
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerDied(f"worker is gone: {exc}") from exc
        return self._read(time.monotonic() + timeout_s)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self._stderr.close()
        if self.launch.cleanup:
            shutil.rmtree(self.launch.cleanup, ignore_errors=True)


class Sandbox:
    """Runs untrusted programs, each in a fresh forked process with limits, in ``workers`` parallel workers.

    ``isolation``: ``"auto"`` uses bubblewrap namespaces when they work here and otherwise falls back
    to resource limits with one warning; ``"namespaces"`` fails instead; ``"rlimits"`` never tries.
    """

    def __init__(self, workers: int | None = None, isolation: Isolation | str = Isolation.AUTO) -> None:
        self.size = max(1, workers or os.cpu_count() or 1)
        self.isolation = Isolation(isolation)
        self._launch = self._choose_launch()
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._slots: list[threading.Thread] = []
        self._workers: list[_WorkerProcess | None] = [None] * self.size  # slot -> its worker, for inspection
        self._lock = threading.Lock()
        self._closed = False
        self.job_uids: set[int] = set()  # the user ids this sandbox's jobs have run as (root only)

    def _choose_launch(self) -> Callable[[], WorkerLaunch]:
        self.namespaces = False  # whether workers run in bubblewrap namespaces
        if not per_job_user_available():
            _warn_once(
                "uid",
                "execrl sandbox: not running as root, so jobs cannot get a user id of their own; the process "
                "limit then counts all of this user's processes and leftover processes are found by ancestry",
            )
        if self.isolation is Isolation.RLIMITS:
            return launch_without_namespaces
        bwrap = bubblewrap_path()
        problem = "bubblewrap (bwrap) is not installed" if bwrap is None else None
        if bwrap is not None:
            try:
                probe = _WorkerProcess(launch_with_namespaces(bwrap))
            except (_WorkerDied, OSError) as exc:
                problem = f"bubblewrap could not start a worker ({exc})"
            else:
                probe.close()
                self.namespaces = True
                return lambda: launch_with_namespaces(bwrap)
        if self.isolation is Isolation.NAMESPACES:
            raise SandboxUnavailable(f"namespace isolation was requested but {problem}")
        _warn_once(
            "namespaces",
            f"execrl sandbox: {problem}; running jobs with resource limits only, WITHOUT network or "
            "file-system isolation (install bubblewrap to get them)",
        )
        return launch_without_namespaces

    # -- workers ------------------------------------------------------------------------------
    # Each slot is a long-lived thread that owns one worker. Workers must be started by a thread that
    # outlives them: bubblewrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread* that
    # started it ends, so a worker started by a short-lived thread would die with it.

    def _start_slots(self) -> None:
        with self._lock:
            if self._closed:
                raise ExecrlError("this sandbox has been closed")
            while len(self._slots) < self.size:
                slot = threading.Thread(target=self._serve, args=(len(self._slots),), daemon=True)
                self._slots.append(slot)
                slot.start()

    def _serve(self, slot: int) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            try:
                result, self._workers[slot] = self._run_one(self._workers[slot], item.job, item.payload, item.plans)
            except Exception as exc:  # noqa: BLE001 - e.g. a worker that cannot start: the job says so
                result = JobResult(Status.CRASHED, error_type=type(exc).__name__, error_message=str(exc))
            item.done(result)
        worker = self._workers[slot]
        if worker is not None:
            worker.close()
            self._workers[slot] = None

    def _start_worker(self) -> _WorkerProcess:
        worker = _WorkerProcess(self._launch())
        if worker.launch.uid >= 0:
            self.job_uids.add(worker.launch.uid)
        return worker

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            slots = list(self._slots)
        for _ in slots:
            self._queue.put(None)
        for slot in slots:
            slot.join()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running ------------------------------------------------------------------------------

    def run(self, jobs: Sequence[Job], progress: bool = False, description: str = "running programs") -> list[JobResult]:
        """Run every job; results come back in input order. A slow job holds up only its own worker.

        Safe to call from several threads at once: their jobs share the workers.
        """
        prepared = [_prepare(job) for job in jobs]
        self._start_slots()
        results: list[JobResult | None] = [None] * len(jobs)
        finished = threading.Semaphore(0)
        bar = _ProgressBar(len(jobs), description) if progress else None

        def recorder(index: int) -> Callable[[JobResult], None]:
            def done(result: JobResult) -> None:
                results[index] = result
                if bar is not None:
                    bar.advance()
                finished.release()

            return done

        for index, (job, (payload, plans)) in enumerate(zip(jobs, prepared)):
            self._queue.put(_Item(job, payload, plans, recorder(index)))
        try:
            for _ in jobs:
                finished.acquire()
        finally:
            if bar is not None:
                bar.close()
        return results  # type: ignore[return-value]

    def _run_one(
        self, worker: _WorkerProcess | None, job: Job, payload: bytes, plans: list[AssertPlan] | None
    ) -> tuple[JobResult, _WorkerProcess | None]:
        for attempt in range(2):
            if worker is None:
                worker = self._start_worker()
            try:
                raw = worker.execute(payload, job.limits.timeout_s + _SLACK_S)
            except _WorkerDied as exc:
                worker.close()
                worker = None
                if attempt == 1:
                    return JobResult(Status.CRASHED, error_type="WorkerDied", error_message=str(exc)), None
                continue
            return build_result(job, plans, raw, job.limits.file_size_mb << 20), worker
        raise AssertionError("unreachable")


@dataclasses.dataclass(frozen=True)
class _Item:
    job: Job
    payload: bytes
    plans: list[AssertPlan] | None
    done: Callable[[JobResult], None]


def _prepare(job: Job) -> tuple[bytes, list[AssertPlan] | None]:
    """The job as the worker receives it, and the assert plans the verdict needs."""
    limits = job.limits
    payload: dict[str, Any] = {
        "prelude": job.prelude,
        "trace": job.trace_lines,
        "limits": {
            "timeout_s": limits.timeout_s,
            "cpu_s": cpu_seconds(limits),
            "memory_mb": limits.memory_mb,
            "file_size_mb": limits.file_size_mb,
            "max_processes": limits.max_processes,
            "max_open_files": limits.max_open_files,
            "output_capture_bytes": limits.output_capture_bytes,
        },
        "tests": None,
    }
    payload["code"] = job.code  # bytes too: the child compiles them, bad UTF-8 is a syntax error
    plans = None
    tests = job.tests
    if isinstance(tests, AssertTests):
        plans = []
        for statement in tests.statements:
            try:
                plans.append(plan_assert(statement))
            except TestParseError as exc:
                plans.append(AssertPlan("invalid", (str(exc),)))
        payload["tests"] = {"kind": "assert", "setup": tests.setup, "items": [p.to_wire() for p in plans]}
    elif isinstance(tests, CallTests):
        inputs = [tuple(args) for args in tests.inputs]
        timeouts = list(tests.call_timeouts_s) if tests.call_timeouts_s is not None else None
        if timeouts is not None and len(timeouts) != len(inputs):
            raise ExecrlError("CallTests.call_timeouts_s must give one limit per input")
        if tests.expected is not None and len(tests.expected) != len(inputs):
            raise ExecrlError("CallTests.expected must give one value per input")
        payload["tests"] = {"kind": "call", "function": tests.function, "inputs": inputs, "timeouts": timeouts}
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL), plans
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ExecrlError(f"a job's inputs must be picklable values: {exc}") from exc


class _ProgressBar:
    def __init__(self, total: int, description: str) -> None:
        from rich.progress import Progress

        self._progress = Progress(transient=False)
        self._progress.start()
        self._task = self._progress.add_task(description, total=total)
        self._lock = threading.Lock()

    def advance(self) -> None:
        with self._lock:
            self._progress.advance(self._task)

    def close(self) -> None:
        self._progress.stop()


_default: Sandbox | None = None
_installed: SandboxBackend | None = None
_default_lock = threading.Lock()


def set_default_sandbox(backend: SandboxBackend | None) -> SandboxBackend | None:
    """Make ``backend`` (e.g. a Ray cluster's) what ``default_sandbox()`` returns, so every judge uses it;
    ``None`` goes back to the local pool. Returns the backend installed before. The caller closes it."""
    global _installed
    with _default_lock:
        previous, _installed = _installed, backend
        return previous


def default_sandbox() -> Sandbox | SandboxBackend:
    """The installed backend if any; else a process-wide local sandbox with one worker per CPU,
    created on first use and closed at exit."""
    global _default
    with _default_lock:
        if _installed is not None:
            return _installed
        if _default is None or _default._closed:
            _default = Sandbox()
            atexit.register(_default.close)
        return _default
