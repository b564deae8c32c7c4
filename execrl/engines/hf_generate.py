"""The rollout path execrl had first: transformers' ``generate`` on the training model itself.

The adapter stays unmerged, every sample prefills its own copy of the prompt, and stop strings are
looked for by decoding every row's tail at every step. It is slower than ``hf`` (bench/rl_step.py),
and kept for two reasons: it is the baseline the speed figures are measured against, and it works
for any model ``generate`` supports, whatever its cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from execrl.engines.base import EngineContext, register_engine
from execrl.models.generation import Generated, GenerationSettings, generate


class HFGenerateEngine:
    def __init__(self, context: EngineContext, settings: GenerationSettings) -> None:
        self.tokenizer = context.tokenizer
        self.autocast = context.precision.autocast
        self.policy: Any = None

    def sync(self, policy: Any) -> None:
        self.policy = policy  # the training model itself: nothing to copy

    def close(self) -> None:
        self.policy = None

    def generate(
        self, prompts: Sequence[Sequence[int]], samples: int, settings: GenerationSettings, greedy: bool = False
    ) -> Generated:
        if self.policy is None:
            raise RuntimeError("HFGenerateEngine.generate before sync(policy)")
        with self.autocast():
            return generate(self.policy, self.tokenizer, [p for p in prompts for _ in range(samples)], settings, greedy)


@register_engine("hf_generate")
def _build(context: EngineContext, settings: GenerationSettings) -> HFGenerateEngine:
    return HFGenerateEngine(context, settings)
