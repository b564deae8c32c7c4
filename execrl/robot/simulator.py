"""RoboEval's robot world and robot API, simulated inside the sandbox.

This file's source text is shipped as ``Job.prelude``: it runs in the candidate's namespace before the
candidate's ``def task_program():``, so it must stay stdlib-only and self-contained (no execrl
imports). Only the robot API functions below, ``time`` and ``sys`` are meant for the candidate (the
benchmark's programs use ``time.sleep`` without importing it); everything else starts with ``_`` so it
does not collide with the candidate's names.

Semantics follow the benchmark's simulator (shared/specs/roboeval.md, sections 3-5 and 10):
matching is a case-insensitive regex *search* with the world's value as the pattern and the program's
argument as the text; every robot error message contains "Robot"; the trace is the text the program
writes (robot actions as ``Name /$@!/ value1 /$@!/ value2`` lines, interleaved with the program's own
prints) parsed the benchmark's way, stopping at the first line that does not parse.

Time is simulated: a run has a budget of ``timeout_s`` seconds counted as the process CPU time the
run used plus the seconds it slept. ``time.sleep(1)`` costs 0.01 s (the benchmark rewrites that call
to ``time.sleep(0.01)``); any other sleep costs its full length without waiting. A program still
running when the budget is spent stops with status "timeout" and keeps its partial trace. Output is
bounded like the benchmark's pipe: writing more than 64 KiB also ends the run as a timeout.

Entry points, each returning plain data: ``_execrl_run_robot(state, timeout_s)`` runs the candidate's
``task_program()`` against a fresh world built from ``state`` (the JSON ``initial_state`` form), the
API injected as functions; ``_execrl_run_robot_upstream(state, timeout_s, source)`` runs a program the
way the benchmark does, ``source`` being its text after the benchmark's rewrite (``robot.go_to(...)``
on a ``robot`` object, ``task_program(robot)`` called at the end; ``execrl.robot.rewrite``), with the
benchmark's partial-trace reading on a timeout.

Each trace step also carries the line of the candidate's code that made the call (``step_lines``), so
that a judge can point at the call responsible for a failed check; lines the program printed itself
carry none.
"""

# The benchmark raises plain ``Exception``s whose text carries the robot error's name, and programs
# see those types; broad catches re-wrap any failure as a robot error, as the benchmark does.
# ruff: noqa: TRY002, BLE001

import ast as _ast
import re as _re
import sys
import time

_DELIM = "/$@!/"
_MAX_OUTPUT_CHARS = 64 * 1024
# The benchmark's reader drains about 1 KiB of output every 0.1 s of its 1 s budget: a timed-out
# run's trace is read from its first 10 KiB, the last line usually cut (spec addendum, item 5).
_UPSTREAM_TIMEOUT_TRACE_BYTES = 10 * 1024
_SHORT_SLEEP_S = 0.01
_process_time = time.process_time
# Through ``__wrapped__`` when this source was already run in the same process (in-process tests).
_real_sleep = getattr(time.sleep, "__wrapped__", time.sleep)


class _SimulatedTimeout(BaseException):
    """The run's time (or output) budget is spent; a BaseException so ``except Exception`` cannot stop it."""


def _search(pattern, text):
    return bool(_re.search(pattern, str(text), _re.IGNORECASE))


class _World:
    """Rooms, objects, people with answer queues, and the robot: one benchmark initial state."""

    def __init__(self, state):
        self.locations = list(state["locations"])
        self.objects = {room: list(labels) for room, labels in state.get("objects", {}).items()}
        self.agents = {
            room: [(person["name_regex"], list(person["answers"])) for person in people]
            for room, people in state.get("agents", {}).items()
        }
        self.robot_location = state["robot_location"]
        self.holding = None
        for room in [self.robot_location, *self.objects, *self.agents]:
            if room not in self.locations:
                raise ValueError(f"SimulatorError: {room!r} is not in locations {self.locations}")

    def move_to(self, location):
        # The first world location whose name is found inside the argument wins, so
        # "the kitchen area" reaches "kitchen" and "printer room 10" reaches "printer room 1".
        for room in self.locations:
            if _search(room, location):
                self.robot_location = room
                return
        raise Exception("RobotGoToError: update_robot_location failed")

    def is_in_room(self, entity):
        # Person names are ".*" in every benchmark state, so any entity "is in" a room with a person.
        return any(_search(label, entity) for label in self.objects.get(self.robot_location, [])) or any(
            _search(name, entity) for name, _ in self.agents.get(self.robot_location, [])
        )

    def answer(self, person, question, options):
        people = self.agents.get(self.robot_location)
        if not people:
            raise LookupError(f"no one is in {self.robot_location}")
        for name, answers in people:
            if not _search(name, person):
                continue
            # The last answer repeats forever; an empty queue raises IndexError.
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            # Options are searched as text (``str(option)``), as the benchmark does: ``[1, 2]`` works.
            for option in options:
                if _search(answer, option):
                    return option
            # No option matches the answer: say yes if the answer is in the question, else no; with
            # no such option, the next person in the room is asked.
            fallback = "yes" if _search(answer, question) else "no"
            for option in options:
                if _search(fallback, option):
                    return option
        raise LookupError("no one could answer")

    def remove_object(self, obj):
        labels = self.objects.get(self.robot_location, [])
        for index, label in enumerate(labels):
            if _search(label, obj):
                del labels[index]
                return
        raise LookupError(f"no {obj} in {self.robot_location}")


class _Run:
    """One execution of ``task_program()``: the world, the simulated clock and the written output."""

    def __init__(self, world, timeout_s, filename=None, upstream=False):
        self.world = world
        self.timeout_s = timeout_s
        self.filename = filename  # of the candidate's code, to find the line of each call
        self.upstream = upstream  # the benchmark's rewrite already shortened ``time.sleep(1)`` in the text
        self.cpu_start = _process_time()
        self.slept = 0.0
        self.expired = False
        self.chunks = []
        self.size = 0
        self.call_lines = {}  # output offset where an API call's trace line starts -> the candidate's line

    def check_clock(self):
        if self.expired or _process_time() - self.cpu_start + self.slept > self.timeout_s:
            self.expired = True
            raise _SimulatedTimeout()

    def write(self, text):
        # The benchmark's pipe fills up and the program blocks until it is killed: a timeout.
        if self.size + len(text) > _MAX_OUTPUT_CHARS:
            self.expired = True
            raise _SimulatedTimeout()
        self.chunks.append(text)
        self.size += len(text)
        return len(text)

    def emit(self, name, value, extra=None):
        self.call_lines[self.size] = self.caller_line()
        self.write(f"{name} {_DELIM} {value} {_DELIM} {extra}\n")

    def caller_line(self):
        """The line of the innermost frame of the candidate's code on the stack (None if there is none)."""
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return None


class _Output:
    """``sys.stdout`` during a run: the program's prints land in the same stream as the trace lines."""

    def __init__(self, run):
        self._run = run

    def write(self, text):
        return self._run.write(str(text))

    def flush(self):
        pass


_active = [None]


def _current():
    run = _active[0]
    if run is None:
        raise RuntimeError("RobotSimulatorError: the robot API can only be used while task_program() runs")
    run.check_clock()
    return run


def get_current_location():
    return _current().world.robot_location


def get_all_rooms():
    # The world's own list, as in the benchmark: a program that edits it changes the world.
    return _current().world.locations


def is_in_room(object):  # the parameter name shown to the model
    run = _current()
    if not isinstance(object, str):
        raise TypeError("RobotCheckEntityError: entity must be a string")
    run.emit("CheckEntity", object)
    return run.world.is_in_room(object)


def go_to(location):
    run = _current()
    if not isinstance(location, str):
        raise TypeError("RobotGoToError: location must be a string")
    # Written before moving: a failed go_to stays in the trace and the robot stays where it was.
    run.emit("GoTo", location)
    run.world.move_to(location)


def ask(person, question, options):
    run = _current()
    if not isinstance(person, str):
        raise TypeError("RobotAskError: person must be a string")
    if not isinstance(question, str):
        raise TypeError("RobotAskError: question must be a string")
    if not isinstance(options, list):
        raise TypeError("RobotAskError: options must be a list")
    run.emit("Ask", question, options)
    if not options:
        raise Exception("RobotAskError: invalid options")
    try:
        return run.world.answer(person, question, options)
    except Exception:
        raise Exception("RobotAskError: ask_agent failed") from None


def say(message):
    run = _current()
    if not isinstance(message, str):
        raise TypeError("RobotSayError: message must be a string")
    run.emit("Say", message)


def pick(obj):
    run = _current()
    if not isinstance(obj, str):
        raise TypeError("RobotPickError: obj must be a string")
    if run.world.holding is not None:
        raise Exception(f"RobotPickError: Robot is already holding {run.world.holding}")
    try:
        run.world.remove_object(obj)
    except Exception:
        raise Exception("RobotPickError: removeObject failed") from None
    run.world.holding = obj
    run.emit("Pick", obj)


def place(obj):
    run = _current()
    if not isinstance(obj, str):
        raise TypeError("RobotPlaceError: obj must be a string")
    if run.world.holding != obj:
        raise Exception(f"RobotPlaceError: Robot is not holding {obj}")
    run.world.holding = None
    run.world.objects.setdefault(run.world.robot_location, []).append(obj)
    run.emit("Place", obj)


def _simulated_sleep(seconds):
    run = _active[0]
    if run is None:
        return _real_sleep(seconds)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"'{type(seconds).__name__}' object cannot be interpreted as an integer")
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    # Injected: the benchmark's rewrite of the text ``time.sleep(1)`` applied to the value 1. Upstream:
    # the rewrite already happened in the text, so every sleep costs what it asks for.
    short = not run.upstream and type(seconds) is int and seconds == 1
    run.slept += _SHORT_SLEEP_S if short else seconds
    run.check_clock()


# Installed for good (it sleeps for real outside a run) so that ``from time import sleep`` in the
# candidate, which runs after this prelude, also gets the simulated clock.
_simulated_sleep.__wrapped__ = _real_sleep
time.sleep = _simulated_sleep


def _tracer(run, filename):
    """A ``sys.settrace`` hook that checks the clock on every line of the candidate's own code."""

    def on_line(frame, event, arg):
        if event == "line":
            run.check_clock()
        return on_line

    def on_call(frame, event, arg):
        return on_line if frame.f_code.co_filename == filename else None

    return on_call


def _candidate_line(traceback, filename):
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _parse_trace(text, call_lines, upstream=False):
    """The benchmark's trace parser: three ``/$@!/``-separated fields a line, up to the first bad line.

    Returns the steps and, for each, the candidate line that made it (None for a line the program
    printed). The benchmark strips the output before splitting it, so leading blank lines do not
    end its trace; the injected semantics keeps execrl's earlier reading, where they do.
    """
    steps, lines = [], []
    offset = 0
    if upstream:
        offset = len(text) - len(text.lstrip())
        text = text.strip()
        if not text:
            return steps, lines
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        parts = line.split(_DELIM)
        if len(parts) != 3:
            break
        try:
            extra = _ast.literal_eval(parts[2].strip())
        except Exception:
            break
        steps.append((parts[0].strip(), parts[1].strip(), extra))
        lines.append(call_lines.get(start))
    return steps, lines


def _execute(run, body):
    """Run ``body()`` (the candidate) inside ``run``: its clock, its output; then the report as plain data."""
    status, error_type, error_message, error_line = "success", None, None, None
    saved_stdout, saved_trace = sys.stdout, sys.gettrace()
    _active[0] = run
    sys.stdout = _Output(run)
    try:
        sys.settrace(_tracer(run, run.filename))
        body()
    except _SimulatedTimeout:
        status = "timeout"
    except SystemExit as exc:
        # The benchmark runs each program as a process: exit status 0 is a normal end.
        if exc.code not in (None, 0):
            status, error_type, error_message = "exception", "SystemExit", str(exc.code)
    except Exception as exc:
        status, error_type, error_message = "exception", type(exc).__name__, str(exc)
        error_line = _candidate_line(exc.__traceback__, run.filename)
    finally:
        sys.settrace(saved_trace)
        sys.stdout = saved_stdout
        _active[0] = None
    if run.expired:
        # The benchmark kills the process at the deadline, whatever the program did afterwards.
        status, error_type, error_message, error_line = "timeout", None, None, None
    text = "".join(run.chunks)
    if run.upstream and status == "timeout":
        text = text.encode("utf-8")[:_UPSTREAM_TIMEOUT_TRACE_BYTES].decode("utf-8", errors="ignore")
    steps, lines = _parse_trace(text, run.call_lines, run.upstream)
    return {
        "status": status,
        "trace": steps,
        "step_lines": lines,
        "error_type": error_type,
        "error_message": error_message,
        "error_line": error_line,
    }


def _execrl_run_robot(state, timeout_s):
    """Run ``task_program()`` once against ``state``, the API injected; return the report as plain data."""
    program = globals().get("task_program")
    filename = getattr(getattr(program, "__code__", None), "co_filename", None)

    def body():
        if program is None:
            raise NameError("name 'task_program' is not defined")
        program()

    return _execute(_Run(_World(state), float(timeout_s), filename), body)


_UPSTREAM_FILENAME = "<roboeval program>"


class _Robot:
    """The ``robot`` object the benchmark's rewritten programs call (``robot.go_to(...)``)."""

    def get_current_location(self):
        return get_current_location()

    def get_all_rooms(self):
        return get_all_rooms()

    def is_in_room(self, entity):
        return is_in_room(entity)

    def go_to(self, location):
        return go_to(location)

    def ask(self, person, question, options):
        return ask(person, question, options)

    def say(self, message):
        return say(message)

    def pick(self, obj):
        return pick(obj)

    def place(self, obj):
        return place(obj)


def _execrl_run_robot_upstream(state, timeout_s, source):
    """Run a rewritten program (``source``) as the benchmark's evaluator does: as a script whose
    namespace holds ``sys``, ``time`` and ``robot`` and nothing of the API else; return the report."""
    run = _Run(_World(state), float(timeout_s), _UPSTREAM_FILENAME, upstream=True)
    namespace = {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "sys": sys,
        "time": time,
        "robot": _Robot(),
    }
    try:
        code = compile(source, _UPSTREAM_FILENAME, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        # The benchmark's ``python -c`` fails before running anything: a crash with an empty trace.
        report = {"status": "exception", "trace": [], "step_lines": []}
        line = getattr(exc, "lineno", None)
        return {
            **report,
            "error_type": type(exc).__name__,
            "error_message": getattr(exc, "msg", str(exc)),
            "error_line": line,
        }

    def body():
        exec(code, namespace)  # noqa: S102 - the candidate, inside the sandbox

    return _execute(run, body)
