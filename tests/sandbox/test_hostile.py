"""Hostile programs: each gets one exact verdict, and the host and the pool are unharmed afterwards
(checked after every test by the autouse fixture: no process, IPC object, key or host file left, and
the pool still passes a correct program)."""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from execrl.sandbox import AssertTests, CallTests, Job, Limits, Sandbox, Status

from sandbox_host import HostState, unharmed  # noqa: F401 - unharmed: an autouse fixture

FAST = Limits(timeout_s=2.0)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


def run(sandbox: Sandbox, code: str | bytes, tests=None, limits: Limits = FAST, **kw):
    if isinstance(code, str):
        code = textwrap.dedent(code)
    [result] = sandbox.run([Job(code, tests, limits, **kw)])
    return result


def assert_healthy(sandbox: Sandbox) -> None:
    """Kept for the tests' readability; the autouse fixture checks the host and the pool after each test."""


# --- runaway time ------------------------------------------------------------------------------


def test_infinite_loop_times_out(sandbox):
    result = run(sandbox, "while True:\n    pass\n", limits=Limits(timeout_s=1.0))
    assert result.status is Status.TIMEOUT
    assert result.wall_s < 5
    assert_healthy(sandbox)


def test_loop_that_swallows_every_exception_times_out(sandbox):
    code = """
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
    """
    assert run(sandbox, code, limits=Limits(timeout_s=1.0)).status is Status.TIMEOUT
    assert_healthy(sandbox)


def test_ignoring_alarm_and_term_does_not_help(sandbox):
    code = """
    import signal
    for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):
        signal.signal(s, signal.SIG_IGN)
    while True:
        pass
    """
    assert run(sandbox, code, limits=Limits(timeout_s=1.0)).status is Status.TIMEOUT
    assert_healthy(sandbox)


def test_sleep_past_timeout(sandbox):
    start = time.monotonic()
    result = run(sandbox, "import time\ntime.sleep(60)\n", limits=Limits(timeout_s=1.0))
    assert result.status is Status.TIMEOUT
    assert time.monotonic() - start < 10
    assert_healthy(sandbox)


def test_cpu_limit_below_wall_timeout(sandbox):
    result = run(sandbox, "while True:\n    pass\n", limits=Limits(timeout_s=20.0, cpu_s=1.0))
    assert result.status is Status.TIMEOUT
    assert result.wall_s < 10


def test_very_slow_import(sandbox):
    code = """
    import sys
    sys.path.insert(0, ".")
    with open("slowmod.py", "w") as f:
        f.write("import time\\ntime.sleep(30)\\n")
    import slowmod
    """
    result = run(sandbox, code, limits=Limits(timeout_s=1.0))
    assert result.status is Status.TIMEOUT
    assert result.wall_s < 5
    assert_healthy(sandbox)


# --- processes ---------------------------------------------------------------------------------


def test_fork_bomb(sandbox):
    # Children hold their process slot; the process limit (per job user id) stops the bomb at exactly
    # max_processes processes of the job, the job's own included.
    code = """
    import os, time
    n = 0
    while n < 500:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(100)
            os._exit(0)
        n += 1
    def f():
        return n
    """
    result = run(sandbox, code, CallTests("f", ((),)), limits=Limits(timeout_s=10.0, max_processes=16))
    assert result.status is Status.PASSED
    if os.geteuid() == 0:
        assert result.tests[0].value == 15


def test_thread_bomb(sandbox):
    code = """
    import threading, time
    threads = []
    while True:
        t = threading.Thread(target=time.sleep, args=(100,))
        t.start()
        threads.append(t)
    """
    result = run(sandbox, code, limits=Limits(timeout_s=3.0, max_processes=16))
    assert result.status is Status.RUNTIME_ERROR
    assert (result.error_type, result.error_message) == ("RuntimeError", "can't start new thread")


def test_background_process_outliving_the_job_is_killed(sandbox, tmp_path):
    code = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(300)
        os._exit(0)
    def f():
        return 1
    """
    result = run(sandbox, code, AssertTests(("assert f() == 1",)))
    assert result.status is Status.PASSED
    assert_healthy(sandbox)


def test_subprocess_sleep_is_killed(sandbox):
    code = """
    import subprocess
    subprocess.Popen(["sleep", "300"], start_new_session=True)
    """
    result = run(sandbox, code)
    assert result.status is Status.PASSED
    assert_healthy(sandbox)


def test_killing_the_parent_fails_and_harms_nothing(sandbox):
    code = f"""
    import os, signal
    errors = 0
    for target in (os.getppid(), 1, {os.getpid()}):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            errors += 1
    def f():
        return errors
    """
    result = run(sandbox, code, CallTests("f", ((),)))
    assert result.status is Status.PASSED
    if os.geteuid() == 0:
        assert result.tests[0].value == 3
    assert_healthy(sandbox)


def test_kill_everything_it_can(sandbox):
    # kill(-1) reaches every process the job may signal, which is only its own (never itself).
    result = run(sandbox, "import os, signal\nos.kill(-1, signal.SIGKILL)\n")
    assert result.status is Status.PASSED
    assert_healthy(sandbox)


def test_ctypes_segfault(sandbox):
    result = run(sandbox, "import ctypes\nctypes.string_at(0)\n")
    assert result.status is Status.CRASHED
    assert result.error_type == "SIGSEGV"
    assert_healthy(sandbox)


def test_unbounded_recursion_with_raised_limit_crashes_cleanly(sandbox):
    code = """
    import sys
    sys.setrecursionlimit(10**8)
    def r(n):
        return r(n + 1) + 1
    r(0)
    """
    result = run(sandbox, code, limits=Limits(timeout_s=60.0, memory_mb=128))
    # CPython 3.11 raises SystemError when it cannot allocate a frame; later versions MemoryError
    assert result.status is Status.RUNTIME_ERROR
    assert result.error_type in ("SystemError", "MemoryError", "RecursionError")
    assert_healthy(sandbox)


def test_deep_recursion(sandbox):
    code = "def r(n):\n    return r(n + 1)\n"
    result = run(sandbox, code, AssertTests(("assert r(0) == 1",)))
    assert result.status is Status.RUNTIME_ERROR
    assert result.error_type == "RecursionError"
    assert result.error_line == 2


# --- memory and output -------------------------------------------------------------------------


def test_memory_bomb(sandbox):
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))\n"
    result = run(sandbox, code, limits=Limits(timeout_s=60.0, memory_mb=512))
    assert result.status is Status.MEMORY_EXCEEDED
    assert result.error_line == 3
    assert_healthy(sandbox)


def test_single_huge_allocation(sandbox):
    # 1 GiB fits in this machine's memory: only the address-space limit (256 MiB) refuses it.
    result = run(sandbox, "x = bytearray(2**30)\n", limits=Limits(memory_mb=256))
    assert result.status is Status.MEMORY_EXCEEDED
    assert result.error_line == 1


def test_stdout_flood(sandbox):
    code = "while True:\n    print('x' * 10000)\n"
    result = run(sandbox, code, limits=Limits(timeout_s=5.0, file_size_mb=2, output_capture_bytes=100))
    assert result.status is Status.OUTPUT_EXCEEDED
    assert len(result.stdout) <= 100
    assert_healthy(sandbox)


def test_stderr_flood(sandbox):
    code = "import sys\nwhile True:\n    sys.stderr.write('y' * 10000)\n"
    result = run(sandbox, code, limits=Limits(timeout_s=5.0, file_size_mb=2))
    assert result.status is Status.OUTPUT_EXCEEDED


def test_huge_file_write(sandbox):
    code = """
    with open("big.bin", "wb") as f:
        while True:
            f.write(b"z" * 2**20)
    """
    result = run(sandbox, code, limits=Limits(timeout_s=5.0, file_size_mb=4))
    assert result.status is Status.OUTPUT_EXCEEDED
    assert_healthy(sandbox)


def test_too_many_open_files(sandbox):
    code = "files = [open('f%d' % i, 'w') for i in range(10000)]\n"
    result = run(sandbox, code, limits=Limits(max_open_files=32))
    assert result.status is Status.RUNTIME_ERROR
    assert result.error_type == "OSError"


# --- file system and network --------------------------------------------------------------------


def test_write_and_delete_outside_its_directory(sandbox, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = Path("/tmp") / f"execrl-escape-{uuid.uuid4().hex}"
    code = f"""
    import os
    done = []
    for action in (lambda: open({str(target)!r}, "w").write("x"),
                   lambda: os.remove({str(victim)!r}),
                   lambda: open("/etc/passwd", "a").write("evil"),
                   lambda: os.mkdir("/escape")):
        try:
            action()
            done.append(True)
        except OSError:
            done.append(False)
    def f():
        return done
    """
    result = run(sandbox, code, CallTests("f", ((),)))
    assert result.status is Status.PASSED
    assert not target.exists()
    assert victim.read_text() == "keep me"
    assert "evil" not in Path("/etc/passwd").read_text()
    assert not Path("/escape").exists()
    if sandbox.namespaces:
        # /tmp is private: the write "succeeds" only inside the sandbox, if at all; the rest fail.
        assert result.tests[0].value[1:] == [False, False, False]


def test_own_directory_is_writable_and_removed_afterwards(sandbox):
    code = """
    import os
    with open("notes.txt", "w") as f:
        f.write("hello")
    def where():
        return os.getcwd(), open("notes.txt").read()
    """
    result = run(sandbox, code, CallTests("where", ((),)))
    assert result.status is Status.PASSED
    cwd, text = result.tests[0].value
    assert text == "hello"
    if not sandbox.namespaces:
        assert not Path(cwd).exists()


def test_reading_another_jobs_files(sandbox):
    writer = """
    import os
    with open("secret.txt", "w") as f:
        f.write("s3cret")
    def where():
        return os.path.abspath("secret.txt")
    """
    first = run(sandbox, writer, CallTests("where", ((),)))
    path = first.tests[0].value
    reader = f"""
    def peek():
        try:
            return open({path!r}).read()
        except OSError as exc:
            return type(exc).__name__
    """
    second = run(sandbox, reader, CallTests("peek", ((),)))
    assert second.status is Status.PASSED
    assert second.tests[0].value != "s3cret"


def test_host_files_are_hidden(sandbox):
    if not sandbox.namespaces:
        pytest.skip("file-system hiding needs bubblewrap")
    here = Path(__file__).resolve()
    code = f"""
    def peek():
        out = []
        for p in ({str(here)!r}, "/root/.bashrc", "/home"):
            try:
                out.append(len(open(p).read()))
            except OSError as exc:
                out.append(type(exc).__name__)
        return out
    """
    result = run(sandbox, code, CallTests("peek", ((),)))
    value = result.tests[0].value
    assert value[0] == "FileNotFoundError"
    assert value[1] == "FileNotFoundError"


def test_loopback_socket_to_the_host(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.1)
    port = server.getsockname()[1]
    accepted = []

    def accept():
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    code = f"""
    import socket
    def connect():
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"hi")
            return "connected"
        except OSError as exc:
            return type(exc).__name__
    """
    result = run(sandbox, code, CallTests("connect", ((),)))
    thread = threading.Thread(target=accept)
    thread.start()
    thread.join()
    server.close()
    assert sandbox.namespaces, "this test is about the network namespace"
    assert result.tests[0].value == "ConnectionRefusedError"
    assert accepted == []


def test_outside_network(sandbox):
    code = """
    import socket
    def connect():
        try:
            socket.create_connection(("192.0.2.1", 80), timeout=1)
            return "connected"
        except OSError as exc:
            return type(exc).__name__
    """
    result = run(sandbox, code, CallTests("connect", ((),)))
    assert result.tests[0].value != "connected"
    if sandbox.namespaces:
        assert result.tests[0].value == "OSError"  # ENETUNREACH: no route in an empty namespace


def test_cannot_become_root(sandbox):
    if os.geteuid() != 0:
        pytest.skip("per-job user ids need root")
    code = """
    import os
    def escalate():
        try:
            os.setuid(0)
            return "root"
        except PermissionError:
            return os.getuid()
    """
    result = run(sandbox, code, CallTests("escalate", ((),)))
    assert result.tests[0].value >= 1 << 30


# --- forged verdicts ---------------------------------------------------------------------------


def test_sys_exit_before_tests(sandbox):
    result = run(sandbox, "import sys\nsys.exit(0)\n", AssertTests(("assert False",)))
    assert result.status is Status.FAILED


def test_os_exit_before_tests(sandbox):
    result = run(sandbox, "import os\nos._exit(0)\n", AssertTests(("assert 1 == 2",)))
    assert result.status is Status.FAILED
    assert result.error_type == "EarlyExit"


def test_exit_inside_the_tested_function(sandbox):
    code = "import os\ndef f(x):\n    os._exit(0)\n"
    result = run(sandbox, code, AssertTests(("assert f(1) == 3",)))
    assert result.status is Status.FAILED


def test_always_equal_object(sandbox):
    code = """
    class Anything:
        def __eq__(self, other):
            return True
        __hash__ = object.__hash__
    def f(x):
        return Anything()
    """
    asserts = run(sandbox, code, AssertTests(("assert f(1) == 2", "assert 2 == f(1)")))
    assert asserts.status is Status.FAILED
    assert asserts.tests_passed == 0
    calls = run(sandbox, code, CallTests("f", ((1,),), expected=(2,)))
    assert calls.status is Status.FAILED


def test_int_subclass_with_lying_eq(sandbox):
    code = """
    class Liar(int):
        def __eq__(self, other):
            return True
        __hash__ = int.__hash__
    def f():
        return Liar(5)
    """
    result = run(sandbox, code, AssertTests(("assert f() == 6", "assert f() == 5")))
    assert [t.passed for t in result.tests] == [False, True]


def test_patched_builtins(sandbox):
    code = """
    import builtins
    builtins.isinstance = lambda *a: True
    builtins.len = lambda x: 3
    builtins.all = lambda x: True
    def f():
        return "not a number"
    """
    tests = AssertTests(("assert isinstance(f(), int)", "assert len(f()) == 3", "assert all([f() == 1])"))
    result = run(sandbox, code, tests)
    assert result.status is Status.FAILED
    assert result.tests_passed == 0


def test_patched_json_and_os_write(sandbox):
    code = """
    import json, os
    json.dumps = lambda *a, **k: '{"k": "done"}'
    json.loads = lambda *a, **k: {"k": "done"}
    def f():
        return 1
    """
    result = run(sandbox, code, AssertTests(("assert f() == 2",)))
    assert result.status is Status.FAILED
    assert result.tests[0].value == (1, 2)


def test_atexit_tricks(sandbox):
    code = """
    import atexit, os, sys
    atexit.register(lambda: print("passed"))
    atexit.register(lambda: os._exit(0))
    def f():
        return 0
    """
    result = run(sandbox, code, AssertTests(("assert f() == 1",)))
    assert result.status is Status.FAILED


def test_printing_fake_results(sandbox):
    code = """
    import sys
    print('{"k": "done", "lines": []}')
    print("ALL TESTS PASSED")
    sys.stderr.write('{"k": "test", "i": 0, "vals": [true]}\\n')
    def f():
        return False
    """
    result = run(sandbox, code, AssertTests(("assert f()",)))
    assert result.status is Status.FAILED
    assert "ALL TESTS PASSED" in result.stdout


def test_closing_the_result_pipe(sandbox):
    code = """
    import os
    for fd in range(3, 256):
        try:
            os.close(fd)
        except OSError:
            pass
    def f():
        return 1
    """
    result = run(sandbox, code, AssertTests(("assert f() == 1",)))
    assert result.status is Status.FAILED and result.error_type == "EarlyExit"


def test_hostile_exception_str(sandbox):
    code = """
    class Weird(Exception):
        def __str__(self):
            raise ValueError("no")
    raise Weird()
    """
    result = run(sandbox, code)
    assert result.status is Status.RUNTIME_ERROR
    assert result.error_type == "Weird"
    assert result.error_line == 5  # the dedented source starts with a blank line


# --- strange input ----------------------------------------------------------------------------


def test_input_reads_closed_stdin(sandbox):
    result = run(sandbox, "name = input()\n")
    assert result.status is Status.RUNTIME_ERROR
    assert result.error_type == "EOFError"
    assert result.error_line == 1


def test_null_bytes_in_source(sandbox):
    result = run(sandbox, "x = 1\0\n")
    assert result.status is Status.SYNTAX_ERROR


def test_invalid_utf8_in_source(sandbox):
    result = run(sandbox, b"def f():\n    return '\xff\xfe'\n")
    assert result.status is Status.SYNTAX_ERROR


def test_one_megabyte_line(sandbox):
    code = "S = '" + "a" * (1 << 20) + "'\ndef f():\n    return len(S)\n"
    result = run(sandbox, code, AssertTests(("assert f() == 2**20",)))
    assert result.status is Status.PASSED


def test_deeply_nested_expression(sandbox):
    code = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    result = run(sandbox, code)
    assert result.status is Status.SYNTAX_ERROR and "parenthes" in result.error_message
    assert_healthy(sandbox)


def test_unreturnable_value(sandbox):
    code = "def f():\n    return lambda: 1\n"
    result = run(sandbox, code, CallTests("f", ((),)))
    assert result.status is Status.FAILED
    assert result.tests[0].error_type == "UnsupportedValue"


def test_self_referencing_value(sandbox):
    code = "def f():\n    a = []\n    a.append(a)\n    return a\n"
    result = run(sandbox, code, CallTests("f", ((),)))
    assert result.status is Status.FAILED
    assert_healthy(sandbox)
