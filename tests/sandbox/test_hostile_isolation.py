"""Hostile programs against the boundaries of issue 14 and issue 19's first hole.

Each test asserts one exact verdict; after each, the autouse fixture checks the host (no process, IPC
object, key or file of a job left) and that the pool still passes a correct program.
"""

from __future__ import annotations

import os
import resource
import textwrap
import uuid
from pathlib import Path

import pytest
from sandbox_host import HostState, unharmed  # noqa: F401 - unharmed: an autouse fixture

from execrl.sandbox import AssertTests, CallTests, Job, Limits, Sandbox, Status
from execrl.sandbox import isolation as isolation_module
from execrl.sandbox import pool as pool_module

FAST = Limits(timeout_s=5.0)
ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        assert sb.namespaces and sb.seccomp, "these tests are about bubblewrap and the seccomp filter"
        yield sb


@pytest.fixture(scope="module")
def single():
    """One worker, so that consecutive jobs certainly share it."""
    with Sandbox(workers=1) as sb:
        yield sb


def run(sb: Sandbox, code: str, tests=None, limits: Limits = FAST, **kw):
    [result] = sb.run([Job(textwrap.dedent(code), tests, limits, **kw)])
    return result


def value(sb: Sandbox, code: str, limits: Limits = FAST, **kw):
    """Run ``code`` and return what its ``f()`` returned (the job must pass)."""
    result = run(sb, code, CallTests("f", ((),)), limits, **kw)
    assert result.status is Status.PASSED, result
    return result.tests[0].value


# --- 1. earlier jobs' data in a job's memory ----------------------------------------------------

# The needle is never built whole in the scanning job (it would find itself): its two halves are
# searched for next to each other, for the mark and for its reverse.
SCAN_MEMORY = """
import ctypes
libc = ctypes.CDLL(None)
libc.prctl(4, 1, 0, 0, 0)   # dumpable again
HALVES = [(bytes.fromhex(a), bytes.fromhex(b)) for a, b in HALF_HEX]
def f():
    found = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            start, end = (int(x, 16) for x in line.split()[0].split("-"))
            if "r" not in line.split()[1] or end - start > 1 << 28:
                continue
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            for first, second in HALVES:
                i = chunk.find(first)
                while i >= 0:
                    found += chunk[i + len(first): i + len(first) + len(second)] == second
                    i = chunk.find(first, i + 1)
    return found
"""


def scanner(mark: str) -> str:
    halves = [(m[:16].encode().hex(), m[16:].encode().hex()) for m in (mark, mark[::-1])]
    return SCAN_MEMORY.replace("HALF_HEX", repr(halves))


def test_an_earlier_jobs_result_is_not_in_a_later_jobs_memory(single):
    mark = uuid.uuid4().hex
    # the earlier job's value (built at run time, so that it is not in its code) and its code
    assert value(single, f"def f():\n    return ''.join(reversed({mark[::-1]!r})) * 3\n") == mark * 3
    # the later job looks for it in everything it can read of its own memory, which the fork gave it
    assert value(single, scanner(mark)) == 0


def test_gc_of_a_later_job_holds_no_earlier_job(single):
    mark = uuid.uuid4().hex
    value(single, f"SECRET = {mark!r}\ndef f():\n    return SECRET\n")
    # strings are not tracked by the collector: look inside every container and code object it tracks
    code = f"""
    import gc, types
    def f():
        key = "".join(reversed({mark[::-1]!r}))
        found = 0
        for o in gc.get_objects():
            items = o.values() if isinstance(o, dict) else o.co_consts if isinstance(o, types.CodeType) else o if isinstance(o, (list, tuple)) else ()
            found += sum(isinstance(x, str) and key in x for x in items)
        return found
    """
    assert value(single, code) == 0


def test_expected_values_never_reach_the_job(single):
    # A call test's expected value stays in the parent: the job cannot find it anywhere.
    mark = uuid.uuid4().hex
    scan = scanner(mark).replace("def f():", "def f(x):")
    result = run(single, scan, CallTests("f", ((1,),), expected=(mark,)))
    assert result.status is Status.FAILED and result.tests[0].value == 0


def test_canonical_outputs_come_from_a_pool_of_their_own(tmp_path, monkeypatch):
    from execrl.eval.mbppplus_expected import ExpectedOutputStore

    made: list[Sandbox] = []
    real = pool_module.Sandbox.__init__

    def spy(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(pool_module.Sandbox, "__init__", spy)

    class Dataset:
        sha256 = "x" * 64
        tasks: dict = {}

    store = ExpectedOutputStore(Dataset(), tmp_path)
    monkeypatch.setattr(store, "path", lambda task_id: tmp_path / "missing")
    with pytest.raises(KeyError):
        store.ensure(["Mbpp/1"])  # the unknown task fails, after the reference pool was made for it
    assert len(made) == 1 and made[0]._closed


def test_the_fork_server_cannot_be_read(sandbox):
    code = """
    import os
    def f():
        server = os.getppid()
        out = []
        for name in ("mem", "environ", "maps"):
            try:
                open(f"/proc/{server}/{name}", "rb").read(1)
                out.append("read")
            except OSError as exc:
                out.append(type(exc).__name__)
        return out
    """
    assert value(sandbox, code) == ["PermissionError"] * 3


# --- 2. time limits out of the job's reach ------------------------------------------------------

SLOW_CALL = CallTests("f", ((), ()), call_timeouts_s=(0.5, 0.5))


@pytest.mark.parametrize(
    "trick",
    [
        "signal.setitimer = lambda *a, **k: 0",  # the harness's alarm replaced
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)",  # ignored... below, again inside the call
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})",  # blocked
    ],
)
def test_a_call_past_its_limit_is_a_timeout_whatever_the_job_does(sandbox, trick):
    code = f"""
    import signal, time
    {trick}
    def f():
        {trick}
        while True:
            pass
    """
    result = run(sandbox, code, SLOW_CALL, Limits(timeout_s=20.0))
    assert result.status is Status.FAILED
    assert result.tests[0].error_type == "CallTimeout" and result.tests[1].error_type == "NotRun"
    assert result.wall_s < 5


def test_catching_the_timeout_and_answering_late_is_still_a_timeout(sandbox):
    code = """
    import time
    def f():
        try:
            time.sleep(0.7)
        except BaseException:
            pass
        time.sleep(0.3)
        return 1
    """
    result = run(sandbox, code, CallTests("f", ((),), expected=(1,), call_timeouts_s=(0.5,)), Limits(timeout_s=20.0))
    assert result.status is Status.FAILED and result.tests[0].error_type == "CallTimeout"


def test_an_honest_slow_call_times_out_and_later_calls_still_run(sandbox):
    code = "import time\ndef f(t):\n    time.sleep(t)\n    return t\n"
    result = run(sandbox, code, CallTests("f", ((0.0,), (5.0,), (0.0,)), call_timeouts_s=(1.0, 0.2, 1.0)))
    assert [t.passed for t in result.tests] == [True, False, True]
    assert result.status is Status.FAILED


def test_durations_come_from_the_parent(sandbox):
    code = """
    import os, time
    def f():
        os.write(4, b'{"k":"test","i":1,"dur":0.0,"vals":[2]}\\n')  # a forged, instant second call
        time.sleep(0.6)
        return 1
    """
    result = run(sandbox, code, CallTests("f", ((), ()), call_timeouts_s=(5.0, 5.0)))
    assert result.tests[0].duration_s >= 0.5


def test_a_thread_outliving_the_calls_does_not_outlive_the_job(sandbox):
    code = """
    import threading, time
    threading.Thread(target=lambda: time.sleep(300), daemon=False).start()
    def f():
        return 1
    """
    result = run(sandbox, code, CallTests("f", ((),)), Limits(timeout_s=2.0))
    assert result.status is Status.PASSED  # the job's process ends with its harness, threads and all
    assert result.wall_s < 1.5


# --- 3. (and issue 19.1) assert judging out of the candidate's reach ----------------------------

WRONG = "def f(x):\n    return [0]\n"
BROKEN = Status.RUNTIME_ERROR  # the patch broke the job's own evaluation of the candidate's side


@pytest.mark.parametrize(
    "patch, test, status",
    [
        # issue 19.1's two lines: the harness evaluated the asserts through the live builtins
        ("import builtins\nbuiltins.eval = lambda *a, **k: 0", "assert f(1) == [1]", BROKEN),
        ("import builtins\nbuiltins.compile = lambda *a, **k: compile('1', '', 'eval')", "assert f(1) == [1]", BROKEN),
        ("import builtins\nbuiltins.isinstance = lambda *a: True", "assert isinstance(f(1), str)", Status.FAILED),
        ("import builtins\nbuiltins.len = lambda x: 3", "assert len(f(1)) == 3", Status.FAILED),
        ("import builtins\nbuiltins.all = lambda x: True", "assert all([f(1) == 1])", Status.FAILED),
        ("def sorted(x, **k):\n    return [1, 2, 3]", "assert sorted(f(1)) == [1, 2, 3]", Status.FAILED),
        ("def set(x=()):\n    return {4, 5}", "assert set(f(1)) == set((4, 5))", Status.FAILED),
        ("def len(x):\n    return 3", "assert len(f(1)) == 3", Status.FAILED),
        ("import math\nmath.isclose = lambda *a, **k: True", "assert math.isclose(f(1)[0], 3.14, rel_tol=0.001)", Status.FAILED),
        ("import math\nclass M:\n    isclose = staticmethod(lambda *a, **k: True)\nmath = M()", "assert math.isclose(f(1)[0], 3.1)", Status.FAILED),
        ("import operator\noperator.eq = lambda a, b: True", "assert f(1) == [2]", Status.FAILED),
        ("import json\njson.JSONEncoder.encode = lambda self, o: '{\"k\":\"done\"}'", "assert f(1) == [2]", Status.FAILED),
        ("AssertionError = type('AssertionError', (Exception,), {})", "assert f(1) == [2]", Status.FAILED),
        ("int = str", "assert int(f(1)[0]) == 2", Status.FAILED),
        ("True, False = 1, 1" if False else "None = 0" if False else "x = 1", "assert f(1) is None", Status.FAILED),
    ],
)
def test_patched_or_shadowed_names_do_not_change_the_judging(sandbox, patch, test, status):
    result = run(sandbox, patch + "\n" + WRONG, AssertTests((test,)))
    assert result.status is status
    assert result.tests_passed == 0


def test_a_trace_hook_rewriting_the_harness_frames_passes_nothing(sandbox):
    code = """
    import sys
    def hook(frame, event, arg):
        for name in list(frame.f_locals):
            if name in ("value", "vals", "encoded", "chain"):
                try:
                    frame.f_locals[name] = 2
                except Exception:
                    pass
        return hook
    sys.settrace(hook)
    def f(x):
        return 0
    """
    result = run(sandbox, code, AssertTests(("assert f(1) == 2", "assert f(2) == 2")))
    assert result.status is Status.RUNTIME_ERROR and result.tests_passed == 0


def test_rewriting_the_harness_through_the_stack_and_main_passes_nothing(sandbox):
    code = """
    import sys, gc
    main = sys.modules["__main__"]
    for name in dir(main):
        if name.startswith("_") is False and callable(getattr(main, name)):
            try:
                setattr(main, name, lambda *a, **k: ["v", 0, 2])
            except Exception:
                pass
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "links" in obj and "root" in obj:
            obj["root"] = "2"
            obj["links"] = []
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, list):
                value.clear()
        frame = frame.f_back
    def f(x):
        return 0
    """
    result = run(sandbox, code, AssertTests(("assert f(1) == 2", "assert f(2) == 3")))
    assert result.status is Status.RUNTIME_ERROR and result.tests_passed == 0


@pytest.mark.parametrize(
    "forged",
    [
        b'{"k":"test","i":0,"vals":[]}',  # a comparison that carries no values
        b'{"k":"test","i":0}',  # no values, no error
        b'{"k":"test","i":0,"vals":[["v",0,2],["v",0,2]]}',  # a value too many
        b'{"k":"test","i":0,"vals":[["v",9,2]]}',  # a depth beyond the chain
        b'{"k":"test","i":0,"vals":[["b",true]]}',  # a truth value where the value is compared
        b'{"k":"test","i":0,"vals":[["ok",true]]}',  # the judge's own answer format
        b'{"k":"test","i":0,"passed":true}',
        b'{"k":"test","i":-1,"vals":[["v",0,2]]}',  # indexes that are not the test's
        b'{"k":"test","i":99999,"vals":[["v",0,2]]}',
    ],
)
def test_forged_reports_pass_nothing(sandbox, forged):
    code = f"""
    import os
    os.write(4, {forged!r} + b"\\n")
    os.write(4, b'{{"k":"loaded"}}\\n{{"k":"done","lines":[]}}\\n')
    os._exit(0)
    def f(x):
        return 0
    """
    result = run(sandbox, code, AssertTests(("assert f(1) == 2",)))
    assert result.status is Status.FAILED and result.tests_passed == 0


def test_forged_error_lines_are_dropped(sandbox):
    code = """
    import os
    os.write(4, b'{"k":"load_error","type":"ValueError","msg":"x","line":99999}\\n')
    os._exit(0)
    """
    result = run(sandbox, code, AssertTests(("assert True",)))
    assert (result.status, result.error_type, result.error_line) == (Status.RUNTIME_ERROR, "ValueError", None)


def test_a_lying_class_attribute_is_not_plain_data(sandbox):
    code = """
    class Fake:
        __class__ = int
        def __eq__(self, other):
            return True
        __hash__ = object.__hash__
    def f(x):
        return Fake()
    """
    result = run(sandbox, code, AssertTests(("assert f(1) == 2", "assert isinstance(f(1), int)")))
    assert result.status is Status.FAILED and result.tests_passed == 0


def test_a_list_subclass_is_read_as_the_list_it_is(sandbox):
    code = """
    class Liar(list):
        def __iter__(self):
            return iter([1, 2])
        def __eq__(self, other):
            return True
        __hash__ = None
    def f():
        return Liar([9])
    """
    result = run(sandbox, code, AssertTests(("assert f() == [1, 2]", "assert f() == [9]", "assert list(f()) == [9]")))
    assert [t.passed for t in result.tests] == [False, True, True]


def test_colliding_hashes_in_a_report_are_refused(sandbox):
    p = (1 << 61) - 1
    items = ",".join(str(1 + k * p) for k in range(20000))
    code = f"""
    import os
    def f(x):
        os.write(4, b'{{"k":"test","i":0,"vals":[["v",1,{{"S":[{items}]}}]]}}\\n')
        return 0
    """
    result = run(sandbox, code, AssertTests(("assert f(1) == {1}",)))
    # the forged line is dropped undecoded; the job's own report of f(1) then decides
    assert result.status is Status.FAILED and result.tests[0].value == (0, {1})


def test_generators_and_objects_are_judged_as_python_would(sandbox):
    code = """
    def gen(n):
        yield from range(n)
    class Stack:
        def __init__(self):
            self.items = []
        def push(self, x):
            self.items.append(x)
            return self
        def size(self):
            return len(self.items)
    import re
    def match(s):
        return re.match("a", s)
    """
    tests = (
        "assert list(gen(3)) == [0, 1, 2]",
        "assert Stack().push(1).push(2).size() == 2",
        "assert match('abc')",
        "assert not match('xbc')",
        "assert gen(3) == [0, 1, 2]",  # a generator is not a list
    )
    result = run(sandbox, code, AssertTests(tests))
    assert [t.passed for t in result.tests] == [True, True, True, True, False]


def test_expected_side_with_library_calls_is_judged_outside(sandbox):
    code = "import math\ndef area(r):\n    return math.pi * r * r\ndef tsize(t):\n    import sys\n    return sys.getsizeof(t)\n"
    tests = (
        "assert math.isclose(area(1), 3.14159, rel_tol=0.001)",
        "assert math.isclose(area(1), 3.0, rel_tol=0.001)",
        "assert tsize((1, 2)) == sys.getsizeof((1, 2))",
    )
    result = run(sandbox, code, AssertTests(tests))
    assert [t.passed for t in result.tests] == [True, False, True]


def test_an_unsplittable_test_runs_alone_and_cannot_touch_the_others(sandbox):
    code = """
    import builtins
    builtins.all = lambda x: True
    def f(x):
        return 0
    """
    tests = ("assert all(f(i) == i for i in range(3))", "assert f(1) == 1")
    result = run(sandbox, code, AssertTests(tests))
    # the first runs alone with the candidate (which owns that process); the second is split
    assert [t.passed for t in result.tests] == [True, False]
    assert result.status is Status.FAILED


# --- 4. channels between jobs and after the evaluation -------------------------------------------

SYSCALL = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(*args):
    result = libc.syscall(*args)
    return [result, ctypes.get_errno()] if result == -1 else [result, 0]
"""
EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97


@pytest.mark.parametrize(
    "name, args, err",
    [
        ("shmget", "29, 0x1234, 1 << 30, 0o1600", EPERM),  # 1 GiB of SysV memory past RLIMIT_AS
        ("msgget", "68, 0x1234, 0o1600", EPERM),
        ("semget", "64, 0x1234, 1, 0o1600", EPERM),
        ("mq_open", "240, b'/execrl', 0o100 | 2, 0o600, None", EPERM),
        ("add_key", "248, b'user', b'execrl', b'secret', 6, -4", EPERM),
        ("keyctl", "250, 0, -4, 1", EPERM),
        ("request_key", "249, b'user', b'execrl', None, 0", EPERM),
        ("unshare user", "272, 0x10000000", EPERM),
        ("unshare ipc", "272, 0x08000000", EPERM),  # allowed by the filter for the worker, not the job's to use
        ("clone newuser", "56, 0x10000000 | 17, 0, 0, 0, 0", EPERM),
        ("clone3", "435, 0, 0", ENOSYS),
        ("setns", "308, 0, 0", EPERM),
        ("ptrace", "101, 0, 0, 0, 0", EPERM),
        ("process_vm_readv", "310, 1, 0, 0, 0, 0, 0", EPERM),
        ("mount", "165, b'none', b'/tmp', b'tmpfs', 0, 0", EPERM),
        ("bpf", "321, 0, 0, 0", EPERM),
        ("perf_event_open", "298, 0, 0, -1, -1, 0", EPERM),
        ("userfaultfd", "323, 0", EPERM),
        ("io_uring_setup", "425, 8, 0", EPERM),
        ("socket vsock", "41, 40, 1, 0", EAFNOSUPPORT),
        ("socket packet", "41, 17, 3, 0", EAFNOSUPPORT),
        ("kcmp", "312, 1, 1, 0, 0, 0", EPERM),
        ("personality", "135, 0x0040000", EPERM),
    ],
)
def test_denied_system_calls(sandbox, name, args, err):
    assert value(sandbox, SYSCALL + f"def f():\n    return call({args})\n") == [-1, err]


def test_allowed_system_calls_still_work(sandbox):
    code = SYSCALL + """
import socket, threading, concurrent.futures, subprocess
def f():
    a, b = socket.socketpair()
    a.sendall(b"x")
    t = threading.Thread(target=lambda: None)
    t.start(); t.join()
    with concurrent.futures.ThreadPoolExecutor(2) as p:
        squares = list(p.map(lambda x: x * x, [1, 2, 3]))
    out = subprocess.run(["echo", "hi"], capture_output=True, text=True).stdout
    return [b.recv(1).decode(), squares, out]
"""
    assert value(sandbox, code) == ["x", [1, 4, 9], "hi\n"]


def test_a_32_bit_system_call_kills_the_job(sandbox):
    code = SYSCALL + "call(0x40000000 + 39)\n"  # getpid through the x32 ABI
    result = run(sandbox, code)
    assert (result.status, result.error_type) == (Status.CRASHED, "SIGSYS")


def test_each_job_has_its_own_user_id(single):
    if not ROOT:
        pytest.skip("per-job user ids need root")
    uids = [value(single, "import os\ndef f():\n    return os.getuid()\n") for _ in range(3)]
    assert len(set(uids)) == 3 and all(uid in single.job_uids for uid in uids)


def test_without_the_filter_each_job_has_its_own_ipc_namespace(monkeypatch):
    if not ROOT:
        pytest.skip("an IPC namespace per job needs root")
    monkeypatch.setattr(isolation_module, "seccomp_program", lambda: None)
    monkeypatch.setattr(pool_module, "seccomp_program", lambda: None)
    monkeypatch.setattr(pool_module, "_warned", {"seccomp"})
    before = HostState()
    with Sandbox(workers=1) as sb:
        assert not sb.seccomp
        make = SYSCALL + "def f():\n    return call(29, 0x5eed, 4096, 0o1666)[0] >= 0\n"
        find = SYSCALL + "def f():\n    return call(29, 0x5eed, 4096, 0o666)\n"
        assert value(sb, make) is True
        assert value(sb, find) == [-1, 2]  # ENOENT: the earlier job's segment died with its namespace
        before.check(sb)


def test_no_place_outside_its_directory_is_writable(sandbox):
    code = """
    import os
    def f():
        out = []
        for d in ("/tmp", "/dev/shm", "/dev", "/var/tmp", "/root", "/home", "/proc/sys"):
            try:
                with open(os.path.join(d, "execrl-probe"), "w") as h:
                    h.write("x")
                out.append("wrote")
            except OSError as exc:
                out.append(type(exc).__name__)
        return out
    """
    assert set(value(sandbox, code)) <= {"PermissionError", "OSError", "FileNotFoundError"}


def test_the_system_is_mounted_read_only(sandbox):
    code = "import os\ndef f():\n    return [bool(os.statvfs(p).f_flag & os.ST_RDONLY) for p in ('/', '/usr', '/etc')]\n"
    assert value(sandbox, code) == [True, True, True]


def test_files_of_an_earlier_job_are_gone(single):
    code = """
    import os
    os.makedirs("a/b/c", exist_ok=True)
    open("a/b/c/note", "w").write("x")
    def f():
        return os.getcwd()
    """
    first = value(single, code)
    second = value(single, f"import os\ndef f():\n    return os.path.exists({first!r} + '/a')\n")
    assert second is False


def test_a_background_socket_server_dies_with_its_job(single):
    code = """
    import os, socket, time
    if os.fork() == 0:
        os.setsid()
        s = socket.socket(socket.AF_UNIX)
        s.bind("\\0execrl-leftover")
        s.listen(1)
        time.sleep(300)
    time.sleep(0.2)
    def f():
        return 1
    """
    assert value(single, code) == 1
    probe = """
    import socket
    def f():
        try:
            socket.socket(socket.AF_UNIX).connect("\\0execrl-leftover")
            return "connected"
        except OSError as exc:
            return type(exc).__name__
    """
    assert value(single, probe) == "ConnectionRefusedError"


def test_host_processes_are_invisible(sandbox):
    code = """
    import os
    def f():
        names = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    names.append(open(f"/proc/{entry}/cmdline", "rb").read().decode(errors="replace"))
                except OSError:
                    pass
        return [any("pytest" in n for n in names), len(names) < 20]
    """
    assert value(sandbox, code) == [False, True]


def test_the_worker_keeps_only_the_capabilities_it_needs(sandbox):
    code = """
    import os
    def f():
        for line in open(f"/proc/{os.getppid()}/status"):
            if line.startswith("CapEff"):
                return int(line.split()[1], 16)
    """
    if not ROOT:
        pytest.skip("capabilities are kept only when running as root")
    kept = (1 << 6) | (1 << 7) | (1 << 5) | (1 << 0) | (1 << 1) | (1 << 3) | (1 << 21)  # setgid setuid kill chown dac fowner sys_admin
    assert value(sandbox, code) == kept


def test_no_core_dumps(sandbox):
    code = """
    import resource
    def f():
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, 1 << 20))
            raised = "raised"
        except (ValueError, OSError):
            raised = "refused"
        return [list(resource.getrlimit(resource.RLIMIT_CORE)), raised]
    """
    assert value(sandbox, code) == [[0, 0], "refused"]


def test_abort_is_a_crash(sandbox):
    result = run(sandbox, "import os\nos.abort()\n")
    assert (result.status, result.error_type) == (Status.CRASHED, "SIGABRT")


# --- 5. one bad job never breaks a slot ---------------------------------------------------------

DEEP_TREE = """
import os
for _ in range({depth}):
    os.mkdir("d" * 200)
    os.chdir("d" * 200)
for i in range(50):
    open("f%d" % i, "w").close()
os.symlink("/etc/passwd", "link")
os.mkfifo("fifo")
{extra}
def f():
    return 1
"""


@pytest.mark.parametrize("extra", ["", "os.chmod('.', 0)"])
def test_a_very_deep_directory_tree_is_removed_and_the_slot_lives(single, extra):
    code = DEEP_TREE.format(depth=3000, extra=extra)
    value(single, "def f():\n    return 0\n")
    worker = single._workers[0]
    assert value(single, code, Limits(timeout_s=60.0)) == 1
    assert Path("/etc/passwd").exists()
    assert value(single, "def f():\n    return 2\n") == 2
    # removed by the worker itself: it did not have to be replaced to get a clean slot
    assert single._workers[0] is worker


def test_a_deep_tree_without_bubblewrap_is_removed_too():
    with Sandbox(workers=1, isolation="rlimits") as sb:
        scratch = sb._workers[0] if sb._workers[0] else None
        assert value(sb, DEEP_TREE.format(depth=1500, extra=""), Limits(timeout_s=60.0)) == 1
        scratch = sb._workers[0].launch.scratch
        assert os.listdir(scratch) == []  # the job's directory is gone
        assert value(sb, "def f():\n    return 2\n") == 2
    assert not os.path.exists(scratch)


def test_many_files_are_removed(single):
    code = "for i in range(20000):\n    open('f%d' % i, 'w').close()\ndef f():\n    return 1\n"
    assert value(single, code, Limits(timeout_s=60.0)) == 1


# --- 6. the parent's memory ---------------------------------------------------------------------


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_report_of_many_small_containers_is_refused_before_decoding(sandbox):
    code = """
    import os
    def f(x):
        chunk = b'{"k":"test","i":0,"vals":[["v",1,' + b'{"L":[' + b'{"L":[]},' * 100000 + b'{"L":[]}]}' + b']]}\\n'
        for _ in range(60):
            os.write(4, chunk)
        return 0
    """
    before = _rss_mb()
    result = run(sandbox, code, AssertTests(("assert f(1) == []",)), Limits(timeout_s=30.0, result_mb=64))
    assert result.status is Status.OUTPUT_EXCEEDED
    assert _rss_mb() - before < 100


def test_endless_empty_lines_are_cut(sandbox):
    code = "import os\ndef f():\n    while True:\n        os.write(4, b'\\n' * 65536)\n"
    result = run(sandbox, code, CallTests("f", ((),)), Limits(timeout_s=30.0))
    assert result.status is Status.OUTPUT_EXCEEDED


def test_a_huge_value_is_cut(sandbox):
    code = "def f():\n    return 'x' * (200 << 20)\n"
    result = run(sandbox, code, CallTests("f", ((),)), Limits(timeout_s=30.0, memory_mb=2048, result_mb=64))
    assert result.status is Status.OUTPUT_EXCEEDED


def test_results_can_be_judged_as_they_finish(sandbox):
    jobs = [Job(f"def f():\n    return 'v' * {n}\n", CallTests("f", ((),))) for n in (5, 1, 3)]
    seen = []
    lengths = sandbox.run(jobs, reduce=lambda i, r: seen.append(i) or len(r.tests[0].value))
    assert lengths == [5, 1, 3] and sorted(seen) == [0, 1, 2]


# --- 7. rlimits mode as root with Python where other users cannot go ----------------------------


def test_rlimits_mode_imports_what_is_not_preloaded():
    with Sandbox(workers=1, isolation="rlimits") as sb:
        code = "import socket, threading, email.mime.text, concurrent.futures, sqlite3\ndef f():\n    return 1\n"
        assert value(sb, code) == 1
        # and the job still cannot read what the server opened for it beyond Python
        code = "def f():\n    try:\n        open('/root/.bashrc').read()\n        return 'read'\n    except OSError as exc:\n        return type(exc).__name__\n"
        if ROOT:
            assert value(sb, code) in ("PermissionError", "FileNotFoundError")
        assert resource.getrlimit(resource.RLIMIT_NOFILE)  # the parent's own limits are untouched
