"""execrl's dense, per-token rewards in verl 0.9's PPO: an agent loop that scores its own responses.

verl 0.9 (V1 trainer, ``trainer.use_v1: true``, its default) takes the reward of a response from its
agent-loop output: ``AgentLoopOutput.as_dict()`` writes ``rm_scores``, one value per response token,
into the TransferQueue, and the trainer's ``_compute_advantage`` uses that tensor as
``token_level_scores`` unchanged. Its own reward loop only ever fills it with one scalar on the last
token. ``ExecrlAgentLoop`` is verl's single-turn agent loop plus execrl's judges: after generating, it
scores the response against the task check in ``reward_model.ground_truth`` (rows written by
``execrl.integrations.verl_data``), spreads each judge's reward over the response's tokens with that
judge's credit strategy, and returns an output whose ``rm_scores`` are those per-token rewards. Since
the output already carries a reward, verl's reward loop skips it (as it does for agent loops that
score themselves).

The judges of one agent-loop worker process run in batches: responses that finish within
``max_wait_s`` of each other (up to ``max_batch``) are scored together in a thread, so Ruff and Bandit
run once per batch and the sandbox runs the batch's tests in parallel while the event loop keeps
generating. The sandbox is the worker's own local pool or a Ray reward farm
(``execrl.integrations.ray_sandbox``). See docs/integrations/verl.md.
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from typing import Any

import torch
from pydantic import model_validator

from execrl.errors import ExecrlError
from execrl.integrations.judge_batcher import BatchScorer
from execrl.integrations.verl import EXTRA_PREFIX
from execrl.integrations.verl_data import TaskCheck
from execrl.rewards import RewardFormula
from execrl.sandbox import Sandbox, SandboxBackend, set_default_sandbox

try:
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput
    from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop
except ImportError as exc:  # verl's agent loop needs its full dependency set (hydra, ray, ...)
    raise ExecrlError(
        f"execrl.integrations.verl_agent_loop needs verl 0.9 with its dependencies ({exc}): "
        "pip install 'verl==0.9.1' cachetools fastapi uvicorn TransferQueue (or: make verl-env)"
    ) from exc

logger = logging.getLogger(__name__)

# verl estimators that read each token's reward; the others (grpo, rloo, opo, gpg, ...) sum each row first.
PER_TOKEN_ESTIMATORS = (
    "gae",
    "reinforce_plus_plus",
    "remax",
    "optimal_token_baseline",
    "tir_optimal_token_baseline",
)
SANDBOXES = ("local", "ray")


class DenseRewardOutput(AgentLoopOutput):
    """An agent-loop output whose ``rm_scores`` are execrl's per-token rewards, not one on the last token."""

    token_rewards: list[float]
    """One reward per response token; their sum is ``reward_score``."""

    @model_validator(mode="after")
    def _one_reward_per_token(self) -> DenseRewardOutput:
        if len(self.token_rewards) != len(self.response_ids):
            raise ValueError(
                f"{len(self.token_rewards)} token rewards for a response of {len(self.response_ids)} tokens"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        output = super().as_dict()
        output.pop("token_rewards", None)
        output["rm_scores"] = torch.tensor(self.token_rewards, dtype=torch.float32)
        return output


# One scorer and one sandbox per process (an agent-loop worker), shared by its agent loops: verl builds
# an agent loop per sample.
_scorers: dict[tuple[Any, ...], BatchScorer] = {}
_sandbox_choice: tuple[str, int | None] | None = None
_warned_estimators: set[str] = set()


def _install_sandbox(kind: str, size: int | None, agent_workers: int) -> None:
    """Make this process's judges run their programs in the chosen sandbox (once per process)."""
    global _sandbox_choice
    if _sandbox_choice is not None:
        if _sandbox_choice != (kind, size):
            raise ExecrlError(
                f"this verl worker already judges with sandbox {_sandbox_choice}; every execrl agent loop "
                f"of a run must use the same sandbox settings (got {(kind, size)})"
            )
        return
    backend: SandboxBackend
    if kind == "local":
        # Several agent-loop workers share a node: by default they split its CPUs between them.
        backend = Sandbox(workers=size or max(1, (os.cpu_count() or 1) // agent_workers))
    else:
        import ray

        from execrl.integrations.ray_sandbox import RaySandbox

        # Each worker gets its own actors; by default the workers' farms take half the cluster's CPUs.
        actors = size or max(1, int(ray.cluster_resources().get("CPU", 1)) // (2 * agent_workers))
        backend = RaySandbox(actors=actors)
    set_default_sandbox(backend)
    atexit.register(backend.close)
    _sandbox_choice = (kind, size)


class ExecrlAgentLoop(SingleTurnAgentLoop):
    """verl's single-turn agent loop whose output carries execrl's per-token rewards as ``rm_scores``.

    Configured in verl's agent-loop config file (``actor_rollout_ref.rollout.agent.agent_loop_config_path``;
    example: examples/verl/execrl_agent_loop.yaml). ``reward_config``: a reward config YAML
    (``None``: execrl's default formula). ``sandbox``: ``local`` (a pool in each agent-loop worker,
    ``sandbox_size`` processes, default the node's CPUs divided by ``agent.num_workers``) or ``ray``
    (a reward farm on the Ray cluster, ``sandbox_size`` actors per worker, default half the cluster's
    CPUs shared by the workers). ``max_batch`` / ``max_wait_s``: how the judges batch responses.
    """

    def __init__(
        self,
        *args: Any,
        reward_config: str | None = None,
        sandbox: str = "local",
        sandbox_size: int | None = None,
        max_batch: int = 64,
        max_wait_s: float = 0.05,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not self.config.trainer.get("use_v1", False):
            raise ExecrlError(
                "ExecrlAgentLoop needs verl's V1 trainer (trainer.use_v1: true): the legacy trainer keeps "
                "only each response's reward_score, on its last token, and execrl's per-token credit would "
                "be lost"
            )
        if sandbox not in SANDBOXES:
            raise ExecrlError(f"ExecrlAgentLoop: sandbox must be one of {SANDBOXES}, not {sandbox!r}")
        if sandbox_size is not None and sandbox_size < 1:
            raise ExecrlError(
                f"ExecrlAgentLoop: sandbox_size must be at least 1 (or null), not {sandbox_size}"
            )
        estimator = str(self.config.algorithm.adv_estimator)
        if estimator not in PER_TOKEN_ESTIMATORS and estimator not in _warned_estimators:
            _warned_estimators.add(estimator)
            logger.warning(
                "algorithm.adv_estimator=%s sums each response's rewards before computing advantages, so "
                "execrl's per-token credit does not reach the update; use one of %s for it to",
                estimator,
                ", ".join(PER_TOKEN_ESTIMATORS),
            )
        _install_sandbox(sandbox, sandbox_size, int(self.rollout_config.agent.num_workers))
        key = (reward_config, max_batch, max_wait_s, id(self.tokenizer))
        if key not in _scorers:
            _scorers[key] = BatchScorer(
                RewardFormula.from_file(reward_config), self.tokenizer, max_batch, max_wait_s
            )
        self.scorer = _scorers[key]

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> DenseRewardOutput:
        output = await super().run(sampling_params, **kwargs)
        check = TaskCheck.from_ground_truth(_ground_truth(kwargs))
        started = time.perf_counter()
        scored = await self.scorer.score(check.task(), output.response_ids)
        output.metrics.compute_score = time.perf_counter() - started  # verl logs agent_loop/compute_score/*
        extra_fields = dict(output.extra_fields)
        extra_fields["reward_extra_info"] = {
            **{EXTRA_PREFIX + name: value for name, value in scored.judge_scores.items()},
            EXTRA_PREFIX + "total": scored.total,
        }
        # Only the fields the single-turn loop set: as_dict() dumps the set fields only.
        fields = {name: getattr(output, name) for name in output.model_fields_set}
        fields.update(
            reward_score=scored.total, token_rewards=scored.token_rewards, extra_fields=extra_fields
        )
        return DenseRewardOutput(**fields)


def _ground_truth(sample: dict[str, Any]) -> Any:
    reward_model = sample.get("reward_model")
    if not isinstance(reward_model, dict) or "ground_truth" not in reward_model:
        raise ExecrlError(
            "this sample has no reward_model.ground_truth; write the data set with "
            "execrl.integrations.verl_data.write_verl_parquet"
        )
    return reward_model["ground_truth"]
