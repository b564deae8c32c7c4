"""The sandbox's input and output records."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """What happened to a job, most specific first: a job gets exactly one."""

    PASSED = "passed"  # the code loaded and every test passed
    FAILED = "failed"  # a test's comparison failed, or the program exited before the tests finished
    SYNTAX_ERROR = "syntax_error"  # the candidate does not compile (null bytes and bad UTF-8 included)
    RUNTIME_ERROR = "runtime_error"  # an exception escaped the candidate's code (at load or in a test)
    TIMEOUT = "timeout"  # wall-clock or CPU limit reached
    MEMORY_EXCEEDED = "memory_exceeded"  # MemoryError: the address-space limit was reached
    OUTPUT_EXCEEDED = "output_exceeded"  # stdout/stderr or a written file passed the file-size limit
    KILLED = "killed"  # the process died from a signal it did not cause by a fault (SIGKILL, SIGTERM, ...)
    CRASHED = "crashed"  # a fault signal (SIGSEGV, SIGABRT, ...) or a broken worker


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job. ``cpu_s`` defaults to the wall timeout rounded up, plus one."""

    timeout_s: float = 10.0
    cpu_s: float | None = None
    memory_mb: int = 2048  # address space (RLIMIT_AS)
    file_size_mb: int = 16  # any single file, stdout and stderr included (RLIMIT_FSIZE)
    max_processes: int = 32  # processes and threads of the job (RLIMIT_NPROC, per-job user id)
    max_open_files: int = 64
    output_capture_bytes: int = 16_384  # how much of stdout/stderr comes back
    # The most the job's report (its values, errors, messages) may take once decoded in the parent,
    # estimated before decoding; over it the job is OUTPUT_EXCEEDED.
    result_mb: int = 256
    max_host_calls: int = 100_000  # host calls a job with a service may make
    host_call_bytes: int = 1 << 20  # the largest host-call request, as sent


@dataclass(frozen=True)
class AssertTests:
    """Test statements run after the candidate (MBPP-style ``assert`` lines).

    Each assert is split in the parent (execrl/sandbox/asserts.py): only its candidate-side
    expressions (``f(x)``) run in the job, whose values come back as plain data; the rest of the
    assert (``== [1, 2]``, ``math.isclose(..., 3.0)``) is evaluated in the parent, or in a judge
    process that never ran candidate code. ``setup`` runs in the job after the candidate and before
    the tests (it may build inputs from the candidate's classes), and in the judge when the expected
    side needs its names. A statement that cannot be split runs alone in a fresh process.
    """

    statements: tuple[str, ...]
    setup: str = ""


@dataclass(frozen=True)
class CallTests:
    """Calls of the candidate's ``function`` with each argument list in ``inputs``.

    Inputs may be any picklable values (they travel from this trusted process to the job pickled);
    return values come back as data (``TestOutcome.value``). ``expected`` never leaves the parent:
    if given, the test passes when the value equals it (``==`` on plain data, here); otherwise it
    passes when the call returns without an exception and the caller compares the values itself.
    ``call_timeouts_s`` gives each call its own time limit, measured and enforced by the parent
    (over it, that call fails with ``CallTimeout``, and a job that does not stop is killed);
    state persists across the calls, as in one process.
    """

    function: str
    inputs: tuple[tuple[Any, ...], ...]
    expected: tuple[Any, ...] | None = None
    call_timeouts_s: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Job:
    """A candidate program and what to do with it.

    ``prelude`` runs first in the same namespace (imports, an API the program calls); errors are
    only ever located in ``code``, whose line numbers are the candidate's own. A prelude is harness
    code: the worker may compile it once for many jobs, so it must hold nothing a job may not see.

    ``service``: a host-call handler that stays in the parent (it is never sent to the worker). Code
    in the job calls ``_execrl_host_call(request)`` with plain data; the parent decodes the request
    as untrusted data, calls ``service(request)`` and sends back its return value (plain data), or
    makes the call raise ``HostCallError`` in the job when the request is refused or the service
    raises. ``JobResult.service`` is the handler after the job, so its state (a trace, a world) is
    what the job asked for, read from the parent's side. See docs/sandbox.md.
    """

    code: str | bytes
    tests: AssertTests | CallTests | None = None
    limits: Limits = field(default_factory=Limits)
    prelude: str = ""
    trace_lines: bool = False
    service: Callable[[Any], Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class TestOutcome:
    """One test statement or call: whether it passed, its value or its error."""

    index: int
    passed: bool
    value: Any = None  # CallTests: the returned value, decoded to plain Python data
    error_type: str | None = None
    error_message: str | None = None
    error_line: int | None = None  # 1-based line inside the candidate code, when the error came from there
    duration_s: float = 0.0


@dataclass(frozen=True)
class JobResult:
    """Everything the sandbox learnt about one job."""

    status: Status
    tests: tuple[TestOutcome, ...] = ()
    error_type: str | None = None
    error_message: str | None = None
    error_line: int | None = None  # 1-based, inside the candidate code
    error_column: int | None = None  # 1-based character column, for syntax errors
    executed_lines: frozenset[int] | None = None  # candidate lines that ran, when tracing was asked for
    stdout: str = ""
    stderr: str = ""
    cpu_s: float = 0.0
    wall_s: float = 0.0
    service: Any = field(
        default=None, compare=False, repr=False
    )  # the job's host-call handler, after the job

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def tests_passed(self) -> int:
        return sum(t.passed for t in self.tests)
