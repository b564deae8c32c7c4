"""The Ray sandbox backend on a local two-CPU Ray instance: the local pool's verdicts, in input order."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install ray) so its sandbox backend cannot run")

from execrl.errors import ExecrlError
from execrl.integrations.ray_sandbox import RaySandbox
from execrl.rewards.base import Candidate
from execrl.rewards.judges import tests as tests_kind
from execrl.sandbox import (
    AssertTests,
    CallTests,
    Job,
    Limits,
    Sandbox,
    SandboxBackend,
    Status,
    default_sandbox,
    set_default_sandbox,
)

FAST = Limits(timeout_s=1.5)
ADD = "def add(a, b):\n    return a + b\n"

JOBS = [
    Job(ADD, AssertTests(("assert add(1, 2) == 3", "assert add(2, 2) == 4")), FAST),  # passes
    Job(ADD, AssertTests(("assert add(1, 2) == 4",)), FAST),  # a failing comparison
    Job("def add(a, b)\n    return a + b\n", AssertTests(("assert add(1, 2) == 3",)), FAST),  # syntax error
    Job("while True:\n    pass\n", None, FAST),  # infinite loop
    Job("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", None,
        Limits(timeout_s=1.5, max_processes=16)),  # fork bomb
    Job("def f(x):\n    return 1 / x\n", CallTests("f", ((1,), (0,)), expected=(1.0, None)), FAST),  # raises
    Job("import sys\nsys.exit(3)\n", AssertTests(("assert True",)), FAST),  # exits before its tests
    Job("x = 'a' * (1 << 34)\n", None, Limits(timeout_s=1.5, memory_mb=256)),  # memory bomb
]


def verdict(result) -> tuple:
    return (
        result.status,
        tuple((t.index, t.passed, t.error_type) for t in result.tests),
        result.error_type,
        result.error_line,
    )


@pytest.fixture(scope="module")
def cluster():
    # Logical CPUs: room for the farm's two actors and a one-actor sandbox beside them (a replacement
    # actor takes the CPU its dead predecessor frees).
    ray.init(num_cpus=3, include_dashboard=False, object_store_memory=80 << 20, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def farm(cluster):
    with RaySandbox(actors=2, workers_per_actor=1) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def local_results():
    with Sandbox(workers=2) as sandbox:
        return sandbox.run(JOBS)


def test_ray_sandbox_is_a_sandbox_backend(farm):
    assert isinstance(farm, SandboxBackend)
    with Sandbox(workers=1) as local:
        assert isinstance(local, SandboxBackend)
        # each actor isolates its jobs exactly as a local pool on its node would (bubblewrap when it works)
        assert farm.namespaces() == [local.namespaces] * 2


def test_same_verdicts_as_the_local_pool_in_input_order(farm, local_results):
    results = farm.run(JOBS)
    assert [verdict(r) for r in results] == [verdict(r) for r in local_results]
    statuses = [r.status for r in results]
    assert statuses[:4] == [Status.PASSED, Status.FAILED, Status.SYNTAX_ERROR, Status.TIMEOUT]
    assert statuses[4] in (Status.TIMEOUT, Status.RUNTIME_ERROR)
    assert results[5].tests[1].error_type == "ZeroDivisionError"
    assert results[7].status is Status.MEMORY_EXCEEDED


def test_order_is_kept_across_many_small_chunks(farm):
    jobs = [Job(f"print({i})\n", None, FAST) for i in range(23)]
    results = farm.run(jobs)  # 23 jobs on 2 actors: chunks of 3
    assert [r.stdout.strip() for r in results] == [str(i) for i in range(23)]
    assert farm.run([]) == []


def test_a_dead_actors_chunk_is_retried_on_a_fresh_actor(cluster):
    with RaySandbox(actors=1, max_attempts=2) as sandbox:
        [dead] = sandbox.actors
        ray.kill(dead)
        results = sandbox.run(JOBS[:2])
        assert [r.status for r in results] == [Status.PASSED, Status.FAILED]
        assert sandbox.actors != [dead]


def test_a_chunk_that_keeps_losing_its_actor_is_reported_crashed_not_lost(cluster):
    with RaySandbox(actors=1, max_attempts=1, chunk_size=3) as sandbox:  # one chunk: all three jobs
        ray.kill(sandbox.actors[0])
        results = sandbox.run(JOBS[:3])
        assert len(results) == 3
        assert all(r.status is Status.CRASHED and r.error_type == "ActorDied" for r in results)
        # the replacement actor serves the next run
        assert [r.status for r in sandbox.run(JOBS[:1])] == [Status.PASSED]


def test_actors_that_cannot_start_are_an_error_not_a_hang(cluster):
    with pytest.raises(ExecrlError, match=r"1 actor\(s\) of 4 CPU\(s\) each did not start within 2 s"):
        RaySandbox(actors=1, workers_per_actor=4, start_timeout_s=2)  # the test cluster has 3 CPUs


def test_tests_judge_scores_the_same_through_ray(farm):
    judge = tests_kind.TestsJudge(tests_kind.TestsSettings(timeout_s=1.5, scoring="partial"))
    tests = ("assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0")
    responses = [
        f"```python\n{ADD}```",
        "```python\ndef add(a, b):\n    return a - b\n```",
        "```python\ndef add(a, b):\n    while True:\n        pass\n```",
        "```python\ndef add(a, b)\n    return a\n```",
    ]
    batch = [Candidate.from_response(r, tests=tests) for r in responses]
    local = judge(batch)
    previous = set_default_sandbox(farm)
    try:
        assert default_sandbox() is farm
        remote = judge(batch)
    finally:
        set_default_sandbox(previous)
    assert default_sandbox() is not farm
    assert [r.score for r in remote] == [r.score for r in local]
    assert [[(f.start, f.end, f.rule) for f in r.findings] for r in remote] == [
        [(f.start, f.end, f.rule) for f in r.findings] for r in local
    ]
    assert remote[0].score == 1.5 and remote[1].score == pytest.approx(1 / 3)
