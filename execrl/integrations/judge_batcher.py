"""Judging from async code in batches: many coroutines ask for one response's reward, the judges see batches.

Engines that generate with asyncio (verl's agent loops) finish responses one at a time. Scoring each
alone would start Ruff and Bandit once per response and leave the sandbox's workers idle; scoring them
on the event loop would stop generation meanwhile. ``BatchScorer`` gathers the requests that arrive
close together and judges each batch in a thread of its own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from execrl.errors import ExecrlError
from execrl.rewards import RewardFormula
from execrl.rl.rewarding import judge_responses
from execrl.tasks.types import Task


@dataclass(frozen=True)
class ScoredResponse:
    """One response's reward: per token (eos included), in total, and each judge's raw score."""

    token_rewards: list[float]
    total: float
    judge_scores: dict[str, float]


class BatchScorer:
    """``await score(task, response_ids)`` from any coroutine of one event loop; the judges see batches.

    A request joins the batch being gathered: the requests that arrive within ``max_wait_s`` of its
    first one, or the first ``max_batch`` of them. Each batch is judged in one ``judge_responses`` call
    in a worker thread, one batch at a time; the next batch gathers meanwhile.
    """

    def __init__(
        self, formula: RewardFormula, tokenizer: Any, max_batch: int = 64, max_wait_s: float = 0.05
    ) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ExecrlError(
                "BatchScorer: max_batch must be at least 1 and max_wait_s not negative, "
                f"not {max_batch} and {max_wait_s}"
            )
        self.formula = formula
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.batch_sizes: list[int] = []  # for logs and tests: how the responses were grouped
        self._pending: list[tuple[Task, list[int], asyncio.Future[ScoredResponse]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._judging: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="execrl-judges")

    async def score(self, task: Task, response_ids: list[int]) -> ScoredResponse:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ScoredResponse] = loop.create_future()
        self._pending.append((task, list(response_ids), future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            judging = asyncio.ensure_future(self._judge(batch))
            self._judging.add(judging)  # the loop keeps only a weak reference to a task
            judging.add_done_callback(self._judging.discard)

    async def _judge(self, batch: list[tuple[Task, list[int], asyncio.Future[ScoredResponse]]]) -> None:
        self.batch_sizes.append(len(batch))
        tasks, ids, futures = zip(*batch)
        try:
            judged = await asyncio.get_running_loop().run_in_executor(
                self._executor, judge_responses, self.formula, self.tokenizer, list(tasks), list(ids)
            )
        except Exception as exc:  # noqa: BLE001 - a bad response fails only its own score; this is the config
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for i, future in enumerate(futures):
            if not future.done():  # its agent loop may have been cancelled meanwhile
                scores = {name: values[i] for name, values in judged.judge_scores.items()}
                future.set_result(ScoredResponse(judged.token_rewards[i], judged.totals[i], scores))
