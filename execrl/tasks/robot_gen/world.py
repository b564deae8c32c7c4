"""World states for generated robot tasks, in the simulator's schema (``execrl.robot.simulator``):
``{"locations": [...], "objects": {room: [label, ...]}, "agents": {room: [{"name_regex", "answers"}]},
"robot_location": "start_loc"}``.

The simulator matches rooms and objects by case-insensitive substring search (the world's name is the
pattern), so a world never holds two room names, or two object labels, where one contains the other:
otherwise ``go_to("priya's office")`` could end up in a room called ``office``. Object labels and
answers are stored regex-escaped, so each means exactly its text; room names may not contain regex
syntax at all, since programs get them back from ``get_all_rooms()``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from typing import Any

START = "start_loc"
ANYONE = ".*"  # the benchmark's person pattern: anyone answers to any name


def clashes(name: str, others: Iterable[str]) -> bool:
    """Whether ``name`` and one of ``others`` contain each other (ignoring case)."""
    low = name.lower()
    return any(low in other.lower() or other.lower() in low for other in others if other.lower() != low)


def pick_distinct(rng: random.Random, pool: Sequence[str], k: int, taken: Iterable[str] = ()) -> list[str]:
    """``k`` names from ``pool`` that clash neither with each other nor with ``taken``."""
    chosen: list[str] = []
    taken = list(taken)
    for name in rng.sample(list(pool), len(pool)):
        if len(chosen) == k:
            break
        if name not in taken and not clashes(name, [*taken, *chosen]):
            chosen.append(name)
    if len(chosen) < k:
        raise ValueError(f"the vocabulary has fewer than {k} compatible names")
    return chosen


class World:
    """A world under construction: rooms (``start_loc`` last, as in the benchmark), objects, people."""

    def __init__(self, rooms: Iterable[str]) -> None:
        self.rooms = [room.lower() for room in rooms]
        for i, room in enumerate(self.rooms):
            if clashes(room, self.rooms[:i]) or clashes(room, [START]):
                raise ValueError(f"room {room!r} clashes with another room of the world")
            if re.escape(room).replace("\\ ", " ") != room:
                raise ValueError(f"room {room!r} contains regex syntax")
        self.objects: dict[str, list[str]] = {}
        self.people: dict[str, list[list[str]]] = {}
        self.labels: set[str] = set()  # plain object names, for the clash check (copies of one are fine)

    def add_object(self, label: str, room: str) -> None:
        room, label = self._room(room), label.lower()
        if clashes(label, self.labels):
            raise ValueError(f"object {label!r} clashes with another object of the world")
        self.labels.add(label)
        self.objects.setdefault(room, []).append(re.escape(label))

    def add_person(self, room: str, answers: Sequence[str] = (ANYONE,)) -> None:
        """Someone in ``room`` who gives ``answers`` (option texts, matched literally) in turn, the last one
        repeating; ``.*`` picks the first option offered."""
        answers = [a if a == ANYONE else re.escape(a.lower()) for a in answers]
        self.people.setdefault(self._room(room), []).append(answers)

    def _room(self, room: str) -> str:
        room = room.lower()
        if room != START and room not in self.rooms:
            raise ValueError(f"{room!r} is not a room of this world")
        return room

    def state(self) -> dict[str, Any]:
        return {
            "locations": [*self.rooms, START],
            "objects": {room: list(labels) for room, labels in self.objects.items()},
            "agents": {
                room: [{"name_regex": ANYONE, "answers": list(answers)} for answers in people]
                for room, people in self.people.items()
            },
            "robot_location": START,
        }
