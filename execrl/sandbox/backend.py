"""What a sandbox backend offers: the local pool (``Sandbox``) and remote ones (a Ray cluster) alike.

Judges and evaluators only need ``run``; anything with this shape can be installed as the
process-wide default (``set_default_sandbox``) and every judge that calls ``default_sandbox()`` uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from execrl.sandbox.types import Job, JobResult


@runtime_checkable
class SandboxBackend(Protocol):
    def run(
        self,
        jobs: Sequence[Job],
        progress: bool = False,
        description: str = "running programs",
        reduce: Callable[[int, JobResult], Any] | None = None,
    ) -> list[Any]:
        """Run every job; one result per job, in input order (``reduce(index, result)`` applied to each
        as it finishes, when given)."""
        ...

    def close(self) -> None: ...
