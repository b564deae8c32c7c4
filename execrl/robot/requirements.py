"""Completion requirements: what a correct program's trace must show on one world state, as data.

A requirement is one predicate over a trace, written with the check language of
:mod:`execrl.robot.checks` and keeping its semantics (a visit lasts until a go_to whose argument does not
contain the place's name as whole words; cutting operators return the whole trace when their anchor is
missing, so "after X" requirements come with one that X happens). A generated task carries a tuple of
requirements per world state; the state is completed when every one holds.

Requirements are frozen dataclasses so that they travel in task files (:func:`to_data`,
:func:`from_data`) and can name the step to blame when they fail (``culprit``): the completion judge
puts its finding on the program line that made that step, when the trace knows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

from execrl.robot.checks import (
    ANY,
    NOT_START,
    AllOf,
    AnyOf,
    Event,
    Matcher,
    Step,
    Trace,
    goto,
    reports_back,
    visited_all,
)

START = "start_loc"
Visit = Literal["first", "some"]


def mentions(*include: str, exclude: Iterable[str] = ()) -> str:
    """A pattern for texts that contain every pattern of ``include`` and none of ``exclude``.

    Each part is grouped, so an alternation inside one (``"2|two"``) means what it says, unlike
    RoboEval's ``contain_words`` helpers.
    """
    excluded = [f"(?!.*(?:{pattern}))" for pattern in exclude]
    return "^" + "".join(f"(?=.*(?:{pattern}))" for pattern in include) + "".join(excluded) + ".*$"


def word(text: str) -> str:
    """``text`` as a whole word or phrase, literally."""
    return rf"\b{re.escape(text)}\b"


def _describe(event: Matcher) -> str:
    if isinstance(event, Event):
        text = "" if event.pattern == ANY else repr(event.pattern)
        option = f"an option matching {event.option_pattern!r}" if event.option_pattern else ""
        return f"{event.action}({', '.join(part for part in (text, option) if part)})"
    joiner = " or " if isinstance(event, AnyOf) else " and "
    return "(" + joiner.join(_describe(inner) for inner in event.events) + ")"


def _same_action(steps: Iterable[Step], event: Matcher) -> Step | None:
    """The first of ``steps`` with an action ``event`` could match: the call that was made wrongly."""
    actions = event.actions
    return next((step for step in steps if step.action in actions), None)


class Requirement:
    """A predicate over a trace, with a description and the step to blame when it fails."""

    kind: ClassVar[str]

    def holds(self, trace: Trace) -> bool:
        raise NotImplementedError

    def culprit(self, trace: Trace) -> Step | None:
        """The step most responsible for the failure, or None when no single call is (a missing one)."""
        return None

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Visits(Requirement):
    """The robot goes to ``location``."""

    location: str
    kind: ClassVar[str] = "visits"

    def holds(self, trace: Trace) -> bool:
        return trace.exists(goto(self.location))

    def describe(self) -> str:
        return f"go to {self.location!r}"


@dataclass(frozen=True)
class Avoids(Requirement):
    """The robot never goes to ``location``."""

    location: str
    kind: ClassVar[str] = "avoids"

    def holds(self, trace: Trace) -> bool:
        return not trace.exists(goto(self.location))

    def culprit(self, trace: Trace) -> Step | None:
        return next((step for step in trace if goto(self.location).matches(step)), None)

    def describe(self) -> str:
        return f"never go to {self.location!r}"


@dataclass(frozen=True)
class At(Requirement):
    """``event`` happens during the first visit (or some visit) to ``location``; with ``after``, after
    the first step of that visit that ``after`` matches (the whole visit if none does, as upstream)."""

    location: str
    event: Matcher
    visit: Visit = "first"
    after: Matcher | None = None
    kind: ClassVar[str] = "at"

    def _scopes(self, trace: Trace) -> list[Trace]:
        if not trace.exists(goto(self.location)):
            return []
        visits = [trace.first_visit(self.location)] if self.visit == "first" else trace.visits(self.location)
        return [visit.after_first(self.after) if self.after is not None else visit for visit in visits]

    def holds(self, trace: Trace) -> bool:
        return any(scope.exists(self.event) for scope in self._scopes(trace))

    def culprit(self, trace: Trace) -> Step | None:
        scopes = self._scopes(trace)
        if not scopes:
            return None
        # A call of the right kind made there with the wrong argument, else the right call made elsewhere.
        wrong = _same_action((step for scope in scopes for step in scope), self.event)
        return wrong or next((step for step in trace if self.event.matches(step)), None)

    def describe(self) -> str:
        where = "the first visit" if self.visit == "first" else "a visit"
        after = "" if self.after is None else f", after {_describe(self.after)}"
        return f"{_describe(self.event)} during {where} to {self.location!r}{after}"


@dataclass(frozen=True)
class NotAt(Requirement):
    """``event`` never happens during a visit to ``location``."""

    location: str
    event: Matcher
    kind: ClassVar[str] = "not_at"

    def holds(self, trace: Trace) -> bool:
        return not any(visit.exists(self.event) for visit in trace.visits(self.location))

    def culprit(self, trace: Trace) -> Step | None:
        return next(
            (s for visit in trace.visits(self.location) for s in visit if self.event.matches(s)), None
        )

    def describe(self) -> str:
        return f"no {_describe(self.event)} in {self.location!r}"


@dataclass(frozen=True)
class Never(Requirement):
    """No step matches ``event``."""

    event: Matcher
    kind: ClassVar[str] = "never"

    def holds(self, trace: Trace) -> bool:
        return not trace.exists(self.event)

    def culprit(self, trace: Trace) -> Step | None:
        return next((step for step in trace if self.event.matches(step)), None)

    def describe(self) -> str:
        return f"no {_describe(self.event)}"


@dataclass(frozen=True)
class Count(Requirement):
    """Exactly ``n`` steps match ``event`` (at least ``n`` with ``at_least``)."""

    event: Matcher
    n: int
    at_least: bool = False
    kind: ClassVar[str] = "count"

    def holds(self, trace: Trace) -> bool:
        count = trace.count(self.event)
        return count >= self.n if self.at_least else count == self.n

    def culprit(self, trace: Trace) -> Step | None:
        extra = [step for step in trace if self.event.matches(step)][self.n :]
        return extra[0] if extra and not self.at_least else None

    def describe(self) -> str:
        return f"{'at least' if self.at_least else 'exactly'} {self.n} x {_describe(self.event)}"


@dataclass(frozen=True)
class Order(Requirement):
    """No step matching ``later`` comes before the first step matching ``earlier``."""

    earlier: Matcher
    later: Matcher
    kind: ClassVar[str] = "order"

    def holds(self, trace: Trace) -> bool:
        return not trace.before_first(self.earlier).exists(self.later)

    def culprit(self, trace: Trace) -> Step | None:
        return next((step for step in trace.before_first(self.earlier) if self.later.matches(step)), None)

    def describe(self) -> str:
        return f"{_describe(self.later)} only after {_describe(self.earlier)}"


def _return_visit(trace: Trace) -> Trace | None:
    """What the robot did during its first return to ``start_loc`` (None if it never came back)."""
    away = trace.after_first(goto(NOT_START))
    return away.first_visit(START) if away.exists(goto(START)) else None


@dataclass(frozen=True)
class Reports(Requirement):
    """``event`` during the first return to ``start_loc`` (RoboEval's "come back and tell me"), and
    after the robot went to every place of ``after_visiting``."""

    event: Matcher
    after_visiting: tuple[str, ...] = ()
    kind: ClassVar[str] = "reports"

    def holds(self, trace: Trace) -> bool:
        return reports_back(trace, self.event) and visited_all(
            trace.before_first(self.event), self.after_visiting
        )

    def culprit(self, trace: Trace) -> Step | None:
        back = _return_visit(trace)
        if back is None:
            return None
        said = next((step for step in back if self.event.matches(step)), None)
        return said or _same_action(back, self.event)  # said too early, or said the wrong thing

    def describe(self) -> str:
        before = (
            f", after going to {', '.join(map(repr, self.after_visiting))}" if self.after_visiting else ""
        )
        return f"{_describe(self.event)} on the first return to {START}{before}"


@dataclass(frozen=True)
class NoReport(Requirement):
    """No step matching ``event`` during the first return to ``start_loc``."""

    event: Matcher
    kind: ClassVar[str] = "no_report"

    def holds(self, trace: Trace) -> bool:
        return not reports_back(trace, self.event)

    def culprit(self, trace: Trace) -> Step | None:
        back = _return_visit(trace)
        return None if back is None else next((step for step in back if self.event.matches(step)), None)

    def describe(self) -> str:
        return f"no {_describe(self.event)} on the first return to {START}"


REQUIREMENTS: dict[str, type[Requirement]] = {
    cls.kind: cls for cls in (Visits, Avoids, At, NotAt, Never, Count, Order, Reports, NoReport)
}


def unmet(requirements: Sequence[Requirement], trace: Trace) -> list[Requirement]:
    """The requirements that ``trace`` does not meet, in order."""
    return [requirement for requirement in requirements if not requirement.holds(trace)]


# --- as data --------------------------------------------------------------------------------------------


def matcher_data(event: Matcher) -> dict[str, Any]:
    if isinstance(event, Event):
        data: dict[str, Any] = {"action": event.action, "pattern": event.pattern}
        if event.option_pattern is not None:
            data["option"] = event.option_pattern
        return data
    return {"any" if isinstance(event, AnyOf) else "all": [matcher_data(inner) for inner in event.events]}


_ACTIONS = ("GoTo", "Say", "Ask", "CheckEntity", "Pick", "Place")


def _pattern(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: a pattern must be a string, got {type(value).__name__}")
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{where}: {value!r} is not a regular expression ({exc})") from None
    return value


def matcher_from_data(data: Any, where: str = "event") -> Matcher:
    if not isinstance(data, dict):
        raise TypeError(f"{where}: expected an object, got {type(data).__name__}")
    for combine, cls in (("any", AnyOf), ("all", AllOf)):
        if combine in data:
            inner = data[combine]
            if set(data) != {combine} or not isinstance(inner, list) or not inner:
                raise ValueError(f"{where}: {combine!r} takes a non-empty list and nothing else")
            return cls(
                tuple(matcher_from_data(item, f"{where}.{combine}[{i}]") for i, item in enumerate(inner))
            )
    unknown = set(data) - {"action", "pattern", "option"}
    if unknown or data.get("action") not in _ACTIONS:
        raise ValueError(
            f"{where}: expected action (one of {', '.join(_ACTIONS)}), pattern and an optional option"
        )
    option = data.get("option")
    return Event(
        data["action"],
        _pattern(data.get("pattern", ANY), f"{where}.pattern"),
        None if option is None else _pattern(option, f"{where}.option"),
    )


def to_data(requirement: Requirement) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": requirement.kind}
    for item in fields(requirement):  # type: ignore[arg-type]
        value = getattr(requirement, item.name)
        if isinstance(value, Event | AnyOf | AllOf):
            value = matcher_data(value)
        elif isinstance(value, tuple):
            value = list(value)
        data[item.name] = value
    return data


_MATCHER_FIELDS = ("event", "after", "earlier", "later")


def from_data(data: Any, where: str = "check") -> Requirement:
    """A requirement from :func:`to_data`'s form; a ``ValueError`` or ``TypeError`` saying what is wrong."""
    if not isinstance(data, dict) or data.get("kind") not in REQUIREMENTS:
        raise ValueError(f"{where}: expected an object whose kind is one of {', '.join(REQUIREMENTS)}")
    cls = REQUIREMENTS[data["kind"]]
    names = {item.name: item for item in fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - set(names) - {"kind"}
    if unknown:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)} for a {cls.kind!r} check")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "kind":
            continue
        if name in _MATCHER_FIELDS:
            optional = name == "after" and value is None
            values[name] = None if optional else matcher_from_data(value, f"{where}.{name}")
        elif name == "after_visiting":
            if not isinstance(value, list):
                raise TypeError(f"{where}.{name}: expected a list of places")
            values[name] = tuple(_pattern(place, f"{where}.{name}") for place in value)
        elif name == "location":
            values[name] = _pattern(value, f"{where}.{name}")
        elif name == "n":
            if type(value) is not int or value < 0:
                raise ValueError(f"{where}.n: expected a count, got {value!r}")
            values[name] = value
        elif name == "at_least":
            values[name] = bool(value)
        elif name == "visit":
            if value not in ("first", "some"):
                raise ValueError(f"{where}.visit: expected 'first' or 'some', got {value!r}")
            values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"{where}: {exc}") from None
