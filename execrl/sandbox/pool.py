"""The sandbox: a pool of isolated workers that runs batches of jobs in parallel."""

from __future__ import annotations

import atexit
import dataclasses
import os
import pickle
import queue
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from execrl.errors import ExecrlError
from execrl.sandbox.asserts import (
    JUDGE_FUNCTION,
    JUDGE_PROGRAM,
    AssertPlan,
    TestParseError,
    analyse_setup,
    plan_assert,
)
from execrl.sandbox.backend import SandboxBackend
from execrl.sandbox.isolation import (
    UID_BLOCK,
    Isolation,
    WorkerLaunch,
    bubblewrap_path,
    launch_with_namespaces,
    launch_without_namespaces,
    per_job_user_available,
)
from execrl.sandbox.runner import JobSpec, WorkerDied, WorkerProcess
from execrl.sandbox.seccomp import seccomp_program
from execrl.sandbox.types import AssertTests, CallTests, Job, JobResult, Limits, Status
from execrl.sandbox.verdict import IsolatedTest, build_result, cpu_seconds, wire_test_count

_warned: set[str] = set()


class SandboxUnavailable(ExecrlError):
    """The requested isolation cannot be had on this machine."""


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


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
        self._workers: list[WorkerProcess | None] = [None] * self.size  # slot -> its worker, for inspection
        self._lock = threading.Lock()
        self._closed = False
        self.job_uids = UidBlocks()  # the user ids this sandbox's jobs run as (root only)

    def _choose_launch(self) -> Callable[[], WorkerLaunch]:
        self.namespaces = False  # whether workers run in bubblewrap namespaces
        self.seccomp = seccomp_program() is not None  # whether jobs run under the seccomp filter
        if not self.seccomp:
            _warn_once(
                "seccomp",
                "execrl sandbox: libseccomp is not installed, so jobs run WITHOUT the seccomp filter (keyrings, "
                "System V and POSIX IPC, ptrace and the other denied system calls stay open): apt-get install libseccomp2",
            )
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
                probe = WorkerProcess(launch_with_namespaces(bwrap))
            except (WorkerDied, OSError) as exc:
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
                result = _Slot(self, slot).run(item.job, item.prepared)
            except Exception as exc:  # noqa: BLE001 - e.g. a worker that cannot start: the job says so
                result = JobResult(
                    Status.CRASHED,
                    error_type=type(exc).__name__,
                    error_message=str(exc),
                    service=item.job.service,
                )
            item.done(result)
        worker = self._workers[slot]
        if worker is not None:
            worker.close()
            self._workers[slot] = None

    def _start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self._launch())
        if worker.launch.uid_base >= 0:
            self.job_uids.add_block(worker.launch.uid_base)
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

    def run(
        self,
        jobs: Sequence[Job],
        progress: bool = False,
        description: str = "running programs",
        reduce: Callable[[int, JobResult], Any] | None = None,
    ) -> list[Any]:
        """Run every job; results come back in input order. A slow job holds up only its own worker.

        ``reduce(index, result)``, when given, is called in this thread as each job finishes, and the
        list holds what it returns: the result (and its values) can then be dropped at once, instead
        of every job's values staying in memory until the last job ends.
        Safe to call from several threads at once: their jobs share the workers.
        """
        prepared = [_prepare(job) for job in jobs]
        self._start_slots()
        results: list[Any] = [None] * len(jobs)
        finished: queue.SimpleQueue[tuple[int, JobResult]] = queue.SimpleQueue()
        bar = _ProgressBar(len(jobs), description) if progress else None
        for index, (job, ready) in enumerate(zip(jobs, prepared)):
            self._queue.put(_Item(job, ready, lambda result, index=index: finished.put((index, result))))
        try:
            for _ in jobs:
                index, result = finished.get()
                results[index] = result if reduce is None else reduce(index, result)
                del result
                if bar is not None:
                    bar.advance()
        finally:
            if bar is not None:
                bar.close()
        return results


class UidBlocks:
    """The user ids a sandbox's jobs run as: one block of UID_BLOCK ids per worker it started."""

    def __init__(self) -> None:
        self._bases: set[int] = set()

    def add_block(self, base: int) -> None:
        self._bases.add(base)

    def __contains__(self, uid: object) -> bool:
        return isinstance(uid, int) and any(base <= uid < base + UID_BLOCK for base in self._bases)

    def __bool__(self) -> bool:
        return bool(self._bases)


class _Slot:
    """One slot's worker running one job, with the judge and isolated runs an assert job needs."""

    def __init__(self, sandbox: Sandbox, slot: int) -> None:
        self.sandbox, self.slot = sandbox, slot

    def _execute(self, spec: JobSpec):
        for attempt in range(2):
            worker = self.sandbox._workers[self.slot]
            if worker is None:
                worker = self.sandbox._workers[self.slot] = self.sandbox._start_worker()
            try:
                run = worker.execute(spec)
            except (WorkerDied, OSError) as exc:
                worker.close()
                self.sandbox._workers[self.slot] = None
                if attempt == 1:
                    raise WorkerDied(str(exc)) from exc
                continue
            if not run.clean:
                # A leftover the worker could not kill or a directory it could not remove: start afresh.
                worker.close()
                self.sandbox._workers[self.slot] = None
            return run
        raise AssertionError("unreachable")

    def run(self, job: Job, prepared: _Prepared) -> JobResult:
        try:
            raw = self._execute(prepared.spec)
        except WorkerDied as exc:
            return JobResult(
                Status.CRASHED, error_type="WorkerDied", error_message=str(exc), service=job.service
            )
        return build_result(job, prepared.plans, raw, self._judge(job), self._isolated(job))

    def _judge(self, job: Job) -> Callable[[str, tuple[str, ...], list], list | None]:
        def judge(setup: str, modules: tuple[str, ...], items: list) -> list | None:
            limits = Limits(timeout_s=job.limits.timeout_s, memory_mb=max(job.limits.memory_mb, 1024))
            judge_job = Job(
                JUDGE_PROGRAM, CallTests(JUDGE_FUNCTION, ((setup, list(modules), items),)), limits
            )
            result = self.run(judge_job, _prepare(judge_job))
            if result.status is not Status.PASSED or type(result.tests[0].value) is not list:
                return None
            return result.tests[0].value

        return judge

    def _isolated(self, job: Job) -> Callable[[AssertPlan], JobResult]:
        def isolated(plan: AssertPlan) -> JobResult:
            assert isinstance(job.tests, AssertTests)
            alone = dataclasses.replace(
                job, tests=IsolatedTest(plan.statement, job.tests.setup), trace_lines=False, service=None
            )
            return self.run(alone, _prepare(alone))

        return isolated


@dataclasses.dataclass(frozen=True)
class _Prepared:
    spec: JobSpec
    plans: list[AssertPlan] | None


@dataclasses.dataclass(frozen=True)
class _Item:
    job: Job
    prepared: _Prepared
    done: Callable[[JobResult], None]


_MESSAGE_SLACK = 64  # messages beyond one per test that an honest job may send (loaded, done, errors)


def _prepare(job: Job) -> _Prepared:
    """The job as its process receives it (never an expected value), and what the parent keeps."""
    limits = job.limits
    wire_limits = {
        "cpu_s": cpu_seconds(limits),
        "memory_mb": limits.memory_mb,
        "file_size_mb": limits.file_size_mb,
        "max_processes": limits.max_processes,
        "max_open_files": limits.max_open_files,
        "output_capture_bytes": limits.output_capture_bytes,
    }
    # The code travels as given, bytes too: the job compiles it, and bad UTF-8 is a syntax error.
    payload: dict[str, Any] = {
        "code": job.code,
        "trace": job.trace_lines,
        "tests": None,
        "service": job.service is not None,
    }
    plans = None
    call_limits = None
    tests = job.tests
    if isinstance(tests, AssertTests):
        plans = []
        setup = analyse_setup(tests.setup)
        for statement in tests.statements:
            try:
                plans.append(plan_assert(statement, setup))
            except TestParseError as exc:
                plans.append(AssertPlan(statement, "invalid", reason=str(exc)))
        items = [[chain.to_wire() for chain in plan.chains] for plan in plans if plan.mode == "split"]
        payload["tests"] = {"kind": "assert", "setup": tests.setup, "items": items}
    elif isinstance(tests, IsolatedTest):
        payload["tests"] = {"kind": "statement", "setup": tests.setup, "src": tests.statement}
    elif isinstance(tests, CallTests):
        inputs = [tuple(args) for args in tests.inputs]
        timeouts = list(tests.call_timeouts_s) if tests.call_timeouts_s is not None else None
        if timeouts is not None and len(timeouts) != len(inputs):
            raise ExecrlError("CallTests.call_timeouts_s must give one limit per input")
        if tests.expected is not None and len(tests.expected) != len(inputs):
            raise ExecrlError("CallTests.expected must give one value per input")
        payload["tests"] = {
            "kind": "call",
            "function": tests.function,
            "inputs": inputs,
            "timeouts": timeouts,
        }
        call_limits = tuple(timeouts) if timeouts is not None else None
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ExecrlError(f"a job's inputs must be picklable values: {exc}") from exc
    messages = wire_test_count(job, plans) + _MESSAGE_SLACK
    spec = JobSpec(
        payload=data,
        prelude=job.prelude,
        limits=wire_limits,
        timeout_s=limits.timeout_s,
        call_limits=call_limits,
        result_bytes=limits.result_mb << 20,
        max_lines=messages + (limits.max_host_calls if job.service is not None else 0),
        service=job.service,
        max_host_calls=limits.max_host_calls,
        host_call_bytes=limits.host_call_bytes,
    )
    return _Prepared(spec, plans)


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
