"""A sandbox backend that spreads jobs over a Ray cluster: a reward farm of many CPU nodes.

Each Ray actor owns a local ``execrl.sandbox.Sandbox`` (bubblewrap isolation included) on its node,
so a job gets exactly the verdict it would get from the local pool. ``run`` cuts the batch into
chunks and hands the next chunk to whichever actor finishes first, so one slow chunk holds up only
its own actor. An actor that dies (its node lost, its process killed) is replaced and its chunk
retried; a chunk that keeps losing its actor comes back as ``CRASHED`` results, never lost.

Install as every judge's sandbox with ``execrl.sandbox.set_default_sandbox(RaySandbox(...))``.
Ray is imported here only, so execrl works without it. See docs/integrations/ray.md.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from typing_extensions import Self

from execrl.errors import ExecrlError
from execrl.sandbox import Isolation, Job, JobResult, Sandbox, Status

_DEFAULT_CHUNKS_PER_ACTOR = 4  # small enough chunks that the fast actors take over a slow one's share


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ExecrlError("the Ray sandbox backend needs Ray: pip install 'ray>=2.40'") from exc
    return ray


class _SandboxActor:
    """Lives on one node of the cluster; runs chunks of jobs in its own local sandbox."""

    def __init__(self, workers: int, isolation: str) -> None:
        self.sandbox = Sandbox(workers=workers, isolation=isolation)

    def run(self, jobs: list[Job]) -> list[JobResult]:
        return self.sandbox.run(jobs)

    def namespaces(self) -> bool:
        return self.sandbox.namespaces

    def close(self) -> None:
        self.sandbox.close()


class RaySandbox:
    """Runs jobs on a Ray cluster; the same ``run(jobs) -> list[JobResult]`` (input order) as ``Sandbox``.

    ``address``: the cluster to join when Ray is not initialised yet (``"auto"``, ``"ray://host:10001"``;
    ``None``: Ray's own default, ``RAY_ADDRESS`` or a new local instance). ``actors``: how many
    sandbox actors (default: the cluster's CPUs divided by ``workers_per_actor``), spread over the
    nodes. ``max_attempts``: how many actors a chunk may be tried on before its jobs are reported crashed.
    ``start_timeout_s``: how long the actors may take to start before the constructor gives up.
    """

    def __init__(
        self,
        address: str | None = None,
        actors: int | None = None,
        workers_per_actor: int = 1,
        isolation: Isolation | str = Isolation.AUTO,
        chunk_size: int | None = None,
        max_attempts: int = 2,
        start_timeout_s: float = 120.0,
    ) -> None:
        if workers_per_actor < 1 or max_attempts < 1 or (actors is not None and actors < 1):
            raise ExecrlError("RaySandbox: actors, workers_per_actor and max_attempts must be at least 1")
        if chunk_size is not None and chunk_size < 1:
            raise ExecrlError("RaySandbox: chunk_size must be at least 1")
        ray = _ray()
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(address=address)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers_per_actor = workers_per_actor
        self.isolation = Isolation(isolation).value
        self.chunk_size = chunk_size
        self.max_attempts = max_attempts
        self._remote = ray.remote(num_cpus=workers_per_actor, scheduling_strategy="SPREAD")(_SandboxActor)
        self._lock = threading.Lock()
        self._closed = False
        self._successors: dict[Any, Any] = {}  # dead actor -> the actor that took its place
        self._actors: list[Any] = [self._start_actor() for _ in range(actors or max(1, cpus // workers_per_actor))]
        # Ready before use: an actor that cannot start fails here, and no job is sent to an actor still
        # being created (a test run hung once in the test that kills an actor right after this point).
        try:
            ray.get([actor.namespaces.remote() for actor in self._actors], timeout=start_timeout_s)
        except ray.exceptions.GetTimeoutError:
            for actor in self._actors:
                ray.kill(actor)
            raise ExecrlError(
                f"RaySandbox: {len(self._actors)} actor(s) of {workers_per_actor} CPU(s) each did not start within "
                f"{start_timeout_s:g} s on a cluster of {cpus} CPU(s): ask for fewer (actors=, workers_per_actor=)"
            ) from None

    def _start_actor(self) -> Any:
        return self._remote.remote(self.workers_per_actor, self.isolation)

    @property
    def actors(self) -> list[Any]:
        """The live actor handles (a copy), for inspection."""
        with self._lock:
            return list(self._actors)

    def namespaces(self) -> list[bool]:
        """Whether each actor's sandbox runs jobs in bubblewrap namespaces (False: resource limits only)."""
        ray = _ray()
        return ray.get([actor.namespaces.remote() for actor in self.actors])

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        jobs: Sequence[Job],
        progress: bool = False,
        description: str = "running programs",
        reduce: Callable[[int, JobResult], Any] | None = None,
    ) -> list[Any]:
        """Run every job on the cluster; results come back in input order (``reduce(index, result)``
        applied to each as its chunk comes back, when given). A job's host-call service runs on the
        actor; ``result.service`` is that copy, shipped back with the result.

        Safe to call from several threads at once: their chunks queue on the same actors.
        """
        ray = _ray()
        actors = self.actors
        if self._closed:
            raise ExecrlError("this Ray sandbox has been closed")
        jobs = list(jobs)
        size = self.chunk_size or max(1, math.ceil(len(jobs) / (len(actors) * _DEFAULT_CHUNKS_PER_ACTOR)))
        pending = [(start, 1) for start in range(0, len(jobs), size)]  # (first job index, attempt)
        results: list[JobResult | None] = [None] * len(jobs)
        bar = _progress_bar(len(jobs), description) if progress else None
        running: dict[Any, tuple[Any, int, int]] = {}  # future -> (actor, first index, attempt)
        idle = list(actors)
        try:
            while pending or running:
                while pending and idle:
                    actor = idle.pop()
                    start, attempt = pending.pop(0)
                    running[actor.run.remote(jobs[start : start + size])] = (actor, start, attempt)
                [done], _ = ray.wait(list(running), num_returns=1)
                actor, start, attempt = running.pop(done)
                count = min(size, len(jobs) - start)
                try:
                    chunk = ray.get(done)
                except ray.exceptions.RayActorError as exc:
                    idle.append(self._replace(actor))
                    if attempt < self.max_attempts:
                        pending.append((start, attempt + 1))
                        continue
                    chunk = [_lost(exc, attempt) for _ in range(count)]
                else:
                    idle.append(actor)
                if reduce is not None:
                    chunk = [reduce(start + k, result) for k, result in enumerate(chunk)]
                results[start : start + count] = chunk
                for _ in range(count if bar is not None else 0):
                    bar.advance()
        finally:
            if bar is not None:
                bar.close()
        return results  # type: ignore[return-value]

    def _replace(self, dead: Any) -> Any:
        """A fresh actor in place of ``dead``, started once however many runs saw it die."""
        with self._lock:
            if dead not in self._successors:
                self._successors[dead] = self._start_actor()
                if dead in self._actors:
                    self._actors[self._actors.index(dead)] = self._successors[dead]
            return self._successors[dead]

    def close(self) -> None:
        """Close every actor's sandbox and end the actors; leaves a Ray it did not start running."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            actors, self._actors = self._actors, []
        ray = _ray()
        # Closing first ends the actors' sandbox workers cleanly; a dead actor's close just fails.
        ray.wait([actor.close.remote() for actor in actors], num_returns=len(actors), timeout=30)
        for actor in actors:
            ray.kill(actor)
        if self._owns_ray:
            ray.shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lost(exc: Exception, attempts: int) -> JobResult:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return JobResult(
        Status.CRASHED,
        error_type="ActorDied",
        error_message=f"the Ray actor running this job died {attempts} time(s): {first_line}",
    )


def _progress_bar(total: int, description: str) -> Any:
    from execrl.sandbox.pool import _ProgressBar

    return _ProgressBar(total, description)
