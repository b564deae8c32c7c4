"""Training config: YAML, --set overrides, and clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from execrl.errors import ExecrlError
from execrl.models.precision import resolve_precision
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
def test_cuda_on_a_cpu_machine_is_a_clear_error() -> None:
    with pytest.raises(ExecrlError, match="no CUDA GPU"):
        resolve_runtime(parse_config({"device": "cuda"}))


@pytest.mark.parametrize(
    ("requested", "native", "chosen"),
    [("auto", True, "bf16"), ("auto", False, "fp32"), ("bf16", False, "bf16"), ("fp32", True, "fp32")],
)
def test_precision_on_the_cpu_follows_what_it_computes_natively(
    monkeypatch: pytest.MonkeyPatch, requested: str, native: bool, chosen: str
) -> None:
    monkeypatch.setattr("execrl.models.precision.cpu_has_native_bf16", lambda: native)
    precision = resolve_precision(requested, torch.device("cpu"))  # type: ignore[arg-type]
    assert precision.name == chosen
    with precision.autocast():
        assert torch.is_autocast_enabled("cpu") == (chosen == "bf16")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == precision.dtype
    if requested == "bf16" and not native:
        assert "emulated" in precision.reason


def test_cpu_bf16_flags_are_read_from_cpuinfo(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from execrl.models import precision as module

    for flags, expected in (("fpu sse avx512f avx512_bf16", True), ("fpu amx_bf16 amx_tile", True), ("fpu avx2", False)):
        info = tmp_path / "cpuinfo"
        info.write_text(f"processor : 0\nflags : {flags}\n")
        monkeypatch.setattr(module, "Path", lambda _path, info=info: info)
        monkeypatch.setattr(module.torch._C, "_cpu", None, raising=False)
        module.cpu_has_native_bf16.cache_clear()
        assert module.cpu_has_native_bf16() is expected
    module.cpu_has_native_bf16.cache_clear()
