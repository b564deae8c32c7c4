"""The sandbox's ordinary behaviour: verdicts, values, locations, tracing, ordering, recovery."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execrl.errors import ExecrlError
from execrl.sandbox import AssertTests, CallTests, Isolation, Job, Limits, Sandbox, SandboxUnavailable, Status
from execrl.sandbox import pool as pool_module
from execrl.sandbox.asserts import analyse_setup, plan_assert
from execrl.sandbox.worker import UnsupportedValue, decode_hook, encode_value


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


def one(sandbox, code, tests=None, **kw):
    return sandbox.run([Job(textwrap.dedent(code), tests, **kw)])[0]


# --- the value codec ---------------------------------------------------------------------------

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.complex_numbers(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
        | st.frozensets(st.integers() | st.text(max_size=3), max_size=4)
        | st.sets(st.integers(), max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(plain)
def test_codec_round_trip_keeps_types(value):
    import json

    assert same(json.loads(json.dumps(encode_value(value)), object_hook=decode_hook), value)


def same(a, b) -> bool:
    """Equal, and of the same types all the way down (a tuple stays a tuple, 1.0 stays a float)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def test_codec_rejects_objects_and_reads_subclasses_honestly():
    import json

    class Liar(tuple):
        def __iter__(self):
            return iter((9, 9))

    assert same(json.loads(json.dumps(encode_value(Liar((1, 2)))), object_hook=decode_hook), (1, 2))
    with pytest.raises(UnsupportedValue):
        encode_value(object())
    with pytest.raises(UnsupportedValue):
        encode_value(lambda: 1)


# --- assert planning ---------------------------------------------------------------------------


def test_assert_plans_split_the_candidate_side_from_the_rest():
    cmp = plan_assert("assert f(1) == [1, 2]")
    assert cmp.mode == "split" and [(c.root, c.links) for c in cmp.chains] == [("f", ("__execrl_t(1)",))]
    lib = plan_assert("assert math.isclose(area(5), 78.5, rel_tol=0.001)")
    assert [c.root for c in lib.chains] == ["area"] and lib.modules == ("math",)
    wrapped = plan_assert("assert set(f(x)) == set((4, 5))")
    assert [(c.root, c.context) for c in wrapped.chains] == [("f", "iter"), ("x", "")]
    assert plan_assert("assert not f(1)").chains[0].context == "bool"
    assert plan_assert("x = 1").mode == "isolated"
    assert plan_assert("assert all(f(i) == i for i in range(3))").mode == "isolated"
    assert plan_assert("assert list(map(f, [1])) == [2]").mode == "isolated"
    # builtins and the setup's names are the test's own, whatever the candidate defines
    assert plan_assert("assert len(f(K)) == 3", analyse_setup("K = 7")).chains[0].root == "f"


def test_every_benchmark_and_built_in_assert_splits():
    # Only split tests keep the judge out of the candidate's reach: the ones execrl judges all split.
    from execrl.data_dir import resolve_data_dir
    from execrl.tasks.builtin import generate_python_tasks
    from execrl.tasks.mbpp import load_mbpp, load_sanitized_mbpp

    try:
        resolve_data_dir(None)
        sets = [load_mbpp(None), load_sanitized_mbpp(None)]
    except Exception:  # noqa: BLE001 - no data directory here: the built-in tasks still count
        sets = []
    sets.append(generate_python_tasks(200))
    for tasks in sets:
        for task in tasks:
            setup = analyse_setup(task.test_setup)
            for statement in (*task.test_asserts, *(getattr(task, "challenge_asserts", ()) or ())):
                assert plan_assert(statement, setup).mode == "split", (task.task_id, statement)


# --- verdicts and values -----------------------------------------------------------------------


def test_passing_failing_and_values(sandbox):
    code = "def add(a, b):\n    return a + b\n"
    r = one(sandbox, code, AssertTests(("assert add(1, 2) == 3", "assert add('a', 'b') == 'ab'")))
    assert r.status is Status.PASSED and r.tests_passed == 2
    r = one(sandbox, code, AssertTests(("assert add(1, 2) == 3", "assert add(1, 1) == 3")))
    assert r.status is Status.FAILED
    assert [t.passed for t in r.tests] == [True, False]
    assert r.tests[1].value == (2, 3)
    r = one(sandbox, code, CallTests("add", ((1, 2), ((1,), (2,)), ({1}, {2}))))
    assert [t.value for t in r.tests] == [3, (1, 2), None]
    assert r.tests[2].error_type == "TypeError"
    assert r.status is Status.RUNTIME_ERROR


def test_numeric_semantics_are_pythons(sandbox):
    code = "def f():\n    return 3.0\n"
    r = one(sandbox, code, AssertTests(("assert f() == 3", "assert f() is not None", "assert f() in [3]")))
    assert r.status is Status.PASSED


def test_runtime_error_is_located_in_the_candidate(sandbox):
    code = """
    def helper(x):
        return 10 // x

    def f(x):
        return helper(x) + 1
    """
    r = one(sandbox, code, AssertTests(("assert f(5) == 3", "assert f(0) == 1")))
    assert r.status is Status.RUNTIME_ERROR
    assert r.error_type == "ZeroDivisionError"
    assert r.error_line == 3
    assert r.tests[1].error_line == 3 and r.tests[0].passed


def test_load_error_and_syntax_error_locations(sandbox):
    r = one(sandbox, "x = 1\ny = undefined_name\n")
    assert (r.status, r.error_type, r.error_line) == (Status.RUNTIME_ERROR, "NameError", 2)
    r = one(sandbox, "def f(:\n    pass\n")
    assert r.status is Status.SYNTAX_ERROR and r.error_line == 1 and r.error_column is not None


def test_prelude_runs_first_and_keeps_candidate_line_numbers(sandbox):
    prelude = "def api(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x\n"
    code = "def task():\n    return api(-1)\n"
    r = sandbox.run([Job(code, CallTests("task", ((),)), prelude=prelude)])[0]
    assert r.tests[0].error_type == "ValueError"
    assert r.tests[0].error_line == 2


def test_no_working_or_script_directory_on_the_workers_path(sandbox):
    # execrl/sandbox/types.py would shadow the standard library's `types` (Python 3.10 has no -P)
    code = "import sys, types\npath = [p for p in sys.path if p in ('', '.') or p.rstrip('/').endswith('sandbox')]\n"
    r = one(
        sandbox,
        code,
        AssertTests(("path == []", "types.__file__.endswith('/types.py')", "hasattr(types, 'CodeType')")),
    )
    assert r.status is Status.PASSED, r


def test_a_shared_prelude_starts_afresh_in_every_job(sandbox):
    # the worker compiles a prelude once; each job still runs it in a namespace of its own
    prelude = "seen = []\ndef api(x):\n    seen.append(x)\n    return len(seen)\n"
    jobs = [
        Job("def task(x):\n    return api(x)\n", CallTests("task", ((i,),)), prelude=prelude)
        for i in range(6)
    ]
    assert [r.tests[0].value for r in sandbox.run(jobs)] == [1] * 6
    broken = sandbox.run([Job("x = 1", AssertTests(("x == 1",)), prelude="def (")] * 2)
    assert [r.status for r in broken] == [Status.CRASHED] * 2
    assert all(r.error_type == "SyntaxError" for r in broken)


def test_unparsable_test_is_a_failed_test_not_an_exception(sandbox):
    r = one(sandbox, "def f():\n    return 1\n", AssertTests(("assert f( ==", "assert f() == 1")))
    assert r.status is Status.FAILED
    assert r.tests[0].error_type == "TestSyntaxError" and r.tests[1].passed


def test_missing_function(sandbox):
    r = one(sandbox, "def g():\n    return 1\n", CallTests("f", ((), ())))
    assert r.status is Status.FAILED
    assert all(t.error_type == "MissingFunction" for t in r.tests)


def test_expected_values_compared_in_parent(sandbox):
    r = one(
        sandbox,
        "def f(x):\n    return sorted(x)\n",
        CallTests("f", (([3, 1],), ([2],)), expected=([1, 3], [3])),
    )
    assert [t.passed for t in r.tests] == [True, False]


def test_per_call_time_limit(sandbox):
    code = "import time\ndef f(t):\n    time.sleep(t)\n    return t\n"
    r = one(sandbox, code, CallTests("f", ((0.0,), (5.0,), (0.0,)), call_timeouts_s=(1.0, 0.2, 1.0)))
    assert [t.passed for t in r.tests] == [True, False, True]
    assert r.tests[1].error_type == "CallTimeout"
    assert r.status is Status.FAILED


def test_state_persists_across_calls(sandbox):
    code = "calls = []\ndef f():\n    calls.append(1)\n    return len(calls)\n"
    r = one(sandbox, code, CallTests("f", ((), (), ())))
    assert [t.value for t in r.tests] == [1, 2, 3]


def test_setup_runs_before_tests(sandbox):
    r = one(sandbox, "def f(x):\n    return x\n", AssertTests(("assert f(K) == 7",), setup="K = 7"))
    assert r.status is Status.PASSED


def test_line_tracing(sandbox):
    code = """
    def f(x):
        if x > 0:
            return 1
        return -1

    def unused():
        return 0
    """
    r = one(sandbox, code, AssertTests(("assert f(1) == 1",)), trace_lines=True)
    assert r.status is Status.PASSED
    assert {3, 4} <= r.executed_lines
    assert 5 not in r.executed_lines and 9 not in r.executed_lines


def test_stdout_and_stderr_captured_and_capped(sandbox):
    code = "import sys\nprint('hello')\nsys.stderr.write('E' * 5000)\n"
    r = sandbox.run([Job(code, limits=Limits(output_capture_bytes=100))])[0]
    assert r.stdout == "hello\n"
    assert r.stderr == "E" * 100
    assert r.status is Status.PASSED


def test_environment_is_scrubbed(sandbox, monkeypatch):
    monkeypatch.setenv("EXECRL_SECRET_TOKEN", "xyz")
    with Sandbox(workers=1) as fresh:
        r = fresh.run(
            [Job("import os\ndef env():\n    return sorted(os.environ)\n", CallTests("env", ((),)))]
        )[0]
    assert "EXECRL_SECRET_TOKEN" not in r.tests[0].value
    assert "PATH" in r.tests[0].value


def test_results_in_input_order_and_slow_job_does_not_block(sandbox):
    slow = Job("import time\ndef f():\n    time.sleep(1.5)\n    return time.time()\n", CallTests("f", ((),)))
    quick = [
        Job(f"import time\ndef f():\n    return {i}, time.time()\n", CallTests("f", ((),))) for i in range(40)
    ]
    results = sandbox.run([slow, *quick])
    assert [r.tests[0].value[0] for r in results[1:]] == list(range(40))
    # The quick jobs all finished while the slow one, submitted first, was still sleeping.
    assert max(r.tests[0].value[1] for r in results[1:]) < results[0].tests[0].value


def test_dead_worker_is_replaced(sandbox):
    sandbox.run([Job("x = 1")] * 2)
    victim = next(w for w in sandbox._workers if w is not None)
    victim.proc.kill()
    victim.proc.wait()
    results = sandbox.run([Job("def f():\n    return 5\n", CallTests("f", ((),)))] * 4)
    assert all(r.status is Status.PASSED for r in results)


def test_bad_call_inputs_are_a_clear_error(sandbox):
    with pytest.raises(ExecrlError, match="picklable"):
        sandbox.run([Job("def f(x): return x", CallTests("f", ((lambda: 1,),)))])
    with pytest.raises(ExecrlError, match="one limit per input"):
        sandbox.run([Job("def f(): return 1", CallTests("f", ((),), call_timeouts_s=(1.0, 2.0)))])


# --- isolation modes ---------------------------------------------------------------------------


def test_without_bubblewrap_warns_once_and_still_limits(monkeypatch):
    monkeypatch.setattr(pool_module, "bubblewrap_path", lambda: None)
    monkeypatch.setattr(pool_module, "_warned", set())
    with pytest.warns(RuntimeWarning, match="WITHOUT network or file-system isolation"):
        sb = Sandbox(workers=1)
    with sb:
        assert not sb.namespaces
        r = sb.run([Job("while True:\n    pass\n", limits=Limits(timeout_s=1.0))])[0]
        assert r.status is Status.TIMEOUT
        r = sb.run([Job("def f():\n    return 2\n", AssertTests(("assert f() == 2",)))])[0]
        assert r.status is Status.PASSED
    with pytest.raises(SandboxUnavailable):
        Sandbox(workers=1, isolation=Isolation.NAMESPACES)


def test_rlimits_mode_asks_for_no_namespaces():
    with Sandbox(workers=1, isolation="rlimits") as sb:
        assert not sb.namespaces
        r = sb.run([Job("import os\nos._exit(0)\n", AssertTests(("assert True",)))])[0]
        assert r.status is Status.FAILED


def test_workers_survive_between_runs(sandbox):
    # Workers are started by long-lived threads: bubblewrap's parent-death signal follows the thread
    # that started it, so a worker started by a run's own thread would die when the run returns.
    sandbox.run([Job("x = 1")] * 4)
    before = {w.proc.pid for w in sandbox._workers if w is not None}
    sandbox.run([Job("x = 1")] * 4)
    after = {w.proc.pid for w in sandbox._workers if w is not None}
    assert before and before == after


def test_runs_from_several_threads_share_the_pool(sandbox):
    import threading

    outputs: dict[int, list] = {}

    def work(k: int) -> None:
        jobs = [Job(f"def f():\n    return {k * 100 + i}\n", CallTests("f", ((),))) for i in range(10)]
        outputs[k] = [r.tests[0].value for r in sandbox.run(jobs)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs == {k: [k * 100 + i for i in range(10)] for k in range(3)}


def test_every_worker_hashes_strings_alike():
    # Set iteration order follows string hashes: with a seed per worker, tuple(set(...)) differed
    # between workers, and so between the expected outputs and a candidate's.
    import subprocess
    import sys

    seeded = subprocess.run(
        [sys.executable, "-c", "print(hash('execrl'))"],
        env={"PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    jobs = [Job("def f():\n    return hash('execrl')\n", CallTests("f", ((),))) for _ in range(8)]
    with Sandbox(workers=2) as two_workers:
        values = {r.tests[0].value for r in two_workers.run(jobs)}
    assert values == {int(seeded.stdout)}


def test_a_call_measured_over_its_limit_is_a_timeout_whatever_the_job_reports():
    # The parent's clock decides: a result that arrived 0.5 s after the previous one, for a call
    # limited to 0.3 s, is a timeout even though the job reported a value (and claimed no time).
    from execrl.sandbox.runner import RawRun
    from execrl.sandbox.verdict import build_result

    job = Job("def f():\n    return 1\n", CallTests("f", ((), ()), expected=(1, 1), call_timeouts_s=(0.3, 0.3)))
    lines = [b'{"k":"loaded"}', b'{"k":"test","i":0,"dur":0,"vals":[1]}', b'{"k":"test","i":1,"dur":0,"vals":[1]}', b'{"k":"done","lines":[]}']
    run = RawRun(lines, [10.0, 10.1, 10.6, 10.6], started=9.9, status=0)
    run.first_arrival = {("loaded", -1): 10.0, ("test", 0): 10.1, ("test", 1): 10.6, ("done", -1): 10.6}
    result = build_result(job, None, run)
    assert [t.error_type for t in result.tests] == [None, "CallTimeout"]
    assert result.status is Status.FAILED
