"""The robot API inside the sandbox: thin stubs that send each call to the simulator in the parent.

This file's source text is shipped as ``Job.prelude``: stdlib only, no execrl imports. It runs in the
program's own process and (under injected semantics) its namespace, so nothing here is trusted and
nothing here decides anything: the world, the trace and the verdict live in the parent's
``RobotService`` (execrl/robot/simulator.py), which checks every request as untrusted data. A program
that rebinds, patches or bypasses these stubs can only send the simulator requests of its own
choosing, which is what calling the API does anyway. What the stubs do for an honest program:

* send each call and its arguments (``_execrl_host_call``, the sandbox's host-call channel) and
  return the reply, or raise the error the simulator names (``Exception("RobotGoToError: ...")``,
  ``TypeError(...)``); ``ask`` returns the program's own option object at the index the simulator
  chose;
* keep the clock's CPU part, which can only be read here: the process's CPU time travels with every
  call, and a line hook (``sys.settrace``) ends a program still computing at the end of its budget;
  ``time.sleep`` is simulated (the simulator counts the seconds); the budget's end is a
  BaseException, so ``except Exception`` cannot stop it;
* send the line of the program's code that made each call, so that findings can be located (a hint:
  a wrong one can only misplace the program's own blame);
* under upstream semantics, collect what the program prints and send it with its next call, so that
  the simulator can read the output the way the benchmark does; and keep the list ``get_all_rooms``
  returned, whose edits change the world's rooms there, as in the benchmark;
* return how ``task_program()`` ended: ``{"status", "error_type", "error_message", "error_line"}``.

Only the robot API functions, ``time`` and ``sys`` are meant for the program (the benchmark's
programs use ``time.sleep`` without importing it); everything else starts with ``_``.

Entry points: ``_execrl_run_robot(timeout_s, cpu_base)`` calls the program's ``task_program()``
(injected semantics); ``_execrl_run_robot_upstream(timeout_s, cpu_base, source)`` runs a program the
way the benchmark does, ``source`` being its text after the benchmark's rewrite (``robot.go_to(...)``
on a ``robot`` object, ``task_program(robot)`` called at the end; ``execrl.robot.rewrite``).
``cpu_base`` is the process CPU time the clock starts from (0 in a sandbox job, whose process starts
with the job, so the clock and the kernel's CPU count agree).
"""

import math
import sys
import time

_process_time = time.process_time
# Whatever the program raises ends it as a crash, as the benchmark's process does.
# ruff: noqa: BLE001

# Through ``__wrapped__`` when this source was already run in the same process (in-process runs).
_real_sleep = getattr(time.sleep, "__wrapped__", time.sleep)
_SCALARS = (str, int, float, bool, complex, bytes, type(None))
_CONTAINERS = (list, tuple, set, frozenset)
_ERRORS = {
    "Exception": Exception,
    "TypeError": TypeError,
    "ValueError": ValueError,
    "RuntimeError": RuntimeError,
}
_BATCH_CALLS = 256  # calls a batch holds at most
_BATCH_CHARS = 16 * 1024  # and characters of text (a quarter of the trace bound)
_LINE_CHARS = 30  # about what a trace line adds to its text
_UPSTREAM_FILENAME = "<roboeval program>"
_SHORT_SLEEP_S = 0.01


class _SimulatedTimeout(BaseException):
    """The run's time (or output) budget is spent; a BaseException so ``except Exception`` cannot stop it."""


class _Run:
    """One execution of the program: the clock as read here, and the calls not sent yet.

    A call whose reply the program's process already knows (``say``, ``sleep``, an ``is_in_room`` the
    robot asked in the same place before, and, under upstream, what the program printed) waits in
    ``batch`` and travels with the next call that needs the simulator's answer, or when the batch is
    full: one round trip instead of one a call. The simulator applies the calls in order, each with
    the clock reading and program line of the moment it was made, so the trace, the bounds and the
    budget's end fall on the same call as if each had been sent alone; a program that keeps running
    past a refused batched call only runs until its next round trip, which is then refused too.
    """

    def __init__(self, timeout_s, cpu_base, filename, upstream):
        self.timeout_s = timeout_s
        self.cpu_base = cpu_base
        self.filename = filename  # of the program's code, to find the line of each call
        self.upstream = upstream
        self.slept = 0.0  # the simulator counts the same
        self.expired = False
        self.batch = []
        self.batch_chars = 0
        self.location = None  # where the robot is, as the simulator last said (None: ask it)
        self.seen = {}  # is_in_room answers since the robot last moved, picked or placed
        self.rooms = None  # what get_all_rooms returned (upstream: the world's own list)
        self.rooms_sent = None

    def check_clock(self):
        if self.expired or _process_time() - self.cpu_base + self.slept > self.timeout_s:
            self.expired = True
            raise _SimulatedTimeout()

    def item(self, op, args):
        return (op, args, _process_time() - self.cpu_base, self.caller_line())

    def call(self, op, args):
        """A call that needs the simulator's answer: sent now, with the batch before it."""
        self.check_clock()
        return self.send(self.item(op, args))

    def defer(self, op, args, chars):
        self.check_clock()
        self.batch.append(self.item(op, args))
        self.batch_chars += chars
        if len(self.batch) >= _BATCH_CALLS or self.batch_chars > _BATCH_CHARS:
            self.send(("flush", (), _process_time() - self.cpu_base, None))

    def write(self, text):
        """Upstream: text the program printed, delivered in order between the calls."""
        if self.expired or not text:
            return
        self.batch.append(("out", (text,), _process_time() - self.cpu_base, None))
        self.batch_chars += len(text)
        if self.batch_chars > _BATCH_CHARS:
            self.send(("flush", (), _process_time() - self.cpu_base, None))

    def send(self, last):
        request = self.batch
        self.batch, self.batch_chars = [], 0
        if self.upstream and self.rooms is not None and self.rooms != self.rooms_sent:
            self.rooms_sent = [room if isinstance(room, str) else None for room in self.rooms]
            request.append(("rooms", (self.rooms_sent,), last[2], None))
        request.append(last)
        try:
            reply = _execrl_host_call(request)  # noqa: F821 - put in the namespace by the sandbox
        except HostCallError:  # noqa: F821
            # Refused by the channel: a request larger than the trace bound, or past the call budget.
            self.expired = True
            raise _SimulatedTimeout() from None
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "timeout":
            self.expired = True
            raise _SimulatedTimeout()
        raise _ERRORS.get(reply[1], Exception)(reply[2])

    def finish(self):
        """The run is over: deliver what is still batched (made before it ended)."""
        if self.batch:
            try:
                self.send(("end", (), _process_time() - self.cpu_base, None))
            except _SimulatedTimeout:
                pass

    def caller_line(self):
        """The line of the innermost frame of the program's code on the stack (None if there is none)."""
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back
        return None


class _Output:
    """``sys.stdout`` during a run: upstream keeps the text for the simulator, injected drops it."""

    def __init__(self, run):
        self._run = run

    def write(self, text):
        text = str(text)
        if self._run.upstream:
            self._run.write(text)
        return len(text)

    def flush(self):
        pass


_active = [None]


def _current():
    run = _active[0]
    if run is None:
        raise RuntimeError("RobotSimulatorError: the robot API can only be used while task_program() runs")
    return run


def _text(value):
    # A string travels as itself; anything else as None, which the simulator refuses as not a string.
    return value if isinstance(value, str) else None


def _plain(value, depth=0):
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth > 20:
        return False
    if kind in _CONTAINERS:
        return all(_plain(item, depth + 1) for item in value)
    if kind is dict:
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return False


def get_current_location():
    run = _current()
    if run.location is None:
        run.location = run.call("get_current_location", ())
    else:
        run.check_clock()
    return run.location


def get_all_rooms():
    run = _current()
    if run.rooms is None:
        run.rooms = run.call("get_all_rooms", ())
        run.rooms_sent = list(run.rooms)
    else:
        run.check_clock()
    # The benchmark returns the world's own list: the same object every time, and edits count.
    return run.rooms if run.upstream else list(run.rooms)


def is_in_room(object):  # the parameter name shown to the model
    run = _current()
    if type(object) is str and object in run.seen:
        run.defer("is_in_room", (object,), len(object) + _LINE_CHARS)
        return run.seen[object]
    answer = run.call("is_in_room", (_text(object),))
    if type(object) is str:
        run.seen[object] = answer
    return answer


def go_to(location):
    run = _current()
    run.location = None
    run.seen.clear()
    run.location = run.call("go_to", (_text(location),))


def ask(person, question, options):
    # Options that are not plain data travel as their text, which is what the simulator matches.
    sent = [o if _plain(o) else str(o) for o in options] if isinstance(options, list) else None
    index = _current().call("ask", (_text(person), _text(question), sent))
    return options[index]


def say(message):
    run = _current()
    if type(message) is str and len(message) < _BATCH_CHARS:
        run.defer("say", (message,), len(message) + _LINE_CHARS)
    else:
        run.call("say", (_text(message),))


def pick(obj):
    run = _current()
    run.seen.clear()
    run.call("pick", (_text(obj),))


def place(obj):
    run = _current()
    run.seen.clear()
    run.call("place", (_text(obj),))


def _simulated_sleep(seconds):
    run = _active[0]
    if run is None:
        return _real_sleep(seconds)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"'{type(seconds).__name__}' object cannot be interpreted as an integer")
    if isinstance(seconds, float) and math.isnan(seconds):
        raise ValueError("Invalid value NaN (not a number)")
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    # The simulator counts the same (and is the one that counts): the value 1 is shortened under
    # injected semantics, as the benchmark's rewrite of the text ``time.sleep(1)``.
    short = not run.upstream and type(seconds) is int and seconds == 1
    try:
        cost = _SHORT_SLEEP_S if short else float(seconds)
    except OverflowError:
        cost = float("inf")
    run.defer("sleep", (seconds,), _LINE_CHARS)
    run.slept += cost
    run.check_clock()


# Installed for good (it sleeps for real outside a run) so that ``from time import sleep`` in the
# program, which runs after this prelude, also gets the simulated clock.
_simulated_sleep.__wrapped__ = _real_sleep
time.sleep = _simulated_sleep


def _tracer(run, filename):
    """A ``sys.settrace`` hook that checks the clock on every line of the program's own code."""

    def on_line(frame, event, arg):
        if event == "line":
            run.check_clock()
        return on_line

    def on_call(frame, event, arg):
        return on_line if frame.f_code.co_filename == filename else None

    return on_call


def _program_line(traceback, filename):
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _execute(run, body):
    """Run ``body()`` (the program) inside ``run``; how it ended, as plain data."""
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
        error_line = _program_line(exc.__traceback__, run.filename)
    finally:
        sys.settrace(saved_trace)
        sys.stdout = saved_stdout
        _active[0] = None
    if run.expired:
        # The benchmark kills the process at the deadline, whatever the program did afterwards.
        status, error_type, error_message, error_line = "timeout", None, None, None
    run.finish()
    return {
        "status": status,
        "error_type": error_type,
        "error_message": error_message,
        "error_line": error_line,
    }


def _execrl_run_robot(timeout_s, cpu_base):
    """Run ``task_program()`` once, the API injected; return how it ended."""
    program = globals().get("task_program")
    filename = getattr(getattr(program, "__code__", None), "co_filename", None)

    def body():
        if program is None:
            raise NameError("name 'task_program' is not defined")
        program()

    return _execute(_Run(float(timeout_s), cpu_base, filename, upstream=False), body)


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


def _execrl_run_robot_upstream(timeout_s, cpu_base, source):
    """Run a rewritten program (``source``) as the benchmark's evaluator does: as a script whose
    namespace holds ``sys``, ``time`` and ``robot`` and nothing of the API else; return how it ended."""
    run = _Run(float(timeout_s), cpu_base, _UPSTREAM_FILENAME, upstream=True)
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
        message = getattr(exc, "msg", str(exc))
        return {"status": "exception", "error_type": type(exc).__name__, "error_message": message,
                "error_line": getattr(exc, "lineno", None)}  # fmt: skip

    def body():
        exec(code, namespace)  # noqa: S102 - the program, inside the sandbox

    return _execute(run, body)
