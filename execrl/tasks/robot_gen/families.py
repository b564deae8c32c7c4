"""The task families: each draws an instruction, a reference program and ``k`` world states that fit both,
each state with the completion checks a correct program meets on it (``completion``).

A family fixes what the instruction names (rooms, people, objects, options) and varies across the
states what it does not (who is where, what they answer, where the object is, how many rooms match a
name pattern), so that a program must query the world rather than hard-code one answer. Rooms that
an instruction selects by name ("every printer room") are the only rooms whose names contain that
pattern. Rooms searched with ``is_in_room`` for an object hold no person: the benchmark's people
match any name, so ``is_in_room("stapler")`` is true wherever someone is.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from execrl.tasks.robot_gen import completion
from execrl.tasks.robot_gen.phrasing import human_list, phrase, report_back, with_articles
from execrl.tasks.robot_gen.task import WorldState
from execrl.tasks.robot_gen.vocab import (
    MESSAGES,
    NUMBERED,
    OBJECTS,
    OPTION_SETS,
    OPTION_TOPICS,
    PEOPLE,
    PLACES,
    POSSESSIVE,
)
from execrl.tasks.robot_gen.world import START, World, clashes, pick_distinct


@dataclass(frozen=True)
class Draft:
    """What a family produced for one task, before it gets an id."""

    variant: str
    prompt: str
    program: str
    states: tuple[WorldState, ...]


Family = Callable[[random.Random, int], Draft]
FAMILIES: dict[str, Family] = {}


def _family(name: str) -> Callable[[Family], Family]:
    def register(build: Family) -> Family:
        FAMILIES[name] = build
        return build

    return register


# --- helpers ------------------------------------------------------------------------------------------


def _q(text: str) -> str:
    """``text`` as a double-quoted Python literal (the benchmark's programs use double quotes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _program(*lines: str) -> str:
    return "def task_program():\n" + "".join(f"    {line}\n" for line in lines)


def _options_literal(options: Sequence[str]) -> str:
    return "[" + ", ".join(_q(o) for o in options) + "]"


def _plural(kind: str) -> str:
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


@dataclass(frozen=True)
class _Room:
    name: str  # as in the world (lowercase)
    text: str  # as the instruction says it ("the kitchen", "Lena's office")
    person: str | None = None  # whose room it is


def _place(rng: random.Random, taken: Sequence[str], avoid: str = "") -> _Room:
    name = next(p for p in rng.sample(PLACES, len(PLACES)) if _fits(p, taken, avoid))
    return _Room(name, f"the {name}")


def _office(rng: random.Random, taken: Sequence[str], avoid: str = "", people: Sequence[str] = ()) -> _Room:
    for person in rng.sample(PEOPLE, len(PEOPLE)):
        if person in people:
            continue
        kind = rng.choice([k for k in POSSESSIVE if not avoid or avoid not in k] or POSSESSIVE)
        name = f"{person.lower()}'s {kind}"
        if _fits(name, taken, avoid):
            return _Room(name, f"{person}'s {kind}", person)
    raise ValueError("no free office name")


def _fits(name: str, taken: Sequence[str], avoid: str) -> bool:
    return name not in taken and not clashes(name, taken) and not (avoid and avoid in name)


def _building(rng: random.Random, required: Sequence[str], avoid: str = "", extra: tuple[int, int] = (1, 4)) -> list[str]:
    """``required`` rooms plus a few others that clash with none and do not contain ``avoid``, shuffled."""
    rooms = [r for r in required if r != START]
    for place in rng.sample(PLACES, rng.randint(*extra) * 2):
        if len(rooms) >= len(required) + extra[1]:
            break
        if _fits(place, rooms, avoid) and not clashes(place, [START]):
            rooms.append(place)
    rng.shuffle(rooms)
    return rooms


@dataclass(frozen=True)
class _Series:
    """Rooms picked out by a name pattern: "printer room 1..n" or "<person>'s office" for several people."""

    kind: str
    numbered: bool

    @property
    def plural(self) -> str:
        return _plural(self.kind)

    def rooms(self, rng: random.Random, low: int = 2, high: int = 5) -> list[str]:
        n = rng.randint(low, high)
        if self.numbered:
            start = rng.randint(1, 9 - n + 1)  # single digits: "room 1" is a substring of "room 10"
            return [f"{self.kind} {i}" for i in range(start, start + n)]
        return [f"{p.lower()}'s {self.kind}" for p in rng.sample(PEOPLE, n)]


def _series(rng: random.Random) -> _Series:
    if rng.random() < 0.6:
        return _Series(rng.choice(NUMBERED), numbered=True)
    return _Series(rng.choice(POSSESSIVE), numbered=False)


def _scatter(
    rng: random.Random, world: World, count: int, rooms: Sequence[str], avoid_labels: Sequence[str] = ()
) -> None:
    """``count`` unrelated objects in ``rooms``, clashing with no object of the world, nor with
    ``avoid_labels`` (objects added later), nor with each other."""
    if not rooms:
        return
    for label in pick_distinct(rng, OBJECTS, count, [*world.labels, *avoid_labels]):
        world.add_object(label, rng.choice(list(rooms)))


def _balanced(rng: random.Random, k: int) -> list[bool]:
    """``k`` flags with both values present when ``k`` >= 2, in random order."""
    flags = [i % 2 == 0 for i in range(k)]
    rng.shuffle(flags)
    return flags


def _ask_options(rng: random.Random, low: int = 2, high: int = 4) -> tuple[str, list[str]]:
    i = rng.randrange(len(OPTION_SETS))
    return OPTION_TOPICS[i], rng.sample(OPTION_SETS[i], rng.randint(low, min(high, len(OPTION_SETS[i]))))


def _states(k: int, make: Callable[[int], WorldState]) -> tuple[WorldState, ...]:
    return tuple(make(i) for i in range(k))


# --- 1. deliver an object -----------------------------------------------------------------------------

_DELIVER = (
    "[Pick up|Grab|Get] the {obj} [from|in] {src} and [bring|take|carry] it to {dst}.",
    "[Go to|Head to|Stop by] {src}, [pick up|grab|collect] the {obj}, and [deliver|bring] it to {dst}.",
    "There is a {obj} in {src}. [Please bring|Bring|Take] it to {dst}.",
    "[Fetch|Retrieve] the {obj} from {src} [and bring it|and deliver it|and take it] to {dst}.",
    "Move the {obj} [from {src} to {dst}|that is in {src} over to {dst}].",
    "I need the {obj} from {src} [taken|brought|carried] to {dst}[, please|].",
)


@_family("deliver")
def _deliver(rng: random.Random, k: int) -> Draft:
    obj = rng.choice(OBJECTS)
    src = _place(rng, [])
    variant = rng.choice(("to_person", "to_place", "to_me"))
    if variant == "to_person":
        dst = _office(rng, [src.name])
    elif variant == "to_place":
        dst = _place(rng, [src.name])
    else:
        dst = _Room(START, "me")
    rooms = _building(rng, [src.name, dst.name])
    lines = ["start_loc = get_current_location()"] if variant == "to_me" else []
    target = "start_loc" if variant == "to_me" else _q(dst.name)
    lines += [f"go_to({_q(src.name)})", f"pick({_q(obj)})", f"go_to({target})", f"place({_q(obj)})"]

    def state(_: int) -> WorldState:
        world = World(rooms)
        world.add_object(obj, src.name)
        _scatter(rng, world, rng.randint(0, 3), rooms, [obj])
        if variant == "to_person" and rng.random() < 0.5:
            world.add_person(dst.name)
        return WorldState(world.state(), checks=completion.deliver(rooms, obj, src.name, dst.name))

    prompt = phrase(_DELIVER, rng, obj=obj, src=src.text, dst=dst.text)
    return Draft(variant, prompt, _program(*lines), _states(k, state))


# --- 2. survey people with options and report back ----------------------------------------------------

_SURVEY_ONE = (
    ("[Go to|Visit|Stop by] {office} and ask {person} [which|what] {topic} they [would like|prefer|want]: {options}. "
    "{report} [what they said|their answer|what they picked]."),
    ("Ask {person} in {office} to [choose|pick] [between|from] {options} for the {topic}, then {report} "
    "[the answer|their choice]."),
    ("I [need|want] to know [which|what] {topic} {person} [prefers|wants]. [Go to|Visit] {office}, [offer|give] them "
    "the options {options}, and {report} [what they chose|their pick]."),
    ("Find out whether {person} would rather have {options} [as the|for the] {topic}; they are in {office}. "
    "{report} [their answer|what they said]."),
)
_SURVEY_ALL = (
    ("[Go to|Visit|Stop by] every {kinds} and ask [whoever is there|anyone you find|each person there] [which|what] "
    "{topic} they [prefer|would like]: {options}. {report} how many [people|of them] [chose|picked|said] {target}."),
    ("Ask [everyone|each person] in the {kinds} to [pick|choose] a {topic} from {options}. {report} how many "
    "[chose|picked] {target}."),
    ("Run a [quick|short] poll in [all|each of] the {kinds}: [which|what] {topic} [do people prefer|would people "
    "like], {options}? Count the people who [choose|pick] {target} and {report} the count."),
    ("[Check|Go through] [each|every] {kind}; if someone is there, ask them to [choose|pick] {options} for the "
    "{topic}. {report} the number of people who [wanted|chose] {target}."),
)


@_family("survey")
def _survey(rng: random.Random, k: int) -> Draft:
    topic, options = _ask_options(rng)
    question = f"Which {topic} would you prefer: {human_list(options)}?"
    if rng.random() < 0.4:
        office = _office(rng, [])
        rooms = _building(rng, [office.name])
        program = _program(
            "start_loc = get_current_location()",
            f"go_to({_q(office.name)})",
            f"answer = ask({_q(office.person or '')}, {_q(question)}, {_options_literal(options)})",
            "go_to(start_loc)",
            f"say({_q(f'{office.person} chose ')} + answer)",
        )

        def one(_: int) -> WorldState:
            world = World(rooms)
            answer = rng.choice(options)
            world.add_person(office.name, [answer])
            _scatter(rng, world, rng.randint(0, 2), rooms, [])
            checks = completion.survey_one(rooms, office.name, options, answer)
            return WorldState(world.state(), checks=checks)

        prompt = phrase(
            _SURVEY_ONE, rng, office=office.text, person=office.person or "", topic=topic,
            options=human_list(options), report=report_back(rng),
        )
        return Draft("one_person", prompt, program, _states(k, one))

    series = _series(rng)
    target = rng.choice(options)
    program = _program(
        "start_loc = get_current_location()",
        "count = 0",
        "for room in get_all_rooms():",
        f"    if {_q(series.kind)} not in room:",
        "        continue",
        "    go_to(room)",
        '    if not is_in_room("person"):',
        "        continue",
        f"    answer = ask(\"\", {_q(question)}, {_options_literal(options)})",
        f"    if answer == {_q(target)}:",
        "        count += 1",
        "go_to(start_loc)",
        f"say(str(count) + {_q(f' people chose {target}')})",
    )

    def poll(_: int) -> WorldState:
        polled = series.rooms(rng)
        rooms = _building(rng, polled, avoid=series.kind)
        world = World(rooms)
        answers = {}
        for room in polled:
            if rng.random() < 0.7:
                answers[room] = rng.choice(options)
                world.add_person(room, [answers[room]])
        checks = completion.survey_poll(rooms, polled, answers, options, target)
        return WorldState(world.state(), checks=checks)

    prompt = phrase(
        _SURVEY_ALL, rng, kind=series.kind, kinds=series.plural, topic=topic, options=human_list(options),
        target=target, report=report_back(rng),
    )
    return Draft("poll_rooms", prompt, program, _states(k, poll))


# --- 3. check rooms for an object and report ----------------------------------------------------------

_CHECK_MISSING = (
    ("[Check|Look in|Go through] every {kind} [for a {obj}|to see if it has a {obj}] and {report} which ones "
    "[don't have one|are missing one|have no {obj}]."),
    "Find out which {kinds} [do not have|are missing|lack] a {obj}, then {report} [the list|which ones].",
    "[Visit|Inspect] [all|each of] the {kinds}. {report} [every|each] {kind} that has no {obj} in it.",
    "Make a list of the {kinds} [without|that lack] a {obj} and {report} [it|the list].",
)
_CHECK_COUNT = (
    "Count how many {kinds} have a {obj} [in them|inside] and {report} the number.",
    "[Visit|Check] each {kind} and see whether it has a {obj}. {report} how many [of them|rooms] [do|did].",
    "How many {kinds} [contain|have] a {obj}? [Go and check|Check them all], then {report} the [count|number].",
)


@_family("check_rooms")
def _check_rooms(rng: random.Random, k: int) -> Draft:
    series = _series(rng)
    obj = rng.choice(OBJECTS)
    count = rng.random() < 0.4
    head = ["start_loc = get_current_location()", "count = 0" if count else "missing = []"]
    loop = [
        "for room in get_all_rooms():",
        f"    if {_q(series.kind)} not in room:",
        "        continue",
        "    go_to(room)",
    ]
    if count:
        tail = [f"    if is_in_room({_q(obj)}):", "        count += 1", "go_to(start_loc)",
                f"say(str(count) + {_q(f' {series.plural} have a {obj}')})"]
    else:
        tail = [
            f"    if not is_in_room({_q(obj)}):",
            "        missing.append(room)",
            "go_to(start_loc)",
            "if missing:",
            f"    say({_q(f'There is no {obj} in ')} + \", \".join(missing))",
            "else:",
            f"    say({_q(with_articles(f'Every {series.kind} has a {obj}'))})",
        ]

    def state(_: int) -> WorldState:
        checked = series.rooms(rng)
        rooms = _building(rng, checked, avoid=series.kind)
        world = World(rooms)
        stocked = []
        for room in checked:
            if rng.random() < 0.5:
                world.add_object(obj, room)
                stocked.append(room)
        others = [r for r in rooms if r not in checked]
        _scatter(rng, world, rng.randint(0, 2), others, [obj])
        for room in others:
            if rng.random() < 0.3:
                world.add_person(room)
        if count:
            checks = completion.check_count(rooms, checked, stocked, obj)
        else:
            checks = completion.check_missing(rooms, checked, stocked, obj, series.numbered)
        return WorldState(world.state(), checks=checks)

    templates = _CHECK_COUNT if count else _CHECK_MISSING
    prompt = phrase(templates, rng, kind=series.kind, kinds=series.plural, obj=obj, report=report_back(rng))
    return Draft("count" if count else "missing", prompt, _program(*head, *loop, *tail), _states(k, state))



# --- 4. find a person or an object -------------------------------------------------------------------

_FIND_OBJECT = (
    "The {obj} is [somewhere in|in] one of the {kinds}. [Find|Locate|Look for] it and [bring|take] it to {dst}.",
    "[Search|Look through] the {kinds} [for|until you find] the {obj}, then [bring|carry|deliver] it to {dst}.",
    ("[Someone left|I left] the {obj} in one of the {kinds}. [Please find|Find|Go find] it and [put|place] it in "
    "{dst}."),
    ("Go [from|through] {kind} to {kind} [until you find|looking for] the {obj}; when you have it, [bring|take] it to "
    "{dst}."),
)
_FIND_PERSON_TELL = (
    ("{person} is in one of the {kinds}. [Find|Locate|Track down] them and [tell|let] them [that|know that] "
    "{message}."),
    ("[Look for|Search for|Find] {person} in the {kinds} and, [once you find|when you find] them, [tell them|say] "
    "that {message}."),
    "[Go through|Check] the {kinds} until you find {person}, then [tell them|let them know] {message}.",
)
_FIND_PERSON_REPORT = (
    ("{person} is [somewhere in|in] one of the {kinds}. [Find out|Figure out|Check] which one and {report} "
    "[where they are|the room]."),
    "[Look for|Search for] {person} in the {kinds} and {report} which {kind} they are in.",
    ("Where is {person}? [Check|Go through] the {kinds} [one by one|in turn] and {report} [the room you found them "
    "in|their location]."),
)


@_family("find")
def _find(rng: random.Random, k: int) -> Draft:
    series = _series(rng)
    variant = rng.choice(("object", "person_tell", "person_report"))
    loop = [
        "for room in get_all_rooms():",
        f"    if {_q(series.kind)} not in room:",
        "        continue",
        "    go_to(room)",
    ]
    if variant == "object":
        obj = rng.choice(OBJECTS)
        dst = _Room(START, "me") if rng.random() < 0.4 else _place(rng, [], avoid=series.kind)
        lines = ["start_loc = get_current_location()"] if dst.name == START else []
        target = "start_loc" if dst.name == START else _q(dst.name)
        lines += [*loop, f"    if is_in_room({_q(obj)}):", f"        pick({_q(obj)})", "        break",
                  f"go_to({target})", f"place({_q(obj)})"]
        prompt = phrase(_FIND_OBJECT, rng, obj=obj, kind=series.kind, kinds=series.plural, dst=dst.text)
    else:
        person = rng.choice(PEOPLE)
        dst = _Room(START, "me")
        if variant == "person_tell":
            message = rng.choice(MESSAGES)
            lines = [*loop, '    if is_in_room("person"):', f"        say({_q(message.capitalize())})", "        break"]
            prompt = phrase(_FIND_PERSON_TELL, rng, person=person, kinds=series.plural, message=message)
        else:
            lines = ["start_loc = get_current_location()", 'found = "nowhere"', *loop,
                     '    if is_in_room("person"):', "        found = room", "        break",
                     "go_to(start_loc)", f"say({_q(f'{person} is in ')} + found)"]
            prompt = phrase(_FIND_PERSON_REPORT, rng, person=person, kind=series.kind, kinds=series.plural,
                            report=report_back(rng))

    def state(_: int) -> WorldState:
        searched = series.rooms(rng)
        rooms = _building(rng, [*searched, dst.name], avoid=series.kind)
        world = World(rooms)
        here = rng.choice(searched)
        if variant == "object":
            world.add_object(obj, here)
            _scatter(rng, world, rng.randint(0, 3), rooms)
            checks = completion.find_object(rooms, searched, here, obj, dst.name)
        else:
            world.add_person(here)
            _scatter(rng, world, rng.randint(0, 2), rooms, ["person"])
            if variant == "person_tell":
                checks = completion.find_person_tell(rooms, searched, here, message)
            else:
                checks = completion.find_person_report(rooms, searched, here, person, series.numbered)
        return WorldState(world.state(), checks=checks)

    return Draft(variant, prompt, _program(*lines), _states(k, state))


# --- 5. conditional errands ---------------------------------------------------------------------------

_IF_OBJECT = (
    ("Go to {room}. If there is a {obj} there, [bring|take] it to {dst}; [otherwise|if not], {report} that "
    "[there isn't one|you couldn't find one]."),
    ("[Check|See] whether {room} has a {obj}. If it does, [move|carry] it to {dst}. If it doesn't, {report} "
    "[so|that it is missing]."),
    ("[Look for|Check for] a {obj} in {room}: [bring|deliver] it to {dst} if [it is there|you find one], and "
    "[otherwise|if not] {report} [that there was none|that you found nothing]."),
)
_IF_WANTS = (
    ("Ask {person} in {office} whether they [want|would like|need] a {obj}. If they say yes, [get|fetch] one from "
    "{src} and [bring|deliver] it to them; [otherwise|if not], tell them [okay|no problem]."),
    ("[Go to|Visit] {office} and [check|ask] if {person} [needs|wants] a {obj}. [If so|If yes], [pick one up|grab "
    "one] [from|in] {src} and [take|bring] it to {office}. If not, [just |]say [okay|alright]."),
    ("{person} might [need|want] a {obj}. [Ask them|Check with them] in {office}; if they do, [bring them one|take "
    "one to them] from {src}, and if they don't, tell them [that's fine|okay]."),
)
_IF_PRESENT = (
    ("Go to {office}. If {person} is there, [tell them|let them know] that {message}; [otherwise|if not], {report} "
    "that they [were out|weren't there]."),
    ("[See|Check] whether {person} is in {office}. If they are, [tell them|say] that {message}. If they aren't, "
    "{report} [that they are away|that nobody was there]."),
)


@_family("conditional")
def _conditional(rng: random.Random, k: int) -> Draft:
    variant = rng.choice(("if_object", "if_wants", "if_present"))
    flags = _balanced(rng, k)
    if variant == "if_object":
        obj = rng.choice(OBJECTS)
        room = _place(rng, [])
        dst = _office(rng, [room.name]) if rng.random() < 0.5 else _place(rng, [room.name])
        rooms = _building(rng, [room.name, dst.name])
        program = _program(
            "start_loc = get_current_location()",
            f"go_to({_q(room.name)})",
            f"if is_in_room({_q(obj)}):",
            f"    pick({_q(obj)})",
            f"    go_to({_q(dst.name)})",
            f"    place({_q(obj)})",
            "else:",
            "    go_to(start_loc)",
            f"    say({_q(f'There is no {obj} in the {room.name}')})",
        )

        def state(i: int) -> WorldState:
            world = World(rooms)
            if flags[i]:
                world.add_object(obj, room.name)
            _scatter(rng, world, rng.randint(0, 3), rooms, [obj])
            checks = completion.if_object(rooms, room.name, obj, dst.name, flags[i])
            return WorldState(world.state(), checks=checks)

        prompt = phrase(_IF_OBJECT, rng, room=room.text, obj=obj, dst=dst.text, report=report_back(rng))
    elif variant == "if_wants":
        obj = rng.choice(OBJECTS)
        office = _office(rng, [])
        src = _place(rng, [office.name])
        rooms = _building(rng, [office.name, src.name])
        program = _program(
            f"go_to({_q(office.name)})",
            f"answer = ask({_q(office.person or '')}, {_q(with_articles(f'Would you like a {obj}?'))}, [\"Yes\", \"No\"])",
            'if answer == "Yes":',
            f"    go_to({_q(src.name)})",
            f"    pick({_q(obj)})",
            f"    go_to({_q(office.name)})",
            f"    place({_q(obj)})",
            "else:",
            '    say("Okay")',
        )

        def state(i: int) -> WorldState:
            world = World(rooms)
            world.add_object(obj, src.name)
            world.add_person(office.name, ["yes" if flags[i] else "no"])
            _scatter(rng, world, rng.randint(0, 2), rooms)
            checks = completion.if_wants(rooms, office.name, src.name, obj, flags[i])
            return WorldState(world.state(), checks=checks)

        prompt = phrase(_IF_WANTS, rng, person=office.person or "", office=office.text, obj=obj, src=src.text)
    else:
        office = _office(rng, [])
        message = rng.choice(MESSAGES)
        rooms = _building(rng, [office.name])
        program = _program(
            "start_loc = get_current_location()",
            f"go_to({_q(office.name)})",
            'if is_in_room("person"):',
            f"    say({_q(message.capitalize())})",
            "else:",
            "    go_to(start_loc)",
            f"    say({_q(f'{office.person} was not in the office')})",
        )

        def state(i: int) -> WorldState:
            world = World(rooms)
            if flags[i]:
                world.add_person(office.name)
            _scatter(rng, world, rng.randint(0, 2), [r for r in rooms if r != office.name], ["person"])
            checks = completion.if_present(rooms, office.name, message, flags[i])
            return WorldState(world.state(), checks=checks)

        prompt = phrase(_IF_PRESENT, rng, office=office.text, person=office.person or "", message=message,
                        report=report_back(rng))
    return Draft(variant, prompt, program, _states(k, state))


# --- 6. loops over rooms picked out by name -----------------------------------------------------------

_LOOP_SAY = (
    "Go to every {kind} and [say|announce] that {message}.",
    "[Visit|Stop by] [each|every] {kind} [in the building|] and [announce|say] that {message}.",
    "[In|For] every {kind}, [go there and |]announce that {message}.",
)
_LOOP_TELL = (
    "Tell [everyone|anyone] in the {kinds} that {message}.",
    "[Go to|Visit] [each|every] {kind}; if someone is there, [tell|let] them [that|know that] {message}.",
    "Let [the people|whoever is] in the {kinds} know that {message}. [Skip|Don't bother with] the empty ones.",
)
_LOOP_STOCK = (
    ("Make sure every {kind} has a {obj}: [check each one|go through them], and [bring|take] one from {src} to any "
    "{kind} that [doesn't have one|is missing one]."),
    ("[Check|Visit] [all|each of] the {kinds}. If a {kind} has no {obj}, [get|fetch] one from {src} and [put|place] "
    "it there."),
    ("[Restock|Supply] the {kinds} with {obj_plural}: [every|each] {kind} without a {obj} [needs|should get] one "
    "from {src}."),
)


@_family("loop_rooms")
def _loop_rooms(rng: random.Random, k: int) -> Draft:
    series = _series(rng)
    variant = rng.choice(("say_each", "tell_people", "restock"))
    loop = [
        "for room in get_all_rooms():",
        f"    if {_q(series.kind)} not in room:",
        "        continue",
        "    go_to(room)",
    ]
    src = _place(rng, [], avoid=series.kind)
    obj = rng.choice(OBJECTS)
    message = rng.choice(MESSAGES)
    if variant == "say_each":
        lines = [*loop, f"    say({_q(message.capitalize())})"]
        prompt = phrase(_LOOP_SAY, rng, kind=series.kind, message=message)
    elif variant == "tell_people":
        lines = [*loop, '    if is_in_room("person"):', f"        say({_q(message.capitalize())})"]
        prompt = phrase(_LOOP_TELL, rng, kind=series.kind, kinds=series.plural, message=message)
    else:
        lines = [*loop, f"    if not is_in_room({_q(obj)}):", f"        go_to({_q(src.name)})",
                 f"        pick({_q(obj)})", "        go_to(room)", f"        place({_q(obj)})"]
        prompt = phrase(_LOOP_STOCK, rng, kind=series.kind, kinds=series.plural, obj=obj,
                        obj_plural=_plural(obj), src=src.text)

    def state(_: int) -> WorldState:
        targets = series.rooms(rng)
        extra = [src.name] if variant == "restock" else []
        rooms = _building(rng, [*targets, *extra], avoid=series.kind)
        world = World(rooms)
        if variant == "restock":
            stocked = [room for room in targets if rng.random() < 0.4]
            for room in stocked:
                world.add_object(obj, room)
            for _ in range(len(targets) - len(stocked) + rng.randint(0, 2)):
                world.add_object(obj, src.name)
            _scatter(rng, world, rng.randint(0, 2), [r for r in rooms if r not in targets and r != src.name])
            checks = completion.restock(rooms, targets, stocked, src.name, obj)
        else:
            occupied = [room for room in targets if rng.random() < 0.6]
            for room in occupied:
                world.add_person(room)
            _scatter(rng, world, rng.randint(0, 3), rooms, ["person"])
            if variant == "say_each":
                checks = completion.loop_say(rooms, targets, message)
            else:
                checks = completion.loop_tell(rooms, targets, occupied, message)
        return WorldState(world.state(), checks=checks)

    return Draft(variant, prompt, _program(*lines), _states(k, state))


# --- 7. waiting for someone ---------------------------------------------------------------------------

_WAIT_ASK = (
    ("Go to {room} and wait [until someone [arrives|shows up]|for someone to [arrive|show up]]. [Then|When they do,] "
    "ask them [which|what] {topic} they [prefer|would like], {options}, and {report} [their answer|what they said]."),
    ("Wait in {room} until [a visitor|somebody|someone] [comes|turns up]. Ask them to [choose|pick] {options} for the "
    "{topic}, then {report} [the answer|their choice]."),
    ("[Head to|Go to] {room}. As soon as someone is there, ask [them|that person] [about|for] the {topic}: "
    "{options}. {report} [what they picked|their choice]."),
)
_WAIT_TELL = (
    "Go to {room} and wait until [someone|a person] [is there|arrives]; then tell them that {message}.",
    "Wait in {room} for [somebody|someone] to [come in|show up], and [let them know|tell them] that {message}.",
    "[Stay in|Wait at] {room} until someone [comes|appears], then [say|announce] that {message}.",
)


@_family("wait")
def _wait(rng: random.Random, k: int) -> Draft:
    room = _place(rng, [])
    rooms = _building(rng, [room.name])
    ask_variant = rng.random() < 0.5
    wait = [f"go_to({_q(room.name)})", 'while not is_in_room("person"):', "    time.sleep(1)"]
    if ask_variant:
        topic, options = _ask_options(rng)
        question = f"Which {topic} would you prefer: {human_list(options)}?"
        lines = ["start_loc = get_current_location()", *wait,
                 f"answer = ask(\"\", {_q(question)}, {_options_literal(options)})",
                 "go_to(start_loc)", f"say({_q('They chose ')} + answer)"]
        prompt = phrase(_WAIT_ASK, rng, room=room.text, topic=topic, options=human_list(options),
                        report=report_back(rng))
    else:
        message = rng.choice(MESSAGES)
        lines = [*wait, f"say({_q(message.capitalize())})"]
        prompt = phrase(_WAIT_TELL, rng, room=room.text, message=message)
    # One state where nobody comes (when there are several): a correct program is still waiting at the end.
    nobody = rng.randrange(k) if k >= 3 else -1

    def state(i: int) -> WorldState:
        world = World(rooms)
        answer = None
        if i != nobody:
            answer = rng.choice(options) if ask_variant else ".*"
            world.add_person(room.name, [answer])
        _scatter(rng, world, rng.randint(0, 2), rooms, ["person"])
        if ask_variant:
            checks = completion.wait_ask(rooms, room.name, options, answer)
        else:
            checks = completion.wait_tell(rooms, room.name, message, comes=i != nobody)
        return WorldState(world.state(), timeout_expected=i == nobody, checks=checks)

    return Draft("ask" if ask_variant else "tell", prompt, _program(*lines), _states(k, state))


# --- 8. multi-step errands ----------------------------------------------------------------------------

_DELIVER_THEN_ASK = (
    ("[First|To start], [take|bring] the {obj} from {src} to {office}. Then ask {person} [which|what] {topic} they "
    "[prefer|would like] ({options}) and {report} [their answer|what they said]."),
    ("[Pick up|Collect] the {obj} in {src} and [drop it off|deliver it] at {office}. While you are there, ask "
    "{person} to [choose|pick] a {topic}: {options}. {report} [the answer|their choice]."),
)
_RELAY = (
    ("Ask {person} in {office} [which|what] {topic} [works|they prefer]: {options}. Then go to {office2} and tell "
    "{person2} [what {person} said|{person}'s answer]."),
    ("[Find out|Check] [which|what] {topic} {person} [prefers|wants] by asking them in {office} ({options}), and "
    "[pass the answer on to {person2} in {office2}|let {person2} in {office2} know]."),
)
_CHOOSE_AND_FETCH = (
    ("Ask {person} in {office} whether they [would like|want] the {a} or the {b}. [Get|Fetch] [the one they "
    "choose|whichever they pick] from {src} and [bring|deliver] it to them."),
    ("[Go to|Visit] {office} and ask {person} [to choose|to pick] between the {a} and the {b}; then [bring|take] "
    "them [their choice|the one they chose] from {src}."),
    ("{person} needs either the {a} or the {b}, both in {src}. Ask them [which one|which] in {office}, and "
    "[deliver|bring] it to them."),
)


@_family("multi_step")
def _multi_step(rng: random.Random, k: int) -> Draft:
    variant = rng.choice(("deliver_then_ask", "relay", "choose_and_fetch"))
    office = _office(rng, [])
    if variant == "deliver_then_ask":
        obj = rng.choice(OBJECTS)
        src = _place(rng, [office.name])
        topic, options = _ask_options(rng)
        question = f"Which {topic} would you prefer: {human_list(options)}?"
        rooms = _building(rng, [office.name, src.name])
        program = _program(
            "start_loc = get_current_location()",
            f"go_to({_q(src.name)})",
            f"pick({_q(obj)})",
            f"go_to({_q(office.name)})",
            f"place({_q(obj)})",
            f"answer = ask({_q(office.person or '')}, {_q(question)}, {_options_literal(options)})",
            "go_to(start_loc)",
            f"say({_q(f'{office.person} chose ')} + answer)",
        )

        def state(_: int) -> WorldState:
            world = World(rooms)
            world.add_object(obj, src.name)
            answer = rng.choice(options)
            world.add_person(office.name, [answer])
            _scatter(rng, world, rng.randint(0, 2), rooms)
            checks = completion.deliver_then_ask(rooms, src.name, office.name, obj, options, answer)
            return WorldState(world.state(), checks=checks)

        prompt = phrase(_DELIVER_THEN_ASK, rng, obj=obj, src=src.text, office=office.text,
                        person=office.person or "", topic=topic, options=human_list(options),
                        report=report_back(rng))
    elif variant == "relay":
        office2 = _office(rng, [office.name], people=[office.person or ""])
        topic, options = _ask_options(rng)
        question = f"Which {topic} would you prefer: {human_list(options)}?"
        rooms = _building(rng, [office.name, office2.name])
        program = _program(
            f"go_to({_q(office.name)})",
            f"answer = ask({_q(office.person or '')}, {_q(question)}, {_options_literal(options)})",
            f"go_to({_q(office2.name)})",
            f"say({_q(f'{office.person} chose ')} + answer)",
        )

        def state(_: int) -> WorldState:
            world = World(rooms)
            answer = rng.choice(options)
            world.add_person(office.name, [answer])
            if rng.random() < 0.7:
                world.add_person(office2.name)
            _scatter(rng, world, rng.randint(0, 2), rooms)
            checks = completion.relay(rooms, office.name, office2.name, options, answer)
            return WorldState(world.state(), checks=checks)

        prompt = phrase(_RELAY, rng, person=office.person or "", office=office.text, topic=topic,
                        options=human_list(options), office2=office2.text, person2=office2.person or "")
    else:
        a, b = pick_distinct(rng, OBJECTS, 2)
        src = _place(rng, [office.name])
        rooms = _building(rng, [office.name, src.name])
        program = _program(
            f"go_to({_q(office.name)})",
            f"choice = ask({_q(office.person or '')}, {_q(f'Would you like the {a} or the {b}?')}, "
            f"{_options_literal([a, b])})",
            f"go_to({_q(src.name)})",
            "pick(choice)",
            f"go_to({_q(office.name)})",
            "place(choice)",
        )

        def state(_: int) -> WorldState:
            world = World(rooms)
            world.add_object(a, src.name)
            world.add_object(b, src.name)
            chosen = rng.choice([a, b])
            world.add_person(office.name, [chosen])
            _scatter(rng, world, rng.randint(0, 2), rooms)
            checks = completion.choose_and_fetch(rooms, office.name, src.name, a, b, chosen)
            return WorldState(world.state(), checks=checks)

        prompt = phrase(_CHOOSE_AND_FETCH, rng, person=office.person or "", office=office.text, a=a, b=b,
                        src=src.text)
    return Draft(variant, prompt, program, _states(k, state))
