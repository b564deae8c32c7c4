"""MBPP+ verdicts in the sandbox, on a few small tasks (expected outputs computed once per session)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from execrl.eval.mbppplus import evaluate_mbppplus
from execrl.eval.mbppplus_jobs import split_job, time_limits

TASKS = ["Mbpp/2", "Mbpp/124", "Mbpp/722", "Mbpp/737", "Mbpp/793", "Mbpp/581", "Mbpp/82"]


@pytest.fixture(scope="module")
def run(mbppplus, sandbox, expected_cache: Path):
    def evaluate(samples):
        return evaluate_mbppplus(
            samples, sandbox=sandbox, progress=False, cache_dir=expected_cache, dataset=mbppplus
        )

    return evaluate


def one(report, task_id: str = "Mbpp/2"):
    (result,) = report.results[task_id]
    return result


def test_canonical_solutions_pass_and_keep_order(run, mbppplus) -> None:
    samples = [{"task_id": t, "completion": mbppplus.tasks[t].canonical_solution} for t in TASKS]
    report = run(samples)
    assert list(report.results) == TASKS
    assert all(r.passed for rs in report.results.values() for r in rs)
    assert report.pass_at_k() == {"base": {"pass@1": 1.0}, "base+plus": {"pass@1": 1.0}}


def test_wrong_answer_fails_with_the_first_failing_input(run, mbppplus) -> None:
    result = one(run([{"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n    return 3\n"}]))
    assert (result.base.status, result.plus.status) == ("fail", "fail")
    assert result.base.fail_tests == (mbppplus.tasks["Mbpp/2"].base_inputs[0],)


def test_state_carries_within_a_split_but_not_between_splits(run, mbppplus) -> None:
    counter = (
        "calls = 0\n"
        "def similar_elements(a, b):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    return tuple(set(a) & set(b)) if calls <= 3 else None\n"
    )
    result = one(run([{"task_id": "Mbpp/2", "solution": counter}]))
    assert result.base.status == "pass"  # the 3 base inputs
    assert result.plus.status == "fail"
    assert result.plus.fail_tests == (mbppplus.tasks["Mbpp/2"].plus_inputs[3],)  # a fresh counter for plus


def test_an_object_equal_to_everything_fails(run) -> None:
    cheat = (
        "class Anything:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "def similar_elements(a, b):\n"
        "    return Anything()\n"
    )
    result = one(run([{"task_id": "Mbpp/2", "solution": cheat}]))
    assert (result.base.status, result.plus.status) == ("fail", "fail")


@pytest.mark.parametrize(
    "body",
    ["import sys\n    sys.exit(0)", "exit()", "quit()", "raise SystemExit", "raise KeyboardInterrupt"],
)
def test_exits_inside_the_function_fail(run, body: str) -> None:
    result = one(run([{"task_id": "Mbpp/2", "solution": f"def similar_elements(a, b):\n    {body}\n"}]))
    assert (result.base.status, result.plus.status) == ("fail", "fail")


def test_exit_at_load_fails_with_no_failing_input(run) -> None:
    result = one(run([{"task_id": "Mbpp/2", "solution": "import sys\nsys.exit(0)\n"}]))
    assert result.base.status == "fail" and result.base.fail_tests == ()


def test_os_exit_reads_as_timeout_like_evalplus(run) -> None:
    result = one(
        run([{"task_id": "Mbpp/2", "solution": "import os\ndef similar_elements(a, b):\n    os._exit(0)\n"}])
    )
    assert (result.base.status, result.plus.status) == ("timeout", "timeout")


def test_a_crash_reads_as_timeout_like_evalplus(run) -> None:
    crash = "import ctypes\ndef similar_elements(a, b):\n    return ctypes.string_at(0)\n"
    result = one(run([{"task_id": "Mbpp/2", "solution": crash}]))
    assert (result.base.status, result.plus.status) == ("timeout", "timeout")


def test_a_hang_at_load_is_a_timeout(run) -> None:
    result = one(run([{"task_id": "Mbpp/793", "solution": "while True:\n    pass\n"}]), "Mbpp/793")
    assert (result.base.status, result.plus.status) == ("timeout", "timeout")


def test_time_limit_rule() -> None:
    assert time_limits((0.0, 0.1, 0.5)) == (1.0, 1.0, 2.0)


def test_an_input_over_its_time_limit_fails(run, mbppplus) -> None:
    slow_second_call = (
        "import time\n"
        "calls = 0\n"
        "def similar_elements(a, b):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    if calls == 2:\n"
        "        time.sleep({})\n"
        "    return tuple(set(a) & set(b))\n"
    )
    over = one(run([{"task_id": "Mbpp/2", "solution": slow_second_call.format(1.5)}]))
    assert over.base.status == "fail"
    assert over.base.fail_tests == (mbppplus.tasks["Mbpp/2"].base_inputs[1],)
    assert "CallTimeout" in over.base.reason
    assert over.plus.status == "fail"  # input 1 of plus sleeps too
    within = one(run([{"task_id": "Mbpp/2", "solution": slow_second_call.format(0.3)}]))
    assert within.passed


def test_the_process_timeout_follows_evalplus(mbppplus) -> None:
    task = mbppplus.tasks["Mbpp/2"]
    assert split_job("", task, "base", (0.0, 0.0, 0.5)).limits.timeout_s == pytest.approx(4.0 + 2.0)
    many = (0.0,) * len(task.plus_inputs)
    assert split_job("", task, "plus", many).limits.timeout_s == pytest.approx(62.0)


def test_missing_function_and_syntax_error_fail(run) -> None:
    report = run(
        [
            {"task_id": "Mbpp/2", "solution": "def other(a, b):\n    return ()\n"},
            {"task_id": "Mbpp/2", "solution": "def similar_elements(a, b:\n"},
        ]
    )
    for result in report.results["Mbpp/2"]:
        assert (result.base.status, result.plus.status) == ("fail", "fail")
        assert result.base.fail_tests == ()


def test_empty_plus_split_passes_when_the_function_exists(run) -> None:
    report = run(
        [
            {"task_id": "Mbpp/793", "solution": "def last(arr, x):\n    return -7\n"},
            {"task_id": "Mbpp/793", "solution": "x = 1\n"},
        ]
    )
    defined, undefined = report.results["Mbpp/793"]
    assert (defined.base.status, defined.plus.status) == ("fail", "pass")
    assert (undefined.base.status, undefined.plus.status) == ("fail", "fail")


def test_not_none_oracle_in_the_sandbox(run) -> None:
    report = run(
        [
            {
                "task_id": "Mbpp/737",
                "solution": "import re\ndef check_str(s):\n    return re.match('^[aeiouAEIOU]', s)\n",
            },
            {
                "task_id": "Mbpp/737",
                "solution": "def check_str(s):\n    return s[:1].lower() in 'aeiou' and s != ''\n",
            },
            {"task_id": "Mbpp/737", "solution": "def check_str(s):\n    return 'yes'\n"},
        ]
    )
    match, boolean, always = report.results["Mbpp/737"]
    assert match.passed and boolean.passed
    assert not always.passed


def test_float_results_use_the_stated_tolerance(run) -> None:
    # Mbpp/82 (volume of a sphere, atol 1e-4): 3.14159 for pi is off by more than the tolerance
    exact = "import math\ndef volume_sphere(r):\n    return 4 / 3 * math.pi * r ** 3\n"
    rough = "def volume_sphere(r):\n    return 4 / 3 * 3.14159 * r ** 3\n"
    close = "import math\ndef volume_sphere(r):\n    return 4 / 3 * math.pi * r ** 3 * (1 + 1e-12)\n"
    exact_r, rough_r, close_r = run(
        [{"task_id": "Mbpp/82", "solution": s} for s in (exact, rough, close)]
    ).results["Mbpp/82"]
    assert exact_r.passed and close_r.passed
    assert not rough_r.passed


def test_result_file_has_evalplus_schema(run, mbppplus, data_dir: Path) -> None:
    report = run(
        [
            {"task_id": "Mbpp/124", "solution": "def angle_complex(a, b):\n    return 0\n"},
            {"task_id": "Mbpp/2", "completion": mbppplus.tasks["Mbpp/2"].canonical_solution},
        ]
    )
    data = json.loads(json.dumps(report.to_evalplus_json()))
    assert set(data) == {"date", "hash", "eval"}
    raw = (data_dir / "mbppplus" / "MbppPlus-v0.2.0.jsonl").read_bytes()
    assert data["hash"] == hashlib.md5(raw).hexdigest()
    assert list(data["eval"]) == ["Mbpp/124", "Mbpp/2"]
    record = data["eval"]["Mbpp/124"][0]
    assert set(record) == {
        "task_id",
        "solution",
        "base_status",
        "plus_status",
        "base_fail_tests",
        "plus_fail_tests",
    }
    assert record["base_status"] == "fail" and record["base_fail_tests"] == [["0.0", "1j"]]
    passed = data["eval"]["Mbpp/2"][0]
    assert passed["solution"] == mbppplus.tasks["Mbpp/2"].reference_code
    assert (passed["base_status"], passed["plus_status"], passed["plus_fail_tests"]) == ("pass", "pass", [])
    summary = report.to_json()["summary"]
    assert summary["tasks"] == 2 and summary["base+plus"] == {"pass@1": 0.5}


def test_bad_samples_are_reported_and_the_rest_evaluated(run, mbppplus) -> None:
    report = run(
        [
            {"task_id": "Mbpp/99999", "solution": "x"},
            {"task_id": "Mbpp/2"},
            {"task_id": "Mbpp/2", "completion": mbppplus.tasks["Mbpp/2"].canonical_solution},
        ]
    )
    assert one(report).passed
    assert len(report.problems) == 2
    assert any("unknown MBPP+ task id 'Mbpp/99999'" in p for p in report.problems)


@pytest.mark.slow
def test_every_canonical_solution_passes_base_and_plus(run, mbppplus) -> None:
    samples = [{"task_id": t, "completion": task.canonical_solution} for t, task in mbppplus.tasks.items()]
    report = run(samples)
    failures = [(t, r.base, r.plus) for t, rs in report.results.items() for r in rs if not r.passed]
    assert failures == []
    assert len(report.results) == 378
