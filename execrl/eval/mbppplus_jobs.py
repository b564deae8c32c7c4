"""The sandbox jobs of MBPP+: one per (program, split), EvalPlus's time limits included."""

from __future__ import annotations

from typing import Literal

from execrl.eval.mbppplus_oracle import NOT_NONE_FUNCTIONS, SET_EQ_FUNCTIONS, SPECIAL_ORACLE_FUNCTIONS
from execrl.sandbox import AssertTests, CallTests, Job, Limits
from execrl.tasks.types import PlusTask

Split = Literal["base", "plus"]
SPLITS: tuple[Split, Split] = ("base", "plus")

# EvalPlus 0.3.1 (evalplus/config.py and eval/__init__.py): each input may take max(1 s, 4 x the
# canonical solution's time); the whole process gets min(60 s, sum of those) plus 2 s.
MIN_TIME_LIMIT_S = 1.0
TIME_LIMIT_FACTOR = 4.0
PROCESS_TIMEOUT_CAP_S = 60.0
PROCESS_TIMEOUT_SLACK_S = 2.0
MEMORY_MB = 4096  # EvalPlus's default address-space cap
REFERENCE_TIMEOUT_S = 600.0  # EvalPlus runs the canonical solutions without any limit

# Every split calls the entry point through this wrapper, defined in the candidate's namespace.
# - Like EvalPlus (fast check), a split stops at its first failing call: after a call raised (a
#   per-input timeout included), later calls fail at once instead of each using up its time limit.
# - The function is looked up once, after the program loaded, as EvalPlus does.
# - The "not None" tasks return re.Match objects, which are not data: the wrapper brings back what
#   EvalPlus compares (a bool result as is, else "is not None"); for the canonical solution, what
#   EvalPlus stores ("is not None").
# - Large values come back as a digest (Mbpp/255 returns 1.66M tuples of 77 strings: ~1 GB as JSON,
#   seconds to encode in the child and decode in the parent). The canonical run decides, input by
#   input: a list or tuple of at least DIGEST_MIN_ITEMS items (all depths counted) made only of str,
#   int, bytes, None, bool, float, lists and tuples becomes a sha256 of its pickle, where EvalPlus's
#   comparison for that input is plain ==: not under a float tolerance (the task has none and no output
#   so far was a float or a list of floats) and not one of the special oracles. Before pickling, bools
#   and integral floats become ints (True == 1, 2.0 == 2 under ==) and a NaN keeps the value as data
#   (NaN != NaN). The pickle (protocol 5, fast mode: no memo, so shared or interned objects leave no
#   trace) is then a function of the value that decodes back to it: equal digests mean ==.
#   A candidate's value for an input whose expected value is a digest is digested at any size, and
#   first without looking at its types (walking 128M strings costs seconds): its pickle is hashed as
#   it is written, and only if a bool or float opcode byte may be in it is the value walked and
#   normalised as above. Skipping the walk is sound because the expected pickle holds only plain
#   opcodes: a dict, a set or an object that pickles itself through __reduce__ gives other opcodes,
#   so its digest cannot match. A value that cannot be pickled stays as it is: never equal to a digest.
WRAPPER = "_execrl_call"
DIGEST_MARK = "__execrl_digest__"
DIGEST_MIN_ITEMS = 10_000
MAX_DIGEST_DEPTH = 100  # deeper (or cyclic) values come back as data, whose encoder has its own limit
_PRELUDE = """
import hashlib as _execrl_hashlib
import itertools as _execrl_itertools
import math as _execrl_math
import pickle as _execrl_pickle
import types as _execrl_types

class MissingFunction(Exception):
    pass

class SkippedAfterFailure(Exception):
    pass

class _ExecrlNotPlain(Exception):
    pass

_execrl_state = {{"calls": 0, "tolerant": {tolerant}}}
_execrl_digested = {digested}
_execrl_containers = (list, tuple)
_execrl_leaves = frozenset({{str, int, bytes, type(None)}})
_execrl_numbers = frozenset({{bool, float}})
_execrl_digestible = _execrl_leaves | _execrl_numbers | {{list, tuple}}

def _execrl_shape(out, _chain=_execrl_itertools.chain.from_iterable, _containers=_execrl_containers):
    # (types found, items at all depths), depth by depth; (None, n) when deeper than the limit
    level = lambda: (out,)
    kinds, total = set(), 0
    for _ in range({max_depth}):
        total += sum(map(len, level()))
        found = set(map(type, _chain(level())))
        kinds |= found
        if list not in found and tuple not in found:
            return kinds, total
        level = (lambda above: lambda: (x for x in _chain(above()) if type(x) in _containers))(level)
    return None, total

def _execrl_number(x):
    kind = type(x)
    if kind is bool:
        return 1 if x else 0
    if kind is float:
        if x != x:
            raise _ExecrlNotPlain
        return int(x) if x.is_integer() else x
    if kind is list or kind is tuple:
        return _execrl_normal(x)
    return x

def _execrl_normal(value, _is_integer=float.is_integer, _isnan=_execrl_math.isnan):
    # bools and integral floats as ints; a tuple of non-integral floats (the common case) unchanged
    kinds = set(map(type, value))
    if kinds <= _execrl_leaves:
        return value
    if kinds == {{float}} and not any(map(_isnan, value)) and not any(map(_is_integer, value)):
        return value
    return type(value)(map(_execrl_number, value))

class _ExecrlSink:
    # hashes a pickle as it is written; notes whether a NEWTRUE, NEWFALSE or BINFLOAT byte is in it
    def __init__(self):
        self.digest = _execrl_hashlib.sha256()
        self.numbers = False

    def write(self, chunk):
        self.digest.update(chunk)
        if not self.numbers:
            data = chunk if type(chunk) is bytes else bytes(chunk)
            self.numbers = b"\\x88" in data or b"\\x89" in data or b"G" in data

def _execrl_pickled(out):
    # the sink that hashed out's pickle (protocol 5, fast mode), or None when out does not pickle
    sink = _ExecrlSink()
    pickler = _execrl_pickle.Pickler(sink, protocol=5)
    pickler.fast = True
    try:
        pickler.dump(out)
    except Exception:
        return None
    return sink

def _execrl_digest(out, min_items):
    kinds, total = _execrl_shape(out)
    if kinds is None or total < min_items or not kinds <= _execrl_digestible:
        return out
    if kinds & _execrl_numbers:
        try:
            out = _execrl_normal(out)
        except _ExecrlNotPlain:
            return out
    sink = _execrl_pickled(out)
    return out if sink is None else ({mark!r}, sink.digest.hexdigest())

def _execrl_like_reference(out):
    if type(out) not in _execrl_containers:
        return out
    sink = _execrl_pickled(out)
    if sink is None:
        return out
    if sink.numbers:
        return _execrl_digest(out, 0)
    return ({mark!r}, sink.digest.hexdigest())

def _execrl_is_floats(out):
    # EvalPlus's is_floats: once an output is one, the rest of the split compares with a tolerance
    if isinstance(out, float):
        return True
    return isinstance(out, (list, tuple)) and len(out) > 0 and all(isinstance(x, float) for x in out)

def _execrl_compact(out):
    if _execrl_is_floats(out):
        _execrl_state["tolerant"] = True
    if _execrl_state["tolerant"] or type(out) not in _execrl_containers:
        return out
    return _execrl_digest(out, {min_items})

def _execrl_call(*args):
    index = _execrl_state["calls"]
    _execrl_state["calls"] = index + 1
    if "failed" in _execrl_state:
        raise SkippedAfterFailure("an earlier input of this split failed")
    if "fn" not in _execrl_state:
        _execrl_state["fn"] = globals().get({name!r})
        if _execrl_state["fn"] is None:
            _execrl_state["failed"] = True
            raise MissingFunction("the program defines no function named " + {name!r})
    try:
        out = _execrl_state["fn"](*args)
    except BaseException:
        _execrl_state["failed"] = True
        raise
    return {transform}
"""
TRANSFORMS = {
    "plain": "_execrl_compact(out)",  # the canonical run: large plain values become digests
    "like_reference": "_execrl_like_reference(out) if index in _execrl_digested else out",
    "set_eq": "out",  # compared as sets: the value itself is needed
    "candidate_not_none": "out if isinstance(out, bool) else out is not None",
    "reference_not_none": "out is not None",
}


def wrapper_prelude(
    entry_point: str,
    transform: str,
    digested: frozenset[int] = frozenset(),
    exact: bool = True,
    min_items: int = DIGEST_MIN_ITEMS,
) -> str:
    """The prelude that defines the wrapper; ``transform`` is a key of ``TRANSFORMS``.

    ``digested``: with ``like_reference``, the indices of the inputs whose expected value is a digest.
    ``exact``: whether EvalPlus compares this task's outputs with plain == (no tolerance, no special
    oracle) until an output says otherwise; the canonical run digests nothing where it does not.
    """
    return _PRELUDE.format(
        name=entry_point,
        transform=TRANSFORMS[transform],
        digested=f"frozenset({sorted(digested)!r})",
        tolerant=not exact,
        min_items=min_items,
        max_depth=MAX_DIGEST_DEPTH,
        mark=DIGEST_MARK,
    )


def is_digest(value: object) -> bool:
    """Whether ``value`` is a digest that the wrapper sent in place of a large value."""
    return type(value) is tuple and len(value) == 2 and value[0] == DIGEST_MARK


def inputs_of(task: PlusTask, split: Split) -> tuple[tuple, ...]:
    return task.base_inputs if split == "base" else task.plus_inputs


def time_limits(reference_times: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(max(MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR * t) for t in reference_times)


def split_job(
    program: str,
    task: PlusTask,
    split: Split,
    reference_times: tuple[float, ...] | None,
    digested: frozenset[int] = frozenset(),
) -> Job:
    """The job that runs ``program`` on one split; ``reference_times`` None means it is the canonical run.

    ``digested``: the inputs whose expected value is a digest (see the wrapper above).
    """
    inputs = inputs_of(task, split)
    if reference_times is None:
        limits = Limits(timeout_s=REFERENCE_TIMEOUT_S, memory_mb=MEMORY_MB)
        call_limits = None
    else:
        call_limits = time_limits(reference_times)
        process = min(PROCESS_TIMEOUT_CAP_S, sum(call_limits)) + PROCESS_TIMEOUT_SLACK_S
        limits = Limits(timeout_s=process, memory_mb=MEMORY_MB)
    if not inputs:
        # No calls to make: EvalPlus still looks the function up, so a program without it fails.
        return Job(code=program, tests=AssertTests(statements=(task.entry_point,)), limits=limits)
    transform = "plain" if reference_times is None else "like_reference"
    if task.entry_point in SET_EQ_FUNCTIONS:
        transform = "set_eq"
    elif task.entry_point in NOT_NONE_FUNCTIONS:
        transform = "reference_not_none" if reference_times is None else "candidate_not_none"
    exact = task.atol == 0 and task.entry_point not in SPECIAL_ORACLE_FUNCTIONS
    prelude = wrapper_prelude(task.entry_point, transform, digested, exact)
    tests = CallTests(function=WRAPPER, inputs=inputs, call_timeouts_s=call_limits)
    return Job(code=program, tests=tests, limits=limits, prelude=prelude)
