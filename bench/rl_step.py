"""One RL step of the embedded SmolLM2: execrl's old path, its new default, its vLLM backend, TRL's RLOOTrainer.

Same work on every side: SmolLM2-135M-Instruct (embedded), LoRA r=16 on q/k/v/o, PROMPTS built-in task
prompts x GROUP samples, at most NEW_TOKENS new tokens at T = 0.7 with the closing code fence as stop
string, one epoch of RLOO (one optimiser step over the 32 responses), a KL penalty to the reference
(coefficient 0.05), and the same Python reward (1 if the response's code compiles). Variants:

  today    execrl with the settings that restore its first rollout path: fp32, transformers' generate
           on the unmerged adapter, one prefill per sample (precision: fp32, generation.backend: hf_generate)
  default  execrl as configured by default (precision auto -> bf16 here, generation.backend: hf)
  vllm     execrl with generation.backend: vllm (run by the interpreter of .venv-vllm, `make test-vllm`)
  trl      TRL's RLOOTrainer (bf16, its own generate-based rollout)

Each variant runs in its own process (its peak RSS is its own), WARMUP steps then STEPS timed steps;
a repeat runs every variant once, the order reversed on every other repeat. Timed the same way for all:
a step from its start to its end (execrl: ``Trainer.step``; TRL: ``on_step_begin`` to ``on_step_end``),
and generation alone (execrl: the engine's ``generate``; TRL: ``_generate``).

    python bench/rl_step.py                      # every variant available, 3 repeats, writes docs/benchmarks.md
    python bench/rl_step.py --variant default --json   # one variant in this process, prints its JSON
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROMPTS, GROUP, NEW_TOKENS, TEMPERATURE = 8, 4, 128, 0.7
WARMUP, STEPS = 1, 3
LORA = {"rank": 16, "alpha": 32, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
SYSTEM = "Write a Python function that solves the task. Answer with one ```python code block."
STOP = "\n```"
VARIANTS = ("today", "default", "vllm", "trl")
EXECRL_SETTINGS = {
    "today": {"precision": "fp32", "backend": "hf_generate", "share_prefix": False},
    "default": {"precision": "auto", "backend": "hf", "share_prefix": True},
    "vllm": {"precision": "auto", "backend": "vllm", "share_prefix": True},
}


def compiles(text: str) -> float:
    from execrl.rewards import extract_code

    try:
        compile(extract_code(text).code, "<response>", "exec")
    except (SyntaxError, ValueError):
        return 0.0
    return 1.0


def compile_judge(batch: Any) -> list[Any]:  # the plugin judge execrl calls: the same function as TRL's reward
    from execrl.records import JudgeResult

    return [JudgeResult(compiles(c.response)) for c in batch]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _summary(steps: list[dict[str, float]]) -> dict[str, float]:
    timed = steps[WARMUP:]

    def median(key: str) -> float:
        return statistics.median(s[key] for s in timed)

    tokens = median("tokens")
    return {
        "step_s": median("step_s"),
        "generate_s": median("generate_s"),
        "rest_s": median("step_s") - median("generate_s"),
        "response_tokens": tokens,
        "generate_tokens_per_s": statistics.median(s["tokens"] / s["generate_s"] for s in timed),
        "step_tokens_per_s": statistics.median(s["tokens"] / s["step_s"] for s in timed),
        "peak_rss_mb": peak_rss_mb(),
        **{key: median(key) for key in ("rollout_s", "update_s") if key in timed[0]},
    }


def run_execrl(variant: str) -> dict[str, Any]:
    from execrl.rl import Trainer, parse_config

    settings = EXECRL_SETTINGS[variant]
    with tempfile.TemporaryDirectory() as out:
        config = parse_config({
            "device": "cpu", "precision": settings["precision"], "output_dir": out,
            "model": {"name": "smollm2", "lora": LORA, "value": "none"},
            "tasks": {"train_size": 64},
            "generation": {"max_new_tokens": NEW_TOKENS, "max_prompt_tokens": 256, "temperature": TEMPERATURE,
                           "stop_strings": [STOP], "backend": settings["backend"], "share_prefix": settings["share_prefix"]},
            "reward": {"judges": {"compiles": {"kind": "plugin", "settings": {"callable": "rl_step:compile_judge"}}}},
            "algorithm": {"estimator": "rloo", "steps": WARMUP + STEPS, "prompts_per_step": PROMPTS,
                          "samples_per_prompt": GROUP, "epochs": 1, "minibatch_size": PROMPTS * GROUP,
                          "micro_batch_size": 8, "learning_rate": 1e-5, "kl": {"coef": 0.05}},
            "checkpoint": {"every": 1000}, "eval": {"enabled": False},
            "logging": {"tensorboard": False, "plots": False, "progress": False}, "export": {"adapter": False},
        })
        trainer = Trainer(config)
        generate = trainer.engine.generate
        spent: list[float] = []

        def timed_generate(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return generate(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        trainer.engine.generate = timed_generate  # type: ignore[method-assign]
        steps = []
        for _ in range(WARMUP + STEPS):
            spent.clear()
            started = time.perf_counter()
            record = trainer.step()
            step_s = time.perf_counter() - started
            trainer.state.step += 1
            steps.append({
                "step_s": step_s, "generate_s": sum(spent), "tokens": record["response_tokens"] * PROMPTS * GROUP,
                "rollout_s": record["time/rollout_s"], "update_s": record["time/update_s"],
            })
        precision = trainer.runtime.precision.name
        trainer.engine.close()
    return {**_summary(steps), "precision": precision}


def run_trl() -> dict[str, Any]:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import RLOOConfig, RLOOTrainer

    from execrl.models import format_prompt, load_causal_lm, load_tokenizer
    from execrl.tasks.builtin import generate_python_tasks

    tokenizer = load_tokenizer("smollm2")
    prompts = [format_prompt(tokenizer, t.prompt, SYSTEM) for t in generate_python_tasks(64, levels=[1])]
    steps: list[dict[str, float]] = []
    spent: list[float] = []
    tokens: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            spent.clear()
            tokens.clear()
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            steps.append({"step_s": time.perf_counter() - self.started, "generate_s": sum(spent), "tokens": sum(tokens)})

    def reward(completions: list[str], **kwargs: Any) -> list[float]:
        return [compiles(c) for c in completions]

    with tempfile.TemporaryDirectory() as out:
        args = RLOOConfig(
            output_dir=out, use_cpu=True, bf16=True, report_to=[], save_strategy="no", logging_steps=1000,
            per_device_train_batch_size=PROMPTS * GROUP, num_generations=GROUP, gradient_accumulation_steps=1,
            max_completion_length=NEW_TOKENS, max_steps=WARMUP + STEPS, learning_rate=1e-5, beta=0.05,
            temperature=TEMPERATURE, top_p=1.0, top_k=0, num_iterations=1, seed=0, dataloader_num_workers=0,
        )
        trainer = RLOOTrainer(
            model=load_causal_lm("smollm2"), reward_funcs=[reward], args=args,
            train_dataset=Dataset.from_dict({"prompt": prompts}), processing_class=tokenizer,
            peft_config=LoraConfig(r=LORA["rank"], lora_alpha=LORA["alpha"], lora_dropout=0.0,
                                   target_modules=LORA["target_modules"], task_type="CAUSAL_LM"),
            callbacks=[StepTimer()],
        )
        generate = trainer._generate

        def timed_generate(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            result = generate(*a, **k)
            spent.append(time.perf_counter() - started)
            completion_ids = result[1] if isinstance(result, tuple) else result
            tokens.append(float(sum(len(ids) for ids in completion_ids)))
            return result

        trainer._generate = timed_generate  # type: ignore[method-assign]
        trainer.train()
    return {**_summary(steps), "precision": "bf16"}


def vllm_python(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    candidate = ROOT / ".venv-vllm" / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def run_variant_process(variant: str, python: str) -> dict[str, Any]:
    done = subprocess.run(
        [python, str(Path(__file__)), "--variant", variant, "--json"], capture_output=True, text=True, check=False,
        cwd=ROOT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=VARIANTS, help="run one variant in this process")
    parser.add_argument("--json", action="store_true", help="with --variant: print the result as JSON")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated variants to compare")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vllm-python", help="interpreter with vllm installed (default: .venv-vllm/bin/python)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    if args.variant:
        sys.path.insert(0, str(HERE))
        warnings.simplefilter("ignore")
        result = run_trl() if args.variant == "trl" else run_execrl(args.variant)
        print("RESULT " + json.dumps(result))
        return
    variants = [v for v in args.variants.split(",") if v]
    python = {v: sys.executable for v in variants}
    if "vllm" in variants:
        found = vllm_python(args.vllm_python)
        if found is None:
            print("vllm: no .venv-vllm (make test-vllm creates it); skipped", file=sys.stderr)
            variants.remove("vllm")
        else:
            python["vllm"] = found
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for repeat in range(args.repeats):
        for variant in variants if repeat % 2 == 0 else variants[::-1]:
            result = run_variant_process(variant, python[variant])
            runs[variant].append(result)
            print(f"repeat {repeat + 1} {variant}: {result}", flush=True)
    report = summarize(runs)
    print(json.dumps(report, indent=1))
    if not args.no_write:
        write_report(report, args.repeats)


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per variant: medians over repeats; ratios against ``today`` and ``trl`` taken per repeat, then the median."""
    report: dict[str, Any] = {}
    for variant, results in runs.items():
        good = [r for r in results if "error" not in r]
        if not good:
            report[variant] = {"error": results[-1].get("error")}
            continue
        keys = [k for k, v in good[0].items() if isinstance(v, float)]
        report[variant] = {k: statistics.median(r[k] for r in good) for k in keys}
        report[variant]["precision"] = good[0].get("precision")
        for baseline in ("today", "trl"):
            base = runs.get(baseline)
            if base is None or baseline == variant:
                continue
            pairs = [(r, b) for r, b in zip(results, base) if "error" not in r and "error" not in b]
            if pairs:
                report[variant][f"step_speedup_vs_{baseline}"] = statistics.median(b["step_s"] / r["step_s"] for r, b in pairs)
                report[variant][f"generate_speedup_vs_{baseline}"] = statistics.median(
                    r["generate_tokens_per_s"] / b["generate_tokens_per_s"] for r, b in pairs
                )
    return report


def write_report(report: dict[str, Any], repeats: int) -> None:
    sys.path.insert(0, str(HERE))
    from _report import write_section

    names = {"today": "execrl, first path (fp32, HF generate, unmerged)", "default": "execrl default",
             "vllm": "execrl, vLLM backend", "trl": "TRL RLOOTrainer"}
    rows = [
        "| variant | precision | step (s) | generation (s) | rest of step (s) | generated tokens/s | step x vs first path | "
        "step x vs TRL | generation x vs first path | peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, r in report.items():
        if "error" in r:
            rows.append(f"| {names[variant]} | failed: {r['error']} | | | | | | | | |")
            continue

        def x(key: str) -> str:
            return f"{r[key]:.2f}" if key in r else ""

        rows.append(
            f"| {names[variant]} | {r['precision']} | {r['step_s']:.1f} | {r['generate_s']:.1f} | {r['rest_s']:.1f} "
            f"| {r['generate_tokens_per_s']:.0f} | {x('step_speedup_vs_today')} | {x('step_speedup_vs_trl')} "
            f"| {x('generate_speedup_vs_today')} | {r['peak_rss_mb']:.0f} |"
        )
    body = (
        f"`python bench/rl_step.py --repeats {repeats}`: one RLOO step of SmolLM2-135M-Instruct (embedded), LoRA r=16 "
        f"on q/k/v/o, {PROMPTS} built-in task prompts x {GROUP} samples, at most {NEW_TOKENS} new tokens at T = "
        f"{TEMPERATURE} (stop at the closing fence), one epoch, KL coefficient 0.05, a compile-check reward; each "
        f"variant in its own process, median of {STEPS} steps after {WARMUP} warm-up, then the median over "
        f"{repeats} repeats that alternate the order; speed-ups are per-repeat ratios, then their median. "
        "'generation' is the engine's (TRL: `_generate`) time alone; 'rest of step' is everything else "
        "(log-prob, reference and value passes, reward, update). The machine is shared: compare rows of one run.\n\n"
        + "\n".join(rows)
    )
    write_section(ROOT / "docs" / "benchmarks.md", "RL step", body)


if __name__ == "__main__":
    main()
