"""The check language: events, cutting operators (and their whole-trace fallback), predicates, helpers."""

from __future__ import annotations

import re

import pytest

from execrl.robot.checks import (
    ANY,
    Step,
    Trace,
    ask,
    ask_mentioning,
    check_entity,
    contain_words,
    contain_words_and_exclude_words,
    first_departure_to,
    goto,
    pick,
    reports_back,
    say,
    trace_from_data,
)


def trace(*steps: tuple) -> Trace:
    return Trace(Step(*step) for step in steps)


TOUR = trace(
    ("GoTo", "kitchen"),
    ("Say", "hello"),
    ("GoTo", "lobby"),
    ("Ask", "Tea or coffee?", ("tea", "coffee")),
    ("GoTo", "kitchen"),
    ("Pick", "tea"),
    ("GoTo", "start_loc"),
    ("Say", "done"),
)


def texts(t: Trace) -> list[str]:
    return [step.text for step in t]


def test_events_match_action_and_search_the_text_case_insensitively():
    assert goto("KITCHEN").matches(Step("GoTo", "the kitchen"))
    assert not goto("kitchen").matches(Step("Say", "kitchen"))
    assert not say("^kitchen").matches(Step("Say", "the kitchen"))


def test_option_patterns_need_one_matching_option():
    step = Step("Ask", "Tea or coffee?", ("tea", "coffee"))
    assert ask("tea", "coff").matches(step)
    assert not ask("tea", "water").matches(step)
    assert ask_mentioning("coffee").matches(Step("Ask", "Drink?", ("coffee",)))
    assert ask_mentioning("coffee").matches(Step("Ask", "Coffee?", ("yes", "no")))


def test_a_non_string_option_makes_the_check_raise_as_upstream():
    with pytest.raises(TypeError):
        ask(ANY, "1").matches(Step("Ask", "How many?", (1, 2)))


def test_cutting_operators():
    assert texts(TOUR.after_first(goto("kitchen")))[0] == "hello"
    assert texts(TOUR.before_first(goto("lobby"))) == ["kitchen", "hello"]
    assert texts(TOUR.after_last(goto("kitchen"))) == ["tea", "start_loc", "done"]
    assert texts(TOUR.before_last(goto("kitchen"))) == texts(TOUR)[:4]


@pytest.mark.parametrize("cut", ["after_first", "before_first", "after_last", "before_last"])
def test_an_anchor_that_never_happens_leaves_the_whole_trace(cut):
    assert texts(getattr(TOUR, cut)(goto("garden"))) == texts(TOUR)


def test_predicates():
    assert TOUR.exists(pick("tea")) and not TOUR.exists(pick("coffee"))
    assert TOUR.count(goto("kitchen")) == 2
    assert TOUR.terminal(say("done")) and not TOUR.terminal(say("hello"))
    assert TOUR.precedes(goto("lobby"), pick(ANY))
    assert not TOUR.precedes(pick(ANY), goto("lobby"))


def test_act_at_first_is_limited_to_the_first_visit():
    assert TOUR.act_at_first("kitchen", say("hello"))
    assert not TOUR.act_at_first("kitchen", pick("tea"))  # that was the second visit
    assert TOUR.act_at_some("kitchen", pick("tea"))
    assert not TOUR.act_at_first("garden", say(ANY))


def test_a_visit_lasts_while_the_robot_goes_to_places_containing_the_name():
    rooms = trace(("GoTo", "printer room 1"), ("GoTo", "printer room 2"), ("Pick", "x"), ("GoTo", "supply"))
    assert rooms.act_at_first("printer room", pick(ANY))
    assert not rooms.act_at_first("printer room 1", pick(ANY))
    assert [len(v) for v in rooms.visits("printer room")] == [2, 1]


def test_reports_back_means_the_first_return_to_start_after_leaving():
    assert reports_back(TOUR, say("done"))
    assert not reports_back(TOUR, say("hello"))
    stayed = trace(("GoTo", "start_loc"), ("Say", "done"))
    assert reports_back(stayed, say("done"))  # never left: the whole trace is searched
    late = trace(
        ("GoTo", "lobby"), ("GoTo", "start_loc"), ("GoTo", "lobby"), ("GoTo", "start_loc"), ("Say", "x")
    )
    assert not reports_back(late, say("x"))


def test_first_departure():
    assert first_departure_to(trace(("GoTo", "start_loc"), ("GoTo", "kitchen"), ("GoTo", "lobby")), "kitchen")
    assert not first_departure_to(TOUR, "lobby")


def test_contain_words_needs_every_word_in_any_order():
    pattern = contain_words(["welcome", "university"])
    assert re.search(pattern, "To the University: welcome!", re.IGNORECASE)
    assert not re.search(pattern, "welcome", re.IGNORECASE)


def test_an_alternative_without_dot_star_only_counts_at_the_start():
    pattern = contain_words(["2|two"])
    assert re.search(pattern, "we need 2")
    assert re.search(pattern, "two of them")
    assert not re.search(pattern, "we need two")
    assert re.search(contain_words(["2|.*two"]), "we need two")


def test_only_the_first_excluded_word_is_excluded_anywhere():
    pattern = re.compile(contain_words_and_exclude_words(["alice"], ["no", "not"]), re.IGNORECASE)
    assert pattern.search("Alice is joining")
    assert not pattern.search("no alice today")
    assert not pattern.search("Alice said no")
    assert pattern.search("Alice is not joining")  # the upstream precedence quirk
    assert not pattern.search("not Alice")


def test_trace_from_simulator_data():
    t = trace_from_data([("Ask", "q", ["a", "b"]), ("Say", "hi", None)])
    assert t.steps == (Step("Ask", "q", ("a", "b")), Step("Say", "hi", None))
    assert t.exists(check_entity(ANY)) is False
