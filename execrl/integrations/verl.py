"""An execrl reward manager for verl: dense, per-token rewards from execrl's judges and credit mapping.

``ExecrlRewardManager`` follows verl's reward-manager contract (``verl.workers.reward_manager``):
built as ``cls(tokenizer=..., num_examine=..., compute_score=..., reward_fn_key=..., **reward_kwargs)``
and called as ``manager(data: DataProto, return_dict=True)``. For each sample it takes the valid
response tokens (the response part of ``attention_mask``), scores the decoded response against the
task check in ``reward_model.ground_truth`` (see ``execrl.integrations.verl_data``) with the
configured reward formula, and spreads each judge's reward over the response's tokens with that
judge's credit strategy. The result is the ``(batch, response_length)`` reward tensor verl uses as
``token_level_scores``: zero on padding, summing per row to execrl's total for that response.
``reward_extra_info`` holds each judge's raw score and the total, one value per sample.

Importing this module registers the manager as ``"execrl"`` in verl's registry. ``compute_score``
is the same formula as one scalar per response, for verl's function-based reward path (the reward
loop of verl >= 0.8, which keeps one value per response on its last token). With verl 0.9 the per-token
rewards go through ``execrl.integrations.verl_agent_loop`` instead. See docs/integrations/verl.md.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from execrl.errors import ExecrlError
from execrl.integrations.verl_data import TaskCheck
from execrl.rewards import RewardFormula
from execrl.rl.rewarding import JudgedBatch, judge_responses

try:
    from verl import DataProto
    from verl.workers.reward_manager import register
    from verl.workers.reward_manager.abstract import AbstractRewardManager
except ImportError as exc:  # verl is optional: only this integration needs it
    raise ExecrlError(
        f"execrl.integrations.verl needs verl ({exc}): pip install verl, or at least "
        "pip install --no-deps verl && pip install tensordict omegaconf"
    ) from exc

EXTRA_PREFIX = "execrl_"  # reward_extra_info keys join verl's non-tensor batch: keep them apart from its own


@register("execrl")
class ExecrlRewardManager(AbstractRewardManager):
    """Dense execrl rewards for verl's PPO (``reward_model.reward_manager: execrl``).

    ``reward_config``: a reward config YAML path (``None``: execrl's default formula), or pass a
    built ``formula``. ``compute_score`` is accepted because verl always passes one, and unused:
    the judges are the formula's. ``num_examine``: how many samples per data source to print per call.
    """

    def __init__(
        self,
        tokenizer: Any,
        num_examine: int = 0,
        compute_score: Any = None,
        reward_fn_key: str = "data_source",
        reward_config: str | None = None,
        formula: RewardFormula | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.num_examine = num_examine
        self.reward_fn_key = reward_fn_key
        self.formula = formula if formula is not None else RewardFormula.from_file(reward_config)

    def __call__(self, data: DataProto, return_dict: bool = False) -> torch.Tensor | dict[str, Any]:
        precomputed = self._extract_reward_from_rm_scores(data, return_dict)
        if precomputed is not None:
            return precomputed
        responses = data.batch["responses"]
        prompt_length = data.batch["prompts"].shape[-1]
        lengths = data.batch["attention_mask"][:, prompt_length:].sum(dim=-1).tolist()
        ids = [responses[i, : int(n)].tolist() for i, n in enumerate(lengths)]
        checks = [TaskCheck.from_ground_truth(rm["ground_truth"]) for rm in data.non_tensor_batch["reward_model"]]
        judged = judge_responses(self.formula, self.tokenizer, [check.task() for check in checks], ids)
        reward_tensor = judged.as_tensor(responses.shape[-1], responses.device)
        extra = log_values(judged)
        self._print_examples(data, judged)
        if return_dict:
            return {"reward_tensor": reward_tensor, "reward_extra_info": extra}
        return reward_tensor

    def _print_examples(self, data: DataProto, judged: JudgedBatch) -> None:
        shown: dict[str, int] = defaultdict(int)
        sources = data.non_tensor_batch.get(self.reward_fn_key)
        for i, text in enumerate(judged.texts):
            source = str(sources[i]) if sources is not None else "unknown"
            if shown[source] >= self.num_examine:
                continue
            shown[source] += 1
            scores = ", ".join(f"{name} {values[i]:.3f}" for name, values in judged.judge_scores.items())
            print(f"[execrl {source}] total {judged.totals[i]:.3f} ({scores})\n[response] {text}")


def log_values(judged: JudgedBatch) -> dict[str, list[float]]:
    """Per-sample values for verl's logs: each judge's raw score and the total reward."""
    extra = {EXTRA_PREFIX + name: list(values) for name, values in judged.judge_scores.items()}
    extra[EXTRA_PREFIX + "total"] = list(judged.totals)
    return extra


_formulas: dict[str | None, RewardFormula] = {}


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict[str, Any] | None = None,
    reward_config: str | None = None,
    **_: Any,
) -> dict[str, float]:
    """One response's execrl reward as a scalar (``score``) with each judge's raw score, for verl's
    ``custom_reward_function`` (dense credit does not survive that path; the manager above keeps it)."""
    formula = _formulas.get(reward_config)
    if formula is None:
        formula = _formulas[reward_config] = RewardFormula.from_file(reward_config)
    task = TaskCheck.from_ground_truth(ground_truth).task()
    candidate = formula.candidate(
        solution_str, tests=task.test_asserts or None, test_setup=task.test_setup, task_id=task.task_id, task=task
    )
    [breakdown] = formula.score_batch([candidate]).breakdowns
    return {"score": breakdown.total, **{EXTRA_PREFIX + part.name: part.raw for part in breakdown.components}}
