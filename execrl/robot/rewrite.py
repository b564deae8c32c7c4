"""The program rewrites RoboEval's evaluator applies before running a program, and the two semantics
execrl runs robot programs under.

``upstream`` is the benchmark's own (shared/specs/roboeval.md, section 5.1): double-quoted strings
lowercased, then plain text replacement of the API calls by ``robot.<name>(`` and a call
``task_program(robot)`` appended. The replacement is substring-based, so ``s.replace(...)`` becomes
``s.rerobot.place(...)``, a function named ``essay`` becomes ``esrobot.say`` and ``task(`` and
``random_pick(`` break the same way; published RoboEval results were produced with it.

``injected`` is execrl's cleaner alternative: the API functions are defined in the program's
namespace and ``task_program()`` is called, so only the lowercasing remains (optional in the judges).
"""

from __future__ import annotations

import re
from typing import Literal

Semantics = Literal["upstream", "injected"]
UPSTREAM: Semantics = "upstream"
INJECTED: Semantics = "injected"
SEMANTICS: tuple[Semantics, ...] = (UPSTREAM, INJECTED)

DESCRIPTIONS: dict[str, str] = {
    UPSTREAM: "upstream (RoboEval's textual API rewrite and timed-out trace reading)",
    INJECTED: "injected (API functions injected into the program's namespace)",
}

# In the benchmark's order; no replacement creates text another one matches.
_API_CALLS = (
    "get_current_location",
    "get_all_rooms",
    "is_in_room",
    "say",
    "go_to",
    "ask",
    "pick",
    "place",
)
_DOUBLE_QUOTED = re.compile(r'".*?"')


def lowercase_double_quoted(program: str) -> str:
    """The benchmark's first rewrite: everything between two double quotes on one line is lowercased.

    It ignores Python syntax (f-string fields and strings compared against error messages change
    too); single-quoted strings are left alone. Line numbers do not change.
    """
    return _DOUBLE_QUOTED.sub(lambda match: match.group(0).lower(), program)


def upstream_rewrite(program: str) -> str:
    """The program as RoboEval's evaluator runs it; lines keep their numbers (two are appended)."""
    text = lowercase_double_quoted(program).replace("task_program()", "task_program(robot)")
    for name in _API_CALLS:
        text = text.replace(f"{name}(", f"robot.{name}(")
    # Only this exact text is shortened; ``time.sleep(2)`` or ``sleep(1)`` sleep for real.
    text = text.replace("time.sleep(1)", "time.sleep(0.01)")
    return text + "\n\ntask_program(robot)"


def check_semantics(name: str) -> Semantics:
    """``name`` if it is one of :data:`SEMANTICS`; a ``ValueError`` naming them otherwise."""
    if name not in SEMANTICS:
        raise ValueError(f"unknown robot program semantics {name!r}; known: {', '.join(SEMANTICS)}")
    return name  # type: ignore[return-value]
