"""The sandbox worker: a fork server that never holds job data, and the harness each job runs.

This file is run as a script (``python -s -c BOOT worker.py CONFIG``), usually inside bubblewrap,
so it imports nothing but the standard library. The parent also imports it for the value codec,
so that encoding (in the job) and decoding (in the parent) cannot drift apart.

Three kinds of process meet here:

- the **fork server** (``serve``): started once per slot, pre-imports common modules, then forks one
  job process per request. It never receives a job's code, inputs, outputs, files or messages: a
  request carries only limits, a user id, the (public) prelude and four file descriptors that the
  parent made for the job. It reaps the job through ``wait4`` into a buffer that it hands to the
  parent and then zeroes, so nothing a job did stays in its memory for a later job to read;
- the **job process** (``_job_process``): forked from the fork server, it drops to the job's user id,
  gets its limits and its own IPC namespace, reads its job from the parent on its own pipe and
  reports on another. It only knows the inputs and only reports what the candidate's code produced:
  it never sees an expected value and never decides pass or fail;
- short-lived **helpers** forked from the fork server to kill a job's leftover processes and to
  remove a job directory that is not empty, so that file names never enter the server either.

Why a fork per job from a pre-imported process: a fresh interpreter costs ~20 ms, a fork ~1 ms, and
a fork still gives every job a clean address space, its own limits and its own user id.
"""

from __future__ import annotations

import base64
import builtins
import ctypes
import fcntl
import gc
import json
import os
import pickle
import select
import signal
import socket
import stat
import struct
import sys
import time
from types import CodeType

# The job runs candidate code that may patch builtins or library functions (json.dumps, os.write,
# isinstance, ...). Nothing here relies on that for security: whatever the job process reports is
# untrusted in the parent. These references only keep an honest run honest when a candidate
# patches something by accident.
_type, _isinstance, _issubclass, _getattr, _str, _sorted, _len = type, isinstance, issubclass, getattr, str, sorted, len
_os_write, _os_read, _perf = os.write, os.read, time.perf_counter
_to_json = json.JSONEncoder(separators=(",", ":")).encode
_int_value, _float_value, _str_value = int.__int__, float.__float__, str.__str__

# ----------------------------------------------------------------------------------------------
# Value codec: plain Python data <-> JSON. Containers and non-JSON scalars are tagged objects
# ({"T": [...]} for a tuple, ...), so a JSON object is always a tag and never ambiguous.
# Encoding dispatches on the exact type, and subclasses of built-in types are read through the
# base type's own methods, so an object cannot lie about its value (an __eq__ that always
# returns True, or an __iter__ that yields something else, is never consulted).
# ----------------------------------------------------------------------------------------------


class UnsupportedValue(Exception):
    """A value that is not plain data (a function, a custom object, a cycle, too deep)."""


_MAX_DEPTH = 200  # two frames a level: stays under the default recursion limit
_PLAIN = frozenset({str, bool, int, float, type(None), list, tuple, dict, set, frozenset, complex, bytes})


def encode_value(value: object, depth: int = 0, strict: bool = False) -> object:
    """``value`` as JSON-ready data; ``strict``: only exact built-in types (no subclasses, no NumPy)."""
    if depth > _MAX_DEPTH:
        raise UnsupportedValue("value nested too deeply")
    kind = _type(value)
    if kind is str or kind is bool or value is None or kind is int or kind is float:
        return value
    nxt = depth + 1
    if kind is list:
        return {"L": [encode_value(v, nxt, strict) for v in value]}
    if kind is tuple:
        return {"T": [encode_value(v, nxt, strict) for v in value]}
    if kind is dict:
        return {
            "D": [[encode_value(k, nxt, strict), encode_value(v, nxt, strict)] for k, v in dict.items(value)]
        }
    if kind is set:
        return {"S": [encode_value(v, nxt, strict) for v in value]}
    if kind is frozenset:
        return {"F": [encode_value(v, nxt, strict) for v in value]}
    if kind is complex:
        return {"C": [value.real, value.imag]}
    if kind is bytes:
        return {"B": base64.b64encode(value).decode("ascii")}
    if strict:
        raise UnsupportedValue("not an exact built-in type")
    return _encode_subclass_or_numpy(value, depth)


def _encode_subclass_or_numpy(value: object, depth: int) -> object:
    # Read subclasses through the base type's methods: overridden methods are never called. The real
    # type decides (isinstance would believe a class attribute named __class__).
    kind = _type(value)
    if _issubclass(kind, int):
        return _int_value(value)
    if _issubclass(kind, float):
        return _float_value(value)
    if _issubclass(kind, str):
        return _str_value(value)
    for base in (tuple, list, frozenset, set):
        if _issubclass(kind, base):
            return encode_value(base(base.__iter__(value)), depth)
    if _issubclass(kind, dict):
        return encode_value(dict(dict.items(value)), depth)
    if _issubclass(kind, bytes):
        return encode_value(bytes(memoryview(value)), depth)
    # NumPy scalars (np.float64, np.int32, np.bool_) become the Python scalar of the same value.
    if _getattr(kind, "__module__", "") == "numpy" and _getattr(value, "ndim", None) == 0:
        item = value.item()
        if _type(item) in (int, float, bool, complex, str, bytes):
            return encode_value(item, depth)
    raise UnsupportedValue(f"a value of type {kind.__module__}.{kind.__qualname__} is not plain data")


_HASH_CHECK_MIN = 64


def _hashed(items: list) -> list:
    """``items`` unchanged, unless so many share a hash that building a set of them would take
    quadratic time (ints that differ by multiples of 2**61 - 1 all hash alike): then ValueError."""
    if _len(items) >= _HASH_CHECK_MIN and 2 * _len(set(map(hash, items))) < _len(items):
        raise ValueError("colliding hashes")
    return items


def _decode_dict(pairs: list) -> dict:
    _hashed([key for key, _ in pairs])
    return {key: value for key, value in pairs}


_DECODERS = {
    "L": list,
    "T": tuple,
    "S": lambda items: set(_hashed(items)),
    "F": lambda items: frozenset(_hashed(items)),
    "D": _decode_dict,
    "C": lambda parts: complex(float(parts[0]), float(parts[1])),
    "B": lambda text: base64.b64decode(text),
}


def decode_hook(obj: dict) -> object:
    """``json.loads`` object hook: decodes tagged values while the JSON is parsed, in C for the most part.

    Only tags are single-key objects whose key is a tag letter: messages and other records have other
    keys, and plain dicts never appear in an encoding (they are tagged ``D``).
    """
    if len(obj) == 1:
        ((tag, payload),) = obj.items()
        decoder = _DECODERS.get(tag)
        if decoder is not None:
            return decoder(payload)
    return obj


# ----------------------------------------------------------------------------------------------
# The job process: runs one job and streams messages on its report pipe, one JSON object a line,
# each starting with its kind ('{"k":"test","i":3,...'), so that the parent can time a message
# when it arrives without decoding it. Nothing it prints reaches that pipe (stdout and stderr
# are files). The parent treats every message as untrusted.
# ----------------------------------------------------------------------------------------------

_CANDIDATE = "<candidate>"
_MAX_MESSAGE = 2000
JOB_FD, REPORT_FD = 3, 4  # where the job process finds its input pipe and its report pipe
# Python ignores SIGXFSZ and SIGPIPE; the job needs the defaults (SIGXFSZ kills at the file limit).
_DEFAULT_SIGNALS = ("SIGXFSZ", "SIGPIPE", "SIGINT")


class CallTimeout(Exception):
    """Raised inside a call that ran past its own time limit (the parent also enforces it from outside)."""


class HostCallError(Exception):
    """A host call that the parent refused or whose service failed."""


def _candidate_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _CANDIDATE:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and _isinstance(exc, SyntaxError) and exc.filename == _CANDIDATE:
        line = exc.lineno
    return line


def _describe(exc: BaseException) -> dict:
    try:
        message = _str(exc)[:_MAX_MESSAGE]
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not hide the error
        message = "<unprintable exception>"
    try:
        name = _str(_type(exc).__name__)[:100]
    except BaseException:  # noqa: BLE001
        name = "Exception"
    return {"type": name, "msg": message, "line": _candidate_line(exc)}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = _os_write(fd, view)
        view = view[written:]


class _Harness:
    def __init__(self, job: dict, report: int) -> None:
        self.job = job
        self.report = report
        self.lines: set[int] = set()
        self.host_calls = 0

    def send(self, obj: dict) -> None:
        _write_all(self.report, _to_json(obj).encode("utf-8", "surrogatepass") + b"\n")

    def host_call(self, request: object) -> object:
        """Send ``request`` (plain data) to the job's service in the parent; return its reply."""
        encoded = encode_value(request)
        self.send({"k": "call", "req": encoded})
        reply = _read_line(JOB_FD)
        if reply is None:
            raise HostCallError("the parent closed the host-call channel")
        message = json.loads(reply, object_hook=decode_hook)
        if "err" in message:
            raise HostCallError(message["err"])
        return message["ok"]

    def _tracer(self, frame, event, arg):
        if frame.f_code.co_filename == _CANDIDATE:
            return self._local_tracer
        return None

    def _local_tracer(self, frame, event, arg):
        if event == "line":
            self.lines.add(frame.f_lineno)
        return self._local_tracer

    def run(self, prelude: CodeType | Exception) -> None:
        job = self.job
        if _isinstance(prelude, Exception):
            self.send({"k": "prelude_error", **_describe(prelude)})
            return
        try:
            candidate = compile(job["code"], _CANDIDATE, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes (Python < 3.12)
            col = getattr(exc, "offset", None)
            self.send({"k": "syntax", **_describe(exc), "line": getattr(exc, "lineno", None), "col": col})
            return
        namespace = {"__name__": "__execrl__", "__builtins__": builtins}
        if job.get("service"):
            namespace["_execrl_host_call"] = self.host_call
            namespace["HostCallError"] = HostCallError
        if job.get("trace"):
            sys.settrace(self._tracer)
        try:
            exec(prelude, namespace)
            exec(candidate, namespace)
        except BaseException as exc:  # noqa: BLE001 - the candidate may raise anything
            sys.settrace(None)
            self.send({"k": "load_error", **_describe(exc)})
            self.send({"k": "done", "lines": _sorted(self.lines)})
            return
        self.send({"k": "loaded"})
        tests = job.get("tests")
        if tests is not None:
            kind = tests["kind"]
            if kind == "call":
                self._run_calls(tests, namespace)
            elif self._setup(tests, namespace):
                if kind == "assert":
                    self._run_asserts(tests["items"], namespace)
                else:
                    self._run_statement(tests["src"], namespace)
        sys.settrace(None)
        self.send({"k": "done", "lines": _sorted(self.lines)})

    def _setup(self, tests: dict, namespace: dict) -> bool:
        if not tests.get("setup"):
            return True
        try:
            exec(compile(tests["setup"], "<test-setup>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001
            self.send({"k": "setup_error", **_describe(exc)})
            return False
        return True

    def _run_asserts(self, items: list, namespace: dict) -> None:
        """Each test's candidate-side expressions (chains), evaluated here; the rest is judged outside."""
        for index, chains in enumerate(items):
            self.send({"k": "test", "i": index, "vals": [self._chain(chain, namespace) for chain in chains]})

    def _chain(self, chain: dict, namespace: dict) -> list:
        """A chain (``f``, ``f(x)``, ``f(x).y``...) evaluated link by link until its value is exact
        plain data: ``["v", depth, value]``, ``["e", depth, error]``, or, for a value that never
        becomes plain data, ``["b", truth]`` / ``["it", items]`` where its context allows that."""
        depth = 0
        try:
            value = eval(compile(chain["root"], "<test>", "eval"), namespace)
            links = chain["links"]
            while True:
                try:
                    return ["v", depth, encode_value(value, strict=True)]
                except UnsupportedValue:
                    pass
                if depth == _len(links):
                    break
                scope = dict(namespace)
                scope["__execrl_t"] = value
                value = eval(compile(links[depth], "<test>", "eval"), scope)
                depth += 1
            try:
                return ["v", depth, encode_value(value)]
            except UnsupportedValue:
                if chain["ctx"] == "iter":
                    return ["it", [encode_value(item) for item in value]]
                if chain["ctx"] == "bool":
                    return ["b", bool(value)]
                raise
        except BaseException as exc:  # noqa: BLE001
            return ["e", depth, _describe(exc)]

    def _run_statement(self, source: str, namespace: dict) -> None:
        """One test that could not be split, alone in this process: it passes if it raises nothing."""
        try:
            exec(compile(source, "<test>", "exec"), namespace)
        except BaseException as exc:  # noqa: BLE001
            self.send({"k": "test", "i": 0, **_describe(exc)})
            return
        self.send({"k": "test", "i": 0, "ok": 1})

    def _run_calls(self, tests: dict, namespace: dict) -> None:
        function = namespace.get(tests["function"])
        if not callable(function):
            self.send({"k": "no_function"})
            return
        timeouts = tests.get("timeouts")

        def on_alarm(signum, frame):
            raise CallTimeout("the call ran past its time limit")

        # A courtesy for honest programs (their later calls still run): the parent enforces the
        # limit from outside, whatever this process does with the alarm.
        signal.signal(signal.SIGALRM, on_alarm)
        for index, args in enumerate(tests["inputs"]):
            try:
                if timeouts is not None:
                    signal.setitimer(signal.ITIMER_REAL, timeouts[index])
                try:
                    value = function(*args)
                finally:
                    if timeouts is not None:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                encoded = encode_value(value)
            except BaseException as exc:  # noqa: BLE001
                self.send({"k": "test", "i": index, **_describe(exc)})
                continue
            self.send({"k": "test", "i": index, "vals": [encoded]})


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = _os_read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= _len(chunk)
    return b"".join(chunks)


def _read_line(fd: int) -> bytes | None:
    chunks = []
    while True:
        chunk = _os_read(fd, 1)
        if not chunk:
            return None
        if chunk == b"\n":
            return b"".join(chunks)
        chunks.append(chunk)


def compile_prelude(text: str) -> CodeType | Exception:
    """The prelude compiled, or the error that compiling it raised (the job reports it)."""
    try:
        return compile(text, "<prelude>", "exec")
    except (SyntaxError, ValueError) as exc:
        return exc


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWIPC = 0x08000000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, _PR_SET_DUMPABLE = 38, 22, 2, 4


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_seccomp(program: bytes) -> None:
    """Install a raw BPF seccomp filter on this process (when bubblewrap did not do it for us)."""
    buffer = ctypes.create_string_buffer(program, _len(program))
    fprog = _SockFprog(_len(program) // 8, ctypes.addressof(buffer))
    if (
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        or _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0
    ):
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


def _reach_python_through_fds(path_fds: dict[str, int]) -> None:
    """Make a Python installation that the job's user may not traverse (pyenv under /root, no
    bubblewrap) importable through directory descriptors the server opened as root: the kernel
    checks no parent directory when a path starts at ``/proc/self/fd/N``."""
    _libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)  # /proc/self/fd belongs to us only when dumpable

    def moved(entry: str) -> str:
        for prefix, fd in path_fds.items():
            if entry == prefix or entry.startswith(prefix + "/"):
                return f"/proc/self/fd/{fd}" + entry[_len(prefix) :]
        return entry

    sys.path[:] = [moved(entry) for entry in sys.path]
    for module in list(sys.modules.values()):
        paths = _getattr(module, "__path__", None)
        if _type(paths) is list:
            paths[:] = [moved(entry) for entry in paths]
    sys.path_importer_cache.clear()


def _job_process(request: dict, prelude: CodeType | Exception, fds: list[int], config: dict) -> None:
    job_in, report = (fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in fds)  # above every target below
    out_fd, err_fd = config["output_fds"]
    # A process group (for the kill sweep), not a session: setsid costs ~2 ms here (the kernel makes
    # a scheduler autogroup per session), and the server already has no terminal.
    os.setpgid(0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((devnull, 0), (out_fd, 1), (err_fd, 2), (job_in, JOB_FD), (report, REPORT_FD)):
        os.dup2(source, target)
    keep = sorted({0, 1, 2, JOB_FD, REPORT_FD, *config["path_fds"].values()})
    del job_in, report
    for low, high in zip(keep, [*keep[1:], 1 << 16]):
        os.closerange(low + 1, high)
    for name in _DEFAULT_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    uid = request["uid"]
    if config["ipc_namespace"] and _libc.unshare(_CLONE_NEWIPC) != 0:
        os._exit(70)  # the parent sees an early exit: never run a job that shares the server's IPC
    os.chdir(request["dir"])
    limits = request["limits"]
    mib = 1 << 20
    cpu = int(limits["cpu_s"])
    _setrlimit("RLIMIT_CPU", cpu, cpu + 1)
    _setrlimit("RLIMIT_AS", limits["memory_mb"] * mib)
    _setrlimit("RLIMIT_FSIZE", limits["file_size_mb"] * mib)
    _setrlimit("RLIMIT_NOFILE", limits["max_open_files"])
    _setrlimit("RLIMIT_CORE", 0)
    if uid >= 0:
        # The process limit counts per user, so it only means something with a user of its own.
        _setrlimit("RLIMIT_NPROC", limits["max_processes"])
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if config["seccomp"] is not None:
        _load_seccomp(config["seccomp"])
    if config["path_fds"]:
        _reach_python_through_fds(config["path_fds"])
    os.environ["HOME"] = request["dir"]
    os.environ["TMPDIR"] = request["dir"]
    header = _read_exact(JOB_FD, 4)
    payload = None if header is None else _read_exact(JOB_FD, struct.unpack(">I", header)[0])
    if payload is None:
        return
    # Pickled by the trusted parent: the inputs arrive as ready objects.
    job = pickle.loads(payload)  # nosec B301
    del header, payload
    if not job.get("service"):
        os.close(JOB_FD)
    _Harness(job, REPORT_FD).run(prelude)
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass


def _setrlimit(name: str, soft: int, hard: int | None = None) -> None:
    import resource

    resource.setrlimit(getattr(resource, name), (soft, soft if hard is None else hard))


# ----------------------------------------------------------------------------------------------
# Removing a job's directory: iteratively (a job may build a tree far deeper than the recursion
# limit or PATH_MAX), through directory descriptors, never following links.
# ----------------------------------------------------------------------------------------------


def remove_tree(path: str) -> None:
    """Remove ``path`` and everything under it, however deep; raises OSError if something stays."""
    try:
        os.rmdir(path)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    names: list[str] = []  # the directories entered below ``path``, outermost first
    fd = os.open(path, flags)
    try:
        while True:
            _make_owner_writable(fd)
            child = None
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = entry.name
                        break
                    os.unlink(entry.name, dir_fd=fd)
            if child is not None:
                try:
                    inner = os.open(child, flags, dir_fd=fd)
                except OSError:
                    os.unlink(child, dir_fd=fd)  # not a directory after all
                    continue
                os.close(fd)
                fd = inner
                names.append(child)
                continue
            if not names:
                break
            outer = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            fd = outer
            os.rmdir(names.pop(), dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def _make_owner_writable(fd: int) -> None:
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o700 != 0o700:
            os.fchmod(fd, stat.S_IMODE(mode) | 0o700)
    except OSError:
        pass


# ----------------------------------------------------------------------------------------------
# The fork server
# ----------------------------------------------------------------------------------------------

_PRELOAD = ["array", "bisect", "cmath", "collections", "copy", "datetime", "decimal", "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math", "operator", "random", "re", "statistics", "string", "textwrap", "typing", "unicodedata"]
_PRELUDE_CACHE_SIZE = 32
_SWEEP_ATTEMPTS = 1000
_WNOHANG = 1


class _Rusage(ctypes.Structure):
    _fields_ = [("utime_s", ctypes.c_long), ("utime_us", ctypes.c_long), ("stime_s", ctypes.c_long),
                ("stime_us", ctypes.c_long), ("rest", ctypes.c_long * 14)]  # fmt: skip


EXIT_RECORD = struct.Struct("=i4x" + "q" * 18)  # wait4's status and struct rusage, as the parent reads them


class _Server:
    def __init__(self, config: dict) -> None:
        self.config = config
        self.control = socket.socket(fileno=config["control_fd"])
        self.preludes: dict[str, CodeType | Exception] = {}
        # wait4 writes a job's exit status and resource usage here; the bytes go to the parent and
        # are zeroed, never becoming Python objects in this process.
        self.status = ctypes.c_int(0)
        self.usage = _Rusage()

    def _prelude(self, text: str) -> CodeType | Exception:
        code = self.preludes.get(text)
        if code is None:
            if _len(self.preludes) >= _PRELUDE_CACHE_SIZE:
                del self.preludes[next(iter(self.preludes))]  # the oldest
            code = self.preludes[text] = compile_prelude(text)
        return code

    def serve(self) -> None:
        self.control.sendall(_to_json({"ready": True, "pid": os.getpid()}).encode())
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 2)
            except OSError:
                return
            if not data:
                return
            if data == b"K":  # a kill request for a job that has already ended
                continue
            if _len(fds) != 2:
                return
            self._run(json.loads(data), fds)

    def _run(self, request: dict, fds: list[int]) -> None:
        uid = request["uid"]
        path = request["dir"]
        os.mkdir(path, 0o700)
        if uid >= 0:
            os.chown(path, uid, uid)
        prelude = self._prelude(request["prelude"])
        pid = os.fork()
        if pid == 0:
            try:
                self.control.close()
                _job_process(request, prelude, fds, self.config)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        self._wait(pid)
        _libc.wait4(pid, ctypes.byref(self.status), 0, ctypes.byref(self.usage))
        swept = self._sweep(uid)
        removed = self._remove(path, uid)
        flags = struct.pack("=BB", swept, removed)
        self.control.sendmsg(
            [b"E", flags, memoryview(self.status).cast("B"), memoryview(self.usage).cast("B")]
        )
        ctypes.memset(ctypes.byref(self.status), 0, ctypes.sizeof(self.status))
        ctypes.memset(ctypes.byref(self.usage), 0, ctypes.sizeof(self.usage))

    def _wait(self, pid: int) -> None:
        """Until the job process exits, killing it when the parent asks (its limits are the parent's)."""
        pidfd = os.pidfd_open(pid)
        try:
            while True:
                ready = select.select([pidfd, self.control], [], [])[0]
                if pidfd in ready:
                    return
                if self.control.recv(16) in (b"K", b""):
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        finally:
            os.close(pidfd)

    def _sweep(self, uid: int) -> bool:
        """Kill and reap everything the job left behind (background processes, fork bombs).

        This process is a child subreaper, so every orphaned descendant becomes its child: it has
        live children exactly while some descendant of the job lives. Reaping passes no status
        buffer, so no exit status of a job's process ever lands here.
        """
        for attempt in range(_SWEEP_ATTEMPTS):
            reaped = _libc.waitpid(-1, None, _WNOHANG)
            if reaped > 0:
                continue
            if reaped < 0:
                return True  # no children at all
            if uid >= 0:
                _as_user(uid, lambda: os.kill(-1, signal.SIGKILL))
            else:
                for child in _children_of(os.getpid()):
                    _kill_group(child)
            time.sleep(min(0.0002 * attempt, 0.01))
        return False

    def _remove(self, path: str, uid: int) -> bool:
        """Remove the job's directory; when it is not empty, in a helper, so that the names of the
        files a job made never enter this process."""
        try:
            os.rmdir(path)
            return True
        except OSError:
            pass
        helper = os.fork()
        if helper == 0:
            code = 1
            try:
                remove_tree(path)
                code = 0
            finally:
                os._exit(code)
        status = ctypes.c_int(0)
        _libc.waitpid(helper, ctypes.byref(status), 0)
        ok = status.value == 0
        del status
        return ok


def _as_user(uid: int, action) -> None:
    """Run ``action`` in a helper process with ``uid`` (kill(-1) from it reaches only that user)."""
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            action()
        finally:
            os._exit(0)
    _libc.waitpid(helper, None, 0)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(entry))
    return children


def _become_subreaper() -> bool:
    return _libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER


_WARM_UP_JOBS = (
    {"code": "def f(x):\n    return [x, (x,), {x: 1.5}]\n", "tests": {"kind": "call", "function": "f", "inputs": [(1,)], "timeouts": [1.0]}},
    {"code": "def f(x):\n    return x\n", "tests": {"kind": "assert", "setup": "", "items": [
        [{"root": "f", "links": ["__execrl_t(1)"], "ctx": ""}]]}},
)  # fmt: skip


def _warm_up() -> None:
    """Run a call job and an assert job in the server itself, with their messages thrown away.

    The parser, the compiler, json and the codec build caches on first use; built here, before the
    fork, they are shared by every job instead of being rebuilt (and their pages copied) in each:
    this halved a trivial job's CPU time (measured ~2.8 ms -> ~1.8 ms).
    """
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        for job in _WARM_UP_JOBS:
            _Harness({"trace": False, **job}, sink).run(compile_prelude(""))
    finally:
        os.close(sink)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, 0)


def _open_path_fds(prefixes: list[str]) -> dict[str, int]:
    """Directory descriptors, above the numbers a job's process uses, for the paths it cannot reach."""
    fds = {}
    for prefix in prefixes:
        fd = os.open(prefix, os.O_PATH | os.O_DIRECTORY)
        fds[prefix] = fcntl.fcntl(fd, fcntl.F_DUPFD, 16)
        os.close(fd)
    return fds


def main() -> None:
    config = json.loads(sys.argv[1])
    seccomp = config.get("seccomp_hex")
    config["seccomp"] = bytes.fromhex(seccomp) if seccomp else None
    config["path_fds"] = _open_path_fds(config.get("unreachable_paths", []))
    os.chdir(config["scratch"])
    sys.set_int_max_str_digits(0)
    for name in _PRELOAD:
        __import__(name)
    _warm_up()
    # Objects that exist before the fork are never collected in the jobs: keeping the collector off
    # them spares each job the copy-on-write faults of a collection walking the server's heap.
    gc.freeze()
    if not _become_subreaper():
        raise SystemExit("cannot become a child subreaper")
    _Server(config).serve()


if __name__ == "__main__":
    main()
