"""The record of a generated robot task: an instruction, a reference program and the world states a
program for it is run against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execrl.tasks.types import Task

ENTRY_POINT = "task_program"


@dataclass(frozen=True)
class WorldState:
    """One initial world in the simulator's schema (``execrl.robot.simulator``), and whether a correct
    program is expected to still be running (waiting for someone who never comes) when time runs out."""

    state: dict[str, Any]
    timeout_expected: bool = False


@dataclass(frozen=True, eq=False)
class RobotTask(Task):
    """A generated robot task. ``prompt`` is the instruction (``execrl.robot.prompting.build_prompt``
    turns it into a model prompt); ``canonical_solution`` is a reference ``def task_program():`` that
    runs without error on every state; ``family`` and ``variant`` say which generator made it."""

    family: str = ""
    variant: str = ""
    states: tuple[WorldState, ...] = ()
