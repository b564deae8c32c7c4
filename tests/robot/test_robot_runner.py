"""Reading a sandbox result back as a robot run, whatever stage the program reached."""

from __future__ import annotations

import pytest

from execrl.robot.checks import Step
from execrl.robot.runner import ENTRY_FUNCTION, SIMULATOR_SOURCE, decode_run, robot_job
from execrl.sandbox import CallTests, JobResult, Status
from execrl.sandbox import TestOutcome as Outcome  # not collected as a test class

STATE = {"locations": ["start_loc"], "objects": {}, "agents": {}, "robot_location": "start_loc"}


def test_a_job_runs_the_candidate_as_code_and_the_simulator_as_prelude():
    job = robot_job("def task_program():\n    pass\n", STATE, timeout_s=0.5)
    assert job.code.startswith("def task_program():")
    assert job.prelude == SIMULATOR_SOURCE and "import execrl" not in SIMULATOR_SOURCE
    assert job.tests == CallTests(function=ENTRY_FUNCTION, inputs=((STATE, 0.5),), call_timeouts_s=(5.5,))
    assert job.limits.timeout_s > 0.5


def test_the_simulator_report_becomes_a_run():
    report = {
        "status": "exception",
        "trace": [("Ask", "q?", ["a"]), ("GoTo", "x", None)],
        "error_type": "Exception",
        "error_message": "RobotGoToError: update_robot_location failed",
        "error_line": 4,
    }
    run = decode_run(JobResult(Status.PASSED, tests=(Outcome(0, True, value=report),)))
    assert run.status == "exception" and run.error_line == 4
    assert run.trace.steps == (Step("Ask", "q?", ("a",)), Step("GoTo", "x"))
    assert run.error == "Exception: RobotGoToError: update_robot_location failed"


@pytest.mark.parametrize(
    "result",
    [
        JobResult(Status.TIMEOUT, error_type="Timeout"),
        JobResult(Status.OUTPUT_EXCEEDED),
        JobResult(Status.FAILED, tests=(Outcome(0, False, error_type="CallTimeout", error_message="late"),)),
    ],
)
def test_a_program_stopped_by_the_sandbox_timed_out(result):
    run = decode_run(result)
    assert (run.status, len(run.trace), run.error) == ("timeout", 0, None)


def test_a_load_error_wins_over_the_call_that_never_ran():
    not_run = Outcome(0, False, error_type="NotRun", error_message="the test did not run")
    result = JobResult(
        Status.RUNTIME_ERROR, tests=(not_run,), error_type="NameError", error_message="x", error_line=3
    )
    run = decode_run(result)
    assert (run.status, run.error, run.error_line) == ("exception", "NameError: x", 3)


def test_an_error_inside_the_call_is_reported():
    outcome = Outcome(
        0, False, error_type="RuntimeError", error_message="RobotSimulatorError: no", error_line=None
    )
    run = decode_run(JobResult(Status.RUNTIME_ERROR, tests=(outcome,)))
    assert (run.status, run.error) == ("exception", "RuntimeError: RobotSimulatorError: no")


def test_a_crash_without_any_message_names_the_sandbox_status():
    run = decode_run(JobResult(Status.KILLED))
    assert (run.status, run.error) == ("exception", "killed")


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        "success",
        {"status": "success", "trace": [], "error_type": None, "error_message": None},  # a key missing
        {"status": "won", "trace": [], "error_type": None, "error_message": None, "error_line": None},
        {"status": "success", "trace": "GoTo", "error_type": None, "error_message": None, "error_line": None},
        {
            "status": "success",
            "trace": [("GoTo",)],
            "error_type": None,
            "error_message": None,
            "error_line": None,
        },
        {
            "status": "success",
            "trace": [(1, 2, 3)],
            "error_type": None,
            "error_message": None,
            "error_line": None,
        },
        {"status": "exception", "trace": [], "error_type": 7, "error_message": None, "error_line": None},
        {"status": "exception", "trace": [], "error_type": "E", "error_message": None, "error_line": "4"},
        {"status": "exception", "trace": [], "error_type": "E", "error_message": None, "error_line": True},
        {"status": "exception", "trace": [], "error_type": "E", "error_message": None, "error_line": 0},
        {
            "status": "success",
            "trace": [],
            "error_type": None,
            "error_message": None,
            "error_line": None,
            "x": 1,
        },
    ],
)
def test_a_report_the_program_forged_badly_is_a_failed_run_not_a_crash(value):
    """The report comes from the process that ran the candidate, which can rebind the entry function."""
    run = decode_run(JobResult(Status.PASSED, tests=(Outcome(0, True, value=value),)))
    assert (run.status, run.error_type, len(run.trace)) == ("exception", "InvalidReport", 0)
