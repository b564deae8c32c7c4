"""The trainer's one point of contact with the judges: generated ids in, per-token rewards out.

The judges see exactly the text that ``execrl.credit.offsets_for_token_ids`` decodes from the
generated ids, so the findings' character spans line up with the tokens' spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from execrl.credit import offsets_for_token_ids
from execrl.rewards import RewardFormula, load_config, parse_config
from execrl.tasks.types import Task


@dataclass(frozen=True)
class JudgedBatch:
    texts: list[str]
    token_rewards: list[list[float]]  # one value per response token (eos included)
    totals: list[float]  # each response's reward, the sum of its token rewards
    judge_scores: dict[str, list[float]]  # each judge's raw score per response

    def as_tensor(self, width: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """``[B, width]`` right-padded with zeros."""
        out = torch.zeros((len(self.token_rewards), width), dtype=torch.float32)
        for i, row in enumerate(self.token_rewards):
            out[i, : len(row)] = torch.tensor(row, dtype=torch.float32)
        return out.to(device)


def build_formula(inline: dict[str, Any] | None, path: str | None) -> RewardFormula:
    """The reward formula of the training config: inline, from a file, or the default one."""
    if inline is not None:
        return RewardFormula(parse_config(inline, "training config: reward"))
    return RewardFormula(load_config(path))


def judge_responses(
    formula: RewardFormula, tokenizer: Any, tasks: Sequence[Task], responses: Sequence[Sequence[int]]
) -> JudgedBatch:
    """Score each response (generated ids, eos included) against its task and spread it over its tokens."""
    decoded = [offsets_for_token_ids(tokenizer, ids) for ids in responses]
    candidates = [
        formula.candidate(
            text,
            tests=task.test_asserts or None,
            test_setup=task.test_setup,
            task_id=task.task_id,
            task=task,
        )
        for (text, _), task in zip(decoded, tasks)
    ]
    scored = formula.score_batch(candidates)
    token_rewards = [b.token_rewards(offsets) for b, (_, offsets) in zip(scored.breakdowns, decoded)]
    names = [c.name for c in scored.breakdowns[0].components] if scored.breakdowns else []
    judge_scores = {name: [b.component(name).raw for b in scored.breakdowns] for name in names}
    return JudgedBatch(
        texts=[text for text, _ in decoded],
        token_rewards=token_rewards,
        totals=[b.total for b in scored.breakdowns],
        judge_scores=judge_scores,
    )
