"""The training loop on a tiny model: every estimator runs, resumption is exact, bad steps are skipped."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from execrl.errors import ExecrlError
from execrl.rl import ESTIMATORS, AdvantageInput, Advantages, Trainer, parse_config, register_estimator
from execrl.rl.checkpoints import latest_checkpoint, list_checkpoints

REWARD = {
    "judges": {
        "syntax": {"weight": 1.0},
        "digits": {"kind": "plugin", "credit": "localized", "settings": {"callable": "rl_test_judges:digit_judge"}},
    }
}


def tiny_config(model_dir: Path, out: Path, **sections: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "seed": 3,
        "output_dir": str(out),
        "model": {"name": str(model_dir), "lora": {"rank": 4, "alpha": 8}},
        "tasks": {"train_size": 8, "eval_size": 2},
        "generation": {"max_new_tokens": 8, "max_prompt_tokens": 48},
        "reward": REWARD,
        "algorithm": {"steps": 2, "prompts_per_step": 2, "samples_per_prompt": 2, "minibatch_size": 2,
                      "micro_batch_size": 1, "epochs": 1, "learning_rate": 1e-2},
        "checkpoint": {"every": 1},
        "eval": {"enabled": False},
        "logging": {"tensorboard": False, "plots": False, "progress": False},
        "export": {"adapter": False},
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    return config


def trainer(config: dict[str, Any]) -> Trainer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(parse_config(config))


def deterministic(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: v for k, v in r.items() if not k.startswith(("time/", "throughput/"))} for r in history]


def test_every_estimator_trains_and_logs(tiny_model_dir: Path, tmp_path: Path) -> None:
    run = trainer(tiny_config(tiny_model_dir, tmp_path, algorithm={"steps": 1}))
    for estimator in ("gae", "rloo", "grpo", "reinforce_pp"):
        algorithm = run.config.algorithm.model_copy(update={"estimator": estimator})
        run.config = run.config.model_copy(update={"algorithm": algorithm})
        before = {n: p.clone() for n, p in run.model.trainable_state().items()}
        record = run.step()
        for key in ("reward/mean", "judge/syntax", "judge/digits", "kl", "entropy", "clip_fraction", "loss/policy"):
            assert key in record and record[key] == record[key], (estimator, key)
        assert record["skipped_minibatches"] == 0
        changed = [n for n, p in run.model.trainable_state().items() if not torch.equal(p, before[n])]
        assert any("lora_" in n for n in changed), estimator
        assert any("value_head" in n for n in changed) == (estimator == "gae"), estimator
    run.train()  # the loop itself: one step, logged to metrics.jsonl
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1.0]


def test_resume_continues_exactly(tiny_model_dir: Path, tmp_path: Path) -> None:
    straight = tiny_config(tiny_model_dir, tmp_path / "straight", algorithm={"steps": 4})
    first = trainer(straight)
    first.train()

    split = tiny_config(tiny_model_dir, tmp_path / "split", algorithm={"steps": 2})
    trainer(split).train()
    split["algorithm"]["steps"] = 4
    second = trainer(split)
    second.train(resume=True)

    assert second.state.step == 4
    a, b = first.model.trainable_state(), second.model.trainable_state()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert deterministic(first.state.history) == deterministic(second.state.history)
    lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1.0, 2.0, 3.0, 4.0]


def test_non_finite_losses_skip_the_update_and_the_run_goes_on(tiny_model_dir: Path, tmp_path: Path) -> None:
    @register_estimator("test_nan")
    def nan_advantages(batch: AdvantageInput) -> Advantages:
        return Advantages(torch.full_like(batch.rewards, float("nan")))

    try:
        run = trainer(tiny_config(tiny_model_dir, tmp_path, algorithm={"estimator": "test_nan"}, model={"value": "none"}))
        before = {n: p.clone() for n, p in run.model.trainable_state().items()}
        with pytest.warns(UserWarning, match="non-finite"):
            run.train()
    finally:
        del ESTIMATORS["test_nan"]
    assert run.state.step == 2
    assert all(r["skipped_minibatches"] == 2 for r in run.state.history)
    assert all(torch.equal(p, before[n]) for n, p in run.model.trainable_state().items())
    assert latest_checkpoint(tmp_path) is not None


def test_a_failed_checkpoint_write_leaves_the_previous_one(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = trainer(tiny_config(tiny_model_dir, tmp_path, algorithm={"steps": 2}))
    run.train()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000001", "step-000002"]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("execrl.rl.checkpoints.torch.save", broken)
    run.state.step = 3
    with pytest.raises(OSError, match="disk full"):
        run._checkpoint()
    checkpoints = tmp_path / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-000001", "step-000002"]
    (checkpoints / ".step-000009.abc").mkdir()  # what a kill -9 during a write leaves behind
    assert latest_checkpoint(tmp_path) == checkpoints / "step-000002"


def test_a_full_run_writes_metrics_plots_evaluation_and_exports(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = tiny_config(
        tiny_model_dir, tmp_path,
        eval={"enabled": True, "at_start": True},
        logging={"tensorboard": True, "plots": True, "progress": True},
        export={"adapter": True, "merged": True},
    )
    summary = trainer(config).train()
    assert summary.steps == 2 and summary.pass_rate_before == 0.0 and summary.pass_rate_after == 0.0
    assert Path(summary.learning_curves or "").stat().st_size > 0
    assert any((tmp_path / "tensorboard").iterdir())
    assert (tmp_path / "final" / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "final" / "merged" / "config.json").is_file()
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["steps"] == 2 and written["responses"] == 8 and written["eval_tasks"] == 2
    for key in ("pass_rate", "syntax_error_rate", "ruff_findings_per_program", "mean_reward"):
        assert f"{key}_before" in written and f"{key}_after" in written
    assert written["syntax_error_rate_before"] is not None and 0.0 <= written["syntax_error_rate_after"] <= 1.0
    assert written["train_s"] > 0 and written["eval_s"] > 0


def test_resuming_a_run_without_output_is_an_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    from execrl.rl import train

    with pytest.raises(ExecrlError, match="cannot resume"):
        train(parse_config(tiny_config(tiny_model_dir, tmp_path / "none")), resume=True)
