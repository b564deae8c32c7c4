"""RoboEval end to end through the sandbox: reference programs, error categories, timeouts, bad input."""

from __future__ import annotations

import json

import pytest

from execrl.eval.roboeval import (
    COMPLETION_ERROR,
    PYTHON_ERROR,
    ROBOT_EXECUTION_ERROR,
    SUCCESS,
    RoboEvalSample,
    evaluate_reference_programs,
    evaluate_roboeval,
)
from execrl.robot.runner import lowercase_double_quoted

GRILLED_CHEESE_OK = """def task_program():
    start_loc = get_current_location()
    go_to("Zarko's office")
    missing = []
    for item in ["bread", "cheese", "butter"]:
        if ask("Zarko", "Do you have " + item + "?", ["Yes", "No"]) == "No":
            missing.append(item)
    go_to(start_loc)
    say("Zarko is missing: " + ", ".join(missing))
"""


def sample(id: str, task: str, program: str, prompt_index: int = 0) -> dict:
    return {"id": id, "task": task, "prompt_index": prompt_index, "program": program}


def by_id(report) -> dict:
    return {program.id: program for program in report.programs}


@pytest.mark.parametrize("semantics", ["upstream", "injected"])
def test_all_reference_programs_pass(data_dir, sandbox, semantics):
    report = evaluate_reference_programs(data_dir, sandbox, semantics=semantics)
    assert report.summary.semantics == semantics
    assert report.summary.programs == 80
    assert set(report.summary.passed_by_task.values()) == {5}
    assert len(report.summary.passed_by_task) == 16
    assert report.summary.pass_at_1 == 1.0
    assert report.summary.categories[SUCCESS] == 80
    assert len(report.results) == 52 * 5


def test_error_categories_per_state_and_per_program(data_dir, sandbox):
    crash_after_check_failures = """def task_program():
    start_loc = get_current_location()
    for room in get_all_rooms():
        if "office" in room:
            go_to(room)
            ask("", "Chocolate, caramel or gummy?", ["chocolate", "caramel", "gummy"])
    go_to(start_loc)
    say("nothing to buy")
"""
    report = evaluate_roboeval(
        [
            sample("ok", "GrilledCheese", GRILLED_CHEESE_OK),
            sample("lost", "GrilledCheese", GRILLED_CHEESE_OK.replace("go_to(start_loc)", 'go_to("lobby")')),
            sample(
                "unknown-room", "GrilledCheese", GRILLED_CHEESE_OK.replace("Zarko's office", "Zarko's den")
            ),
            sample("syntax", "GrilledCheese", "def task_program():\n    say('hi'\n"),
            sample("late-crash", "HalloweenList", crash_after_check_failures),
        ],
        data_dir,
        sandbox,
    )
    programs = by_id(report)
    assert programs["ok"].passed_all_states and programs["ok"].category == SUCCESS
    assert programs["lost"].category == COMPLETION_ERROR
    assert programs["unknown-room"].category == ROBOT_EXECUTION_ERROR
    assert programs["syntax"].category == PYTHON_ERROR
    # The first crash sets the category even though earlier states already failed their checks.
    assert programs["late-crash"].category == ROBOT_EXECUTION_ERROR
    late = [r for r in report.results if r.id == "late-crash"]
    assert [r.category for r in late] == [COMPLETION_ERROR, COMPLETION_ERROR, ROBOT_EXECUTION_ERROR]
    assert late[2].error == "Exception: RobotAskError: ask_agent failed"
    assert late[2].error_line == 6

    robot = next(r for r in report.results if r.id == "unknown-room")
    assert (robot.status, robot.error_line) == ("exception", 3)
    assert "RobotGoToError" in robot.error
    syntax = next(r for r in report.results if r.id == "syntax")
    assert (syntax.status, syntax.error_line) == ("exception", 2)

    summary = report.summary
    assert summary.categories == {ROBOT_EXECUTION_ERROR: 2, PYTHON_ERROR: 1, COMPLETION_ERROR: 1, SUCCESS: 1}
    assert summary.state_categories[COMPLETION_ERROR] == 3
    assert summary.execution_failure_share == pytest.approx(3 / 5)


def test_a_timeout_only_passes_where_the_state_expects_one(data_dir, sandbox):
    wait_forever = """def task_program():
    go_to("main entrance")
    while True:
        is_in_room("person")
        time.sleep(1)
"""
    report = evaluate_roboeval([sample("wait", "WeatherPoll", wait_forever)], data_dir, sandbox)
    assert [r.status for r in report.results] == ["timeout"] * 5
    assert [r.passed for r in report.results] == [False, False, False, False, True]
    assert report.results[0].category == PYTHON_ERROR
    assert report.results[0].error == "TimeoutError: program should not time out"
    assert report.results[4].category == SUCCESS
    assert report.results[4].trace_length > 10
    assert report.programs[0].category == PYTHON_ERROR


def test_pass_at_1_is_per_prompt_then_averaged(data_dir, sandbox):
    lost = GRILLED_CHEESE_OK.replace("go_to(start_loc)", 'go_to("lobby")')
    report = evaluate_roboeval(
        [
            RoboEvalSample("a", "GrilledCheese", 0, GRILLED_CHEESE_OK),
            RoboEvalSample("b", "GrilledCheese", 0, lost),
            RoboEvalSample("c", "GrilledCheese", 1, GRILLED_CHEESE_OK),
        ],
        data_dir,
        sandbox,
    )
    summary = report.summary
    assert summary.pass_at_1_by_prompt == {"GrilledCheese_0": 0.5, "GrilledCheese_1": 1.0}
    assert summary.pass_at_1 == pytest.approx(0.75)
    assert summary.pass_at_1_by_task == {"GrilledCheese": pytest.approx(0.75)}
    assert (summary.passed_by_task, summary.programs_by_task) == ({"GrilledCheese": 2}, {"GrilledCheese": 3})


def test_bad_input_is_reported_per_line_and_the_rest_is_evaluated(data_dir, sandbox):
    lines = [
        json.dumps(sample("good", "GrilledCheese", GRILLED_CHEESE_OK)),
        "{not json",
        "",
        json.dumps(sample("x1", "CookDinner", GRILLED_CHEESE_OK)),
        json.dumps(sample("x2", "GrilledCheese", GRILLED_CHEESE_OK, prompt_index=7)),
        json.dumps(sample("x3", "GrilledCheese", "say('no function')\n")),
        json.dumps(sample("x4", "GrilledCheese", 42)),
        json.dumps({"id": "x5", "task": "GrilledCheese"}),
        json.dumps(sample("good", "GrilledCheese", GRILLED_CHEESE_OK)),
        json.dumps(["a", "list"]),
    ]
    report = evaluate_roboeval(lines, data_dir, sandbox)
    assert [p.id for p in report.programs] == ["good"]
    assert report.programs[0].passed_all_states
    errors = {error.line: error for error in report.input_errors}
    assert sorted(errors) == [2, 4, 5, 6, 7, 8, 9, 10]
    assert "not valid JSON" in errors[2].message
    assert "unknown task 'CookDinner'" in errors[4].message and errors[4].id == "x1"
    assert "prompt_index" in errors[5].message
    assert "does not define task_program" in errors[6].message
    assert "must be a string" in errors[7].message
    assert "missing prompt_index, program" in errors[8].message
    assert "duplicate id 'good'" in errors[9].message
    assert "JSON object" in errors[10].message
    assert report.summary.invalid_inputs == 8


def test_the_report_is_plain_json(data_dir, sandbox):
    report = evaluate_roboeval([sample("ok", "GrilledCheese", GRILLED_CHEESE_OK)], data_dir, sandbox)
    data = json.loads(json.dumps(report.to_json()))
    assert set(data) == {"results", "programs", "summary", "input_errors"}
    assert data["results"][0]["status"] == "success" and data["results"][0]["category"] == SUCCESS
    assert data["programs"][0]["passed_all_states"] is True


def test_double_quoted_strings_are_lowercased_as_the_benchmark_does(data_dir, sandbox):
    assert lowercase_double_quoted("say(\"Hi Bob\")\nx = 'Keep'") == "say(\"hi bob\")\nx = 'Keep'"
    # With the rewrite, an f-string field changes name.
    fstring = GRILLED_CHEESE_OK.replace(
        'say("Zarko is missing: " + ", ".join(missing))', 'Total = 1\n    say(f"{Total}")'
    )
    report = evaluate_roboeval([sample("fstring", "GrilledCheese", fstring)], data_dir, sandbox)
    (result,) = report.results
    assert result.error.startswith("NameError") and result.category == PYTHON_ERROR
    assert result.error_line == 10
