from __future__ import annotations

import json
import math

import numpy as np
import pytest

from execrl.eval.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),  # c / n
        (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (10, 3, 10, 1.0),  # fewer wrong samples than k
        (10, 0, 5, 0.0),
        (20, 5, 10, 1 - math.comb(15, 10) / math.comb(20, 10)),
        (200, 13, 100, 1 - math.comb(187, 100) / math.comb(200, 100)),
    ],
)
def test_pass_at_k_hand_computed(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-15)


_EVALPLUS_PASS_AT_K = """
import json, sys
from evalplus.eval import estimate_pass_at_k
cases = json.loads(sys.argv[1])
print(json.dumps({k: estimate_pass_at_k(n, c, int(k)).tolist() for k, (n, c) in cases.items()}))
"""


def test_pass_at_k_matches_evalplus(evalplus) -> None:
    rng = np.random.default_rng(0)
    cases = {}
    for k in (1, 10, 100):
        n = rng.integers(k, 250, size=40)
        cases[str(k)] = (n.tolist(), [int(rng.integers(0, m + 1)) for m in n])
    theirs = evalplus(_EVALPLUS_PASS_AT_K, json.dumps(cases))
    for k, (n, c) in cases.items():
        ours = [pass_at_k(a, b, int(k)) for a, b in zip(n, c)]
        assert ours == pytest.approx(theirs[k], rel=1e-12, abs=1e-15)
        assert mean_pass_at_k(n, c, (int(k),))[f"pass@{k}"] == pytest.approx(float(np.mean(theirs[k])))


def test_mean_pass_at_k_only_reports_k_every_task_has_samples_for() -> None:
    assert set(mean_pass_at_k([10, 12], [1, 12])) == {"pass@1", "pass@10"}
    assert mean_pass_at_k([1, 1, 1, 1], [1, 0, 0, 1]) == {"pass@1": 0.5}
    assert mean_pass_at_k([], []) == {}


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 4), (3, 1, 0), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
