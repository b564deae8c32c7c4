"""The training loop: rollout -> judges -> per-token rewards -> advantages -> PPO update, step after step.

A run lives in ``output_dir``: the resolved config, ``metrics.jsonl``, TensorBoard logs, checkpoints,
learning-curve plots, the exported adapter (and merged model) and ``summary.json``. Under a data-parallel
launch (``accelerate launch -m execrl train``, see execrl/rl/distributed.py) each rank trains on its own
share of every step's prompts and rank 0 alone writes the run directory.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from execrl.credit import offsets_for_token_ids
from execrl.errors import ExecrlError
from execrl.models import encode_prompts, format_prompt, save_adapter, save_merged
from execrl.rewards import RunningStats
from execrl.rl.algorithm import (
    KLController,
    explained_variance,
    kl_per_token,
    masked_correlation,
    masked_mean,
    reward_to_go,
)
from execrl.rl.build import build_actor_critic, build_rollout_engine, resolve_runtime
from execrl.rl.checkpoints import TrainerState, latest_checkpoint, load_checkpoint, save_checkpoint
from execrl.rl.config import TrainConfig, dump_config
from execrl.rl.data import TaskStream, load_task_splits
from execrl.rl.distributed import parameter_checksum, rank_seed
from execrl.rl.estimators import AdvantageInput, estimate
from execrl.rl.evaluation import evaluate_held_out
from execrl.rl.metrics import STEP_KEY, MetricsLog, Record, StepProgress, step_window_mean
from execrl.rl.plots import plot_learning_curves
from execrl.rl.rewarding import JudgedBatch, build_formula, judge_responses
from execrl.rl.rollout import collect_rollout
from execrl.rl.update import ppo_update
from execrl.tasks.robot_gen import RobotTask
from execrl.tasks.types import Task


EVAL_METRICS = ("pass_rate", "syntax_error_rate", "ruff_findings_per_program", "mean_reward")


@dataclass(frozen=True)
class RunSummary:
    """What ``summary.json`` holds: the run's before/after figures on held-out tasks and its cost."""

    run_dir: str
    steps: int
    responses: int  # sampled during training
    reward_before: float  # mean training reward of the first steps of the run
    reward_after: float  # ... and of the last ones
    eval_tasks: int | None  # held-out tasks evaluated (greedy), None without evaluation
    pass_rate_before: float | None
    pass_rate_after: float | None
    syntax_error_rate_before: float | None
    syntax_error_rate_after: float | None
    ruff_findings_per_program_before: float | None
    ruff_findings_per_program_after: float | None
    mean_reward_before: float | None  # the reward formula on the greedy held-out responses
    mean_reward_after: float | None
    train_s: float  # wall time of the training steps (rollout, reward, update)
    eval_s: float  # wall time of the held-out evaluations
    learning_curves: str | None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    def __init__(self, config: TrainConfig, console: Console | None = None) -> None:
        self.config = config
        self.console = console or Console(stderr=True)
        self.run_dir = Path(config.output_dir)
        self.runtime = resolve_runtime(config)
        self.ranks = self.runtime.ranks
        if not self.ranks.is_main:
            self.console = Console(stderr=True, quiet=True)
        seed_everything(config.seed)  # the same on every rank: the same initial weights
        self.console.print(f"[dim]{self.runtime.precision.reason}; rollout engine: {config.generation.backend}[/dim]")
        self.model, self.tokenizer = build_actor_critic(config.model, self.runtime)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = _optimizer(self.model, config)
        self.engine = build_rollout_engine(config, self.runtime, self.tokenizer)
        self.formula = build_formula(config.reward, config.reward_config)
        splits = load_task_splits(config.tasks)
        self.stream = TaskStream(splits.train, config.seed)
        checkable = [t for t in splits.eval if t.test_asserts or isinstance(t, RobotTask)]
        self.eval_tasks = checkable if config.eval.enabled and self.ranks.is_main else []
        self.kl = KLController(config.algorithm.kl.coef, config.algorithm.kl.target, config.algorithm.kl.horizon)
        self.state = TrainerState(kl_coef=self.kl.coef)
        self._prompt_cache: dict[str, list[int]] = {}
        self._seed_rank()
        self.engine.sync(self.model.policy)

    def _seed_rank(self) -> None:
        if self.ranks.distributed:
            seed_everything(rank_seed(self.config.seed, self.ranks.rank, self.state.step))

    # --- prompts ------------------------------------------------------------------------------------

    def prompt_ids(self, tasks: list[Task]) -> list[list[int]]:
        missing = [t for t in tasks if t.task_id not in self._prompt_cache]
        if missing:
            if self.config.prompt_format == "completion":
                texts = [t.prompt for t in missing]
            else:
                texts = [format_prompt(self.tokenizer, t.prompt, self.config.model.system_prompt) for t in missing]
            for task, ids in zip(missing, encode_prompts(self.tokenizer, texts, self.config.generation.max_prompt_tokens)):
                self._prompt_cache[task.task_id] = ids
        return [self._prompt_cache[t.task_id] for t in tasks]

    def judge(self, tasks: list[Task], responses: list[list[int]]) -> JudgedBatch:
        """The judges' rewards for each response, cut before its first stop string.

        A completion continues its prompt's last line (``def task_program():``), so the judges see that
        line and the completion as one program; what they give the line goes to the first response token.
        """
        stops = self.config.generation.stop_strings
        responses = [before_stop(self.tokenizer, ids, stops) for ids in responses]
        if self.config.prompt_format == "chat":
            return judge_responses(self.formula, self.tokenizer, tasks, responses)
        heads = [self.tokenizer(t.prompt.rsplit("\n", 1)[-1], add_special_tokens=False)["input_ids"] for t in tasks]
        judged = judge_responses(self.formula, self.tokenizer, tasks, [h + r for h, r in zip(heads, responses)])
        token_rewards = []
        for head, row in zip(heads, judged.token_rewards):
            rest = row[len(head) :] or [0.0]
            token_rewards.append([rest[0] + math.fsum(row[: len(head)]), *rest[1:]])
        return dataclasses.replace(judged, token_rewards=token_rewards)

    # --- one step ------------------------------------------------------------------------------------

    def step(self) -> Record:
        algo, ranks = self.config.algorithm, self.ranks
        prompts = ranks.shard(self.stream.take(algo.prompts_per_step * ranks.world_size))
        tasks = [t for t in prompts for _ in range(algo.samples_per_prompt)]

        started = time.perf_counter()
        rollout = collect_rollout(
            self.model, self.engine, self.prompt_ids(prompts), algo.samples_per_prompt, self.config.generation,
            algo.micro_batch_size, self.runtime.autocast,
        )
        rollout_s = time.perf_counter() - started

        started = time.perf_counter()
        responses = [rollout.response_ids[i, :n].tolist() for i, n in enumerate(rollout.lengths())]
        judged = self.judge(tasks, responses)
        judge_rewards = judged.as_tensor(rollout.mask.shape[1], self.runtime.device)
        reward_s = time.perf_counter() - started

        started = time.perf_counter()
        mask = rollout.mask
        kl = kl_per_token(rollout.logp, rollout.ref_logp, algo.kl.estimator) * mask
        batch = AdvantageInput(
            judge_rewards * mask, self.kl.coef * kl, mask, rollout.groups, rollout.values, algo.gamma, algo.lam,
            algo.baseline,
        )
        advantages = estimate(algo.estimator, batch, algo.whiten_advantages)
        train_policy = self.state.step >= algo.critic_warmup_steps
        update = ppo_update(
            self.model, self.optimizer, rollout, advantages.advantages, advantages.returns, algo,
            self.runtime.autocast, ranks, train_policy=train_policy,
        )
        self.engine.sync(self.model.policy)
        update_s = time.perf_counter() - started

        kl_per_response = ranks.mean(float(kl.sum(1).mean()))
        self.kl.update(kl_per_response, rollout.size * ranks.world_size)
        tokens = float(mask.sum())
        totals = torch.tensor(ranks.gather(judged.totals))
        # How much of the advantages is the reward and how much the critic: a correlation near 0 with
        # the plain reward-to-go means the critic's noise drowns the reward (issue #12's symptom).
        to_go = reward_to_go(batch.rewards, mask, algo.gamma)
        record: Record = {
            "step": float(self.state.step + 1),
            "samples": float((self.state.step + 1) * algo.batch_size * ranks.world_size),
            "reward/mean": float(totals.mean()),
            "reward/std": float(totals.std()) if len(totals) > 1 else 0.0,
            **{f"judge/{name}": float(np.mean(scores)) for name, scores in judged.judge_scores.items()},
            "kl": kl_per_response,
            "kl_coef": self.kl.coef,
            "advantage/mean": float(masked_mean(advantages.advantages, mask)),
            "advantage/corr_reward_to_go": masked_correlation(advantages.advantages, to_go, mask),
            "response_tokens": tokens / rollout.size,
            "policy_trained": float(train_policy),
            **update.summary(),
            "time/rollout_s": rollout_s,
            "time/reward_s": reward_s,
            "time/update_s": update_s,
            "throughput/rollout_tokens_per_s": tokens / max(rollout_s, 1e-9),
            "throughput/update_tokens_per_s": tokens * algo.epochs / max(update_s, 1e-9),
        }
        if advantages.returns is not None and rollout.values is not None:
            record["critic/explained_variance"] = explained_variance(rollout.values, advantages.returns, mask)
            record["critic/value_mean"] = float(masked_mean(rollout.values, mask))
        if not ranks.distributed:
            return record
        # Per-rank metrics become means over the ranks (throughputs are per rank); a spread above 0
        # means the ranks' weights have drifted apart.
        record = ranks.mean_record(record)
        record["dist/param_spread"] = ranks.spread(parameter_checksum(self.params))
        return record

    # --- the run ---------------------------------------------------------------------------------------

    def evaluate(self) -> Record:
        """The ``eval/...`` metrics of the current policy on the held-out tasks."""
        result = evaluate_held_out(
            self.engine, self.tokenizer, self.eval_tasks, self.prompt_ids(self.eval_tasks), self.config.generation,
            self.config.eval.batch_size, self.config.eval.timeout_s, self.judge,
        )
        return result.metrics()

    def resume(self) -> bool:
        """Restore the latest checkpoint of this run, if any; True when one was found."""
        checkpoint = latest_checkpoint(self.run_dir)
        if checkpoint is None:
            return False
        self.state = load_checkpoint(checkpoint, self.model, self.optimizer)
        self.stream.position = self.state.data_position
        self.kl.coef = self.state.kl_coef
        for name, stats in self.state.reward_stats.items():
            if name in self.formula.stats:
                self.formula.stats[name] = RunningStats(**stats)
        self._seed_rank()  # the checkpoint holds rank 0's generators
        self.engine.sync(self.model.policy)
        self.console.print(f"resuming from {checkpoint} (step {self.state.step})")
        return True

    def _checkpoint(self) -> None:
        self.state.data_position = self.stream.position
        self.state.kl_coef = self.kl.coef
        self.state.reward_stats = {n: dataclasses.asdict(s) for n, s in self.formula.stats.items()}
        save_checkpoint(self.run_dir, self.model, self.optimizer, self.state, self.config.checkpoint.keep_last)

    def train(self, resume: bool = False) -> RunSummary:
        config, main = self.config, self.ranks.is_main
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        resumed = resume and self.resume()
        if main:
            (self.run_dir / "config.yaml").write_text(dump_config(config))
        log = MetricsLog(self.run_dir, config.logging.tensorboard, self.state.history, self.state.step, enabled=main)
        total = config.algorithm.steps
        if self.state.step >= total:
            self.console.print(f"run already has {self.state.step} steps (algorithm.steps={total}); nothing to do")
        try:
            if not resumed and config.eval.at_start and self.eval_tasks:
                self._record_eval(log, {"step": 0.0})
            with StepProgress(total, self.state.step, config.logging.progress and main, self.console) as progress:
                while self.state.step < total:
                    record = self.step()
                    self.state.step += 1
                    last = self.state.step == total
                    every = config.eval.every
                    if self.eval_tasks and (last or (every and self.state.step % every == 0)):
                        record.update(self.evaluate())
                    self.state.history.append(record)
                    log.write(record)
                    progress.advance(record)
                    if main and (last or self.state.step % config.checkpoint.every == 0):
                        self._checkpoint()
        finally:
            log.close()
            self.engine.close()
        return self._finish()

    def _record_eval(self, log: MetricsLog, record: Record) -> None:
        record.update(self.evaluate())
        self.state.history.append(record)
        log.write(record)

    def _finish(self) -> RunSummary:
        config, history = self.config, self.state.history
        if not self.ranks.is_main:
            return summarize(self.run_dir, history, None)
        curves = None
        if config.logging.plots and history:
            curves = str(plot_learning_curves(history, self.run_dir / "plots" / "learning_curves.png"))
        if config.export.adapter and self.model.uses_adapter:
            save_adapter(self.model.policy, self.tokenizer, self.run_dir / "final" / "adapter")
        if config.export.merged:
            export_merged(self.model, self.tokenizer, self.run_dir / "final" / "merged")
        summary = summarize(self.run_dir, history, curves)
        (self.run_dir / "summary.json").write_text(json.dumps(dataclasses.asdict(summary), indent=2))
        return summary


def _optimizer(model: Any, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; the value head and a separate critic get ``algorithm.value_learning_rate`` when it is set."""
    algo = config.algorithm
    critic = [p for name, p in model.named_parameters() if p.requires_grad and name.startswith(("value_head.", "critic."))]
    ids = {id(p) for p in critic}
    policy = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    groups = [{"params": policy, "lr": algo.learning_rate}]
    if critic:
        groups.append({"params": critic, "lr": algo.value_learning_rate or algo.learning_rate})
    return torch.optim.AdamW(groups, lr=algo.learning_rate, weight_decay=algo.weight_decay)


def before_stop(tokenizer: Any, ids: list[int], stops: tuple[str, ...]) -> list[int]:
    """The ids up to the token where the first stop string in their text starts (that token kept)."""
    if not stops:
        return ids
    text, spans = offsets_for_token_ids(tokenizer, ids)
    found = [at for at in (text.find(stop) for stop in stops) if at >= 0]
    if not found:
        return ids
    cut = min(found)
    return ids[: sum(1 for start, _ in spans if start < cut)]


def export_merged(model: Any, tokenizer: Any, target: Path) -> Path:
    """The policy merged into a plain transformers model, leaving ``model`` (still training) untouched."""
    import copy

    return save_merged(copy.deepcopy(model.policy).cpu(), tokenizer, target)


def summarize(run_dir: Path, history: list[Record], curves: str | None) -> RunSummary:
    evals = [r for r in history if "eval/pass_rate" in r and math.isfinite(r["eval/pass_rate"])]
    before, after = step_window_mean(history, STEP_KEY, last=False), step_window_mean(history, STEP_KEY)

    def at(record: Record | None, name: str) -> float | None:
        value = None if record is None else record.get(f"eval/{name}")
        return value if value is not None and math.isfinite(value) else None

    first, last = (evals[0] if len(evals) > 1 else None), (evals[-1] if evals else None)
    steps = [r for r in history if STEP_KEY in r]
    spent = ("time/rollout_s", "time/reward_s", "time/update_s")
    return RunSummary(
        run_dir=str(run_dir),
        steps=len(steps),
        responses=int(steps[-1].get("samples", 0)) if steps else 0,
        reward_before=float("nan") if before is None else before,
        reward_after=float("nan") if after is None else after,
        eval_tasks=None if last is None else int(last["eval/tasks"]),
        **{f"{name}_before": at(first, name) for name in EVAL_METRICS},
        **{f"{name}_after": at(last, name) for name in EVAL_METRICS},
        train_s=math.fsum(r.get(key, 0.0) for r in steps for key in spent),
        eval_s=math.fsum(r.get("eval/wall_s", 0.0) for r in evals),
        learning_curves=curves,
    )


def train(config: TrainConfig, resume: bool = False, console: Console | None = None) -> RunSummary:
    """Train with ``config`` (``resume``: continue from the run's latest checkpoint)."""
    if resume and not Path(config.output_dir).is_dir():
        raise ExecrlError(f"cannot resume: {config.output_dir} does not exist")
    trainer = Trainer(config, console)
    summary = trainer.train(resume=resume)
    # not in a `finally`: after an error on one rank the others wait in a collective, and the launcher ends them
    trainer.ranks.finish()
    return summary
