"""Held-out pass rate: greedy decoding, then the task's tests in the sandbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from execrl.models import ActorCritic, GenerationSettings, generate
from execrl.rewards import extract_code
from execrl.rl.rollout import Autocast
from execrl.sandbox import AssertTests, Job, Limits, default_sandbox
from execrl.tasks.types import Task


def pass_rate(
    model: ActorCritic,
    tokenizer: Any,
    tasks: Sequence[Task],
    prompt_ids: Sequence[Sequence[int]],
    settings: GenerationSettings,
    batch_size: int,
    timeout_s: float,
    autocast: Autocast,
) -> float:
    """Fraction of ``tasks`` whose greedy response passes all of the task's tests."""
    if not tasks:
        return float("nan")
    responses: list[str] = []
    for start in range(0, len(tasks), batch_size):
        with autocast():
            generated = generate(model.policy, tokenizer, prompt_ids[start : start + batch_size], settings, greedy=True)
        responses += [
            tokenizer.decode(generated.response(i), skip_special_tokens=True) for i in range(len(generated.lengths))
        ]
    jobs = [
        Job(
            code=extract_code(text).code,
            tests=AssertTests(task.test_asserts, setup=task.test_setup),
            limits=Limits(timeout_s=timeout_s),
        )
        for text, task in zip(responses, tasks)
    ]
    results = default_sandbox().run(jobs)
    return sum(r.passed for r in results) / len(results)
