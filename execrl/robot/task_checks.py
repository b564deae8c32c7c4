"""The checks of RoboEval's 16 tasks, written in the check language of :mod:`execrl.robot.checks`.

Each task maps the check names used in ``roboeval_tasks.json`` (``check_function``) to a predicate on
the trace of one run. The logic follows the benchmark's checks as described in
shared/specs/roboeval.md (section 7), quirks included; each kept quirk is marked "Quirk".
Count alternatives are spelled ``"2|.*two"`` so that every alternative is searched anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from execrl.robot.checks import (
    ANY,
    Trace,
    ask,
    ask_mentioning,
    check_entity,
    contain_words,
    contain_words_and_exclude_words,
    first_departure_to,
    goto,
    not_at,
    pick,
    place,
    reports_back,
    say,
    visited_all,
    visited_none,
)

Check = Callable[[Trace], bool]

START = "start_loc"
ZERO = "0|.*zero|.*no"
ONE = "1|.*one"
TWO = "2|.*two"
THREE = "3|.*three"


# --- CountSavory -------------------------------------------------------------------------------------

_SAVORY_OFFICES = ("alice's office", "bob's office", "charlie's office", "david's office")


def _count_savory(trace: Trace, foods: dict[str, str], asks: int, count: str) -> bool:
    """``foods``: the answer of each occupied office; ``count``: what the final report must say."""
    if not visited_all(trace, _SAVORY_OFFICES) or not visited_none(trace, ("lobby", "cafeteria")):
        return False
    for office in _SAVORY_OFFICES:
        if not trace.act_at_first(office, check_entity(ANY)):
            return False
        visit = trace.first_visit(office)
        if office in foods:
            asked = ask_mentioning(foods[office])
            if not (visit.exists(asked) and visit.before_first(asked).exists(check_entity(ANY))):
                return False
        elif visit.exists(ask(ANY)):
            return False
    report = say(count)
    return (
        trace.count(ask(ANY)) == asks
        and reports_back(trace, report)
        and visited_all(trace.before_first(report), _SAVORY_OFFICES)
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
        count=ZERO,
    ),
    "test1": partial(
        _count_savory,
        foods={
            "alice's office": "sandwich",
            "bob's office": "donut",
            "charlie's office": "cake",
            "david's office": "beef|jerky",
        },
        asks=4,
        count=TWO,
    ),
    "test2": partial(
        _count_savory,
        foods={"alice's office": "beef|jerky", "bob's office": "cake", "charlie's office": "cake"},
        asks=3,
        count=ONE,
    ),
    "test3": partial(
        _count_savory,
        foods={"bob's office": "sandwich", "charlie's office": "beef|jerky", "david's office": "sandwich"},
        asks=3,
        count=THREE,
    ),
}


# --- ElevatorTour ------------------------------------------------------------------------------------


def _elevator_common(trace: Trace) -> bool:
    return (
        first_departure_to(trace, "elevator")
        and not trace.exists(goto("lobby"))
        and trace.act_at_first("elevator", check_entity(ANY))
    )


def _elevator_yes(trace: Trace) -> bool:
    tour = ask("tour")
    if not (_elevator_common(trace) and trace.act_at_first("elevator", tour)):
        return False
    to_conference = trace.after_first(goto("elevator")).before_first(goto("conference room"))
    greeting = to_conference.after_first(tour)
    return (
        greeting.exists(say(contain_words(["welcome", "university"])))
        and greeting.exists(say("follow"))
        and not to_conference.exists(goto(not_at("elevator")))
        and trace.act_at_first("conference room", say("arr"))
    )


def _elevator_no(trace: Trace) -> bool:
    return _elevator_common(trace) and trace.act_at_first("elevator", ask("tour"))


def _elevator_nobody(trace: Trace) -> bool:
    return _elevator_common(trace) and not trace.act_at_first("elevator", ask("tour"))


ELEVATOR_TOUR = {"test0": _elevator_yes, "test1": _elevator_no, "test2": _elevator_nobody}


# --- FindBackpack ------------------------------------------------------------------------------------


def _find_backpack(trace: Trace, room: str) -> bool:
    return (
        visited_none(trace, ("tom's office", "lobby"))
        and trace.act_at_some(room, pick("backpack"))
        and trace.count(pick(ANY)) == 1
        and trace.act_at_first(room, check_entity("backpack"))
        # Quirk (lenient upstream): never placing the backpack passes too.
        and (reports_back(trace, place("backpack")) or not trace.exists(place("backpack")))
        and not trace.exists(place("laptop|chair"))
    )


FIND_BACKPACK = {
    "test0": partial(_find_backpack, room="conference room 1"),
    "test1": partial(_find_backpack, room="conference room 2"),
    "test2": partial(_find_backpack, room="conference room 3"),
}


# --- GetDrink ----------------------------------------------------------------------------------------


def _get_drink(trace: Trace, drink: str) -> bool:
    lobby, kitchen = goto("lobby"), goto("kitchen")
    return (
        visited_all(trace, ("lobby", "kitchen"))
        and not trace.exists(goto("office"))
        and first_departure_to(trace, "lobby")
        and trace.after_first(lobby).exists(kitchen)
        and trace.after_first(lobby).after_first(kitchen).exists(lobby)
        and not trace.after_first(lobby).before_last(lobby).exists(goto(START))
        and trace.act_at_first("lobby", ask_mentioning(drink))
        and trace.act_at_first("kitchen", pick(drink))
    )


GET_DRINK = {
    "test0": partial(_get_drink, drink="water"),
    "test1": partial(_get_drink, drink="tea"),
    "test2": partial(_get_drink, drink="lemonade"),
}


# --- GrilledCheese -----------------------------------------------------------------------------------


def _grilled_cheese(trace: Trace) -> bool:
    return (
        not trace.exists(goto("lobby"))
        and trace.act_at_first("zarko's office", ask_mentioning("cheese"))
        and trace.act_at_first("zarko's office", ask_mentioning("bread"))
        and reports_back(trace, say(ANY))
    )


GRILLED_CHEESE = {"test0": _grilled_cheese}


# --- HalloweenList -----------------------------------------------------------------------------------

_HALLOWEEN_OFFICES = ("sally's office", "mark's office", "cindy's office")


def _halloween_list(trace: Trace, candies: dict[str, str], counts: dict[str, str]) -> bool:
    """``candies``: the answer of each occupied office; ``counts``: the count to report for each candy."""
    if not visited_all(trace, _HALLOWEEN_OFFICES) or trace.exists(goto("kitchen")):
        return False
    for office in _HALLOWEEN_OFFICES:
        if not trace.act_at_first(office, check_entity(ANY)):
            return False
        if office in candies:
            if not trace.act_at_first(office, ask_mentioning(candies[office])):
                return False
        elif trace.act_at_first(office, ask(ANY)):
            return False
    reports = [say(contain_words([candy, count])) for candy, count in counts.items()]
    if not all(reports_back(trace, report) for report in reports):
        return False
    # Quirk: the "visited before reporting" check names sally's and cindy's offices twice and never mark's.
    before = trace.before_first(reports[0])
    return visited_all(before, ("sally's office", "cindy's office", "sally's office", "cindy's office"))


HALLOWEEN_LIST = {
    "test_0": partial(
        _halloween_list,
        candies={"sally's office": "gumm", "mark's office": "caramel", "cindy's office": "choco"},
        counts={"choco": ONE, "gumm": ONE, "caramel": ONE},
    ),
    "test_1": partial(
        _halloween_list,
        candies={"sally's office": "caramel", "mark's office": "gumm", "cindy's office": "caramel"},
        counts={"gumm": ONE, "caramel": TWO},
    ),
    "test_2": partial(
        _halloween_list,
        candies={"sally's office": "choco", "mark's office": "choco"},
        counts={"choco": TWO},
    ),
}


# --- HalloweenShopping -------------------------------------------------------------------------------


def _halloween_shopping(trace: Trace, count: str) -> bool:
    # Quirk: upstream defines an Ask check for this task but never uses it.
    return (
        visited_all(trace, ("gavin's office", "sunny's office", "frank's office"))
        and visited_none(trace, ("lobby", "robotics lab"))
        and all(
            reports_back(trace, say(contain_words([candy, count]))) for candy in ("choco", "caramel", "gumm")
        )
    )


HALLOWEEN_SHOPPING = {
    "test0": partial(_halloween_shopping, count="12|.*twelve"),
    "test1": partial(_halloween_shopping, count="6|.*six"),
    "test2": partial(_halloween_shopping, count="4|.*four"),
    "test3_and_4": partial(_halloween_shopping, count=ZERO),
}


# --- LunchBreak --------------------------------------------------------------------------------------


def _lunch_break(trace: Trace, joining: dict[str, bool]) -> bool:
    """``joining``: for alice and bob, whether they answer yes."""
    offices = [f"{name}'s office" for name in joining]
    if not visited_all(trace, offices) or trace.exists(goto("charlie's office")):
        return False
    for name, yes in joining.items():
        office = f"{name}'s office"
        if not trace.act_at_first(office, ask("lunch")):
            return False
        invited = (
            trace.first_visit(office)
            .after_first(ask("lunch"))
            .exists(say(contain_words(["5|.*five", "lobby"])))
        )
        # Quirk: only "no" is excluded anywhere, so "alice is not joining" still announces alice.
        announced = reports_back(trace, say(contain_words_and_exclude_words([name], ["no", "not"])))
        if invited != yes or announced != yes:
            return False
    return True


LUNCH_BREAK = {
    "test0": partial(_lunch_break, joining={"alice": True, "bob": True}),
    "test1": partial(_lunch_break, joining={"alice": False, "bob": False}),
    "test2": partial(_lunch_break, joining={"alice": True, "bob": False}),
    "test3": partial(_lunch_break, joining={"alice": False, "bob": True}),
}


# --- LunchTime ---------------------------------------------------------------------------------------

_JILL = "jill's office"
_LUNCH_HOURS = "11|.*eleven|.*12|.*twelve"
_UNREASONABLE_HOURS = "17:|18:|19:|20:|21:|22:|23:|24:|4:|5:|6:|7:|8:"


def _lunch_time_common(trace: Trace) -> bool:
    return (
        trace.exists(goto(_JILL))
        and not trace.exists(goto("andrew's office"))
        and trace.act_at_first(_JILL, ask("lunch"))
        and reports_back(trace, say(ANY))
    )


def _lunch_time_yes(trace: Trace) -> bool:
    time_ask = ask_mentioning(_LUNCH_HOURS)
    return (
        _lunch_time_common(trace)
        and trace.act_at_first(_JILL, time_ask)
        and not trace.act_at_first(_JILL, ask_mentioning(_UNREASONABLE_HOURS))
        and not trace.before_first(ask("lunch")).exists(time_ask)
    )


def _lunch_time_no(trace: Trace) -> bool:
    lunch = ask("lunch")
    return (
        _lunch_time_common(trace)
        and not trace.before_first(lunch).exists(ask(ANY))
        and not trace.after_first(lunch).exists(ask(ANY))
    )


LUNCH_TIME = {"test0": _lunch_time_yes, "test1": _lunch_time_no}


# --- MailDelivery ------------------------------------------------------------------------------------

_MAIL_ROOM = "mail room"


def _mail_delivery(trace: Trace, has_mail: dict[str, bool]) -> bool:
    """``has_mail``: for each office owner, whether they answer yes."""
    offices = [f"{name}'s office" for name in has_mail]
    if not visited_all(trace, [*offices, _MAIL_ROOM]) or not visited_none(
        trace, ("lobby", "conference room")
    ):
        return False
    if not (first_departure_to(trace, _MAIL_ROOM) and trace.act_at_first(_MAIL_ROOM, pick("bin"))):
        return False
    after_pickup = trace.after_first(goto(_MAIL_ROOM))
    if not visited_all(after_pickup.before_first(goto(_MAIL_ROOM)), offices):
        return False
    return_visit = after_pickup.after_first(goto(_MAIL_ROOM)).before_first(goto(not_at(_MAIL_ROOM)))
    if not (after_pickup.exists(goto(_MAIL_ROOM)) and return_visit.exists(place("bin"))):
        return False
    return all(trace.act_at_first(office, ask("mail")) for office in offices) and all(
        return_visit.exists(say(name)) == yes for name, yes in has_mail.items()
    )


MAIL_DELIVERY = {
    "test0": partial(_mail_delivery, has_mail={"alice": True, "bob": True, "charlie": True}),
    "test1": partial(_mail_delivery, has_mail={"alice": False, "bob": True, "charlie": True}),
    "test2": partial(_mail_delivery, has_mail={"alice": True, "bob": False, "charlie": False}),
    "test3": partial(_mail_delivery, has_mail={"alice": False, "bob": False, "charlie": False}),
}


# --- MovieMessenger ----------------------------------------------------------------------------------

_SALLY, _MARK = "sally's office", "mark's office"


def _movie_common(trace: Trace) -> bool:
    to_mark = trace.after_first(goto(_SALLY))
    at_mark = trace.first_visit(_MARK)
    return (
        visited_all(trace, (_SALLY, _MARK))
        and to_mark.exists(goto(_MARK))
        and not to_mark.before_first(goto(_MARK)).exists(goto(START))
        and trace.act_at_first(_SALLY, ask(contain_words(["cinema|.*film|.*movie", "mark"])))
        and at_mark.exists(say(ANY))
        and not at_mark.before_first(say(ANY)).exists(ask(ANY))
    )


def _movie_yes(trace: Trace, hour: str) -> bool:
    time = contain_words([hour, "pm"])
    back_to_sally = trace.after_first(goto(_MARK))
    return (
        _movie_common(trace)
        and trace.act_at_first(_MARK, ask_mentioning(time))
        and back_to_sally.exists(goto(_SALLY))
        and not back_to_sally.before_first(goto(_SALLY)).exists(goto(START))
        and back_to_sally.act_at_first(_SALLY, say(time))
    )


def _movie_no(trace: Trace) -> bool:
    return _movie_common(trace) and not trace.after_first(goto(_MARK)).after_first(say("no")).exists(ask(ANY))


MOVIE_MESSENGER = {
    "test0": partial(_movie_yes, hour="6"),
    "test1": partial(_movie_yes, hour="5"),
    "test2": _movie_no,
}


# --- SayGoodDay --------------------------------------------------------------------------------------

_LABS = ("sam's lab", "amy's lab")


def _say_good_day(trace: Trace, occupied: tuple[str, ...]) -> bool:
    if not visited_all(trace, _LABS) or not visited_none(trace, ("lobby", "conference room")):
        return False
    for lab in _LABS:
        if not trace.act_at_first(lab, check_entity(ANY)):
            return False
        visit = trace.first_visit(lab)
        if lab in occupied:
            if not visit.after_first(check_entity(ANY)).exists(say(contain_words(["good", "day"]))):
                return False
        elif visit.exists(say("good")) or visit.exists(say("day")):
            return False
    return True


SAY_GOOD_DAY = {
    "test0": partial(_say_good_day, occupied=_LABS),
    "test1": partial(_say_good_day, occupied=("sam's lab",)),
    "test2": partial(_say_good_day, occupied=("amy's lab",)),
    "test3": partial(_say_good_day, occupied=()),
}


# --- SetTemperature ----------------------------------------------------------------------------------

_ARJUN = "arjun's office"


def _set_temperature(trace: Trace, temperature: str) -> bool:
    return (
        trace.exists(goto(_ARJUN))
        and not trace.exists(goto("joydeep's office"))
        and trace.act_at_first(_ARJUN, ask_mentioning("wa|co"))
        and trace.after_first(goto(_ARJUN)).exists(goto(START))
        and reports_back(trace, say(temperature))
    )


# Quirk: the upstream comments say 73-99 and 40-71; the patterns accept 73-89 and 50-71.
SET_TEMPERATURE = {
    "test0": partial(_set_temperature, temperature=r"\b(?:8[0-9]|7[3-9])\b"),
    "test1": partial(_set_temperature, temperature=r"\b(?:[5-6][0-9]|7[01])\b"),
}


# --- StaplerDelivery ---------------------------------------------------------------------------------

_PRINTER_ROOMS = ("printer room 1", "printer room 2", "printer room 3")


def _stapler_delivery(trace: Trace, targets: tuple[str, ...]) -> bool:
    stapler = pick("stapler")
    picks_at_supply = sum(visit.count(stapler) for visit in trace.visits("supply room"))
    return (
        visited_all(trace, _PRINTER_ROOMS)
        and not trace.exists(goto("meeting room"))
        and all(trace.act_at_first(room, check_entity("stapler")) for room in _PRINTER_ROOMS)
        and trace.count(stapler) == len(targets) == picks_at_supply
        and all(trace.act_at_some(room, place("stapler")) for room in targets)
        # Quirk: "printer room" matches every printer room, so this first visit lasts until the robot
        # goes somewhere that is not a printer room.
        and not trace.act_at_first("printer room", pick(ANY))
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
    if not visited_all(trace, _PRINTER_ROOMS) or trace.exists(goto("meeting room")):
        return False
    if not all(trace.act_at_first(room, check_entity("stapler")) for room in _PRINTER_ROOMS):
        return False
    for number in "123":
        report = say(contain_words([number, _LACKS]))
        reported = reports_back(trace, report) and visited_all(trace.before_first(report), _PRINTER_ROOMS)
        if reported != (number in without):
            return False
    return True


STAPLER_SUPPLY = {
    "test0": partial(_stapler_supply, without=("2", "3")),
    "test1": partial(_stapler_supply, without=("1",)),
    "test2": partial(_stapler_supply, without=("1", "2", "3")),
}


# --- WeatherPoll -------------------------------------------------------------------------------------

_ENTRANCE = "entrance"
_OTHER_ACTIONS = goto(ANY) | say(ANY) | pick(ANY) | place(ANY)


def _weather_poll(trace: Trace, percent: str, digits: str | None = None) -> bool:
    """``percent``: the share to report; ``digits``: another accepted spelling, searched anywhere."""
    if not trace.exists(goto(_ENTRANCE)) or trace.exists(goto("conference room")):
        return False
    polling = trace.after_first(goto(_ENTRANCE))
    if polling.count(check_entity(ANY)) < 10 or polling.count(ask(ANY)) != 10:
        return False
    # Quirk: upstream means to check every Ask, but its loop only ever checks the first two.
    remaining = polling
    for _ in range(2):
        before_ask = remaining.before_first(ask(ANY))
        if not before_ask.exists(check_entity(ANY)):
            return False
        if before_ask.after_last(check_entity(ANY)).exists(_OTHER_ACTIONS):
            return False
        remaining = remaining.after_first(ask(ANY))
    report = say(contain_words([percent]))
    return reports_back(trace, report if digits is None else report | say(digits))


def _weather_poll_nobody(trace: Trace) -> bool:
    return trace.exists(check_entity(ANY)) and not trace.exists(ask(ANY)) and not trace.exists(say(ANY))


WEATHER_POLL = {
    "test0": partial(_weather_poll, percent="100|.*hundred|.*all", digits=" 10"),
    "test1": partial(_weather_poll, percent=ZERO),
    "test2": partial(_weather_poll, percent="60|.*sixty|.*6", digits=" 6"),
    # Quirk: upstream wrote the standalone 4 without ".*", so it only counts at the start of the message.
    "test3": partial(_weather_poll, percent=r"40|.*forty|.*fourty|\b4\b", digits=" 4"),
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
