"""Sampling a model's answers to benchmark tasks, as sample records the evaluators read.

Generation is resumable: every finished sample is appended to a cache file (JSONL) keyed by
(task, sample index), so an interrupted run picks up where it stopped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError
from execrl.rewards.extract import extract_code

MBPP_INSTRUCTION = (
    "You are an expert Python programmer, and here is your task: {text}\n"
    "Your code should pass these tests:\n\n{tests}\n\nWrite the function in a ```python code block."
)
MBPPPLUS_INSTRUCTION = (
    "Complete the following Python function. Write the whole function in a ```python code block.\n\n"
    "```python\n{prompt}```"
)
# RoboEval's settings (shared/specs/roboeval.md, section 2).
ROBOEVAL_DEFAULT_N, ROBOEVAL_DEFAULT_TEMPERATURE = 20, 0.2


@dataclass(frozen=True)
class _Prompt:
    key: str  # task id (MBPP, MBPP+) or "<Task>_<prompt index>" (RoboEval)
    text: str  # what the model sees, already formatted
    record: dict[str, Any]  # the fields every sample of this prompt carries


def generate_samples(
    benchmark: str,
    model: str,
    adapter: str | os.PathLike[str] | None = None,
    n: int | None = None,
    temperature: float | None = None,
    max_new_tokens: int = 512,
    batch_size: int = 8,
    limit: int | None = None,
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    cache_path: Path | None = None,
) -> list[dict[str, Any]]:
    """``n`` samples per prompt (default: 1 greedy; RoboEval: 20 at T=0.2) as evaluator records."""
    from execrl.models import GenerationSettings, load_causal_lm, load_tokenizer

    robot = benchmark == "roboeval"
    n = n if n is not None else (ROBOEVAL_DEFAULT_N if robot else 1)
    temperature = temperature if temperature is not None else (ROBOEVAL_DEFAULT_TEMPERATURE if robot else 0.0)
    if n < 1 or batch_size < 1:
        raise ExecrlError("--n and --batch-size must be at least 1")
    if n > 1 and temperature == 0:
        raise ExecrlError(f"--n {n} with greedy decoding (temperature 0) would repeat one answer; set --temperature")
    tokenizer = load_tokenizer(model)
    prompts = _prompts(benchmark, tokenizer, split, data_dir)[:limit]
    done = _load_cache(cache_path)
    todo = [(p, k) for p in prompts for k in range(n) if f"{p.key}#{k}" not in done]
    if todo:
        policy = _load_policy(load_causal_lm(model), adapter)
        settings = GenerationSettings(
            max_new_tokens=max_new_tokens,
            max_prompt_tokens=4096,
            temperature=temperature,
            top_p=0.95 if temperature > 0 else 1.0,
            stop_strings=_stops(benchmark),
        )
        _run(policy, tokenizer, todo, settings, batch_size, benchmark, done, cache_path)
    return [done[f"{p.key}#{k}"] for p in prompts for k in range(n)]


def _prompts(benchmark: str, tokenizer: Any, split: str, data_dir: Any) -> list[_Prompt]:
    from execrl.models import format_prompt

    if benchmark == "mbpp":
        from execrl.tasks import load_mbpp

        return [
            _Prompt(
                t.task_id,
                format_prompt(tokenizer, MBPP_INSTRUCTION.format(text=t.prompt, tests="\n".join(t.test_asserts))),
                {"task_id": t.task_id},
            )
            for t in load_mbpp(data_dir, split=split)
        ]
    if benchmark == "mbppplus":
        from execrl.tasks import load_mbppplus

        return [
            _Prompt(t.task_id, format_prompt(tokenizer, MBPPPLUS_INSTRUCTION.format(prompt=t.prompt)), {"task_id": t.task_id})
            for t in load_mbppplus(data_dir).tasks.values()
        ]
    from execrl.robot.prompting import build_prompt
    from execrl.robot.tasks import load_tasks

    # RoboEval prompts a completion model: the program header is the end of the text, no chat turn.
    return [
        _Prompt(f"{task.name}_{i}", build_prompt(text), {"task": task.name, "prompt_index": i})
        for task in load_tasks(data_dir).values()
        for i, text in enumerate(task.prompts)
    ]


def _stops(benchmark: str) -> tuple[str, ...]:
    if benchmark == "roboeval":
        from execrl.robot.prompting import STOP_SEQUENCES

        return STOP_SEQUENCES
    return ()


def _sample(benchmark: str, prompt: _Prompt, index: int, text: str) -> dict[str, Any]:
    if benchmark == "roboeval":
        from execrl.robot.prompting import program_from_completion

        return {**prompt.record, "id": f"{prompt.key}_{index}", "program": program_from_completion(text)}
    return {**prompt.record, "solution": extract_code(text).code, "raw": text}


def _load_policy(model: Any, adapter: Any) -> Any:
    import torch

    if adapter is not None:
        from peft import PeftModel

        try:
            model = PeftModel.from_pretrained(model, str(adapter))
        except (OSError, ValueError) as exc:
            raise ExecrlError(f"cannot load the adapter {adapter}: {exc}") from exc
    return model.to("cuda" if torch.cuda.is_available() else "cpu").eval()


def _load_cache(path: Path | None) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    if path is None or not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            done[entry["key"]] = entry["sample"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line cut short by a crash: that sample is generated again
    return done


def _run(policy, tokenizer, todo, settings, batch_size, benchmark, done, cache_path) -> None:  # noqa: ANN001
    from rich.progress import Progress

    from execrl.models import encode_prompts, generate

    greedy = settings.temperature == 0
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = cache_path.open("a", encoding="utf-8") if cache_path is not None else None
    try:
        with Progress() as progress:
            bar = progress.add_task("generating", total=len(todo))
            for start in range(0, len(todo), batch_size):
                chunk = todo[start : start + batch_size]
                ids = encode_prompts(tokenizer, [p.text for p, _ in chunk], settings.max_prompt_tokens)
                generated = generate(policy, tokenizer, ids, settings, greedy=greedy)
                for row, (prompt, index) in enumerate(chunk):
                    text = tokenizer.decode(generated.response(row), skip_special_tokens=True)
                    sample = _sample(benchmark, prompt, index, text)
                    key = f"{prompt.key}#{index}"
                    done[key] = sample
                    if cache is not None:
                        cache.write(json.dumps({"key": key, "sample": sample}) + "\n")
                        cache.flush()
                progress.advance(bar, len(chunk))
    finally:
        if cache is not None:
            cache.close()
