"""The host-call channel: a job's service stays in the parent, and the job can only ask it things."""

from __future__ import annotations

import pytest

from execrl.sandbox import CallTests, Job, Limits, Sandbox, Status


class Recorder:
    """A service that keeps every request and answers with how many it has seen."""

    def __init__(self) -> None:
        self.requests: list = []

    def __call__(self, request):
        self.requests.append(request)
        return {"n": len(self.requests), "echo": request}


PRELUDE = "def ask(x):\n    return _execrl_host_call(x)\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2) as sb:
        yield sb


FIVE_S = Limits(timeout_s=5.0)


def run(sandbox, code, service, inputs=((),), limits=FIVE_S):
    [result] = sandbox.run([Job(code, CallTests("f", inputs), limits, prelude=PRELUDE, service=service)])
    return result


def test_calls_reach_the_service_and_its_state_is_the_callers(sandbox):
    service = Recorder()
    result = run(sandbox, "def f():\n    return [ask((1, 'a')), ask({'k': [2.5]})['n']]\n", service)
    assert result.status is Status.PASSED
    assert result.tests[0].value == [{"n": 1, "echo": (1, "a")}, 2]
    assert result.service is service and service.requests == [(1, "a"), {"k": [2.5]}]


def test_each_job_has_its_own_service(sandbox):
    services = [Recorder() for _ in range(6)]
    jobs = [
        Job(f"def f():\n    return ask({i})\n", CallTests("f", ((),)), prelude=PRELUDE, service=s)
        for i, s in enumerate(services)
    ]
    results = sandbox.run(jobs)
    assert [s.requests for s in services] == [[i] for i in range(6)]
    assert [r.tests[0].value["n"] for r in results] == [1] * 6


def test_a_failing_service_raises_in_the_job_only(sandbox):
    def broken(request):
        raise ValueError("no such room")

    code = "def f():\n    try:\n        ask(1)\n    except HostCallError as exc:\n        return str(exc)\n"
    result = run(sandbox, code, broken)
    assert result.status is Status.PASSED
    assert result.tests[0].value == "ValueError: no such room"


def test_garbage_on_the_channel_is_refused_and_harms_nothing(sandbox):
    service = Recorder()
    code = """
import os
def f():
    os.write(4, b'{"k":"call","req":{"S":[[1]]}}\\n')        # unhashable: not plain data
    first = os.read(3, 1000)
    os.write(4, b'{"k":"call","req":' + b'[' * 5000 + b'\\n')  # not even JSON
    second = os.read(3, 1000)
    return [first.decode(), second.decode(), ask("after")["n"]]
"""
    result = run(sandbox, code, service)
    assert result.status is Status.PASSED
    first, second, n = result.tests[0].value
    assert "not plain data" in first and "not plain data" in second
    assert n == 1 and service.requests == ["after"]  # the service only ever saw the honest request
    assert run(sandbox, "def f():\n    return ask(3)['echo']\n", Recorder()).tests[0].value == 3


def test_huge_request_is_refused_without_reaching_the_service(sandbox):
    service = Recorder()
    code = "def f():\n    try:\n        ask('x' * 3000)\n    except HostCallError as exc:\n        return str(exc)\n"
    result = run(sandbox, code, service, limits=Limits(timeout_s=5.0, host_call_bytes=1000))
    assert result.status is Status.PASSED
    assert "more than 1000 bytes" in result.tests[0].value and service.requests == []


def test_endless_requests_stop_at_the_limit(sandbox):
    service = Recorder()
    code = """
def f():
    n = 0
    while True:
        try:
            ask(n)
        except HostCallError as exc:
            return [n, str(exc)]
        n += 1
"""
    result = run(sandbox, code, service, limits=Limits(timeout_s=10.0, max_host_calls=200))
    assert result.status is Status.PASSED
    assert result.tests[0].value == [200, "more than 200 host calls"]
    assert len(service.requests) == 200


def test_unread_replies_fail_only_that_job(sandbox):
    service = Recorder()
    code = """
import os
def f():
    while True:
        os.write(4, b'{"k":"call","req":"' + b'y' * 50000 + b'"}\\n')
"""
    result = run(sandbox, code, service, limits=Limits(timeout_s=20.0))
    assert result.status is Status.OUTPUT_EXCEEDED
    assert run(sandbox, "def f():\n    return ask(1)['n']\n", Recorder()).tests[0].value == 1


def test_channel_cannot_forge_a_result(sandbox):
    # A reply is only ever read by the job itself; lines that look like results on the channel do
    # not become results, and a service's answer is not a test's value unless the job returns it.
    service = Recorder()
    code = """
import os
def f():
    os.write(4, b'{"k":"call","req":"x"}\\n')
    os.write(4, b'{"k":"test","i":0,"vals":[42]}\\n')
    return 7
"""
    [result] = sandbox.run(
        [Job(code, CallTests("f", ((),), expected=(7,)), prelude=PRELUDE, service=service)]
    )
    assert (
        result.tests[0].value == 42 and not result.passed
    )  # the first message for a test counts: its own forgery
    [result] = sandbox.run(
        [
            Job(
                "def f():\n    return ask(0)['n']\n",
                CallTests("f", ((),), expected=(2,)),
                prelude=PRELUDE,
                service=Recorder(),
            )
        ]
    )
    assert result.status is Status.FAILED  # a fresh service for a fresh job: no state from the job before


def test_without_a_service_there_is_no_channel(sandbox):
    [result] = sandbox.run([Job("def f():\n    return _execrl_host_call(1)\n", CallTests("f", ((),)))])
    assert result.tests[0].error_type == "NameError"
