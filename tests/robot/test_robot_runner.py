"""Reading a sandbox result back as a robot run: the service's state, the sandbox's, never the program's."""

from __future__ import annotations

import pytest

from execrl.robot.checks import Step
from execrl.robot.runner import (
    ENTRY_FUNCTION,
    STUBS_SOURCE,
    UPSTREAM_ENTRY_FUNCTION,
    decode_run,
    robot_job,
)
from execrl.robot.simulator import MAX_CALLS, RobotService
from execrl.sandbox import CallTests, JobResult, Status
from execrl.sandbox import TestOutcome as Outcome  # not collected as a test class

STATE = {"locations": ["hall", "start_loc"], "objects": {}, "agents": {}, "robot_location": "start_loc"}
SUCCESS = {"status": "success", "error_type": None, "error_message": None, "error_line": None}
NOTHING = object()  # the job never returned from the entry call


def call(service, op, *args, cpu=0.0, line=None):
    return service([(op, args, cpu, line)])


def served(*calls, semantics="injected", timeout_s=1.0):
    service = RobotService(STATE, timeout_s, semantics)
    for op, *args in calls:
        call(service, op, *args)
    return service


def result(service, report=SUCCESS, status=Status.PASSED, cpu_s=0.01, **fields):
    tests = (Outcome(0, True, value=report),) if report is not NOTHING else ()
    return JobResult(status, tests=tests, cpu_s=cpu_s, service=service, **fields)


def test_a_job_runs_the_program_as_code_the_stubs_as_prelude_and_keeps_the_world_outside():
    job = robot_job("def task_program():\n    pass\n", STATE, timeout_s=0.5)
    assert job.code.startswith("def task_program():")
    assert job.prelude == STUBS_SOURCE and "import execrl" not in STUBS_SOURCE
    assert "STATE" not in STUBS_SOURCE and "hall" not in repr(job.tests)  # the world never travels
    assert job.tests == CallTests(function=ENTRY_FUNCTION, inputs=((0.5, 0.0),), call_timeouts_s=(5.5,))
    assert isinstance(job.service, RobotService) and job.service.world.locations == ["hall", "start_loc"]
    # The kernel's CPU limit follows the budget; the channel takes no request larger than a batch,
    # nor more requests than the simulator's call budget allows.
    assert job.limits.cpu_s == 0.5 and job.limits.timeout_s > 5.5
    assert job.limits.host_call_bytes == 128 * 1024 and job.limits.max_host_calls == MAX_CALLS + 1000
    upstream = robot_job("def task_program():\n    say('x')\n", STATE, semantics="upstream")
    assert upstream.code == "" and upstream.tests.function == UPSTREAM_ENTRY_FUNCTION
    assert "robot.say(" in upstream.tests.inputs[0][2]


def test_the_trace_is_the_services_and_the_report_only_says_how_the_program_ended():
    service = served(("go_to", "hall"), ("say", "hi"))
    report = {
        "status": "exception",
        "error_type": "Exception",
        "error_message": "RobotGoToError: update_robot_location failed",
        "error_line": 4,
    }
    run = decode_run(result(service, report))
    assert run.status == "exception" and run.error_line == 4
    assert run.trace.steps == (Step("GoTo", "hall"), Step("Say", "hi"))
    assert run.error == "Exception: RobotGoToError: update_robot_location failed"


def test_a_run_the_service_ended_is_a_timeout_whatever_the_program_reports():
    service = served(("say", "early"), ("sleep", 5), ("say", "late"))
    assert service.expired
    run = decode_run(result(service, SUCCESS))
    assert (run.status, [s.text for s in run.trace], run.error) == ("timeout", ["early"], None)


@pytest.mark.parametrize(
    "job_result",
    [
        {"report": NOTHING, "status": Status.TIMEOUT, "error_type": "Timeout"},
        {"report": NOTHING, "status": Status.OUTPUT_EXCEEDED},
        {"report": NOTHING, "status": Status.TIMEOUT, "error_type": "CpuLimit"},
    ],
)
def test_a_program_stopped_by_the_sandbox_timed_out_with_nothing_to_show(job_result):
    run = decode_run(result(served(("say", "hi")), **job_result))
    assert (run.status, len(run.trace), run.error) == ("timeout", 0, None)


def test_a_call_timeout_is_a_timeout():
    outcome = Outcome(0, False, error_type="CallTimeout", error_message="late")
    run = decode_run(JobResult(Status.FAILED, tests=(outcome,), service=served(("say", "hi"))))
    assert (run.status, len(run.trace)) == ("timeout", 0)


def test_time_the_program_hid_from_the_clock_voids_its_trace():
    """The kernel's CPU count plus the sleeps the service counted, past the budget: the program's
    own readings were false (or it turned the clock off), so it cannot say what it did in time."""
    service = served(("say", "hi"), ("sleep", 0.5))
    honest = decode_run(result(service, cpu_s=0.49))
    assert (honest.status, len(honest.trace)) == ("success", 1)
    hidden = decode_run(result(service, cpu_s=0.51))
    assert (hidden.status, len(hidden.trace)) == ("timeout", 0)
    # A run that reports its own timeout kept to the clock: its partial trace stands.
    timed_out = decode_run(result(service, {**SUCCESS, "status": "timeout"}, cpu_s=0.9))
    assert (timed_out.status, len(timed_out.trace)) == ("timeout", 1)


def test_a_load_error_wins_over_the_call_that_never_ran():
    not_run = Outcome(0, False, error_type="NotRun", error_message="the test did not run")
    job = JobResult(
        Status.RUNTIME_ERROR,
        tests=(not_run,),
        error_type="NameError",
        error_message="x",
        error_line=3,
        service=served(),
    )
    run = decode_run(job)
    assert (run.status, run.error, run.error_line) == ("exception", "NameError: x", 3)


def test_an_error_inside_the_call_is_reported():
    outcome = Outcome(0, False, error_type="RuntimeError", error_message="RobotSimulatorError: no")
    run = decode_run(JobResult(Status.RUNTIME_ERROR, tests=(outcome,), service=served()))
    assert (run.status, run.error) == ("exception", "RuntimeError: RobotSimulatorError: no")


def test_a_crash_without_any_message_names_the_sandbox_status():
    run = decode_run(JobResult(Status.KILLED, service=served()))
    assert (run.status, run.error) == ("exception", "killed")


def test_only_a_robot_jobs_result_can_be_decoded():
    with pytest.raises(TypeError, match="RobotService"):
        decode_run(JobResult(Status.PASSED, tests=(Outcome(0, True, value=SUCCESS),)))


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        "success",
        {"status": "success", "error_type": None, "error_message": None},  # a key missing
        {**SUCCESS, "status": "won"},
        {**SUCCESS, "trace": [["Say", "done", None]]},  # a forged trace is no part of a report
        {**SUCCESS, "error_type": 7},
        {**SUCCESS, "status": "exception", "error_type": "E", "error_line": "4"},
        {**SUCCESS, "status": "exception", "error_type": "E", "error_line": True},
        {**SUCCESS, "status": "exception", "error_type": "E", "error_line": 0},
    ],
)
def test_a_report_the_program_forged_badly_is_a_failed_run_not_a_crash(value):
    """The report comes from the process that ran the program, which can rebind the entry function."""
    run = decode_run(result(served(("say", "hi")), value))
    assert (run.status, run.error_type) == ("exception", "InvalidReport")
    assert [s.text for s in run.trace] == ["hi"]  # the service's, whatever the report held


def test_long_error_texts_are_cut():
    report = {**SUCCESS, "status": "exception", "error_type": "E" * 5000, "error_message": "m" * 5000}
    run = decode_run(result(served(), report))
    assert len(run.error_type) == len(run.error_message) == 2000


def test_a_service_failure_is_that_runs_failure(monkeypatch):
    service = served()
    monkeypatch.setattr(service.world, "move_to", lambda location: 1 / 0)
    assert call(service, "go_to", "hall") == (
        "raise",
        "RuntimeError",
        "RobotSimulatorError: the simulator failed",
    )
    run = decode_run(result(service))
    assert (run.status, run.error_type) == ("exception", "RobotSimulatorError")
    assert "ZeroDivisionError" in run.error_message
