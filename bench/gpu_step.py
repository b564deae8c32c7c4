"""One PPO step at the paper's scale on a GPU: Qwen2.5-Coder-1.5B's architecture with random weights.

No download: the model is built from a config with Qwen2.5-Coder-1.5B's sizes and random weights, in
bf16, with LoRA (r=64 on every projection) and a value head on the trunk. A batch of 64 prompts of
128 tokens gets 512 new tokens each; the rollout (sampling + logprob/reference/value passes) and one
PPO epoch (minibatches of 16, micro-batches of 8) are timed. Prints one JSON object.

    python bench/gpu_step.py            # on a CUDA machine
    python bench/gpu_step.py --tiny     # a CPU smoke test of the same code path
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from types import SimpleNamespace

import torch

QWEN_1_5B = {
    "vocab_size": 151936, "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
    "num_attention_heads": 12, "num_key_value_heads": 2, "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0, "tie_word_embeddings": True,
}
TINY = {
    "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512, "tie_word_embeddings": True,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from execrl.models import ActorCritic, GenerationSettings, LoraSettings, add_lora
    from execrl.rl.config import AlgorithmConfig
    from execrl.rl.rollout import collect_rollout
    from execrl.rl.update import ppo_update

    cuda = torch.cuda.is_available() and not args.tiny
    device = torch.device("cuda" if cuda else "cpu")
    batch, prompt_len, new_tokens = (64, 128, 512) if not args.tiny else (8, 16, 16)
    sizes = TINY if args.tiny else QWEN_1_5B
    torch.manual_seed(0)
    config = Qwen2Config(**sizes, bos_token_id=sizes["vocab_size"] - 3, eos_token_id=sizes["vocab_size"] - 2,
                         pad_token_id=sizes["vocab_size"] - 1)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16 if cuda else torch.float32)
    model.generation_config.eos_token_id = config.eos_token_id
    targets = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    policy = add_lora(model, LoraSettings(rank=64, alpha=128, target_modules=targets))
    actor = ActorCritic(policy, "shared").to(device)
    # generate() needs only the special ids of a tokenizer when no stop strings are set.
    tokenizer = SimpleNamespace(pad_token_id=config.pad_token_id, eos_token_id=config.eos_token_id)
    prompts = torch.randint(0, sizes["vocab_size"] - 3, (batch, prompt_len)).tolist()
    autocast = functools.partial(torch.autocast, device_type="cuda", dtype=torch.bfloat16) if cuda else None
    settings = GenerationSettings(max_new_tokens=new_tokens, max_prompt_tokens=prompt_len, temperature=1.0)
    algo = AlgorithmConfig(epochs=1, prompts_per_step=batch, samples_per_prompt=1, minibatch_size=min(16, batch),
                           micro_batch_size=8)
    optimizer = torch.optim.AdamW([p for p in actor.parameters() if p.requires_grad], lr=1e-5)
    context = autocast or __import__("contextlib").nullcontext

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    # Warm-up: a short rollout and update compile kernels and fill the allocator's pools.
    small = collect_rollout(actor, tokenizer, prompts[:8], range(8), settings.model_copy(update={"max_new_tokens": 8}),
                            8, context)
    ppo_update(actor, optimizer, small, torch.zeros_like(small.mask), torch.zeros_like(small.mask),
               algo.model_copy(update={"minibatch_size": 8}), context)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    sync()
    started = time.perf_counter()
    rollout = collect_rollout(actor, tokenizer, prompts, range(batch), settings, algo.micro_batch_size, context)
    sync()
    rollout_s = time.perf_counter() - started
    rollout_peak = torch.cuda.max_memory_allocated() if cuda else 0
    tokens = float(rollout.mask.sum())
    advantages = torch.randn_like(rollout.mask) * rollout.mask
    returns = torch.randn_like(rollout.mask) * rollout.mask
    sync()
    started = time.perf_counter()
    stats = ppo_update(actor, optimizer, rollout, advantages, returns, algo, context)
    sync()
    update_s = time.perf_counter() - started
    print(json.dumps({
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "model": "Qwen2.5-Coder-1.5B architecture, random weights" if not args.tiny else "tiny",
        "dtype": "bf16" if cuda else "fp32",
        "batch": batch, "prompt_tokens": prompt_len, "max_new_tokens": new_tokens,
        "generated_tokens": tokens,
        "rollout_s": round(rollout_s, 2), "rollout_tokens_per_s": round(tokens / rollout_s, 1),
        "update_s": round(update_s, 2), "update_tokens_per_s": round(tokens / update_s, 1),
        "peak_gpu_memory_gib_rollout": round(rollout_peak / 2**30, 2),
        "peak_gpu_memory_gib": round((torch.cuda.max_memory_allocated() if cuda else 0) / 2**30, 2),
        "skipped_minibatches": stats.skipped,
    }))


if __name__ == "__main__":
    main()
