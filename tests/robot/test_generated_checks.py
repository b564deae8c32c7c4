"""Completion checks of the generated robot tasks: the reference program meets them on every state of
every family and variant; typical wrong programs (doing nothing useful, the wrong room or object, the
wrong report) do not, most of them while running without any error, which is what the simulator
judge alone cannot see. Programs are ours and run in-process."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from execrl.robot.outcome import judge_requirements
from execrl.robot.runner import lowercase_double_quoted
from execrl.tasks.robot_gen import FAMILIES, RobotTask, generate_robot_tasks
from execrl.tasks.robot_gen.vocab import MESSAGES

VARIANTS = {
    "deliver": {"to_person", "to_place", "to_me"},
    "survey": {"one_person", "poll_rooms"},
    "check_rooms": {"missing", "count"},
    "find": {"object", "person_tell", "person_report"},
    "conditional": {"if_object", "if_wants", "if_present"},
    "loop_rooms": {"say_each", "tell_people", "restock"},
    "wait": {"ask", "tell"},
    "multi_step": {"deliver_then_ask", "relay", "choose_and_fetch"},
}


@pytest.fixture(scope="module")
def generated() -> list[RobotTask]:
    return generate_robot_tasks(320, seed=11)


def outcomes(local, task: RobotTask, program: str) -> list:
    text = lowercase_double_quoted(program)
    return [judge_requirements(local(text, w.state), w.timeout_expected, w.checks) for w in task.states]


def by_variant(tasks: list[RobotTask], family: str, variant: str, n: int = 3) -> list[RobotTask]:
    found = [t for t in tasks if t.family == family and t.variant == variant][:n]
    assert found, (family, variant)
    return found


def test_every_family_and_variant_is_covered(generated):
    assert set(VARIANTS) == set(FAMILIES)
    assert {(t.family, t.variant) for t in generated} == {(f, v) for f, vs in VARIANTS.items() for v in vs}
    assert all(world.checks for task in generated for world in task.states)


def test_the_reference_program_completes_every_state_of_every_task(local, generated):
    failures = []
    for task in generated:
        for index, outcome in enumerate(outcomes(local, task, task.canonical_solution)):
            if not outcome.completed:
                failures.append((task.task_id, index, [r.describe() for r in outcome.unmet], outcome.error))
    assert not failures


# --- wrong programs ---------------------------------------------------------------------------------------


def edit(program: str, line_pattern: str, replacement: str | None, last: bool = False) -> str:
    """``program`` with the first (or last) line matching ``line_pattern`` replaced (same indentation)
    or dropped."""
    lines = program.split("\n")
    order = range(len(lines) - 1, -1, -1) if last else range(len(lines))
    for i in order:
        line = lines[i]
        if re.search(line_pattern, line):
            indent = line[: len(line) - len(line.lstrip())]
            lines[i : i + 1] = [] if replacement is None else [indent + r for r in replacement.split("\n")]
            return "\n".join(lines)
    raise AssertionError(f"no line matches {line_pattern!r} in\n{program}")


def options_of(program: str) -> list[str]:
    return re.findall(r'"([^"]*)"', re.search(r"\[(\"[^\]]*)\]\)", program).group(1))


def other_room(task: RobotTask, program: str) -> str:
    """A room of every state that the reference never names."""
    common = set.intersection(*(set(w.state["locations"]) for w in task.states)) - {"start_loc"}
    return next(room for room in sorted(common) if f'"{room}"' not in program)


def every_option_said(program: str) -> str:
    return edit(program, r"^\s*say\(", f'say("{", ".join(options_of(program))}")')


def unfiltered(program: str) -> str:
    """The loop over rooms without its filter on the kind of room: every room is visited."""
    return edit(edit(program, r'^\s*if ".*" not in room:', None), r"^\s*continue$", None)


def other_message(program: str) -> str:
    said = next(m for m in MESSAGES if m.capitalize() in program)
    other = next(m for m in MESSAGES if m != said)
    return program.replace(said.capitalize(), other.capitalize())


def wrong_room_report(program: str) -> str:
    """Counting: every number said; listing: the rooms that have the object, instead of those that lack it."""
    if "count" in program:
        return edit(program, r"^    say\(", 'say("1 2 3 4 5 6 7 8 9")')
    return program.replace("if not is_in_room(", "if is_in_room(")


def picks_twice(program: str) -> str:
    """Picks the object, puts it down again at the source and picks it once more."""
    return re.sub(
        r"( +)pick\((.*)\)\n",
        lambda m: f"{m[1]}pick({m[2]})\n{m[1]}place({m[2]})\n{m[1]}pick({m[2]})\n",
        program,
    )


def gives_up(program: str) -> str:
    """Waits a little, then speaks whether or not anyone came."""
    bounded = 'for _ in range(5):\n    if is_in_room("person"):\n        break\n    time.sleep(1)'
    return edit(edit(program, r"while not is_in_room", bounded), r"^\s+time.sleep\(1\)$", None, last=True)


DO_NOTHING = 'def task_program():\n    say("done")\n'

Wrong = Callable[[RobotTask, str], str]
# family -> variant -> name -> (program builder, runs cleanly on every state)
WRONG: dict[str, dict[str, dict[str, tuple[Wrong, bool]]]] = {
    "deliver": {
        "*": {
            "wrong destination": (
                lambda t, p: edit(p, r"^\s*go_to\(", f'go_to("{other_room(t, p)}")', last=True),
                True,
            ),
            "left where it was": (
                lambda t, p: edit(p, r"^\s*place\(", None).replace("    pick(", "    is_in_room("),
                True,
            ),
            "detours through another room": (
                lambda t, p: edit(
                    p,
                    r"^\s*go_to\(",
                    f'go_to("{other_room(t, p)}")\n'
                    + p.split("\n")[1 if "go_to" in p.split("\n")[1] else 2].strip(),
                ),
                True,
            ),
        },
    },
    "survey": {
        "one_person": {
            "never asks": (lambda t, p: edit(p, r"answer = ask\(", f'answer = "{options_of(p)[0]}"'), True),
            "reports every option": (lambda t, p: every_option_said(p), True),
        },
        "poll_rooms": {
            "polls every room": (lambda t, p: unfiltered(p), True),
            "says every number": (
                lambda t, p: edit(p, r"^say\(|^\s*say\(", 'say("0 1 2 3 4 5 people")'),
                True,
            ),
        },
    },
    "check_rooms": {
        "*": {
            "checks every room": (lambda t, p: unfiltered(p), True),
            "wrong report": (lambda t, p: wrong_room_report(p), True),
            "names or counts every room": (
                lambda t, p: re.sub(r"if (not )?is_in_room\(", "if 1 + 0 * is_in_room(", p),
                True,
            ),
        },
    },
    "find": {
        "object": {
            "never picks it up": (
                lambda t, p: edit(edit(p, r"^\s*pick\(", "pass"), r"^\s*place\(", None),
                True,
            ),
            "leaves it where found": (lambda t, p: edit(p, r"^    go_to\(", None), True),
        },
        "person_tell": {
            "tells every room": (
                lambda t, p: edit(edit(p, r"if is_in_room", "if True:"), r"^\s*break$", None),
                True,
            ),
            "wrong message": (lambda t, p: other_message(p), True),
            "looks, then tells every room": (
                lambda t, p: edit(p.replace("if is_in_room(", "if 1 + 0 * is_in_room("), r"^\s*break$", None),
                True,
            ),
        },
        "person_report": {
            "reports every room": (
                lambda t, p: edit(p, r"^    say\(", 'say(", ".join(get_all_rooms()))'),
                True,
            ),
            "never looks": (lambda t, p: edit(p, r"if is_in_room", "if True:"), False),
        },
    },
    "conditional": {
        "if_object": {
            "always reports it missing": (lambda t, p: edit(p, r"^    if is_in_room", "if False:"), True),
            "never reports": (lambda t, p: edit(p, r"^        say\(", 'say("done")'), True),
        },
        "if_wants": {
            "always fetches": (lambda t, p: edit(p, r"if answer ==", "if True:"), True),
            "options without yes or no": (lambda t, p: p.replace('["Yes", "No"]', '["Sure", "Nope"]'), True),
            "asks without naming the object": (
                lambda t, p: re.sub(r'ask\(("[^"]*"), "[^"]*"', r'ask(\1, "Do you want it?"', p),
                True,
            ),
        },
        "if_present": {
            "always tells": (lambda t, p: edit(p, r"if is_in_room", "if True:"), True),
            "always reports absence": (lambda t, p: edit(p, r"if is_in_room", "if False:"), True),
        },
    },
    "loop_rooms": {
        "say_each": {
            "says it everywhere": (lambda t, p: unfiltered(p), True),
            "wrong message": (lambda t, p: other_message(p), True),
        },
        "tell_people": {
            "never looks": (lambda t, p: edit(p, r"if is_in_room", "if True:"), True),
            "wrong message": (lambda t, p: other_message(p), True),
        },
        "restock": {
            "never fetches": (lambda t, p: "\n".join(p.split("\n")[:6]) + "\n            pass\n", True),
            "looks for something else": (
                lambda t, p: re.sub(r'is_in_room\("[^"]*"\)', 'is_in_room("zzz")', p),
                False,
            ),
            "picks twice for each room": (lambda t, p: picks_twice(p), True),
        },
    },
    "wait": {
        "ask": {
            "never waits": (lambda t, p: edit(edit(p, r"while not", None), r"time.sleep", None), False),
            "reports every option": (lambda t, p: every_option_said(p), True),
        },
        "tell": {
            "never waits": (lambda t, p: edit(edit(p, r"while not", None), r"time.sleep", None), True),
            "gives up waiting": (lambda t, p: gives_up(p), True),
            "wrong message": (lambda t, p: other_message(p), True),
        },
    },
    "multi_step": {
        "deliver_then_ask": {
            "asks before delivering": (
                lambda t, p: re.sub(r"(    place\(.*\)\n)(    answer = ask\(.*\)\n)", r"\2\1", p),
                True,
            ),
            "reports every option": (lambda t, p: every_option_said(p), True),
        },
        "relay": {
            "tells the first person": (lambda t, p: edit(p, r"^    go_to\(", None, last=True), True),
            "reports every option": (lambda t, p: every_option_said(p), True),
        },
        "choose_and_fetch": {
            "never asks": (lambda t, p: edit(p, r"choice = ask\(", f'choice = "{options_of(p)[0]}"'), True),
            "leaves it at the source": (lambda t, p: edit(p, r"^    go_to\(", None, last=True), True),
        },
    },
}


def wrong_programs(family: str, variant: str) -> dict[str, tuple[Wrong, bool]]:
    first_room = (lambda t, p: "def task_program():\n    go_to(get_all_rooms()[0])\n    pass\n", True)
    table = WRONG[family].get(variant, WRONG[family].get("*", {}))
    return {"does nothing": (lambda t, p: DO_NOTHING, True), "goes somewhere and stops": first_room, **table}


CASES = [(family, variant) for family, variants in VARIANTS.items() for variant in sorted(variants)]


@pytest.mark.parametrize(("family", "variant"), CASES, ids=[f"{f}-{v}" for f, v in CASES])
def test_typical_wrong_programs_do_not_complete(local, generated, family, variant):
    wrong = wrong_programs(family, variant)
    assert len(wrong) >= 3
    for task in by_variant(generated, family, variant):
        for name, (build, clean) in wrong.items():
            program = build(task, task.canonical_solution)
            assert program != task.canonical_solution, name
            results = outcomes(local, task, program)
            assert not all(r.completed for r in results), (name, task.task_id, program)
            if clean:  # runs without any error: only the completion checks tell it from the reference
                assert all(r.ran for r in results), (name, task.task_id, [r.error for r in results], program)
            if name in ("does nothing", "goes somewhere and stops"):
                assert not any(r.completed for r in results), (name, task.task_id)
