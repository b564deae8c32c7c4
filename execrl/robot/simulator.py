"""RoboEval's robot world, simulated in the judge's process: the service a robot program's API calls reach.

A robot program runs in the sandbox with thin stubs for the robot API (``execrl/robot/stubs.py``); each
call travels to a :class:`RobotService` in the parent through the sandbox's host-call channel
(docs/sandbox.md). One service serves one run of one program against one world state, and nothing of
it is in the program's process: the program can only send it requests, which are decoded as untrusted
plain data and checked field by field here. The service applies each call to its world, records the
trace step (or, under upstream semantics, the trace line) itself, and keeps the simulated clock; the
run's verdict is read from it after the job (``execrl.robot.runner.decode_run``), never from what the
program reports or prints.

Semantics follow the benchmark's simulator (shared/specs/roboeval.md, sections 3-5 and 10):
matching is a case-insensitive regex *search* with the world's value as the pattern and the program's
argument as the text; every robot error message contains "Robot". Two exceptions, both because a
pattern the program wrote would run in this process (a regex can take exponential time): a label the
program ``place``-d and, under upstream semantics, a room the program added to the list
``get_all_rooms`` returned are matched literally.

Time is simulated: a run has a budget of ``timeout_s`` seconds counted as the CPU time of the
program's process plus the seconds it slept. Sleeps are counted here (``time.sleep(1)`` costs 0.01 s
under injected semantics, as the benchmark's rewrite of that call; any other sleep its full length
without waiting). CPU time can only be read in the program's process: each request carries the
stubs' reading, which this service takes as a lower bound on the clock (it never goes back), and
``decode_run`` holds the run against the kernel's count of the job's CPU time afterwards. Past the
budget every call is refused and the run is a timeout. The trace is bounded like the benchmark's
pipe (64 KiB of trace lines; under upstream, with the program's prints), and a run may make at most
``MAX_CALLS`` calls: past either, the run ends as a timeout too.

``injected``: the trace is the steps this service recorded, in call order; what the program prints is
no part of it. ``upstream``: the benchmark reads its trace from the program's output, so the stubs
send what the program printed with its next call, the service writes its own trace lines between
those texts in order, and the output is parsed the benchmark's way at the end (stopping at the first
line that does not parse; a timed-out run read from its first 10 KiB). A line the program printed in
the trace format is then a step, as upstream: that semantics reproduces the benchmark and is not meant
for training (docs/roboeval.md).
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any

from execrl.robot.checks import Step, Trace
from execrl.robot.rewrite import UPSTREAM, Semantics, check_semantics

DELIM = "/$@!/"
MAX_OUTPUT_CHARS = 64 * 1024
MAX_CALLS = 20_000  # far above any program that keeps within its budget (the references make <= 2,200)
MAX_BATCH = 1024  # calls in one request (the stubs send at most 258)
# The benchmark's reader drains about 1 KiB of output every 0.1 s of its 1 s budget: a timed-out
# run's trace is read from its first 10 KiB, the last line usually cut (spec addendum, item 5).
UPSTREAM_TIMEOUT_TRACE_BYTES = 10 * 1024
SHORT_SLEEP_S = 0.01
_MAX_LINE = 10_000_000
# Exception types the stubs may raise in the program: the benchmark's own (plain Exception for
# robot errors, TypeError for bad arguments) and those of a bad sleep or a room that is not a string.
ERROR_TYPES = ("Exception", "TypeError", "ValueError", "RuntimeError")


class _Expired(Exception):
    """The run's budget (time, output or calls) is spent: the call is refused."""


class _RobotError(Exception):
    """An error the program sees, raised by the stub that made the call (``kind`` is in ERROR_TYPES)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


class _Malformed(Exception):
    """A request no stub sends: refused, with no effect on the world."""


def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _literal(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text), re.IGNORECASE)


class _World:
    """Rooms, objects, people with answer queues, and the robot: one benchmark initial state.

    Every name is kept with the pattern it is matched with: the state's own values are regexes (the
    task data is trusted), strings the program put into the world are matched literally.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        try:
            self.locations: list[str | None] = list(state["locations"])
            self.room_patterns = {room: _regex(room) for room in self.locations}
            self.state_rooms = dict(self.room_patterns)
            self.objects = {
                room: [(label, _regex(label)) for label in labels]
                for room, labels in state.get("objects", {}).items()
            }
            self.agents = {
                room: [(_regex(person["name_regex"]), list(person["answers"])) for person in people]
                for room, people in state.get("agents", {}).items()
            }
            self.robot_location = state["robot_location"]
        except (KeyError, TypeError, re.error) as exc:
            raise ValueError(f"SimulatorError: not a world state ({type(exc).__name__}: {exc})") from None
        self.holding: str | None = None
        for room in [self.robot_location, *self.objects, *self.agents]:
            if room not in self.locations:
                raise ValueError(f"SimulatorError: {room!r} is not in locations {self.locations}")

    def move_to(self, location: str) -> None:
        # The first world location whose name is found inside the argument wins, so
        # "the kitchen area" reaches "kitchen" and "printer room 10" reaches "printer room 1".
        for room in self.locations:
            pattern = self.room_patterns.get(room) if isinstance(room, str) else None
            if pattern is None:
                # Upstream: the program put a non-string into the world's room list; re.search fails on it.
                raise _RobotError("TypeError", "first argument must be string or compiled pattern")
            if pattern.search(location):
                self.robot_location = room
                return
        raise _RobotError("Exception", "RobotGoToError: update_robot_location failed")

    def set_rooms(self, rooms: list[Any]) -> None:
        """Upstream: the program edited the list ``get_all_rooms`` returned, which is the world's own."""
        self.locations = [room if type(room) is str else None for room in rooms]
        self.room_patterns = {
            room: self.state_rooms.get(room) or _literal(room) for room in self.locations if room is not None
        }

    def is_in_room(self, entity: str) -> bool:
        # Person names are ".*" in every benchmark state, so any entity "is in" a room with a person.
        here = self.robot_location
        return any(pattern.search(entity) for _, pattern in self.objects.get(here, [])) or any(
            name.search(entity) for name, _ in self.agents.get(here, [])
        )

    def answer(self, person: str, question: str, options: list[str]) -> int | None:
        """The index of the option the person picks (``options`` as text), or None if nobody can answer."""
        for name, answers in self.agents.get(self.robot_location, []):
            if not name.search(person):
                continue
            if not answers:
                return None  # the benchmark's IndexError, which fails the whole ask
            # The last answer repeats forever.
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            for index, option in enumerate(options):
                if re.search(answer, option, re.IGNORECASE):
                    return index
            # No option matches the answer: say yes if the answer is in the question, else no; with
            # no such option, the next person in the room is asked.
            fallback = "yes" if re.search(answer, question, re.IGNORECASE) else "no"
            for index, option in enumerate(options):
                if re.search(fallback, option, re.IGNORECASE):
                    return index
        return None

    def remove_object(self, obj: str) -> bool:
        labels = self.objects.get(self.robot_location, [])
        for index, (_, pattern) in enumerate(labels):
            if pattern.search(obj):
                del labels[index]
                return True
        return False

    def put(self, obj: str) -> None:
        self.objects.setdefault(self.robot_location, []).append((obj, _literal(obj)))


@dataclass(frozen=True)
class _Call:
    op: str
    args: tuple[Any, ...]
    cpu: float
    line: int | None


# Each operation and the number of arguments its stub sends.
_ARITY = {
    "get_current_location": 0,
    "get_all_rooms": 0,
    "is_in_room": 1,
    "go_to": 1,
    "ask": 3,
    "say": 1,
    "pick": 1,
    "place": 1,
    "sleep": 1,
    "out": 1,  # upstream: text the program printed
    "rooms": 1,  # upstream: the program edited the list get_all_rooms returned
    "flush": 0,  # nothing but a round trip: is the run still on?
    "end": 0,  # the run is over
}
_BOOKKEEPING = frozenset({"out", "rooms", "flush", "end"})


def _parse(item: Any) -> _Call:
    if type(item) not in (list, tuple) or len(item) != 4:
        raise _Malformed("a call is (operation, arguments, cpu seconds, line)")
    op, args, cpu, line = item
    if type(op) is not str or op not in _ARITY:
        raise _Malformed(f"unknown operation {str(op)[:40]!r}")
    if type(args) not in (list, tuple) or len(args) != _ARITY[op]:
        raise _Malformed(f"{op} takes {_ARITY[op]} arguments")
    if type(cpu) not in (int, float) or not 0 <= cpu < math.inf:
        raise _Malformed("cpu is a finite, non-negative number of seconds")
    # Where the call came from only places a finding; a bad one is dropped, never refused.
    line = line if type(line) is int and 0 < line <= _MAX_LINE else None
    return _Call(op, tuple(args), float(cpu), line)


def _string(value: Any, message: str) -> str:
    if type(value) is not str:
        raise _RobotError("TypeError", message)
    return value


class RobotService:
    """One run of one program against one world state: the world, the simulated clock and the trace.

    ``service(request)`` answers one API call from the program's stubs with ``("ok", value)``,
    ``("raise", type_name, message)`` (the stub raises it in the program) or ``("timeout",)``. It never
    raises: a request no stub sends is refused with a ``RobotSimulatorError``, and a failure of the
    service itself is recorded in ``fault`` (the run is then a failure, never the batch's).
    """

    def __init__(self, state: dict[str, Any], timeout_s: float, semantics: Semantics) -> None:
        self.world = _World(state)
        self.timeout_s = float(timeout_s)
        self.upstream = check_semantics(semantics) == UPSTREAM
        self.cpu = 0.0  # the highest CPU reading a request carried
        self.slept = 0.0
        self.calls = 0
        self.expired = False
        self.fault: str | None = None
        self.size = 0  # characters of output: trace lines, and under upstream the program's prints
        self.steps: list[Step] = []  # injected: the trace
        self.chunks: list[str] = []  # upstream: the output, prints and trace lines in order
        self.call_lines: dict[int, int | None] = {}  # upstream: output offset of a trace line -> line

    # -- the channel ---------------------------------------------------------------------------------

    def __call__(self, request: Any) -> tuple[Any, ...]:
        """Apply a request's calls in order (the stubs batch the calls whose reply they know); the
        reply is the last call's. A batched call that fails is dropped, as if the program had caught
        its error; past the budget, nothing more is applied."""
        if type(request) is not list or not 0 < len(request) <= MAX_BATCH:
            return (
                "raise",
                "RuntimeError",
                f"RobotSimulatorError: a request is a list of 1 to {MAX_BATCH} calls",
            )
        reply: tuple[Any, ...] = ("ok", None)
        for item in request:
            reply = self._apply(item)
            if reply[0] == "timeout":
                break
        return reply

    def _apply(self, item: Any) -> tuple[Any, ...]:
        self.calls += 1
        try:
            call = _parse(item)
        except _Malformed as exc:
            return ("raise", "RuntimeError", f"RobotSimulatorError: malformed call: {exc}")
        try:
            if self.calls > MAX_CALLS:
                self.expired = True
            if call.op == "end":
                return ("ok", None)
            self.cpu = max(self.cpu, call.cpu)
            self._check_clock()
            if call.op in _BOOKKEEPING:
                return ("ok", self._bookkeeping(call))
            return ("ok", getattr(self, f"_{call.op}")(*call.args, line=call.line))
        except _Expired:
            return ("timeout",)
        except _RobotError as exc:
            return ("raise", exc.kind, exc.message)
        except Exception as exc:  # noqa: BLE001 - the service's own failure is this run's, never the batch's
            self.fault = f"{type(exc).__name__}: {exc}"[:500]
            return ("raise", "RuntimeError", "RobotSimulatorError: the simulator failed")

    def _bookkeeping(self, call: _Call) -> None:
        (value,) = call.args or (None,)
        if call.op == "out" and type(value) is str and self.upstream:
            self._write(value)
        elif call.op == "rooms" and type(value) is list and self.upstream:
            self.world.set_rooms(value)

    def _check_clock(self) -> None:
        if self.expired or self.cpu + self.slept > self.timeout_s:
            self.expired = True
            raise _Expired

    def _write(self, text: str, line: int | None = None, step: Step | None = None) -> None:
        # The benchmark's pipe fills up and the program blocks until it is killed: a timeout.
        if self.size + len(text) > MAX_OUTPUT_CHARS:
            self.expired = True
            raise _Expired
        if self.upstream:
            if step is not None:
                self.call_lines[self.size] = line
            self.chunks.append(text)
        elif step is not None:
            self.steps.append(step)
        self.size += len(text)

    def _emit(self, name: str, value: str, line: int | None, options: list[Any] | None = None) -> None:
        step = Step(name, value.strip(), None if options is None else tuple(options), line)
        self._write(f"{name} {DELIM} {value} {DELIM} {options}\n", line, step)

    # -- the robot API ---------------------------------------------------------------------------------

    def _get_current_location(self, *, line: int | None) -> str | None:
        return self.world.robot_location

    def _get_all_rooms(self, *, line: int | None) -> list[str | None]:
        return list(self.world.locations)  # a copy: under upstream the stubs keep the program's list

    def _is_in_room(self, entity: Any, *, line: int | None) -> bool:
        entity = _string(entity, "RobotCheckEntityError: entity must be a string")
        self._emit("CheckEntity", entity, line)
        return self.world.is_in_room(entity)

    def _go_to(self, location: Any, *, line: int | None) -> str | None:
        """Moves the robot; returns where it is now (the stub keeps it for get_current_location)."""
        location = _string(location, "RobotGoToError: location must be a string")
        # Written before moving: a failed go_to stays in the trace and the robot stays where it was.
        self._emit("GoTo", location, line)
        self.world.move_to(location)
        return self.world.robot_location

    def _ask(self, person: Any, question: Any, options: Any, *, line: int | None) -> int:
        person = _string(person, "RobotAskError: person must be a string")
        question = _string(question, "RobotAskError: question must be a string")
        if type(options) is not list:
            raise _RobotError("TypeError", "RobotAskError: options must be a list")
        self._emit("Ask", question, line, options)
        if not options:
            raise _RobotError("Exception", "RobotAskError: invalid options")
        # Options are searched as text (``str(option)``), as the benchmark does: ``[1, 2]`` works.
        index = self.world.answer(person, question, [str(option) for option in options])
        if index is None:
            raise _RobotError("Exception", "RobotAskError: ask_agent failed")
        return index

    def _say(self, message: Any, *, line: int | None) -> None:
        self._emit("Say", _string(message, "RobotSayError: message must be a string"), line)

    def _pick(self, obj: Any, *, line: int | None) -> None:
        obj = _string(obj, "RobotPickError: obj must be a string")
        world = self.world
        if world.holding is not None:
            raise _RobotError("Exception", f"RobotPickError: Robot is already holding {world.holding}")
        if not world.remove_object(obj):
            raise _RobotError("Exception", "RobotPickError: removeObject failed")
        world.holding = obj
        self._emit("Pick", obj, line)

    def _place(self, obj: Any, *, line: int | None) -> None:
        obj = _string(obj, "RobotPlaceError: obj must be a string")
        world = self.world
        if world.holding != obj:
            raise _RobotError("Exception", f"RobotPlaceError: Robot is not holding {obj}")
        world.holding = None
        world.put(obj)
        self._emit("Place", obj, line)

    def _sleep(self, seconds: Any, *, line: int | None) -> float:
        """Costs the seconds asked without waiting; returns the seconds slept so far."""
        if type(seconds) not in (int, float):
            raise _RobotError(
                "TypeError", f"'{type(seconds).__name__}' object cannot be interpreted as an integer"
            )
        if type(seconds) is float and math.isnan(seconds):
            raise _RobotError("ValueError", "Invalid value NaN (not a number)")
        if seconds < 0:
            raise _RobotError("ValueError", "sleep length must be non-negative")
        # Injected: the benchmark's rewrite of the text ``time.sleep(1)`` applied to the value 1.
        # Upstream: the rewrite already happened in the text, so every sleep costs what it asks for.
        short = not self.upstream and type(seconds) is int and seconds == 1
        try:
            self.slept += SHORT_SLEEP_S if short else float(seconds)
        except OverflowError:
            self.slept = math.inf
        self._check_clock()
        return self.slept

    # -- after the run ---------------------------------------------------------------------------------

    def trace(self, timed_out: bool) -> Trace:
        """The run's trace: the steps recorded (injected), or the output parsed as upstream reads it."""
        if not self.upstream:
            return Trace(self.steps)
        text = "".join(self.chunks)
        if timed_out:
            text = text.encode("utf-8", "surrogatepass")[:UPSTREAM_TIMEOUT_TRACE_BYTES]
            text = text.decode("utf-8", errors="ignore")
        return _parse_upstream_trace(text, self.call_lines)


def _parse_upstream_trace(text: str, call_lines: dict[int, int | None]) -> Trace:
    """The benchmark's trace parser: three ``/$@!/``-separated fields a line, up to the first bad line.

    The output is stripped first, so leading blank lines do not end the trace; each step keeps the
    program line of the call that wrote it (None for a line the program printed).
    """
    steps: list[Step] = []
    offset = len(text) - len(text.lstrip())
    text = text.strip()
    if not text:
        return Trace()
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        parts = line.split(DELIM)
        if len(parts) != 3:
            break
        try:
            # Upstream ``eval``s this field; a forged line is only ever parsed as a literal here.
            extra = ast.literal_eval(parts[2].strip())
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            break
        options = tuple(extra) if isinstance(extra, list) else extra
        steps.append(Step(parts[0].strip(), parts[1].strip(), options, call_lines.get(start)))
    return Trace(steps)
