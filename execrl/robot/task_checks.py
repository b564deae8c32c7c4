"""The checks of RoboEval's 16 tasks, written in the check language of :mod:`execrl.robot.checks`.

Each task maps the check names used in ``roboeval_tasks.json`` (``check_function``) to a predicate on
the trace of one run. The logic is that of the benchmark's task files (CodeBotler
``benchmark/tasks/*.py`` at 2b3e2d8, described in shared/specs/roboeval.md section 7), re-expressed
predicate by predicate so that every verdict is the benchmark's, quirks included; each kept quirk is
marked "Quirk". Patterns are the benchmark's, built with the same helpers (``contain_words``: the
alternatives after the first one inside a word carry their own ``.*``), and every ``Ask`` check needs an
option, as upstream. tests/robot/test_robot_task_checks.py holds programs that tell the readings apart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from execrl.robot.checks import (
    ANY,
    NOT_START,
    Trace,
    ask,
    check_entity,
    contain_words,
    contain_words_and_exclude_words,
    goto,
    pick,
    place,
    reports_back,
    say,
    visited_all,
    visited_none,
)

Check = Callable[[Trace], bool]

START = "start_loc"


def _asked_at_first(trace: Trace, location: str, pattern: str) -> bool:
    """An ``Ask`` during the first visit whose question, or one of whose options, contains ``pattern``."""
    return trace.act_at_first(location, ask(pattern)) or trace.act_at_first(location, ask(ANY, pattern))


def _left_first_for(trace: Trace, location: str) -> bool:
    """No go_to anywhere but ``start_loc`` before the first go_to ``location`` (true if it never happens)."""
    return not trace.before_first(goto(location)).exists(goto(NOT_START))


def _reported_after(trace: Trace, pattern: str, locations: tuple[str, ...]) -> bool:
    """Say ``pattern`` on the first return, having gone to every one of ``locations`` before that Say."""
    report = say(pattern)
    return visited_all(trace.before_first(report), locations) and reports_back(trace, report)


# --- CountSavory -------------------------------------------------------------------------------------

_SAVORY_OFFICES = ("alice's office", "bob's office", "charlie's office", "david's office")


def _asked_for_food(trace: Trace, office: str, food: str) -> bool:
    pattern = contain_words([food])
    # The CheckEntity is looked for after arriving and before the first Ask whose *question* names the
    # food, beyond the visit if need be.
    checked = trace.after_first(goto(office)).before_first(ask(pattern)).exists(check_entity(ANY))
    return _asked_at_first(trace, office, pattern) and checked


def _count_savory(trace: Trace, foods: dict[str, str], asks: int, count: str) -> bool:
    """``foods``: the answer of each occupied office; ``count``: what the final report must say."""
    generic = (
        visited_all(trace, _SAVORY_OFFICES)
        and visited_none(trace, ("lobby", "cafeteria"))
        and all(trace.act_at_first(office, check_entity(ANY)) for office in _SAVORY_OFFICES)
    )
    # An empty office fails only if the robot asked there after checking for someone.
    asked = all(
        _asked_for_food(trace, office, foods[office])
        if office in foods
        else not _asked_for_food(trace, office, ".*")
        for office in _SAVORY_OFFICES
    )
    return (
        generic
        and asked
        and _reported_after(trace, contain_words([count]), _SAVORY_OFFICES)
        and trace.count(ask(ANY)) == asks
    )


COUNT_SAVORY = {
    "test0": partial(
        _count_savory,
        foods={
            "alice's office": "donut",
            "bob's office": "cake",
            "charlie's office": "donut",
            "david's office": "cake",
        },
        asks=4,
        count="0|.*zero|.*no",
    ),
    "test1": partial(
        _count_savory,
        foods={
            "alice's office": "sandwich",
            "bob's office": "donut",
            "charlie's office": "cake",
            "david's office": "beef|.*jerky",
        },
        asks=4,
        count="2|.*two",
    ),
    "test2": partial(
        _count_savory,
        foods={"alice's office": "beef|.*jerky", "bob's office": "cake", "charlie's office": "cake"},
        asks=3,
        count="1|.*one",
    ),
    "test3": partial(
        _count_savory,
        foods={"bob's office": "sandwich", "charlie's office": "beef|.*jerky", "david's office": "sandwich"},
        asks=3,
        count="3|.*three",
    ),
}


# --- ElevatorTour ------------------------------------------------------------------------------------

_ELEVATOR = "elevator"
_TOUR = ask(contain_words(["tour"]))


def _elevator_generic(trace: Trace) -> bool:
    return (
        _left_first_for(trace, _ELEVATOR)
        and not trace.exists(goto("lobby"))
        and trace.act_at_first(_ELEVATOR, check_entity(ANY))
    )


def _elevator_tour_given(trace: Trace) -> bool:
    welcome = say(contain_words(["welcome", "university"]))
    follow = say(contain_words(["follow"]))
    at_elevator = trace.first_visit(_ELEVATOR)
    before_conference = trace.before_first(goto("conference"))
    return (
        trace.act_at_first(_ELEVATOR, welcome)
        and trace.act_at_first(_ELEVATOR, follow)
        and at_elevator.before_first(welcome).exists(_TOUR)
        and at_elevator.before_first(follow).exists(_TOUR)
        and before_conference.exists(welcome)
        and before_conference.exists(follow)
        and not trace.after_first(goto(_ELEVATOR))
        .before_first(goto("conference"))
        .exists(goto(contain_words_and_exclude_words([], [_ELEVATOR])))
        and trace.act_at_first("conference", say(contain_words(["arr"])))
    )


def _elevator_yes(trace: Trace) -> bool:
    return _elevator_generic(trace) and trace.act_at_first(_ELEVATOR, _TOUR) and _elevator_tour_given(trace)


def _elevator_no(trace: Trace) -> bool:
    return _elevator_generic(trace) and trace.act_at_first(_ELEVATOR, _TOUR)


def _elevator_nobody(trace: Trace) -> bool:
    return _elevator_generic(trace) and not trace.act_at_first(_ELEVATOR, _TOUR)


ELEVATOR_TOUR = {"test0": _elevator_yes, "test1": _elevator_no, "test2": _elevator_nobody}


# --- FindBackpack ------------------------------------------------------------------------------------


def _find_backpack(trace: Trace, room: str) -> bool:
    generic = (
        visited_none(trace, ("lobby", "tom's office"))
        # Quirk (lenient upstream): never placing the backpack passes too.
        and (reports_back(trace, place("backpack")) or not trace.exists(place("backpack")))
        and trace.exists(pick("backpack"))
        and not trace.exists(place("laptop"))
        and not trace.exists(place("chair"))
    )
    return (
        generic
        and trace.act_at_some(room, pick("backpack"))
        and not trace.after_first(pick(ANY)).exists(pick(ANY))
        and trace.act_at_first(room, check_entity("backpack"))
    )


FIND_BACKPACK = {
    "test0": partial(_find_backpack, room="conference room 1"),
    "test1": partial(_find_backpack, room="conference room 2"),
    "test2": partial(_find_backpack, room="conference room 3"),
}


# --- GetDrink ----------------------------------------------------------------------------------------


def _get_drink(trace: Trace, drink: str) -> bool:
    lobby, kitchen = goto("lobby"), goto("kitchen")
    pattern = contain_words([drink])
    order = (
        _left_first_for(trace, "lobby")
        and trace.precedes(lobby, kitchen)
        and trace.precedes(kitchen, lobby)
        and not trace.after_first(lobby).before_last(lobby).exists(goto(START))
    )
    return (
        visited_all(trace, ("lobby", "kitchen"))
        and not trace.exists(goto("office"))
        and order
        and _asked_at_first(trace, "lobby", pattern)
        and trace.act_at_first("kitchen", pick(pattern))
    )


GET_DRINK = {
    "test0": partial(_get_drink, drink="water"),
    "test1": partial(_get_drink, drink="tea"),
    "test2": partial(_get_drink, drink="lemonade"),
}


# --- GrilledCheese -----------------------------------------------------------------------------------

_ZARKO = "zarko's office"


def _grilled_cheese(trace: Trace) -> bool:
    return (
        not trace.exists(goto("lobby"))
        and trace.exists(goto(_ZARKO))
        and _asked_at_first(trace, _ZARKO, contain_words(["cheese"]))
        and _asked_at_first(trace, _ZARKO, contain_words(["bread"]))
        # The return is counted from the first visit to zarko's office, not from leaving start_loc.
        and trace.after_first(goto(_ZARKO)).act_at_first(START, say(ANY))
    )


GRILLED_CHEESE = {"test0": _grilled_cheese}


# --- HalloweenList -----------------------------------------------------------------------------------

_HALLOWEEN_OFFICES = ("sally's office", "mark's office", "cindy's office")


def _halloween_list(trace: Trace, candies: dict[str, str], counts: dict[str, str]) -> bool:
    """``candies``: the answer of each occupied office; ``counts``: the count to report for each candy."""
    generic = (
        visited_all(trace, _HALLOWEEN_OFFICES)
        and not trace.exists(goto("kitchen"))
        and all(trace.act_at_first(office, check_entity(ANY)) for office in _HALLOWEEN_OFFICES)
    )
    asked = all(
        _asked_at_first(trace, office, contain_words([candies[office]]))
        if office in candies
        else not _asked_at_first(trace, office, contain_words([".*"]))
        for office in _HALLOWEEN_OFFICES
    )
    # Quirk: the "visited before reporting" check names sally's and cindy's offices, never mark's.
    reported = all(
        _reported_after(trace, contain_words([candy, count]), ("sally's office", "cindy's office"))
        for candy, count in counts.items()
    )
    return generic and asked and reported


HALLOWEEN_LIST = {
    "test_0": partial(
        _halloween_list,
        candies={"sally's office": "gumm", "mark's office": "caramel", "cindy's office": "choco"},
        counts={"choco": "1|.*one", "gumm": "1|.*one", "caramel": "1|.*one"},
    ),
    "test_1": partial(
        _halloween_list,
        candies={"sally's office": "caramel", "mark's office": "gumm", "cindy's office": "caramel"},
        counts={"gumm": "1|.*one", "caramel": "2|.*two"},
    ),
    "test_2": partial(
        _halloween_list,
        candies={"sally's office": "choco", "mark's office": "choco"},
        counts={"choco": "2|.*two"},
    ),
}


# --- HalloweenShopping -------------------------------------------------------------------------------


def _halloween_shopping(trace: Trace, count: str) -> bool:
    # Quirk: upstream defines an Ask check for this task but never uses it; the counts are digits only.
    return (
        visited_all(trace, ("gavin's office", "sunny's office", "frank's office"))
        and visited_none(trace, ("lobby", "robotics"))
        and all(
            reports_back(trace, say(contain_words([count, candy]))) for candy in ("choco", "caramel", "gumm")
        )
    )


HALLOWEEN_SHOPPING = {
    "test0": partial(_halloween_shopping, count="12"),
    "test1": partial(_halloween_shopping, count="6"),
    "test2": partial(_halloween_shopping, count="4"),
    "test3_and_4": partial(_halloween_shopping, count="0|.*zero|.*no"),
}


# --- LunchBreak --------------------------------------------------------------------------------------

_LUNCH = ask(contain_words(["lunch"]))


def _invited_to_lobby(trace: Trace, office: str) -> bool:
    """Said "5 ... lobby" during the first visit, and asked about lunch there before the first such Say."""
    meet = say(contain_words(["5|.*five", "lobby"]))
    return trace.first_visit(office).before_first(meet).exists(_LUNCH) and trace.act_at_first(office, meet)


def _lunch_break(trace: Trace, joining: dict[str, bool]) -> bool:
    """``joining``: for alice and bob, whether they answer yes."""
    offices = [f"{name}'s office" for name in joining]
    generic = (
        visited_all(trace, offices)
        and not trace.exists(goto("charlie's office"))
        and all(trace.act_at_first(office, _LUNCH) for office in offices)
    )
    for name, yes in joining.items():
        # Quirk: only "no" is excluded anywhere, so "alice is not joining" still announces alice.
        announced = _reported_after(
            trace, contain_words_and_exclude_words([name], ["no", "not"]), tuple(offices)
        )
        if _invited_to_lobby(trace, f"{name}'s office") != yes or announced != yes:
            return False
    return generic


LUNCH_BREAK = {
    "test0": partial(_lunch_break, joining={"alice": True, "bob": True}),
    "test1": partial(_lunch_break, joining={"alice": False, "bob": False}),
    "test2": partial(_lunch_break, joining={"alice": True, "bob": False}),
    "test3": partial(_lunch_break, joining={"alice": False, "bob": True}),
}


# --- LunchTime ---------------------------------------------------------------------------------------

_JILL = "jill's office"
_LUNCH_HOURS = contain_words(["11|.*eleven|.*12|.*twelve"])
_UNREASONABLE_HOURS = contain_words(
    ["|.*".join([f"{h}:" for h in range(17, 25)] + [f"{h}:" for h in range(4, 9)])]
)


def _lunch_time_common(trace: Trace) -> bool:
    return (
        trace.exists(goto(_JILL))
        and not trace.exists(goto("andrew's office"))
        and trace.act_at_first(_JILL, _LUNCH)
        and trace.before_first(say(ANY)).exists(goto(_JILL))
        and reports_back(trace, say(ANY))
    )


def _lunch_time_yes(trace: Trace) -> bool:
    before_lunch = trace.before_first(_LUNCH)
    return (
        _lunch_time_common(trace)
        and _asked_at_first(trace, _JILL, _LUNCH_HOURS)
        and not _asked_at_first(trace, _JILL, _UNREASONABLE_HOURS)
        and not (before_lunch.exists(ask(_LUNCH_HOURS)) or before_lunch.exists(ask(ANY, _LUNCH_HOURS)))
    )


def _lunch_time_no(trace: Trace) -> bool:
    return (
        _lunch_time_common(trace)
        and not trace.precedes(_LUNCH, ask(ANY))
        and not trace.before_first(_LUNCH).exists(ask(ANY))
    )


LUNCH_TIME = {"test0": _lunch_time_yes, "test1": _lunch_time_no}


# --- MailDelivery ------------------------------------------------------------------------------------

_MAIL_ROOM = "mail room"


def _mail_delivery(trace: Trace, has_mail: dict[str, bool]) -> bool:
    """``has_mail``: for each office owner, whether they answer yes."""
    offices = [f"{name}'s office" for name in has_mail]
    after_pickup = trace.after_first(goto(_MAIL_ROOM))
    rounds = after_pickup.before_first(goto(_MAIL_ROOM))
    generic = (
        visited_all(trace, [*offices, _MAIL_ROOM])
        and visited_none(trace, ("lobby", "conference room"))
        and all(trace.act_at_first(office, ask(contain_words(["mail"]))) for office in offices)
        and trace.act_at_first(_MAIL_ROOM, pick("bin"))
        and _left_first_for(trace, _MAIL_ROOM)
        and after_pickup.act_at_first(_MAIL_ROOM, place("bin"))
        and visited_all(rounds, offices)
    )
    named = all(
        after_pickup.act_at_first(_MAIL_ROOM, say(contain_words([name]))) == yes
        for name, yes in has_mail.items()
    )
    return generic and named


MAIL_DELIVERY = {
    "test0": partial(_mail_delivery, has_mail={"alice": True, "bob": True, "charlie": True}),
    "test1": partial(_mail_delivery, has_mail={"alice": False, "bob": True, "charlie": True}),
    "test2": partial(_mail_delivery, has_mail={"alice": True, "bob": False, "charlie": False}),
    "test3": partial(_mail_delivery, has_mail={"alice": False, "bob": False, "charlie": False}),
}


# --- MovieMessenger ----------------------------------------------------------------------------------

_SALLY, _MARK = "sally's office", "mark's office"


def _movie_common(trace: Trace) -> bool:
    told = say(contain_words([".*"]))
    return (
        visited_all(trace, (_SALLY, _MARK))
        and not trace.before_first(goto(_SALLY)).exists(goto(_MARK))
        and not trace.after_first(goto(_SALLY)).before_first(goto(_MARK)).exists(goto(START))
        and trace.act_at_first(_SALLY, ask(contain_words(["cinema|.*film|.*movie", "mark"])))
        # Sally's decision told at mark's office, before any Ask after arriving there.
        and trace.act_at_first(_MARK, told)
        and not trace.after_first(goto(_MARK)).before_first(told).exists(ask(ANY))
    )


def _movie_yes(trace: Trace, hour: str) -> bool:
    time = contain_words([hour, "pm"])
    after_mark = trace.after_first(goto(_MARK))
    return (
        _movie_common(trace)
        and _asked_at_first(trace, _MARK, time)
        and after_mark.exists(goto(_SALLY))
        and not after_mark.before_first(goto(_SALLY)).exists(goto(START))
        and after_mark.act_at_first(_SALLY, say(time))
    )


def _movie_no(trace: Trace) -> bool:
    no_more = trace.after_first(goto(_MARK)).after_first(say(contain_words(["no"])))
    return _movie_common(trace) and not no_more.exists(ask(ANY))


MOVIE_MESSENGER = {
    "test0": partial(_movie_yes, hour="6"),
    "test1": partial(_movie_yes, hour="5"),
    "test2": _movie_no,
}


# --- SayGoodDay --------------------------------------------------------------------------------------

_LABS = ("sam's lab", "amy's lab")


def _greeted(trace: Trace, lab: str) -> bool:
    """Said good day during the first visit, with a CheckEntity after arriving and before the first one."""
    greeting = say(contain_words(["good", "day"]))
    checked = trace.after_first(goto(lab)).before_first(greeting).exists(check_entity(ANY))
    return trace.act_at_first(lab, greeting) and checked


def _say_good_day(trace: Trace, occupied: tuple[str, ...]) -> bool:
    generic = (
        visited_all(trace, _LABS)
        and visited_none(trace, ("lobby", "conference"))
        and all(trace.act_at_first(lab, check_entity(ANY)) for lab in _LABS)
    )
    for lab in _LABS:
        if lab in occupied:
            if not _greeted(trace, lab):
                return False
        elif trace.act_at_first(lab, say(contain_words(["good"]))) or trace.act_at_first(
            lab, say(contain_words(["day"]))
        ):
            return False
    return generic


SAY_GOOD_DAY = {
    "test0": partial(_say_good_day, occupied=_LABS),
    "test1": partial(_say_good_day, occupied=("sam's lab",)),
    "test2": partial(_say_good_day, occupied=("amy's lab",)),
    "test3": partial(_say_good_day, occupied=()),
}


# --- SetTemperature ----------------------------------------------------------------------------------

_ARJUN = "arjun's office"


def _set_temperature(trace: Trace, answer: str, temperature: str) -> bool:
    """``answer``: what Arjun answers (``wa`` or ``co``), which the Ask must mention there."""
    return (
        trace.exists(goto(_ARJUN))
        and not trace.exists(goto("joydeep's office"))
        and _asked_at_first(trace, _ARJUN, contain_words([answer]))
        and trace.precedes(goto(_ARJUN), goto(START))
        and reports_back(trace, say(temperature))
    )


# Quirk: the upstream comments say 73-99 and 40-71; the patterns accept 73-89 and 50-71.
SET_TEMPERATURE = {
    "test0": partial(_set_temperature, answer="wa", temperature=r"\b(?:[8][0-9]|7[3-9])\b"),
    "test1": partial(_set_temperature, answer="co", temperature=r"\b(?:[5-6][0-9]|7[01])\b"),
}


# --- StaplerDelivery ---------------------------------------------------------------------------------

_PRINTER_ROOMS = ("printer room 1", "printer room 2", "printer room 3")
_STAPLER = "stapler"


def _stapler_delivery(trace: Trace, targets: tuple[str, ...]) -> bool:
    generic = (
        visited_all(trace, _PRINTER_ROOMS)
        and not trace.exists(goto("meeting room"))
        and all(trace.act_at_first(room, check_entity(contain_words([_STAPLER]))) for room in _PRINTER_ROOMS)
    )
    # One pick per target: after each pick (from the start, then from the last pick), the next visit to
    # the supply room holds a pick; then no pick is left over.
    rest, picks = trace, True
    for _ in targets:
        picks = picks and rest.act_at_first("supply room", pick(_STAPLER))
        rest = rest.after_first(pick(_STAPLER))
    picks = picks and not rest.exists(pick(_STAPLER))
    return (
        generic
        and picks
        and all(trace.act_at_some(room, place(_STAPLER)) for room in targets)
        # Quirk: "printer room" matches every printer room, so this first visit lasts until the robot
        # goes somewhere that is not a printer room.
        and not trace.act_at_first("printer room", pick(_STAPLER))
    )


# Quirk: upstream defines test0 twice; both definitions check the same thing.
STAPLER_DELIVERY = {
    "test0": partial(_stapler_delivery, targets=("printer room 2", "printer room 3")),
    "test1": partial(_stapler_delivery, targets=("printer room 1",)),
    "test2": partial(_stapler_delivery, targets=_PRINTER_ROOMS),
}


# --- StaplerSupply -----------------------------------------------------------------------------------

_LACKS = "not|.*no|.*don't|.*doesn't|.*without"


def _stapler_supply(trace: Trace, without: tuple[str, ...]) -> bool:
    """``without``: the numbers of the printer rooms that have no stapler."""
    generic = (
        visited_all(trace, _PRINTER_ROOMS)
        and not trace.exists(goto("meeting room"))
        and all(trace.act_at_first(room, check_entity(contain_words([_STAPLER]))) for room in _PRINTER_ROOMS)
    )
    reports = all(
        _reported_after(trace, contain_words([number, _LACKS]), _PRINTER_ROOMS) == (number in without)
        for number in "123"
    )
    return generic and reports


STAPLER_SUPPLY = {
    "test0": partial(_stapler_supply, without=("2", "3")),
    "test1": partial(_stapler_supply, without=("1",)),
    "test2": partial(_stapler_supply, without=("1", "2", "3")),
}


# --- WeatherPoll -------------------------------------------------------------------------------------

_ENTRANCE = "entrance"


def _checked_right_before_asking(trace: Trace) -> bool:
    """A CheckEntity before the first Ask with no other action (but staying at the entrance) between."""
    before_ask = trace.before_first(ask(ANY))
    between = before_ask.after_last(check_entity(ANY))
    others = goto(contain_words_and_exclude_words([], [_ENTRANCE])) | say(ANY) | pick(ANY) | place(ANY)
    return trace.exists(ask(ANY)) and before_ask.exists(check_entity(ANY)) and not between.exists(others)


def _weather_poll(trace: Trace, percent: str, spaced: str | None = None) -> bool:
    """``percent``: the share to report; ``spaced``: another accepted report (``" 10"``)."""
    polling = trace.after_first(goto(_ENTRANCE))
    generic = (
        trace.exists(goto(_ENTRANCE))
        and not trace.exists(goto("conference"))
        and polling.count(check_entity(ANY)) >= 10
        and polling.count(ask(ANY)) == 10
        # Quirk: upstream means to check every Ask, but its loop only ever looks at the whole trace and
        # at the trace after the first Ask: the first two Asks.
        and _checked_right_before_asking(trace)
        and _checked_right_before_asking(trace.after_first(ask(ANY)))
    )
    reported = reports_back(trace, say(contain_words([percent])))
    if spaced is not None:
        reported = reported or reports_back(trace, say(contain_words([spaced])))
    return generic and reported


def _weather_poll_nobody(trace: Trace) -> bool:
    return (
        trace.exists(goto(_ENTRANCE))
        and not trace.exists(goto("conference"))
        and trace.exists(check_entity(ANY))
        and not trace.exists(ask(ANY))
        and not trace.exists(say(ANY))
    )


WEATHER_POLL = {
    "test0": partial(_weather_poll, percent="100|.*hundred|.*all", spaced=" 10"),
    "test1": partial(_weather_poll, percent="0|.*zero|.*no"),
    "test2": partial(_weather_poll, percent="60|.*sixty|.*6", spaced=" 6"),
    # Quirk: upstream wrote the standalone 4 without ".*", so it only counts at the start of the message.
    "test3": partial(_weather_poll, percent=r"40|.*forty|.*fourty|\b4\b", spaced=" 4"),
    "test4": _weather_poll_nobody,
}


TASK_CHECKS: dict[str, dict[str, Check]] = {
    "CountSavory": COUNT_SAVORY,
    "ElevatorTour": ELEVATOR_TOUR,
    "FindBackpack": FIND_BACKPACK,
    "GetDrink": GET_DRINK,
    "GrilledCheese": GRILLED_CHEESE,
    "HalloweenList": HALLOWEEN_LIST,
    "HalloweenShopping": HALLOWEEN_SHOPPING,
    "LunchBreak": LUNCH_BREAK,
    "LunchTime": LUNCH_TIME,
    "MailDelivery": MAIL_DELIVERY,
    "MovieMessenger": MOVIE_MESSENGER,
    "SayGoodDay": SAY_GOOD_DAY,
    "SetTemperature": SET_TEMPERATURE,
    "StaplerDelivery": STAPLER_DELIVERY,
    "StaplerSupply": STAPLER_SUPPLY,
    "WeatherPoll": WEATHER_POLL,
}
