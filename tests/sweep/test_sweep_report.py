"""From run results to tables, comparisons and the report, on hand-made runs (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execrl.sweep import SweepConfig
from execrl.sweep.analysis import analyse
from execrl.sweep.gather import Compute, RunResult
from execrl.sweep.report import render, write_report


def sweep_config(seeds: list[int]) -> SweepConfig:
    return SweepConfig.model_validate(
        {"name": "s", "output_dir": "out", "base": "base.yaml", "seeds": seeds, "baseline": "sparse",
         "arms": {"sparse": {}, "dense": {"reward_config": "dense.yaml"}}, "smoothing": 1}
    )


def run(arm: str, seed: int, rewards: list[float]) -> RunResult:
    curve = [(step, value) for step, value in enumerate(rewards, start=1)]
    return RunResult(arm, seed, f"out/{arm}/seed{seed}", 4, {"reward": rewards[-1]}, {"reward/mean": curve},
                     Compute(len(rewards), 4 * len(rewards), 1.5, None, None))


def five_seed_results():
    sweep = sweep_config([0, 1, 2, 3, 4])
    runs = [run("sparse", s, [0.0, 0.1, 0.2 + 0.01 * s]) for s in range(5)]
    runs += [run("dense", s, [0.0, 0.3, 0.4 + 0.01 * s]) for s in range(5)]
    return analyse(sweep, runs, [], {}, "execrl sweep --config s.yaml")


def test_paired_comparison_and_samples_to_reach() -> None:
    results = five_seed_results()
    (reward,) = results.tables
    sparse, dense = reward.arms
    assert sparse.versus_baseline is None
    assert dense.description.mean == pytest.approx(0.42)
    test = dense.versus_baseline
    assert test is not None and test.n == 5 and test.mean_diff == pytest.approx(0.2)
    assert test.sign_flip_p == pytest.approx(2 / 32) and test.sign_patterns == 32
    assert test.t_p is None  # every seed improved by exactly 0.2
    reach = results.reach
    assert reach is not None and reach.target == pytest.approx(0.22)
    by_arm = {r.arm: r for r in reach.arms}
    assert by_arm["dense"].per_seed == {s: 8 for s in range(5)}  # 0.3 at step 2, 4 samples per step
    # the target is the sparse seeds' mean, 0.22: seed 2 ends exactly there, seeds 0 and 1 below it
    assert by_arm["sparse"].per_seed == {0: None, 1: None, 2: 12, 3: 12, 4: 12}
    assert by_arm["sparse"].median == 12 and by_arm["sparse"].reached == 3


def test_report_and_results_json(tmp_path: Path) -> None:
    results = five_seed_results()
    report, data = write_report(results, {"Learning curves": tmp_path / "plots" / "lc.png"}, tmp_path)
    text = report.read_text()
    assert "execrl sweep --config s.yaml" in text
    assert "| dense | 5 | 0.42 ± 0.01581 |" in text
    assert "+0.2 [0.2, 0.2] (n=5)" in text and "0.0625 (of 32)" in text
    assert "2/32 = 0.0625: it cannot reach 0.05" in text
    assert "| sparse | 12 | 3/5 | 0: not reached, 1: not reached, 2: 12," in text
    assert "![Learning curves](plots/lc.png)" in text
    loaded = json.loads(data.read_text())
    assert loaded["tables"][0]["arms"][1]["versus_baseline"]["mean_diff"] == pytest.approx(0.2)
    assert len(loaded["runs"]) == 10 and loaded["baseline"] == "sparse"


def test_one_seed_shows_values_and_says_no_test_is_possible() -> None:
    sweep = sweep_config([7])
    runs = [run("sparse", 7, [0.1, 0.2]), run("dense", 7, [0.1, 0.5])]
    text = render(analyse(sweep, runs, [], {}, "cmd"), {}, Path("out"))
    assert "| dense | 1 | 0.5 | — | 7: 0.5 | no test (1 shared seed) |" in text
    assert "no interval or test is possible with one seed" in text


def test_unfinished_runs_are_listed_and_left_out() -> None:
    sweep = sweep_config([0, 1])
    runs = [run("sparse", 0, [0.1]), run("sparse", 1, [0.2]), run("dense", 0, [0.3])]
    results = analyse(sweep, runs, ["dense seed 1"], {}, "cmd")
    dense = results.tables[0].arms[1]
    assert dense.seeds == [0] and dense.versus_baseline is None and dense.shared_seeds == 1
    assert "**Not finished (left out of the tables):** dense seed 1" in render(results, {}, Path("out"))


def test_robot_held_out_metrics_become_finals_curves_and_tables() -> None:
    from execrl.sweep.gather import curves, final_metrics

    records = [
        {"step": 0.0, "eval/pass_rate": 0.5, "eval/robot_execution_failure_share": 0.5,
         "eval/robot_completion_rate": 0.0},
        {"step": 1.0, "reward/mean": 0.2, "eval/pass_rate": 0.75, "eval/robot_execution_failure_share": 0.25,
         "eval/robot_completion_rate": 0.25},
    ]
    finals = final_metrics(records)
    assert finals["eval/robot_execution_failure_share"] == 0.25
    assert finals["eval/robot_completion_rate"] == 0.25
    assert curves(records)["eval/robot_completion_rate"] == [(0, 0.0), (1, 0.25)]
    sweep = sweep_config([0])
    runs = [RunResult(arm, 0, f"out/{arm}/seed0", 4, finals, curves(records), Compute(1, 4, 1.0, None, None))
            for arm in ("sparse", "dense")]
    text = render(analyse(sweep, runs, [], {}, "cmd"), {}, Path("out"))
    assert "Held-out robot execution-failure share" in text and "Held-out robot completion rate" in text
