"""Original MBPP: the three asserts (and the challenge asserts, separately) in the sandbox."""

from __future__ import annotations

import json

import pytest

from execrl.eval.mbpp import evaluate_mbpp
from execrl.tasks import load_mbpp


@pytest.fixture(scope="module")
def tasks(data_dir):
    return {t.task_id: t for t in load_mbpp(data_dir, download=False)}


@pytest.fixture(scope="module")
def run(data_dir, sandbox):
    def evaluate(samples, **kwargs):
        return evaluate_mbpp(samples, data_dir=data_dir, sandbox=sandbox, progress=False, **kwargs)

    return evaluate


def test_reference_solutions_pass(run, tasks) -> None:
    with_challenge = next(t for t in tasks.values() if t.challenge_asserts)
    plain = next(t for t in tasks.values() if not t.challenge_asserts)
    ids = [plain.task_id, with_challenge.task_id]
    report = run([{"task_id": i, "solution": tasks[i].canonical_solution} for i in ids])
    assert all(r.passed for rs in report.results.values() for r in rs)
    assert report.results[with_challenge.task_id][0].challenge.status == "pass"
    assert report.results[plain.task_id][0].challenge is None
    assert report.pass_at_k()["tests"] == {"pass@1": 1.0}
    assert report.pass_at_k()["challenge"] == {"pass@1": 1.0}


def test_setup_code_runs_before_the_tests(run, tasks) -> None:
    task = next(t for t in tasks.values() if t.test_setup)
    report = run([{"task_id": task.task_id, "solution": task.canonical_solution}])
    assert report.results[task.task_id][0].passed


def test_failing_asserts_are_named(run, tasks) -> None:
    wrong = "def remove_Occ(s, ch):\n    return s\n"
    report = run([{"task_id": 11, "solution": wrong}, {"task_id": "11", "completion": wrong}])
    for result in report.results["Mbpp/11"]:
        assert result.tests.status == "fail"
        assert result.tests.fail_tests == tasks["Mbpp/11"].test_asserts


def test_always_equal_object_fails(run) -> None:
    cheat = (
        "class A:\n    def __eq__(self, o):\n        return True\ndef remove_Occ(s, ch):\n    return A()\n"
    )
    assert not run([{"task_id": "Mbpp/11", "solution": cheat}]).results["Mbpp/11"][0].passed


def test_hang_is_a_timeout(run) -> None:
    report = run([{"task_id": "Mbpp/11", "solution": "while True:\n    pass\n"}], timeout_s=1.0)
    assert report.results["Mbpp/11"][0].tests.status == "timeout"


def test_report_json_and_bad_samples(run, tasks) -> None:
    solution = tasks["Mbpp/12"].canonical_solution
    report = run([{"task_id": "Mbpp/12", "solution": solution}, {"task_id": "Mbpp/5000", "solution": ""}])
    data = json.loads(json.dumps(report.to_json()))
    assert data["dataset"] == "mbpp"
    (record,) = data["eval"]["Mbpp/12"]
    assert record["status"] == "pass" and record["fail_tests"] == [] and record["challenge_status"] is None
    assert data["summary"]["tests"] == {"pass@1": 1.0}
    assert data["problems"] == ["sample 2: unknown mbpp task id 'Mbpp/5000'; the sample was skipped"]


def test_sanitized_variant(run, data_dir) -> None:
    from execrl.tasks import load_sanitized_mbpp

    task = next(t for t in load_sanitized_mbpp(data_dir, download=False) if t.test_setup)
    report = run([{"task_id": task.task_id, "solution": task.canonical_solution}], sanitized=True)
    assert report.dataset == "sanitized-mbpp"
    assert report.results[task.task_id][0].passed
