"""Generated robot training tasks: natural-language instructions with matching world states.

RoboEval may not be trained on, so training tasks come from here: eight families of errands (see
``families``), each with many phrasings and vocabularies, and world states sampled per task in the
simulator's schema. ``execrl.tasks.decontam`` removes instructions too close to RoboEval's prompts.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from execrl.errors import ExecrlError
from execrl.tasks.robot_gen.families import FAMILIES, Draft
from execrl.tasks.robot_gen.task import ENTRY_POINT, RobotTask, WorldState

__all__ = ["FAMILIES", "RobotTask", "WorldState", "generate_robot_tasks"]

_MAX_TRIES_PER_TASK = 50


def _task(family: str, draft: Draft) -> RobotTask:
    digest = hashlib.sha256(draft.prompt.encode()).hexdigest()[:10]
    return RobotTask(
        task_id=f"robot/{family}/{draft.variant}/{digest}",
        prompt=draft.prompt,
        entry_point=ENTRY_POINT,
        canonical_solution=draft.program,
        split="train",
        family=family,
        variant=draft.variant,
        states=draft.states,
    )


def generate_robot_tasks(
    n: int, seed: int = 0, states_per_task: int = 4, families: Sequence[str] | None = None
) -> list[RobotTask]:
    """``n`` tasks with distinct instructions, the same for the same arguments; the families take turns."""
    names = list(FAMILIES) if families is None else list(families)
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown or not names:
        raise ExecrlError(f"unknown robot task families {unknown or names}; known: {', '.join(FAMILIES)}")
    if states_per_task < 1:
        raise ExecrlError("states_per_task must be at least 1")
    rng = random.Random(seed)
    tasks: list[RobotTask] = []
    prompts: set[str] = set()
    misses = 0
    while len(tasks) < n:
        family = names[len(tasks) % len(names)]
        try:
            draft = FAMILIES[family](rng, states_per_task)
        except ValueError:  # a sampled layout with clashing names: draw again
            draft = None
        if draft is None or draft.prompt in prompts:
            misses += 1
            if misses > _MAX_TRIES_PER_TASK * (n + 10):
                raise ExecrlError(f"only {len(tasks)} distinct robot tasks could be generated; ask for fewer")
            continue
        prompts.add(draft.prompt)
        tasks.append(_task(family, draft))
    return tasks
