"""``execrl train``: config errors are clean messages; ``--export`` writes loadable models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from test_trainer import tiny_config
from transformers import AutoModelForCausalLM

from execrl.cli import main


def test_a_bad_config_is_a_message_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("algorithm:\n  stepz: 3\n")
    assert main(["train", "--config", str(path)]) == 2
    assert "algorithm.stepz: unknown key" in capsys.readouterr().err
    assert main(["train"]) == 2


def test_train_then_export(tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tiny_config(tiny_model_dir, tmp_path / "run", algorithm={"steps": 1})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", "--config", str(path), "--set", "model.value=none", "--set", "algorithm.estimator=rloo"]) == 0
    assert "reward" in capsys.readouterr().out
    assert main(["train", "--export", str(tmp_path / "run"), "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "adapter" / "adapter_config.json").is_file()
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "out" / "merged")
    with torch.no_grad():
        assert merged(input_ids=torch.tensor([[1, 2, 3]])).logits.isfinite().all()
