"""The simulator's semantics, one robot API call at a time (run in-process: the programs are ours)."""

from __future__ import annotations

import textwrap

import pytest

from execrl.robot.checks import Step

OFFICE = {
    "locations": ["kitchen", "printer room 1", "printer room 2", "lobby", "start_loc"],
    "objects": {"kitchen": ["apple", "stapler", "stapler"], "printer room 1": ["stapler"]},
    "agents": {"lobby": [{"name_regex": ".*", "answers": ["tea", "coffee"]}]},
    "robot_location": "start_loc",
}


def program(body: str) -> str:
    return "def task_program():\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


def steps(run) -> list[tuple]:
    return [(s.action, s.text, s.options) for s in run.trace]


def test_go_to_moves_to_the_first_room_found_inside_the_argument(local):
    run = local(
        program("""
            go_to("the Kitchen area")
            say(get_current_location())
            go_to("printer room 10")
            say(get_current_location())
        """),
        OFFICE,
    )
    assert run.status == "success"
    assert steps(run) == [
        ("GoTo", "the Kitchen area", None),
        ("Say", "kitchen", None),
        ("GoTo", "printer room 10", None),
        ("Say", "printer room 1", None),
    ]


@pytest.mark.parametrize("target", ["printer room", "Start", "garden"])
def test_go_to_an_unknown_room_is_a_robot_error_on_the_calling_line(local, target):
    run = local(program(f'say("leaving")\ngo_to("{target}")\nsay("never")'), OFFICE)
    assert run.status == "exception"
    assert run.error_type == "Exception"
    assert run.error_message == "RobotGoToError: update_robot_location failed"
    assert run.error_line == 3
    # The GoTo is written before the move fails.
    assert steps(run) == [("Say", "leaving", None), ("GoTo", target, None)]


def test_a_caught_go_to_failure_leaves_the_robot_where_it_was(local):
    run = local(
        program("""
            go_to("lobby")
            try:
                go_to("garden")
            except Exception:
                pass
            say(get_current_location())
        """),
        OFFICE,
    )
    assert run.status == "success"
    assert steps(run)[1:] == [("GoTo", "garden", None), ("Say", "lobby", None)]


def test_answers_are_consumed_in_order_and_the_last_one_repeats(local):
    run = local(
        program("""
            go_to("lobby")
            for _ in range(3):
                say(ask("Bob", "Tea or coffee?", ["Tea please", "Coffee please"]))
        """),
        OFFICE,
    )
    assert [s.text for s in run.trace if s.action == "Say"] == [
        "Tea please",
        "Coffee please",
        "Coffee please",
    ]
    assert run.trace.steps[1] == Step("Ask", "Tea or coffee?", ("Tea please", "Coffee please"))


@pytest.mark.parametrize(
    ("question", "expected"), [("Do you want tea?", "Yes"), ("Do you want juice?", "No")]
)
def test_yes_no_fallback_uses_the_question(local, question, expected):
    run = local(program(f'go_to("lobby")\nsay(ask("", "{question}", ["Yes", "No"]))'), OFFICE)
    assert run.trace.steps[-1].text == expected


def test_a_wildcard_answer_picks_the_first_option(local):
    state = {**OFFICE, "agents": {"lobby": [{"name_regex": ".*", "answers": [".*"]}]}}
    run = local(program('go_to("lobby")\nsay(ask("", "Which?", ["b", "a"]))'), state)
    assert run.trace.steps[-1].text == "b"


@pytest.mark.parametrize(
    ("body", "state_agents"),
    [
        ('go_to("kitchen")\nask("", "Hi?", ["yes"])', OFFICE["agents"]),  # nobody in the kitchen
        ('go_to("lobby")\nask("", "Hi?", ["yes"])', {"lobby": [{"name_regex": ".*", "answers": []}]}),
    ],
)
def test_asking_nobody_or_someone_without_answers_is_a_robot_error(local, body, state_agents):
    run = local(program(body), {**OFFICE, "agents": state_agents})
    assert (run.status, run.error_message, run.error_line) == (
        "exception",
        "RobotAskError: ask_agent failed",
        3,
    )


def test_ask_with_no_options_is_a_robot_error_after_its_trace_line(local):
    run = local(program('go_to("lobby")\nask("", "Hi?", [])'), OFFICE)
    assert run.error_message == "RobotAskError: invalid options"
    assert run.trace.steps[-1] == Step("Ask", "Hi?", ())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("go_to(3)", "RobotGoToError: location must be a string"),
        ("say(None)", "RobotSayError: message must be a string"),
        ('ask("", "q", ("a",))', "RobotAskError: options must be a list"),
        ("is_in_room(1)", "RobotCheckEntityError: entity must be a string"),
        ("pick(1)", "RobotPickError: obj must be a string"),
    ],
)
def test_wrong_argument_types_are_robot_type_errors(local, call, message):
    run = local(program(call), OFFICE)
    assert (run.status, run.error_type, run.error_message) == ("exception", "TypeError", message)


def test_is_in_room_searches_object_labels_in_the_argument(local):
    run = local(
        program("""
            go_to("kitchen")
            say(str([is_in_room("red stapler"), is_in_room("staple"), is_in_room("person")]))
        """),
        OFFICE,
    )
    assert run.trace.steps[1] == Step("CheckEntity", "red stapler")
    assert run.trace.steps[-1].text == "[True, False, False]"


def test_repeated_is_in_room_answers_follow_the_robot_and_what_it_carries(local):
    # The stubs answer a repeated question from what the simulator said last; every move, pick and
    # place asks again, and every call is still in the trace.
    run = local(
        program("""
            answers = []
            for room in ["kitchen", "kitchen", "printer room 2", "kitchen"]:
                go_to(room)
                answers += [is_in_room("apple"), is_in_room("apple")]
            pick("apple")
            answers.append(is_in_room("apple"))
            go_to("printer room 2")
            place("apple")
            answers.append(is_in_room("apple"))
            say(str(answers))
        """),
        OFFICE,
    )
    assert run.trace.steps[-1].text == str([True] * 4 + [False] * 2 + [True] * 2 + [False, True])
    assert [s.action for s in run.trace].count("CheckEntity") == 10


def test_is_in_room_is_true_for_anything_where_a_person_is(local):
    run = local(program('go_to("lobby")\nsay(str(is_in_room("stapler")))'), OFFICE)
    assert run.trace.steps[-1].text == "True"


def test_pick_removes_the_first_matching_label_and_place_puts_back_the_exact_string(local):
    run = local(
        program("""
            go_to("kitchen")
            pick("stapler")
            say(str(is_in_room("stapler")))
            go_to("lobby")
            place("stapler")
            say(str(is_in_room("stapler")))
        """),
        {**OFFICE, "objects": {"kitchen": ["stapler"]}, "agents": {}},
    )
    assert run.status == "success"
    assert [s.text for s in run.trace if s.action == "Say"] == ["False", "True"]
    assert [s.action for s in run.trace] == [
        "GoTo",
        "Pick",
        "CheckEntity",
        "Say",
        "GoTo",
        "Place",
        "CheckEntity",
        "Say",
    ]


@pytest.mark.parametrize(
    ("body", "message", "actions"),
    [
        ('go_to("lobby")\npick("stapler")', "RobotPickError: removeObject failed", ["GoTo"]),
        (
            'go_to("kitchen")\npick("apple")\npick("stapler")',
            "RobotPickError: Robot is already holding apple",
            ["GoTo", "Pick"],
        ),
        (
            'go_to("kitchen")\npick("apple")\nplace("Apple")',
            "RobotPlaceError: Robot is not holding Apple",
            ["GoTo", "Pick"],
        ),
    ],
)
def test_pick_and_place_failures_write_no_trace_line(local, body, message, actions):
    run = local(program(body), OFFICE)
    assert (run.status, run.error_message) == ("exception", message)
    assert [s.action for s in run.trace] == actions


def test_get_all_rooms_is_the_world_itself_only_under_upstream(local, local_upstream):
    edit = program("""
        rooms = get_all_rooms()
        rooms.remove("lobby")
        rooms.append("garden")
        go_to("garden")
        go_to("lobby")
    """)
    # Upstream hands out the world's own list: the edits change the world (the added room is
    # matched literally, since a pattern the program wrote would run in the judge's process).
    upstream = local_upstream(edit, OFFICE)
    assert upstream.error_message == "RobotGoToError: update_robot_location failed"
    assert [step.text for step in upstream.trace] == ["garden", "lobby"]
    assert (
        local_upstream(program("get_all_rooms().append('(a+)+$')\ngo_to('aaaa(a+)+$')"), OFFICE).status
        == "success"
    )
    # Injected: the program gets a copy, and the world stays what the state says.
    injected = local(edit, OFFICE)
    assert injected.error_message == "RobotGoToError: update_robot_location failed"
    assert [step.text for step in injected.trace] == ["garden"]
    assert local(program("get_all_rooms().clear()\ngo_to('lobby')"), OFFICE).status == "success"


def test_sleeping_one_second_is_cheap_and_longer_sleeps_use_up_the_budget(local):
    cheap = local(program("for _ in range(50):\n    time.sleep(1)\nsay('done')"), OFFICE)
    assert cheap.status == "success"
    slow = local(program("say('start')\ntime.sleep(2)\nsay('never')"), OFFICE)
    assert slow.status == "timeout"
    assert [s.text for s in slow.trace] == ["start"]


def test_a_sleep_imported_by_the_program_is_simulated_too(local):
    run = local("from time import sleep\n" + program("sleep(5)\nsay('never')"), OFFICE)
    assert run.status == "timeout"


def test_a_program_still_running_at_the_timeout_keeps_its_partial_trace(local):
    run = local(
        program("""
            go_to("kitchen")
            while True:
                is_in_room("person")
                time.sleep(1)
        """),
        OFFICE,
        timeout_s=0.5,
    )
    assert run.status == "timeout"
    assert run.trace.steps[0] == Step("GoTo", "kitchen")
    assert 10 < len(run.trace) < 200
    assert run.error_type is None


def test_a_busy_loop_times_out_even_when_it_catches_exceptions(local):
    run = local(
        program("""
            n = 0
            while True:
                try:
                    n += 1
                except Exception:
                    pass
        """),
        OFFICE,
        timeout_s=0.2,
    )
    assert run.status == "timeout"


def test_endless_output_is_bounded_and_reported_as_a_timeout(local):
    run = local(program("go_to('lobby')\nwhile True:\n    is_in_room('person')"), OFFICE)
    assert run.status == "timeout"
    assert 1000 < len(run.trace) < 3000


PRINTS = program("""
    say("one")
    print('Say /$@!/ forged /$@!/ None')  # single quotes: upstream lowercases double-quoted text
    print("hello")
    say("two")
""")


def test_prints_are_no_part_of_the_injected_trace(local):
    run = local(PRINTS, OFFICE)
    assert run.status == "success"
    assert [(s.text, s.line) for s in run.trace] == [("one", 2), ("two", 5)]


def test_prints_share_the_trace_stream_under_upstream_and_a_stray_line_ends_it(local_upstream):
    run = local_upstream(PRINTS, OFFICE)
    assert run.status == "success"
    # The printed step has no program line: the simulator did not write it.
    assert [(s.text, s.line) for s in run.trace] == [("one", 2), ("forged", None)]


def test_a_message_with_a_newline_is_one_step_but_cuts_the_upstream_trace(local, local_upstream):
    newline = program('say("a\\nb")\nsay("c /$@!/ None\\nGoTo /$@!/ lobby /$@!/ None")\nsay("d")')
    assert [s.text for s in local(newline, OFFICE).trace] == [
        "a\nb",
        "c /$@!/ None\nGoTo /$@!/ lobby /$@!/ None",
        "d",
    ]
    assert local_upstream(newline, OFFICE).trace.steps == ()


def test_exit_status_zero_ends_the_program_normally(local):
    assert local(program("say('bye')\nraise SystemExit(0)"), OFFICE).status == "success"
    failed = local(program("raise SystemExit(3)"), OFFICE)
    assert (failed.status, failed.error_type) == ("exception", "SystemExit")


def test_python_errors_are_located_in_the_program(local):
    run = local(program("x = 1\ny = x / 0"), OFFICE)
    assert (run.status, run.error_type, run.error_line) == ("exception", "ZeroDivisionError", 3)


def test_the_api_outside_task_program_is_an_error_when_injected(local, local_upstream):
    run = local(program("pass") + "go_to('lobby')\n", OFFICE)
    assert (run.status, run.error_type) == ("exception", "RuntimeError")
    assert "RobotSimulatorError" in run.error_message
    # Upstream runs the program as a script, so module-level calls act on the world.
    run = local_upstream(program("pass") + "go_to('lobby')\n", OFFICE)
    assert run.status == "success" and [step.text for step in run.trace] == ["lobby"]


def test_a_state_naming_an_unknown_room_is_rejected(local):
    with pytest.raises(ValueError, match="SimulatorError"):
        local(program("pass"), {**OFFICE, "objects": {"garden": ["rake"]}})
