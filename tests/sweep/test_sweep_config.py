"""Sweep files: runs are planned from base + arm overrides + seed, and mistakes fail before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from execrl.cli import main
from execrl.errors import ExecrlError
from execrl.sweep import load_sweep, plan_runs


def write_sweep(tmp_path: Path, **changes: Any) -> Path:
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({"algorithm": {"steps": 3}, "tasks": {"train_size": 8}}))
    sweep: dict[str, Any] = {
        "name": "t",
        "output_dir": str(tmp_path / "out"),
        "base": str(base),
        "seeds": [0, 1],
        "baseline": "terminal",
        "arms": {
            "terminal": {"reward_config": "configs/terminal.yaml"},
            "wide": {"algorithm.prompts_per_step": 8, "tasks": {"train_size": 4}},
            "plain": None,
        },
    }
    sweep.update(changes)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def test_runs_merge_base_arm_and_seed(tmp_path: Path) -> None:
    runs = plan_runs(load_sweep(write_sweep(tmp_path)))
    assert [(r.arm, r.seed) for r in runs] == [
        ("terminal", 0), ("terminal", 1), ("wide", 0), ("wide", 1), ("plain", 0), ("plain", 1)
    ]
    terminal, wide, plain = runs[0], runs[3], runs[4]
    assert terminal.config.reward_config == "configs/terminal.yaml"
    assert wide.config.seed == 1 and wide.run_dir == tmp_path / "out" / "wide" / "seed1"
    assert wide.config.output_dir == str(wide.run_dir)
    assert wide.config.algorithm.prompts_per_step == 8 and wide.config.algorithm.steps == 3  # dotted key merges
    assert wide.config.tasks.train_size == 4  # a section value replaces the section, as --set does
    assert plain.config.reward_config is None and plain.config.tasks.train_size == 8


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seedz": [1]}, "seedz: unknown key"),
        ({"baseline": "dense"}, "baseline 'dense' is not an arm"),
        ({"seeds": [1, 1]}, "seeds repeat"),
        ({"seeds": []}, "seeds"),
        ({"arms": {"terminal": {"seed": 4}}}, "sets seed"),
        ({"arms": {"terminal": {}, "base_model": {}}}, "arm name 'base_model'"),
        ({"arms": {"terminal": {}, "a/b": {}}}, "arm name 'a/b'"),
        ({"evaluate": [{"benchmark": "mbpp", "n": 5}]}, "need temperature > 0"),
        ({"evaluate": [{"benchmark": "mbpp"}, {"benchmark": "mbpp", "n": 2, "temperature": 0.8}]}, "distinct `name`"),
        ({"evaluate": [{"benchmark": "humaneval"}]}, "evaluate.0.benchmark"),
    ],
)
def test_bad_sweep_files(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecrlError, match="invalid sweep file") as error:
        load_sweep(write_sweep(tmp_path, **changes))
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("arm", "message"),
    [
        ({"algorithm.stepz": 3}, "algorithm.stepz: unknown key"),
        ({"algorithm.steps": 0}, "algorithm.steps: Input should be greater than 0"),
        ({"algorithm.steps.max": 3}, "'steps' is a value, not a section"),
    ],
)
def test_bad_overrides_name_the_arm(tmp_path: Path, arm: dict[str, Any], message: str) -> None:
    path = write_sweep(tmp_path, arms={"terminal": {}, "broken": arm})
    with pytest.raises(ExecrlError, match="arm 'broken'") as error:
        plan_runs(load_sweep(path))
    assert message in str(error.value)


def test_evaluations_need_an_exported_model(tmp_path: Path) -> None:
    arms = {"terminal": {"export.adapter": True}, "full": {"model.lora.enabled": False, "export.merged": True}}
    terminal, _, full, _ = plan_runs(load_sweep(write_sweep(tmp_path, arms=arms, evaluate=[{"benchmark": "mbpp"}])))
    assert terminal.trained_model() == ("smollm2", terminal.run_dir / "final" / "adapter")
    assert full.trained_model() == (str(full.run_dir / "final" / "merged"), None)
    path = write_sweep(tmp_path, arms={"terminal": {"export.adapter": False}}, evaluate=[{"benchmark": "mbpp"}])
    with pytest.raises(ExecrlError, match="export.adapter: true .with LoRA. or export.merged: true"):
        plan_runs(load_sweep(path))


def test_missing_files_are_clean_errors(tmp_path: Path) -> None:
    with pytest.raises(ExecrlError, match="cannot read sweep file"):
        load_sweep(tmp_path / "nope.yaml")
    with pytest.raises(ExecrlError, match="cannot read training config"):
        plan_runs(load_sweep(write_sweep(tmp_path, base=str(tmp_path / "missing.yaml"))))


def test_cli_reports_a_bad_override_before_training_anything(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write_sweep(tmp_path, arms={"terminal": {}, "late": {"algorithm.lr": 1}})
    assert main(["sweep", "--config", str(path), "--no-progress"]) == 2
    assert "arm 'late'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
