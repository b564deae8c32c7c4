from __future__ import annotations

from pathlib import Path

import pytest

from execrl.errors import ExecrlError
from execrl.eval.mbppplus import evaluate_mbppplus
from execrl.eval.mbppplus_expected import ExpectedOutputStore
from execrl.tasks.mbppplus import MbppPlusDataset
from execrl.tasks.types import PlusTask


def _task(number: int, body: str) -> PlusTask:
    return PlusTask(
        task_id=f"Mbpp/{number}",
        prompt="",
        entry_point="f",
        canonical_solution=f"def f(x):\n    {body}\n",
        base_inputs=((1,), (2,)),
        plus_inputs=((3,),),
    )


class NoSandbox:
    size = 1

    def run(self, jobs, **kwargs):
        raise AssertionError("the cache should have answered")


def test_expected_outputs_are_computed_once_and_cached(sandbox, tmp_path: Path) -> None:
    dataset = MbppPlusDataset({"Mbpp/1": _task(1, "return (x, x * 0.5)")}, sha256="t1", md5="m")
    ExpectedOutputStore(dataset, tmp_path).ensure(["Mbpp/1"], sandbox)
    again = ExpectedOutputStore(dataset, tmp_path)
    again.ensure(["Mbpp/1"], NoSandbox())
    expected = again.get("Mbpp/1")
    assert expected.base == ((1, 0.5), (2, 1.0)) and expected.plus == ((3, 1.5),)
    assert len(expected.base_time) == 2 and all(t >= 0 for t in expected.plus_time)


def test_a_failing_canonical_solution_is_named_and_the_others_are_cached(sandbox, tmp_path: Path) -> None:
    tasks = {"Mbpp/1": _task(1, "return x"), "Mbpp/2": _task(2, "return 1 // (x - 3)")}
    store = ExpectedOutputStore(MbppPlusDataset(tasks, sha256="t2", md5="m"), tmp_path)
    with pytest.raises(ExecrlError, match=r"Mbpp/2 \(plus\).*ZeroDivisionError"):
        store.ensure(["Mbpp/1", "Mbpp/2"], sandbox)
    assert store.path("Mbpp/1").is_file() and not store.path("Mbpp/2").is_file()


def test_large_outputs_are_judged_by_digest_as_eq_would(sandbox, tmp_path: Path) -> None:
    # 20,000 items: the canonical run keeps a digest; candidates are digested on that input only
    task = PlusTask(
        task_id="Mbpp/3",
        prompt="",
        entry_point="f",
        canonical_solution="def f(n):\n    return [(i, str(i)) for i in range(n)]\n",
        base_inputs=((3,),),
        plus_inputs=((10_000,),),
    )
    dataset = MbppPlusDataset({"Mbpp/3": task}, sha256="t3", md5="m")
    store = ExpectedOutputStore(dataset, tmp_path)
    store.ensure(["Mbpp/3"], sandbox)
    expected = store.get("Mbpp/3")
    assert expected.base == ([(0, "0"), (1, "1"), (2, "2")],)
    assert expected.digested("plus") == {0} and expected.digested("base") == frozenset()

    def verdicts(body: str) -> tuple[str, str]:
        report = evaluate_mbppplus(
            [{"task_id": "Mbpp/3", "solution": f"def f(n):\n    {body}\n"}],
            sandbox=sandbox, progress=False, cache_dir=tmp_path, dataset=dataset,
        )
        result = report.results["Mbpp/3"][0]
        return result.base.status, result.plus.status

    assert verdicts("return [(i, str(i)) for i in range(n)]") == ("pass", "pass")
    assert verdicts("return [(i * 1.0, str(i)) for i in range(n)]") == ("pass", "pass")  # 2.0 == 2
    assert verdicts("return [(i, str(i)) for i in range(n - (n > 100))]") == ("pass", "fail")
    assert verdicts("return [[i, str(i)] for i in range(n)]") == ("fail", "fail")  # lists != tuples
    assert verdicts("return [(i + 0.5, str(i)) for i in range(n)]") == ("fail", "fail")
