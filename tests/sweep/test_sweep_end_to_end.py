"""A whole sweep on the tiny model: 2 arms x 2 seeds x 2 steps, evaluated, reported, rerun, resumed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from execrl.cli import main

ARMS = ("low", "high")
SEEDS = (0, 1)


def base_config(model_dir: Path) -> dict[str, Any]:
    return {
        "model": {"name": str(model_dir), "lora": {"rank": 4, "alpha": 8}},
        "tasks": {"train_size": 8, "eval_size": 2},
        "generation": {"max_new_tokens": 8, "max_prompt_tokens": 48},
        "reward": {"judges": {"letters": {"kind": "plugin", "settings": {
            "callable": "sweep_test_judges:letters_judge"}}}},
        "algorithm": {"steps": 2, "prompts_per_step": 2, "samples_per_prompt": 2, "minibatch_size": 2,
                      "micro_batch_size": 1, "epochs": 1, "learning_rate": 1e-2},
        "checkpoint": {"every": 1},
        "eval": {"at_start": False},
        "logging": {"tensorboard": False, "plots": False, "progress": False},
        "export": {"adapter": True},
    }


def write_sweep(tmp_path: Path, model_dir: Path, data_dir: Path, high_weight: float = 2.0) -> Path:
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(base_config(model_dir)))
    sweep = {
        "name": "e2e",
        "output_dir": str(tmp_path / "sweep"),
        "base": str(base),
        "seeds": list(SEEDS),
        "baseline": "low",
        "arms": {"low": {"reward.judges.letters.weight": 0.5}, "high": {"reward.judges.letters.weight": high_weight}},
        "evaluate": [{"benchmark": "mbpp", "limit": 1, "max_new_tokens": 4}],
        "include_base_model": True,
        "smoothing": 1,
        "data_dir": str(data_dir),
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def sweep(path: Path, *extra: str) -> int:
    return main(["sweep", "--config", str(path), "--no-progress", *extra])


def records(run_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    files = [out / a / f"seed{s}" / "metrics.jsonl" for a in ARMS for s in SEEDS] + sorted(out.rglob("eval/*.json"))
    return {str(f): (f.read_bytes(), f.stat().st_mtime_ns) for f in files}


def forbid(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing should be trained or generated here")

    monkeypatch.setattr("execrl.rl.trainer.train", refuse)
    monkeypatch.setattr("execrl.eval.generate.generate_samples", refuse)


@pytest.mark.slow
def test_sweep_trains_reports_skips_resumes(
    tiny_model_dir: Path,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    path = write_sweep(tmp_path, tiny_model_dir, data_dir)
    out = tmp_path / "sweep"
    assert sweep(path) == 0

    results = json.loads((out / "results.json").read_text())
    assert [(r["arm"], r["seed"]) for r in results["runs"]] == [(a, s) for a in ARMS for s in SEEDS]
    for run in results["runs"]:
        history = records(Path(run["run_dir"]))
        assert run["finals"]["reward"] == history[-1]["reward/mean"]  # 2 steps: the last 20% is the last step
        assert run["finals"]["eval/pass_rate"] == history[-1]["eval/pass_rate"]
        assert {"judge/letters", "mbpp: tests pass@1"} <= run["finals"].keys()
        assert run["compute"]["steps"] == 2 and run["compute"]["samples"] == 8 and run["compute"]["device"] == "cpu"
        assert run["compute"]["wall_s"] > 0
    tables = {t["metric"]: t for t in results["tables"]}
    reward = tables["reward"]
    assert [row["arm"] for row in reward["arms"]] == list(ARMS)
    high = reward["arms"][1]
    finals = {(r["arm"], r["seed"]): r["finals"]["reward"] for r in results["runs"]}
    difference = sum(finals["high", s] - finals["low", s] for s in SEEDS) / len(SEEDS)
    assert high["versus_baseline"]["mean_diff"] == pytest.approx(difference)
    assert high["versus_baseline"]["sign_patterns"] == 4
    assert list(tables["mbpp: tests pass@1"]["base_model"]) == [str(tiny_model_dir)]
    assert results["reach"]["target"] == pytest.approx((finals["low", 0] + finals["low", 1]) / 2)

    report = (out / "report.md").read_text()
    assert f"execrl sweep --config {path.as_posix()}" in report
    for title in ("### Final reward", "### Held-out tests-passed rate", "### Judge letters", "### mbpp: tests pass@1",
                  "## Samples needed to reach the baseline's final reward", "## Compute"):
        assert title in report
    assert f"| base model (`{tiny_model_dir}`, untrained) |" in report
    assert "Runs finished: 4 of 4." in report and report.count("| cpu |") == 4
    assert (out / "plots" / "learning_curves.png").stat().st_size > 0
    assert (out / "plots" / "final_metrics.png").stat().st_size > 0

    # a rerun trains and generates nothing: finished runs and cached evaluations are skipped
    before = snapshot(out)
    with monkeypatch.context() as patch:
        forbid(patch)
        assert sweep(path) == 0
    assert snapshot(out) == before

    # an interrupted run continues from its checkpoint; the others stay as they were
    interrupted = out / "high" / "seed1"
    (interrupted / "summary.json").unlink()
    for checkpoint in (interrupted / "checkpoints").glob("step-000002"):
        for file in checkpoint.iterdir():
            file.unlink()
        checkpoint.rmdir()
    assert sweep(path) == 0
    assert "resuming from" in capsys.readouterr().err
    assert [r["step"] for r in records(interrupted)] == [1.0, 2.0]
    assert len(json.loads((interrupted / "sweep_sessions.json").read_text())) == 2
    after = snapshot(out)
    assert {k: v for k, v in after.items() if "high/seed1/" not in k} == {
        k: v for k, v in before.items() if "high/seed1/" not in k
    }
    # its evaluation was of the adapter before, so it is redone
    evaluations = [k for k in after if "high/seed1/eval/" in k]
    assert len(evaluations) == 1 and after[evaluations[0]][1] > before[evaluations[0]][1]

    # --report-only rewrites the report from the runs on disk
    (out / "report.md").unlink()
    with monkeypatch.context() as patch:
        forbid(patch)
        assert sweep(path, "--report-only") == 0
    assert "Runs finished: 4 of 4." in (out / "report.md").read_text()

    # an edited arm does not silently mix with runs trained under the old one
    assert sweep(write_sweep(tmp_path, tiny_model_dir, data_dir, high_weight=3.0)) == 2
    assert "was trained with another config (differs in: reward.judges.letters.weight)" in capsys.readouterr().err
