"""The record of a generated robot task: an instruction, a reference program and the world states a
program for it is run against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execrl.robot.requirements import Requirement, from_data, to_data
from execrl.tasks.types import Task

ENTRY_POINT = "task_program"


@dataclass(frozen=True)
class WorldState:
    """One initial world in the simulator's schema (``execrl.robot.simulator``), whether a correct
    program is expected to still be running (waiting for someone who never comes) when time runs out,
    and the completion checks a correct program's trace meets on this world (``execrl.robot.requirements``;
    empty for tasks written before they existed)."""

    state: dict[str, Any]
    timeout_expected: bool = False
    checks: tuple[Requirement, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "timeout_expected": self.timeout_expected,
            "checks": [to_data(c) for c in self.checks],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> WorldState:
        unknown = set(data) - {"state", "timeout_expected", "checks"}
        if unknown:
            raise ValueError(f"unknown world state fields {sorted(unknown)}")
        checks = data.get("checks", [])
        if not isinstance(checks, list):
            raise TypeError("checks must be a list")
        return cls(
            state=data["state"],
            timeout_expected=bool(data.get("timeout_expected", False)),
            checks=tuple(from_data(check, f"checks[{i}]") for i, check in enumerate(checks)),
        )


@dataclass(frozen=True, eq=False)
class RobotTask(Task):
    """A generated robot task. ``prompt`` is the instruction (``execrl.robot.prompting.build_prompt``
    turns it into a model prompt); ``canonical_solution`` is a reference ``def task_program():`` that
    runs without error on every state; ``family`` and ``variant`` say which generator made it."""

    family: str = ""
    variant: str = ""
    states: tuple[WorldState, ...] = ()
