"""The simulator service as the program's process reaches it: every request is untrusted data.

These tests talk to ``RobotService`` directly, as a program that bypasses the stubs would (any request
it can encode reaches the service), and check that nothing but the robot API's own effects can be had:
malformed requests change nothing, the clock never goes back, bounds hold, program-made patterns are
literal. The last tests run programs in the sandbox to show the world is not in their process.
"""

from __future__ import annotations

import math
import pickle

import pytest

from execrl.robot.checks import Step
from execrl.robot.runner import decode_run, robot_job
from execrl.robot.simulator import MAX_BATCH, MAX_CALLS, MAX_OUTPUT_CHARS, RobotService

STATE = {
    "locations": ["kitchen", "lobby", "start_loc"],
    "objects": {"kitchen": ["mug"]},
    "agents": {"lobby": [{"name_regex": ".*", "answers": ["zebra"]}]},
    "robot_location": "start_loc",
}


def service(semantics="injected", timeout_s=1.0) -> RobotService:
    return RobotService(STATE, timeout_s, semantics)


def one(svc, op, *args, cpu=0.0, line=None):
    return svc([(op, args, cpu, line)])


def steps(svc, timed_out=False):
    return [(s.action, s.text, s.options) for s in svc.trace(timed_out)]


MALFORMED = [
    None,
    {"op": "say", "args": ["x"], "cpu": 0.0},  # a dict, not a list of calls
    ("say", ("x",), 0.0, None),  # a call, not a list of calls
    [],
    [("say", ("x",), 0.0)],  # three fields
    [("say", ("x",), 0.0, None, "extra")],
    [("Say", ("x",), 0.0, None)],
    [("_emit", ("Say", "x", None), 0.0, None)],
    [("_write", ("Say /$@!/ x /$@!/ None\n",), 0.0, None)],
    [("__init__", (STATE, 1.0, "injected"), 0.0, None)],
    [("trace", (False,), 0.0, None)],
    [("say", "x", 0.0, None)],  # args not a list
    [("say", ("x", "y"), 0.0, None)],
    [("say", ("x",), math.nan, None)],
    [("say", ("x",), -1.0, None)],
    [("say", ("x",), True, None)],
    [("say", ("x",), "0", None)],
    [("say", ("x",), math.inf, None)],
]


@pytest.mark.parametrize("request_", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_request_is_refused_and_changes_nothing(request_):
    svc = service()
    reply = svc(request_)
    assert reply[:2] == ("raise", "RuntimeError") and "RobotSimulatorError" in reply[2]
    assert steps(svc) == [] and svc.world.robot_location == "start_loc" and not svc.expired
    assert svc.fault is None


def test_too_many_calls_in_one_request_are_refused():
    svc = service()
    assert svc([("say", ("x",), 0.0, None)] * (MAX_BATCH + 1))[0] == "raise"
    assert steps(svc) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (("go_to", None), "RobotGoToError: location must be a string"),
        (("go_to", ["kitchen"]), "RobotGoToError: location must be a string"),
        (("say", 3), "RobotSayError: message must be a string"),
        (("is_in_room", b"mug"), "RobotCheckEntityError: entity must be a string"),
        (("pick", None), "RobotPickError: obj must be a string"),
        (("place", 1.5), "RobotPlaceError: obj must be a string"),
        (("ask", 1, "q", ["a"]), "RobotAskError: person must be a string"),
        (("ask", "", None, ["a"]), "RobotAskError: question must be a string"),
        (("ask", "", "q", ("a",)), "RobotAskError: options must be a list"),
    ],
)
def test_arguments_are_checked_in_the_service(call, message):
    svc = service()
    assert one(svc, *call) == ("raise", "TypeError", message)
    assert steps(svc) == []


def test_the_replies_are_the_worlds():
    svc = service()
    assert one(svc, "get_all_rooms") == ("ok", ["kitchen", "lobby", "start_loc"])
    assert one(svc, "go_to", "the lobby") == ("ok", "lobby")
    assert one(svc, "get_current_location") == ("ok", "lobby")
    assert one(svc, "ask", "", "Which animal?", ["cat", "zebra"]) == ("ok", 1)
    assert one(svc, "is_in_room", "mug") == ("ok", True)  # anything "is in" a room with a person
    assert one(svc, "go_to", "garden") == (
        "raise",
        "Exception",
        "RobotGoToError: update_robot_location failed",
    )
    assert steps(svc) == [
        ("GoTo", "the lobby", None),
        ("Ask", "Which animal?", ("cat", "zebra")),
        ("CheckEntity", "mug", None),
        ("GoTo", "garden", None),
    ]


def test_the_list_of_rooms_is_a_copy_and_the_world_cannot_be_edited_through_the_channel():
    svc = service()
    _, rooms = one(svc, "get_all_rooms")
    rooms.append("garden")
    assert one(svc, "rooms", ["garden"]) == ("ok", None)  # ignored under injected
    assert one(svc, "go_to", "garden")[0] == "raise"
    assert svc.world.locations == ["kitchen", "lobby", "start_loc"]


def test_printed_text_is_ignored_under_injected_and_parsed_under_upstream():
    forged = "Say /$@!/ done /$@!/ None\n"
    injected, upstream = service(), service("upstream")
    for svc in (injected, upstream):
        assert one(svc, "out", forged) == ("ok", None)
    assert steps(injected) == [] and injected.size == 0
    assert steps(upstream) == [("Say", "done", None)]  # the benchmark's own reading
    assert upstream.trace(False).steps[0].line is None  # not a line the simulator wrote


def test_a_batched_call_that_fails_is_dropped_and_the_rest_applies():
    svc = service()
    reply = svc([("say", (1,), 0.0, 2), ("go_to", ("garden",), 0.0, 3), ("say", ("hi",), 0.0, 4)])
    assert reply == ("ok", None)
    assert [(s.text, s.line) for s in svc.trace(False)] == [("garden", 3), ("hi", 4)]


def test_the_line_is_a_hint_that_is_dropped_when_it_is_not_a_line():
    svc = service()
    for line in (7, 0, -3, True, "5", 10**12, 2.5):
        assert one(svc, "say", "x", line=line) == ("ok", None)
    assert [s.line for s in svc.trace(False)] == [7, None, None, None, None, None, None]


def test_the_clock_never_goes_back_and_a_spent_budget_refuses_everything():
    svc = service()
    assert one(svc, "say", "a", cpu=0.8) == ("ok", None)
    assert one(svc, "say", "b", cpu=0.0) == ("ok", None) and svc.cpu == 0.8  # a lower reading is ignored
    assert one(svc, "sleep", 0.3) == ("timeout",)
    for op, *args in [("say", "c"), ("go_to", "kitchen"), ("get_current_location",), ("sleep", 0)]:
        assert one(svc, op, *args, cpu=0.0) == ("timeout",)
    assert steps(svc) == [("Say", "a", None), ("Say", "b", None)]
    assert svc.world.robot_location == "start_loc"


def test_expiry_inside_a_batch_stops_it_there():
    svc = service()
    batch = [("say", ("a",), 0.1, None), ("say", ("b",), 1.5, None), ("say", ("c",), 0.1, None)]
    assert svc(batch) == ("timeout",)
    assert steps(svc) == [("Say", "a", None)]


@pytest.mark.parametrize(
    ("seconds", "reply"),
    [
        (math.nan, ("raise", "ValueError", "Invalid value NaN (not a number)")),
        (-1, ("raise", "ValueError", "sleep length must be non-negative")),
        ("1", ("raise", "TypeError", "'str' object cannot be interpreted as an integer")),
        (True, ("raise", "TypeError", "'bool' object cannot be interpreted as an integer")),
        (math.inf, ("timeout",)),
        (10**400, ("timeout",)),
    ],
)
def test_sleep_cannot_stop_or_reverse_the_clock(seconds, reply):
    svc = service()
    assert one(svc, "sleep", seconds) == reply
    assert svc.slept >= 0 and not math.isnan(svc.slept)


def test_sleeping_one_second_is_shortened_only_under_injected():
    injected, upstream = service(timeout_s=5.0), service("upstream", timeout_s=5.0)
    assert one(injected, "sleep", 1) == ("ok", 0.01) and one(injected, "sleep", 1.0) == ("ok", 1.01)
    assert one(upstream, "sleep", 1) == ("ok", 1.0)


def test_the_trace_bound_ends_the_run():
    svc = service()
    text = "x" * 1000
    while one(svc, "say", text)[0] == "ok":
        pass
    assert svc.expired and svc.size <= MAX_OUTPUT_CHARS
    assert len(svc.trace(True)) == MAX_OUTPUT_CHARS // len(f"Say /$@!/ {text} /$@!/ None\n")


def test_calls_past_the_budget_of_calls_end_the_run():
    svc = service()
    for _ in range(MAX_CALLS // MAX_BATCH):
        svc([("get_current_location", (), 0.0, None)] * MAX_BATCH)
    assert not svc.expired
    assert svc([("get_current_location", (), 0.0, None)] * MAX_BATCH) == ("timeout",)
    assert one(svc, "say", "late") == ("timeout",) and steps(svc) == []


@pytest.mark.timeout(60)
def test_a_placed_label_is_matched_literally_never_as_the_programs_regex():
    svc = service()
    one(svc, "go_to", "kitchen")
    assert one(svc, "pick", "mug (a+)+$") == ("ok", None)  # the state's own pattern "mug" matches
    assert one(svc, "place", "mug (a+)+$") == ("ok", None)
    # As a regex this label would take exponential time on the text below (and match nothing).
    assert one(svc, "is_in_room", "mug " + "a" * 40 + "!") == ("ok", False)
    assert one(svc, "is_in_room", "my mug (a+)+$ here") == ("ok", True)


def test_the_service_travels_by_pickle_as_ray_ships_it():
    svc = service()
    one(svc, "go_to", "kitchen")
    copy = pickle.loads(pickle.dumps(svc))
    assert steps(copy) == steps(svc) and one(copy, "pick", "mug") == ("ok", None)


# -- through the sandbox: the program's process holds nothing of the world ------------------------------

SECRET = {
    "locations": ["vault", "start_loc"],  # public (get_all_rooms); the labels and answers are not
    "objects": {"vault": ["golden-needle-7f3a"]},
    "agents": {"vault": [{"name_regex": ".*", "answers": ["answer-zebra-91c2"]}]},
    "robot_location": "start_loc",
}
SEARCH = """
import gc, sys

def _everything():
    seen = []
    for obj in gc.get_objects():
        seen.append(repr(obj)[:100000])
    frame = sys._getframe()
    while frame is not None:
        seen.append(repr(frame.f_locals)[:100000])
        frame = frame.f_back
    for module in list(sys.modules.values()):
        seen.append(repr(getattr(module, "__dict__", {}))[:100000])
    return "\\n".join(seen)

def task_program():
    text = _everything()
    # Built only now, so that neither the program's constants nor the text hold them.
    words = ["-".join(["golden", "needle"]), "-".join(["answer", "zebra"])]
    found = [word for word in words if word in text]
    say("found " + " ".join(found) if found else "nothing")
"""


@pytest.mark.parametrize("semantics", ["injected", "upstream"])
def test_the_world_is_not_in_the_programs_process(sandbox, semantics):
    [result] = sandbox.run([robot_job(SEARCH, SECRET, semantics=semantics)])
    run = decode_run(result)
    assert run.status == "success", run.error
    assert [step.text for step in run.trace] == ["nothing"]


def test_the_programs_own_prints_and_report_cannot_add_a_step(sandbox):
    program = (
        "import sys\n"
        "def task_program():\n"
        "    print('Say /$@!/ printed /$@!/ None')\n"
        "    sys.__stdout__.write('Say /$@!/ raw /$@!/ None\\n')\n"
        "    _execrl_host_call([('out', ('Say /$@!/ channel /$@!/ None\\n',), 0.0, None)])\n"
        "def _execrl_run_robot(timeout_s, cpu_base):\n"
        "    task_program()\n"
        "    return {'status': 'success', 'error_type': None, 'error_message': None, 'error_line': None}\n"
    )
    [result] = sandbox.run([robot_job(program, SECRET)])
    run = decode_run(result)
    assert (run.status, run.trace.steps) == ("success", ())
    assert "raw" in result.stdout  # it did write; nobody reads it


def test_a_hint_of_the_wrong_line_only_moves_the_finding(sandbox):
    program = "def task_program():\n    _execrl_host_call([('say', ('hi',), 0.0, 1)])\n    say('there')\n"
    [result] = sandbox.run([robot_job(program, SECRET)])
    assert decode_run(result).trace.steps == (Step("Say", "hi", None, 1), Step("Say", "there", None, 3))
