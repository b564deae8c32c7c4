"""Completion checks for generated robot tasks: per family, the requirements a correct program's trace
meets on one world state (``execrl.robot.requirements``), written the way RoboEval's checks are: the
rooms the errand needs are visited and the others are not, objects are picked where they are and
placed where they belong, questions are asked where the person is with the options the instruction
names, the report on the return says the right answer (and not the wrong ones), and order is checked
where it matters (asking before fetching, checking for someone before talking to them).

These checks are our own, derived from what each family's instruction asks; none comes from RoboEval.
Room names are used as patterns as they are (the world builder keeps regex syntax out of them);
object names and answers are matched literally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from execrl.robot.checks import ANY, AllOf, Event, ask, check_entity, pick, place, say
from execrl.robot.requirements import (
    START,
    At,
    Avoids,
    Count,
    Never,
    NoReport,
    NotAt,
    Order,
    Reports,
    Requirement,
    Visits,
    mentions,
    word,
)
from execrl.tasks.robot_gen.vocab import MESSAGE_KEYWORDS

Checks = tuple[Requirement, ...]

# "There is no stapler there", "I couldn't find one", "it is missing".
NEGATION = r"\bno\b|\bnot\b|n't|\bnone\b|nothing|missing|without|absent|unable"
# "They were out", "nobody was there", "they are away".
ABSENT = NEGATION + r"|\baway\b|\bout\b|nobody|no one|empty|gone"
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ANYONE = check_entity(ANY)


def count_said(n: int, digits_in_use: Iterable[str] = ()) -> str:
    """A report of the number ``n`` (digits or a word; "nobody" and the like for 0) that names no
    other single-digit number, so that listing every number does not pass. Digits that occur in the
    answer texts themselves (``2 pm``) may appear."""
    said = [str(n), _NUMBER_WORDS[n]] if n < len(_NUMBER_WORDS) else [str(n)]
    if n == 0:
        said += ["no one", "nobody", "none", "no"]
    allowed = {str(n), *(d for text in digits_in_use for d in text if d.isdigit())}
    others = [rf"\b{d}\b" for d in "0123456789" if d not in allowed]
    return mentions("|".join(rf"\b{w}\b" for w in said), exclude=others)


def answer_said(answer: str, options: Sequence[str]) -> str:
    """A report that names ``answer`` and none of the other options."""
    return mentions(word(answer), exclude=[word(option) for option in options if option != answer])


def message_said(message: str) -> str:
    return mentions(*MESSAGE_KEYWORDS[message])


def offers(options: Sequence[str]) -> Event | AllOf:
    """An ``Ask`` that offers every one of ``options``."""
    events = [ask(ANY, word(option)) for option in options]
    return events[0] if len(events) == 1 else AllOf(tuple(events))


def asks_yes_no_about(obj: str) -> AllOf:
    """An ``Ask`` about ``obj`` (in the question or an option) offering a yes and a no.

    The world's people answer "yes" or "no", which only picks an option containing that word."""
    return AllOf((ask(word(obj)) | ask(ANY, word(obj)), ask(ANY, "yes"), ask(ANY, r"\bno\b")))


def room_mentioned(room: str, numbered: bool) -> str:
    """How a report names a room of a series: its number ("printer room 3") or its owner ("lena's office")."""
    return word(room.rsplit(" ", 1)[1] if numbered else room.split("'", 1)[0])


def _elsewhere(rooms: Iterable[str], needed: Iterable[str]) -> list[Avoids]:
    keep = set(needed)
    return [Avoids(room) for room in rooms if room not in keep and room != START]


def _deliver_to(dst: str, obj: str) -> list[Requirement]:
    if dst == START:
        return [Reports(place(word(obj)))]
    return [Visits(dst), At(dst, place(word(obj)), "some")]


# --- per family ------------------------------------------------------------------------------------------


def deliver(rooms: Sequence[str], obj: str, src: str, dst: str) -> Checks:
    return (
        Visits(src),
        At(src, pick(word(obj)), "some"),
        Count(pick(ANY), 1),
        *_deliver_to(dst, obj),
        *_elsewhere(rooms, (src, dst)),
    )


def survey_one(rooms: Sequence[str], office: str, options: Sequence[str], answer: str) -> Checks:
    return (
        Visits(office),
        At(office, offers(options)),
        Reports(say(answer_said(answer, options)), after_visiting=(office,)),
        *_elsewhere(rooms, (office,)),
    )


def survey_poll(
    rooms: Sequence[str], polled: Sequence[str], answers: dict[str, str], options: Sequence[str], target: str
) -> Checks:
    """``answers``: what each occupied room of ``polled`` answers."""
    chosen = sum(answer == target for answer in answers.values())
    checks: list[Requirement] = []
    for room in polled:
        checks += [Visits(room), At(room, _ANYONE)]
        if room in answers:
            checks.append(At(room, offers(options), after=_ANYONE))
        else:
            checks.append(NotAt(room, ask(ANY)))
    return (
        *checks,
        Count(ask(ANY), len(answers)),
        Reports(say(count_said(chosen, options)), after_visiting=tuple(polled)),
        *_elsewhere(rooms, polled),
    )


def check_missing(
    rooms: Sequence[str], checked: Sequence[str], stocked: Iterable[str], obj: str, numbered: bool
) -> Checks:
    have = set(stocked)
    checks: list[Requirement] = [Reports(say(ANY), after_visiting=tuple(checked))]
    for room in checked:
        checks += [Visits(room), At(room, check_entity(word(obj)))]
        named = say(room_mentioned(room, numbered))
        checks.append(NoReport(named) if room in have else Reports(named, after_visiting=tuple(checked)))
    return (*checks, *_elsewhere(rooms, checked))


def check_count(rooms: Sequence[str], checked: Sequence[str], stocked: Iterable[str], obj: str) -> Checks:
    n = len(set(stocked) & set(checked))
    checks: list[Requirement] = []
    for room in checked:
        checks += [Visits(room), At(room, check_entity(word(obj)))]
    return (*checks, Reports(say(count_said(n)), after_visiting=tuple(checked)), *_elsewhere(rooms, checked))


def find_object(rooms: Sequence[str], searched: Sequence[str], here: str, obj: str, dst: str) -> Checks:
    return (
        Visits(here),
        At(here, check_entity(word(obj))),
        At(here, pick(word(obj)), "some"),
        Count(pick(ANY), 1),
        *_deliver_to(dst, obj),
        *_elsewhere(rooms, (*searched, dst)),
    )


def find_person_tell(rooms: Sequence[str], searched: Sequence[str], here: str, message: str) -> Checks:
    empty = [NotAt(room, say(ANY)) for room in searched if room != here]
    return (
        Visits(here),
        At(here, _ANYONE),
        At(here, say(message_said(message)), after=_ANYONE),
        *empty,
        *_elsewhere(rooms, searched),
    )


def find_person_report(
    rooms: Sequence[str], searched: Sequence[str], here: str, person: str, numbered: bool
) -> Checks:
    own = word(person.lower())
    others = [room_mentioned(room, numbered) for room in searched if room != here]
    said = mentions(room_mentioned(here, numbered), exclude=[other for other in others if other != own])
    return (
        Visits(here),
        At(here, _ANYONE),
        Reports(say(said), after_visiting=(here,)),
        *_elsewhere(rooms, searched),
    )


def if_object(rooms: Sequence[str], room: str, obj: str, dst: str, present: bool) -> Checks:
    common = (Visits(room), At(room, check_entity(word(obj))))
    if present:
        fetched = (At(room, pick(word(obj)), "some"), Count(pick(ANY), 1), *_deliver_to(dst, obj))
        return (*common, *fetched, NoReport(say(NEGATION)), *_elsewhere(rooms, (room, dst)))
    missing = (Never(pick(ANY)), Reports(say(NEGATION), after_visiting=(room,)))
    return (*common, *missing, *_elsewhere(rooms, (room,)))


def if_wants(rooms: Sequence[str], office: str, src: str, obj: str, wants: bool) -> Checks:
    asked = At(office, asks_yes_no_about(obj))
    if wants:
        fetched = (
            Visits(src),
            At(src, pick(word(obj)), "some"),
            Count(pick(ANY), 1),
            At(office, place(word(obj)), "some"),
            Order(ask(ANY), pick(ANY)),
        )
        return (Visits(office), asked, *fetched, *_elsewhere(rooms, (office, src)))
    declined = (Never(pick(ANY)), At(office, say(ANY), after=ask(ANY)))
    return (Visits(office), asked, *declined, *_elsewhere(rooms, (office,)))


def if_present(rooms: Sequence[str], office: str, message: str, present: bool) -> Checks:
    common = (Visits(office), At(office, _ANYONE), *_elsewhere(rooms, (office,)))
    told = say(message_said(message))
    if present:
        return (*common, At(office, told, after=_ANYONE), NoReport(say(ABSENT)))
    return (*common, Never(told), Reports(say(ABSENT), after_visiting=(office,)))


def loop_say(rooms: Sequence[str], targets: Sequence[str], message: str) -> Checks:
    told = say(message_said(message))
    checks = [check for room in targets for check in (Visits(room), At(room, told))]
    return (*checks, *_elsewhere(rooms, targets))


def loop_tell(rooms: Sequence[str], targets: Sequence[str], occupied: Iterable[str], message: str) -> Checks:
    people = set(occupied)
    told = say(message_said(message))
    checks: list[Requirement] = []
    for room in targets:
        checks += [Visits(room), At(room, _ANYONE)]
        checks.append(At(room, told, after=_ANYONE) if room in people else NotAt(room, say(ANY)))
    return (*checks, *_elsewhere(rooms, targets))


def restock(
    rooms: Sequence[str], targets: Sequence[str], stocked: Iterable[str], src: str, obj: str
) -> Checks:
    have = set(stocked)
    checks: list[Requirement] = []
    for room in targets:
        checks += [Visits(room), At(room, check_entity(word(obj))), NotAt(room, pick(ANY))]
        checks.append(NotAt(room, place(ANY)) if room in have else At(room, place(word(obj)), "some"))
    missing = [room for room in targets if room not in have]
    return (*checks, Count(pick(ANY), len(missing)), *_elsewhere(rooms, (*targets, src)))


def wait_ask(rooms: Sequence[str], room: str, options: Sequence[str], answer: str | None) -> Checks:
    """``answer`` is None in the state where nobody comes."""
    if answer is None:
        return _waits(rooms, room)
    return (
        Visits(room),
        At(room, _ANYONE),
        At(room, offers(options), after=_ANYONE),
        Reports(say(answer_said(answer, options)), after_visiting=(room,)),
        *_elsewhere(rooms, (room,)),
    )


def wait_tell(rooms: Sequence[str], room: str, message: str, comes: bool) -> Checks:
    if not comes:
        return _waits(rooms, room)
    told = say(message_said(message))
    return (Visits(room), At(room, _ANYONE), At(room, told, after=_ANYONE), *_elsewhere(rooms, (room,)))


def _waits(rooms: Sequence[str], room: str) -> Checks:
    """Nobody comes: the robot keeps looking (more than once) and never asks or speaks."""
    return (
        Visits(room),
        Count(_ANYONE, 2, at_least=True),
        Never(ask(ANY)),
        Never(say(ANY)),
        *_elsewhere(rooms, (room,)),
    )


def deliver_then_ask(
    rooms: Sequence[str], src: str, office: str, obj: str, options: Sequence[str], answer: str
) -> Checks:
    return (
        Visits(src),
        At(src, pick(word(obj)), "some"),
        Count(pick(ANY), 1),
        Visits(office),
        At(office, place(word(obj)), "some"),
        At(office, offers(options), "some"),
        Order(place(word(obj)), ask(ANY)),
        Reports(say(answer_said(answer, options)), after_visiting=(office,)),
        *_elsewhere(rooms, (src, office)),
    )


def relay(rooms: Sequence[str], office: str, office2: str, options: Sequence[str], answer: str) -> Checks:
    told = say(answer_said(answer, options))
    return (
        Visits(office),
        At(office, offers(options)),
        Visits(office2),
        At(office2, told, "some"),
        Order(ask(ANY), told),
        *_elsewhere(rooms, (office, office2)),
    )


def choose_and_fetch(rooms: Sequence[str], office: str, src: str, a: str, b: str, chosen: str) -> Checks:
    return (
        Visits(office),
        At(office, offers([a, b])),
        Visits(src),
        At(src, pick(word(chosen)), "some"),
        Count(pick(ANY), 1),
        At(office, place(word(chosen)), "some"),
        Order(ask(ANY), pick(ANY)),
        *_elsewhere(rooms, (office, src)),
    )
