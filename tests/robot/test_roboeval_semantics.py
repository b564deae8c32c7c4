"""The two ways RoboEval programs run: ``upstream`` (the benchmark's textual rewrite and trace reading,
the default of ``execrl eval roboeval``) and ``injected`` (the API in the namespace).

``tests/fixtures/roboeval_semantics_programs.jsonl`` holds 40 programs of our own, written to tell
readings apart (rewrite breakage, trailing calls, prints, sleeps, option types, the 10 KiB trace of a
timed-out run, check details). Its ``upstream`` column is the verdict per state that CodeBotler's own
evaluator (simple_tracer at 2b3e2d8, run outside this repository) gave each program; ``injected`` is
what execrl's injected semantics gives, where the benchmark's quirks do not apply (among them: the
trace is what the simulator recorded, so a print or a message with a newline does not cut it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execrl.eval.roboeval import evaluate_roboeval
from execrl.robot.outcome import judge_check
from execrl.robot.rewrite import lowercase_double_quoted, upstream_rewrite

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "roboeval_semantics_programs.jsonl"
PROGRAMS = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]


def verdicts(run_local, task, program: str) -> str:
    marks = []
    for state in task.states:
        outcome = judge_check(run_local(program, state.state), state.timeout_expected, state.check)
        marks.append("P" if outcome.completed else ".")
    return "".join(marks)


@pytest.mark.parametrize("row", PROGRAMS, ids=[row["id"] for row in PROGRAMS])
def test_upstream_semantics_gives_the_benchmark_evaluators_verdicts(local_upstream, tasks, row):
    assert verdicts(local_upstream, tasks[row["task"]], row["program"]) == row["upstream"]


@pytest.mark.parametrize("row", PROGRAMS, ids=[row["id"] for row in PROGRAMS])
def test_injected_semantics(local, tasks, row):
    assert verdicts(local, tasks[row["task"]], lowercase_double_quoted(row["program"])) == row["injected"]


def test_the_semantics_differ_exactly_where_the_benchmark_has_quirks():
    differing = sorted(row["id"] for row in PROGRAMS if row["upstream"] != row["injected"])
    assert differing == sorted(
        [
            "replace",
            "essay",
            "task_helper",
            "random_pick",
            "trailing_call",
            "module_level_call",
            "late_say_after_10k",
            "middle_print",  # upstream reads the trace from the output, where a print ends it
            "newline_say",  # ... and so does a message holding a newline
        ]
    )


def test_the_rewrite_is_the_benchmarks():
    program = 'def task_program():\n    s = "A B".replace("A", "x")\n    say(s)\n    time.sleep(1)\n    sleep(1)\ntask_program()\n'
    assert upstream_rewrite(program) == (
        'def task_program(robot):\n    s = "a b".rerobot.place("a", "x")\n    robot.say(s)\n'
        "    time.sleep(0.01)\n    sleep(1)\ntask_program(robot)\n\n\ntask_program(robot)"
    )
    assert "esrobot.say(" in upstream_rewrite("def essay(x):\n    pass\n")
    assert "trobot.ask(" in upstream_rewrite("task(1)") and "random_robot.pick(" in upstream_rewrite(
        "random_pick(x)"
    )


def test_a_timed_out_run_keeps_only_its_first_10_kib_under_upstream(local, local_upstream):
    state = {"locations": ["hall", "start_loc"], "objects": {}, "agents": {}, "robot_location": "start_loc"}
    program = 'def task_program():\n    go_to("hall")\n    while True:\n        is_in_room("x")\n'
    upstream, injected = local_upstream(program, state), local(program, state)
    assert upstream.status == injected.status == "timeout"
    line = len("CheckEntity /$@!/ x /$@!/ None\n")
    assert len(upstream.trace) == 1 + (10 * 1024 - len("GoTo /$@!/ hall /$@!/ None\n")) // line
    assert len(injected.trace) > 4 * len(upstream.trace)


def test_only_the_text_time_sleep_1_is_shortened_under_upstream(local, local_upstream):
    state = {"locations": ["hall", "start_loc"], "objects": {}, "agents": {}, "robot_location": "start_loc"}
    waits = {  # five waits within the 1 s budget: (upstream status, injected status)
        ("time.sleep(1)",): ("success", "success"),
        ("t = 1", "time.sleep(t)"): ("timeout", "success"),  # the value 1 is shortened only when injected
        ("time.sleep(2)",): ("timeout", "timeout"),
    }
    for wait, expected in waits.items():
        loop = "".join(f"        {line}\n" for line in wait)
        program = f'def task_program():\n    go_to("hall")\n    for _ in range(5):\n{loop}    say("done")\n'
        assert (local_upstream(program, state).status, local(program, state).status) == expected, wait


def test_roboeval_reports_say_which_semantics(data_dir, sandbox):
    row = next(row for row in PROGRAMS if row["id"] == "replace")
    sample = {"id": "r", "task": row["task"], "prompt_index": 0, "program": row["program"]}
    upstream = evaluate_roboeval([sample], data_dir, sandbox)
    injected = evaluate_roboeval([sample], data_dir, sandbox, semantics="injected")
    assert (
        upstream.summary.semantics == "upstream" and upstream.to_json()["summary"]["semantics"] == "upstream"
    )
    assert injected.summary.semantics == "injected"
    assert upstream.summary.pass_at_1 == 0.0 and injected.summary.pass_at_1 == 1.0
    assert upstream.results[0].category == "PythonError" and "rerobot" in upstream.results[0].error
