"""The language RoboEval's checks are written in: events matched against steps of a robot trace, and
temporal operators that cut the trace into the parts a check talks about.

Semantics follow the benchmark's trace language (shared/specs/roboeval.md, section 6): an event
matches a step when the actions are equal, its pattern is found (case-insensitive regex search) in
the step's text and, if it has an option pattern, that pattern is found in at least one of the step's
options. The cutting operators return the whole trace when their anchor is not found; checks rely on
that, so it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One robot action as the trace recorded it: ``GoTo``, ``Say``, ``Ask``, ``CheckEntity``,
    ``Pick`` or ``Place``; ``text`` is the argument (the question for ``Ask``), ``options`` the
    ``Ask`` options (``None`` for the others). ``line`` is the program line that made the call, when
    the simulator knows it (not for lines the program printed itself); it takes no part in matching."""

    action: str
    text: str
    options: Any = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Event:
    """A pattern for steps of one action."""

    action: str
    pattern: str
    option_pattern: str | None = None

    def matches(self, step: Step) -> bool:
        if step.action != self.action or not re.search(self.pattern, step.text, re.IGNORECASE):
            return False
        if self.option_pattern is None:
            return True
        # Options are searched as they are: a non-string option makes the check raise, as upstream.
        return any(re.search(self.option_pattern, option, re.IGNORECASE) for option in step.options)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset((self.action,))

    def __or__(self, other: Matcher) -> AnyOf:
        return AnyOf((self, other))

    def __and__(self, other: Matcher) -> AllOf:
        return AllOf((self, other))


@dataclass(frozen=True)
class AnyOf:
    """Matches a step that any of its events matches."""

    events: tuple[Matcher, ...]

    def matches(self, step: Step) -> bool:
        return any(event.matches(step) for event in self.events)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset().union(*(event.actions for event in self.events))

    def __or__(self, other: Matcher) -> AnyOf:
        return AnyOf((*self.events, other))

    def __and__(self, other: Matcher) -> AllOf:
        return AllOf((self, other))


@dataclass(frozen=True)
class AllOf:
    """Matches a step that every one of its events matches (an ``Ask`` offering several options)."""

    events: tuple[Matcher, ...]

    def matches(self, step: Step) -> bool:
        return all(event.matches(step) for event in self.events)

    @property
    def actions(self) -> frozenset[str]:
        # A step has one action, so only the actions every event accepts can match.
        return frozenset.intersection(*(event.actions for event in self.events))

    def __or__(self, other: Matcher) -> AnyOf:
        return AnyOf((self, other))

    def __and__(self, other: Matcher) -> AllOf:
        return AllOf((*self.events, other))


Matcher = Event | AnyOf | AllOf


ANY = ""  # a pattern that every text contains


def goto(pattern: str) -> Event:
    return Event("GoTo", pattern)


def say(pattern: str) -> Event:
    return Event("Say", pattern)


def ask(question: str, option: str = "") -> Event:
    """An ``Ask`` whose question matches ``question`` and one of whose options matches ``option``.

    As upstream, every ``Ask`` check has an option pattern, so an ``Ask`` that offered no options
    (a program that caught the error) matches none of them."""
    return Event("Ask", question, option)


def ask_mentioning(pattern: str) -> AnyOf:
    """An ``Ask`` whose question or one of whose options contains ``pattern``."""
    return ask(pattern) | ask(ANY, pattern)


def check_entity(pattern: str) -> Event:
    return Event("CheckEntity", pattern)


def pick(pattern: str) -> Event:
    return Event("Pick", pattern)


def place(pattern: str) -> Event:
    return Event("Place", pattern)


def contain_words(words: Iterable[str]) -> str:
    """A pattern requiring every one of ``words`` somewhere in the text, in any order.

    Each word sits in its own lookahead after ``.*``, so an alternation inside a word binds looser than
    that ``.*``: in ``"2|two"`` only ``2`` is searched anywhere and ``two`` only at the start. Checks
    write ``"2|.*two"`` where they mean "anywhere", and keep the upstream spelling where the quirk matters.
    """
    return r"^(?=.*" + r")(?=.*".join(words) + r").*$"


def contain_words_and_exclude_words(include: Iterable[str], exclude: Iterable[str]) -> str:
    r"""Like :func:`contain_words`, and none of ``exclude`` as a whole word.

    Kept for fidelity: the exclusions form one alternation after ``.*\b``, so only the first excluded
    word is searched anywhere; the later ones are only excluded at the very start of the text.
    """
    excluded = r"|".join(rf"\b{re.escape(word)}\b" for word in exclude)
    return r"^(?!.*" + excluded + r")(?=.*" + r")(?=.*".join(include) + r").*$"


def not_at(location: str) -> str:
    """A pattern for go_to arguments that do not contain ``location`` as whole words."""
    return rf"^(?!.*\b{location}\b).*$"


NOT_START = contain_words_and_exclude_words([], ["start_loc"])


class Trace:
    """An immutable sequence of steps with the operators that checks are written in."""

    __slots__ = ("steps",)

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self.steps: tuple[Step, ...] = tuple(steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __repr__(self) -> str:
        return f"Trace({list(self.steps)!r})"

    def _first(self, event: Matcher) -> int | None:
        return next((i for i, step in enumerate(self.steps) if event.matches(step)), None)

    def _last(self, event: Matcher) -> int | None:
        return next((i for i in range(len(self.steps) - 1, -1, -1) if event.matches(self.steps[i])), None)

    def after_first(self, event: Matcher) -> Trace:
        """The steps strictly after the first match (the whole trace if nothing matches)."""
        i = self._first(event)
        return self if i is None else Trace(self.steps[i + 1 :])

    def before_first(self, event: Matcher) -> Trace:
        """The steps strictly before the first match (the whole trace if nothing matches)."""
        i = self._first(event)
        return self if i is None else Trace(self.steps[:i])

    def after_last(self, event: Matcher) -> Trace:
        i = self._last(event)
        return self if i is None else Trace(self.steps[i + 1 :])

    def before_last(self, event: Matcher) -> Trace:
        i = self._last(event)
        return self if i is None else Trace(self.steps[:i])

    def exists(self, event: Matcher) -> bool:
        return self._first(event) is not None

    def count(self, event: Matcher) -> int:
        return sum(event.matches(step) for step in self.steps)

    def terminal(self, event: Matcher) -> bool:
        """Whether the last step matches."""
        return bool(self.steps) and event.matches(self.steps[-1])

    def precedes(self, first: Matcher, then: Matcher) -> bool:
        """Whether ``then`` happens after the first ``first`` (anywhere, if ``first`` never happens)."""
        return self.after_first(first).exists(then)

    def first_visit(self, location: str) -> Trace:
        """What the robot did after the first go_to matching ``location``, until it went to a place
        whose name does not contain ``location`` as whole words."""
        return self.after_first(goto(location)).before_first(goto(not_at(location)))

    def visits(self, location: str) -> list[Trace]:
        """What the robot did during each visit to ``location`` (as :meth:`first_visit`, for every one)."""
        arrive, leave = goto(location), goto(not_at(location))
        return [
            Trace(self.steps[i + 1 :]).before_first(leave)
            for i, step in enumerate(self.steps)
            if arrive.matches(step)
        ]

    def act_at_first(self, location: str, event: Matcher) -> bool:
        """Whether the robot went to ``location`` and ``event`` happened during that first visit."""
        return self.exists(goto(location)) and self.first_visit(location).exists(event)

    def act_at_some(self, location: str, event: Matcher) -> bool:
        """Whether ``event`` happened during some visit to ``location``."""
        return any(visit.exists(event) for visit in self.visits(location))


def reports_back(trace: Trace, event: Matcher) -> bool:
    """The benchmark's "come back and tell me": ``event`` during the first return to ``start_loc``."""
    return trace.after_first(goto(NOT_START)).act_at_first("start_loc", event)


def first_departure_to(trace: Trace, location: str) -> bool:
    """Whether the first go_to somewhere other than ``start_loc`` is to ``location``."""
    return trace.exists(goto(location)) and not trace.before_first(goto(location)).exists(goto(NOT_START))


def visited_all(trace: Trace, locations: Iterable[str]) -> bool:
    return all(trace.exists(goto(location)) for location in locations)


def visited_none(trace: Trace, locations: Iterable[str]) -> bool:
    return not any(trace.exists(goto(location)) for location in locations)


def trace_from_data(
    steps: Iterable[tuple[Any, ...] | list[Any]], lines: Iterable[int | None] | None = None
) -> Trace:
    """A trace from the simulator's plain-data steps ``(action, text, options)``, with the program
    line of each step when ``lines`` gives them (one per step)."""
    steps = list(steps)
    located = list(lines) if lines is not None else [None] * len(steps)
    return Trace(
        Step(str(action), str(text), tuple(extra) if isinstance(extra, list) else extra, line)
        for (action, text, extra), line in zip(steps, located, strict=True)
    )
