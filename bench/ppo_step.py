"""Time per RL step and peak memory: execrl's trainer against TRL's RLOOTrainer, same model and batch.

Both train SmolLM2-135M-Instruct (the embedded default) with the same LoRA, on the CPU, with
``PROMPTS`` prompts x ``GROUP`` samples per step, at most ``NEW_TOKENS`` new tokens, and the same Python
reward function (1 if the response's code compiles, else 0). Each side runs in its own process so
that peak RSS is its own. execrl reports rollout / reward / update separately; TRL only per step.

    python bench/ppo_step.py            # both, then writes the "PPO step" section of docs/benchmarks.md
    python bench/ppo_step.py --only execrl
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

HERE = Path(__file__).resolve().parent
PROMPTS, GROUP, NEW_TOKENS, WARMUP, STEPS = 4, 2, 32, 1, 3
LORA = {"rank": 16, "alpha": 32, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}


def compiles(text: str) -> float:
    from execrl.rewards import extract_code

    try:
        compile(extract_code(text).code, "<response>", "exec")
    except (SyntaxError, ValueError):
        return 0.0
    return 1.0


def compile_judge(batch):  # the plugin judge execrl calls: the same function as TRL's reward
    from execrl.records import JudgeResult

    return [JudgeResult(compiles(c.response)) for c in batch]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_execrl() -> dict:
    from execrl.rl import Trainer, parse_config

    with tempfile.TemporaryDirectory() as out:
        config = parse_config({
            "device": "cpu", "output_dir": out,
            "model": {"name": "smollm2", "lora": LORA, "value": "none"},
            "tasks": {"train_size": 64},
            "generation": {"max_new_tokens": NEW_TOKENS, "max_prompt_tokens": 256},
            "reward": {"judges": {"compiles": {"kind": "plugin", "settings": {"callable": "ppo_step:compile_judge"}}}},
            "algorithm": {"estimator": "rloo", "steps": WARMUP + STEPS, "prompts_per_step": PROMPTS,
                          "samples_per_prompt": GROUP, "epochs": 1, "minibatch_size": PROMPTS * GROUP,
                          "micro_batch_size": PROMPTS * GROUP, "learning_rate": 1e-5},
            "checkpoint": {"every": 1000}, "eval": {"enabled": False},
            "logging": {"tensorboard": False, "plots": False, "progress": False}, "export": {"adapter": False},
        })
        trainer = Trainer(config)
        records = []
        for _ in range(WARMUP + STEPS):
            records.append(trainer.step())
            trainer.state.step += 1
    timed = records[WARMUP:]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in timed)

    return {
        "step_s": median("time/rollout_s") + median("time/reward_s") + median("time/update_s"),
        "rollout_s": median("time/rollout_s"), "reward_s": median("time/reward_s"), "update_s": median("time/update_s"),
        "response_tokens": median("response_tokens"), "peak_rss_mb": peak_rss_mb(),
    }


def run_trl() -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import RLOOConfig, RLOOTrainer

    from execrl.models import format_prompt, load_causal_lm, load_tokenizer
    from execrl.tasks.builtin import generate_python_tasks

    tokenizer = load_tokenizer("smollm2")
    system = "Write a Python function that solves the task. Answer with one ```python code block."
    prompts = [format_prompt(tokenizer, t.prompt, system) for t in generate_python_tasks(64, levels=[1])]
    steps: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            steps.append(time.perf_counter() - self.started)

    def reward(completions, **kwargs):
        return [compiles(c) for c in completions]

    with tempfile.TemporaryDirectory() as out:
        args = RLOOConfig(
            output_dir=out, use_cpu=True, bf16=False, report_to=[], save_strategy="no", logging_steps=1000,
            per_device_train_batch_size=PROMPTS * GROUP, num_generations=GROUP, gradient_accumulation_steps=1,
            max_completion_length=NEW_TOKENS, max_steps=WARMUP + STEPS, learning_rate=1e-5, beta=0.05,
            temperature=1.0, top_p=1.0, top_k=0, num_iterations=1, seed=0, dataloader_num_workers=0,
        )
        trainer = RLOOTrainer(
            model=load_causal_lm("smollm2"), reward_funcs=[reward], args=args,
            train_dataset=Dataset.from_dict({"prompt": prompts}), processing_class=tokenizer,
            peft_config=LoraConfig(r=LORA["rank"], lora_alpha=LORA["alpha"], lora_dropout=0.0,
                                   target_modules=LORA["target_modules"], task_type="CAUSAL_LM"),
            callbacks=[StepTimer()],
        )
        trainer.train()
    return {"step_s": statistics.median(steps[WARMUP:]), "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["execrl", "trl"])
    parser.add_argument("--gpu-json", type=Path, help="bench/gpu_step.py's output, to include in the section")
    args = parser.parse_args()
    if args.only:
        sys.path.insert(0, str(HERE))
        warnings.simplefilter("ignore")
        result = run_execrl() if args.only == "execrl" else run_trl()
        print("RESULT " + json.dumps(result))
        return
    results = {}
    for side in ("execrl", "trl"):
        done = subprocess.run([sys.executable, __file__, "--only", side], capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        results[side] = json.loads(lines[-1][7:]) if lines else {"error": done.stderr.strip().splitlines()[-1:]}
        print(side, results[side], flush=True)
    write_report(results, json.loads(args.gpu_json.read_text()) if args.gpu_json else None)


def write_report(results: dict, gpu: dict | None) -> None:
    from _report import write_section

    e, t = results["execrl"], results["trl"]
    rows = [
        "| | step (s) | rollout (s) | reward (s) | update (s) | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|",
        (
            f"| execrl (RLOO) | {e['step_s']:.1f} | {e['rollout_s']:.1f} | {e['reward_s']:.2f} | {e['update_s']:.1f} "
            f"| {e['peak_rss_mb']:.0f} |"
        ),
    ]
    if "error" in t:
        rows.append(f"| TRL RLOOTrainer | failed: {t['error']} | | | | |")
    else:
        rows.append(f"| TRL RLOOTrainer | {t['step_s']:.1f} | | | | {t['peak_rss_mb']:.0f} |")
    body = (
        f"`python bench/ppo_step.py`: SmolLM2-135M-Instruct (embedded), LoRA r={LORA['rank']} on q/k/v/o, CPU fp32, "
        f"{PROMPTS} prompts x {GROUP} samples, at most {NEW_TOKENS} new tokens (execrl's responses averaged "
        f"{e['response_tokens']:.0f}), one epoch, a Python compile-check reward; median of {STEPS} steps after "
        f"{WARMUP} warm-up. Same machine, same run, each trainer in its own process. On a shared 2-core machine the CPU figures are noisy (other jobs ran alongside); compare the two rows of one run only.\n\n" + "\n".join(rows)
    )
    if gpu:
        body += (
            f"\n\n`python bench/gpu_step.py` on one {gpu['device']}: {gpu['model']}, {gpu['dtype']}, LoRA r=64 on every "
            f"projection, {gpu['batch']} prompts x {gpu['max_new_tokens']} new tokens ({gpu['generated_tokens']:.0f} tokens):\n\n"
            "| rollout tokens/s | update tokens/s (1 epoch) | rollout (s) | update (s) | peak GPU memory (GiB) |\n"
            "|---:|---:|---:|---:|---:|\n"
            f"| {gpu['rollout_tokens_per_s']:.0f} | {gpu['update_tokens_per_s']:.0f} | {gpu['rollout_s']:.1f} "
            f"| {gpu['update_s']:.1f} | {gpu['peak_gpu_memory_gib']:.1f} |\n\n"
            "The rollout is transformers' `generate` through the unmerged peft adapter (plus the policy, reference "
            "and value passes); it dominates the step."
        )
    write_section(HERE.parent / "docs" / "benchmarks.md", "PPO step", body)


if __name__ == "__main__":
    main()
