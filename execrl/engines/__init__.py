"""Rollout engines behind one interface (``base.RolloutEngine``), chosen by ``generation.backend``.

``hf``: transformers forward passes in execrl's own sampling loop, from a merged inference copy of the
policy, one prefill per prompt shared by its samples (the default). ``hf_generate``: transformers'
``generate`` on the training model itself (adapter unmerged), the path execrl had before; kept as a
reference and for benchmarks. ``vllm``: a colocated vLLM engine (optional extra).
"""

from __future__ import annotations

import importlib

from execrl.engines.base import ENGINES, EngineContext, RolloutEngine, register_engine
from execrl.errors import ExecrlError
from execrl.models.generation import GenerationSettings

# Engines live in modules of their own; they register when imported, so an engine whose
# dependencies are missing costs nothing until it is asked for.
_MODULES = {"hf": "execrl.engines.hf", "hf_generate": "execrl.engines.hf_generate", "vllm": "execrl.engines.vllm"}


def build_engine(name: str, context: EngineContext, settings: GenerationSettings) -> RolloutEngine:
    """The engine registered as ``name``, built for ``context``."""
    if name not in ENGINES and name in _MODULES:
        importlib.import_module(_MODULES[name])
    if name not in ENGINES:
        known = sorted(set(ENGINES) | set(_MODULES))
        raise ExecrlError(f"unknown rollout engine {name!r}; known: {', '.join(known)}")
    return ENGINES[name](context, settings)


__all__ = ["ENGINES", "EngineContext", "RolloutEngine", "build_engine", "register_engine"]
