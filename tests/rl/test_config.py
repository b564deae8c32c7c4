"""Training config: YAML, --set overrides, and clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from execrl.errors import ExecrlError
from execrl.rl.build import resolve_runtime
from execrl.rl.config import load_config, parse_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["quickstart.yaml", "mbpp_qwen1.5b.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load_config(CONFIGS / name)
    assert config.algorithm.steps > 0


def test_overrides_use_dotted_keys_and_yaml_values(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("algorithm:\n  steps: 3\n")
    config = load_config(
        path,
        [
            "algorithm.steps=7",
            "algorithm.kl.coef=0.2",
            "generation.stop_strings=['```', 'END']",
            "model.lora.enabled=false",
            "output_dir=runs/x",
        ],
    )
    assert config.algorithm.steps == 7
    assert config.algorithm.kl.coef == 0.2
    assert config.generation.stop_strings == ("```", "END")
    assert config.model.lora.enabled is False
    assert config.output_dir == "runs/x"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"algorithm": {"stepz": 3}}, "algorithm.stepz: unknown key"),
        ({"algorithm": {"steps": "many"}}, "algorithm.steps"),
        ({"algorithm": {"estimator": "nope"}}, "unknown estimator 'nope'"),
        ({"algorithm": {"estimator": "rloo", "samples_per_prompt": 1}}, "samples_per_prompt >= 2"),
        ({"algorithm": {"minibatch_size": 3, "micro_batch_size": 2}}, "multiple of micro_batch_size"),
        ({"model": {"value": "none"}}, "needs a value head"),
        ({"reward": {"judges": {}}, "reward_config": "x.yaml"}, "not both"),
        ({"device": "tpu"}, "device"),
        ([1, 2], "a YAML mapping"),
    ],
)
def test_bad_configs_name_the_problem(data: object, message: str) -> None:
    with pytest.raises(ExecrlError, match=message):
        parse_config(data)


def test_bad_override_syntax_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ExecrlError, match="key=value"):
        load_config(None, ["algorithm.steps"])
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\n")
    with pytest.raises(ExecrlError, match="is a value, not a section"):
        load_config(path, ["seed.x=1"])
    with pytest.raises(ExecrlError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only behaviour")
def test_gpu_settings_on_a_cpu_machine() -> None:
    with pytest.raises(ExecrlError, match="no CUDA GPU"):
        resolve_runtime(parse_config({"device": "cuda"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runtime = resolve_runtime(parse_config({"precision": "bf16"}))
    assert runtime.device.type == "cpu"
    assert any("fp32" in str(w.message) for w in caught)
    with runtime.autocast():
        assert not torch.is_autocast_enabled("cpu")
