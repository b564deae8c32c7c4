"""Completion requirements: each kind holds on the trace it describes, fails when that trace is broken
the way a wrong program breaks it, blames the right step, and survives a round trip through data."""

from __future__ import annotations

import re

import pytest

from execrl.robot.checks import ANY, AllOf, Step, Trace, ask, check_entity, goto, pick, place, say
from execrl.robot.requirements import (
    REQUIREMENTS,
    At,
    Avoids,
    Count,
    Never,
    NoReport,
    NotAt,
    Order,
    Reports,
    Visits,
    from_data,
    mentions,
    to_data,
    unmet,
    word,
)
from execrl.tasks.robot_gen.completion import answer_said, count_said, offers


def trace(*steps: tuple) -> Trace:
    return Trace(Step(*step[:3], line=step[3] if len(step) > 3 else None) for step in steps)


ERRAND = trace(
    ("GoTo", "kitchen", None, 2),
    ("CheckEntity", "mug", None, 3),
    ("Pick", "mug", None, 4),
    ("GoTo", "lena's office", None, 5),
    ("Ask", "Tea or coffee?", ("tea", "coffee"), 6),
    ("Place", "mug", None, 7),
    ("GoTo", "start_loc", None, 8),
    ("Say", "Lena chose tea", None, 9),
)


def without(t: Trace, index: int) -> Trace:
    return Trace(step for i, step in enumerate(t) if i != index)


def replaced(t: Trace, index: int, step: Step) -> Trace:
    return Trace(step if i == index else s for i, s in enumerate(t))


def test_visits_and_avoids():
    assert Visits("kitchen").holds(ERRAND) and not Visits("lobby").holds(ERRAND)
    assert Avoids("lobby").holds(ERRAND) and not Avoids("kitchen").holds(ERRAND)
    assert Avoids("kitchen").culprit(ERRAND).line == 2
    assert Visits("lobby").culprit(ERRAND) is None  # a missing go_to has no line


def test_at_first_visit_some_visit_and_after():
    picked = At("kitchen", pick(word("mug")))
    assert picked.holds(ERRAND)
    # Picked during a later visit only: not the first visit, but some visit.
    later = trace(("GoTo", "kitchen"), ("GoTo", "lobby"), ("GoTo", "kitchen"), ("Pick", "mug"))
    assert not picked.holds(later) and At("kitchen", pick(word("mug")), "some").holds(later)
    # "after": within the visit, after the first step that matches it (the Ask came before the Place).
    assert not At("lena's office", ask(ANY), after=place(ANY)).holds(ERRAND)
    assert At("lena's office", place(ANY), after=ask(ANY)).holds(ERRAND)
    # The wrong pick at the right place is blamed; the right pick elsewhere too.
    wrong = replaced(ERRAND, 2, Step("Pick", "cup", line=4))
    assert not picked.holds(wrong) and picked.culprit(wrong).line == 4
    elsewhere = trace(("GoTo", "kitchen", None, 2), ("GoTo", "lobby", None, 3), ("Pick", "mug", None, 4))
    assert picked.culprit(elsewhere).line == 4
    assert At("garage", say(ANY)).culprit(ERRAND) is None  # never went there


def test_not_at_never_count_order():
    assert NotAt("kitchen", say(ANY)).holds(ERRAND) and not NotAt("lena's office", ask(ANY)).holds(ERRAND)
    assert NotAt("lena's office", ask(ANY)).culprit(ERRAND).line == 6
    assert Never(pick("cup")).holds(ERRAND) and not Never(pick("mug")).holds(ERRAND)
    assert Count(pick(ANY), 1).holds(ERRAND) and not Count(pick(ANY), 2).holds(ERRAND)
    two = trace(("Pick", "a", None, 1), ("Place", "a", None, 2), ("Pick", "b", None, 3))
    assert not Count(pick(ANY), 1).holds(two) and Count(pick(ANY), 1, at_least=True).holds(two)
    assert Count(pick(ANY), 1).culprit(two).line == 3  # the extra one
    assert Count(check_entity(ANY), 1, at_least=True).holds(ERRAND)
    assert not Count(check_entity(ANY), 2, at_least=True).holds(ERRAND)
    assert Order(ask(ANY), place(ANY)).holds(ERRAND)
    assert not Order(place(ANY), ask(ANY)).holds(ERRAND)
    assert Order(place(ANY), ask(ANY)).culprit(ERRAND).line == 6
    # Order is vacuous when the later step never happens, and false when the earlier one never does.
    assert Order(ask(ANY), pick("cup")).holds(ERRAND)
    assert not Order(ask("nothing like it"), pick(ANY)).holds(ERRAND)


def test_reports_on_the_first_return():
    told = Reports(say(answer_said("tea", ["tea", "coffee"])), after_visiting=("lena's office",))
    assert told.holds(ERRAND)
    assert not told.holds(without(ERRAND, 6))  # said without coming back
    wrong = replaced(ERRAND, 7, Step("Say", "Lena chose coffee", line=9))
    assert not told.holds(wrong) and told.culprit(wrong).line == 9
    both = replaced(ERRAND, 7, Step("Say", "tea or coffee", line=9))
    assert not told.holds(both)  # naming every option is not an answer
    # Said at the return, but before going where the answer comes from.
    early = trace(("GoTo", "kitchen"), ("GoTo", "start_loc"), ("Say", "tea"), ("GoTo", "lena's office"))
    assert not told.holds(early)
    assert NoReport(say("coffee")).holds(ERRAND) and not NoReport(say("tea")).holds(ERRAND)
    assert NoReport(say("tea")).culprit(ERRAND).line == 9


def test_patterns_mean_what_they_say():
    # Alternatives are grouped: "2|two" is searched anywhere, unlike RoboEval's contain_words.
    assert re.search(mentions("2|two", "pizza"), "they want two pizzas")
    assert not re.search(mentions("tea", exclude=["coffee"]), "tea and coffee")
    two = count_said(2)
    assert re.search(two, "2 people chose tea", re.IGNORECASE) and re.search(
        two, "Two people chose tea", re.IGNORECASE
    )
    assert not re.search(two, "12 people chose tea", re.IGNORECASE)
    assert not re.search(two, "0 1 2 3 4 5 people", re.IGNORECASE)  # listing every number does not pass
    assert re.search(count_said(3, ["2 pm", "4 pm"]), "3 people chose 2 pm", re.IGNORECASE)
    assert re.search(count_said(0), "Nobody chose tea", re.IGNORECASE)
    step = Step("Ask", "When?", ("9 am", "2 pm"))
    assert offers(["9 am", "2 pm"]).matches(step) and not offers(["9 am", "4 pm"]).matches(step)
    assert isinstance(offers(["a", "b"]), AllOf)


ALL_KINDS = [
    Visits("kitchen"),
    Avoids("lobby"),
    At("kitchen", pick(word("mug")) | pick("cup"), "some", after=check_entity(ANY)),
    NotAt("lobby", say(ANY)),
    Never(ask(ANY, "yes") & ask(ANY, "no")),
    Count(check_entity(ANY), 2, at_least=True),
    Order(ask(ANY), pick(ANY)),
    Reports(say("tea"), after_visiting=("kitchen", "lena's office")),
    NoReport(say("coffee")),
]


def test_every_kind_round_trips_through_data():
    assert {type(r) for r in ALL_KINDS} == set(REQUIREMENTS.values())
    for requirement in ALL_KINDS:
        data = to_data(requirement)
        assert from_data(data) == requirement
        assert from_data(data).holds(ERRAND) == requirement.holds(ERRAND)
    assert unmet(ALL_KINDS, ERRAND) == [r for r in ALL_KINDS if not r.holds(ERRAND)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "teleport"}, "kind is one of"),
        ({"kind": "visits", "location": "[unclosed"}, "not a regular expression"),
        ({"kind": "visits", "location": 3}, "must be a string"),
        ({"kind": "visits"}, "location"),
        ({"kind": "visits", "location": "a", "extra": 1}, "unknown fields"),
        ({"kind": "never", "event": {"action": "Fly", "pattern": ""}}, "expected action"),
        ({"kind": "never", "event": {"any": []}}, "non-empty list"),
        ({"kind": "count", "event": {"action": "Say", "pattern": ""}, "n": -1}, "expected a count"),
        (
            {"kind": "at", "location": "a", "event": {"action": "Say", "pattern": ""}, "visit": "last"},
            "'first' or",
        ),
        ({"kind": "never", "event": None}, "expected an object"),
    ],
)
def test_bad_data_is_rejected_with_a_reason(data, message):
    with pytest.raises((ValueError, TypeError), match=message):
        from_data(data)


def test_describe_reads_as_a_requirement():
    assert At("kitchen", pick("mug"), "some").describe() == "Pick('mug') during a visit to 'kitchen'"
    assert "first return to start_loc" in Reports(say(ANY)).describe()
    assert goto("x").matches(Step("GoTo", "x"))
