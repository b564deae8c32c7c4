"""The sandbox jobs of MBPP+: one per (program, split), EvalPlus's time limits included."""

from __future__ import annotations

from typing import Literal

from execrl.eval.mbppplus_oracle import NOT_NONE_FUNCTIONS, SET_EQ_FUNCTIONS
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
# - A huge list or tuple (Mbpp/255 returns 1.66M tuples of 77 strings: ~1 GB as JSON) comes back as
#   a digest when it is made only of str, int, bytes, None, lists and tuples: for those types,
#   marshal format 0 (no references, no interning marks) is canonical, so equal bytes mean == and
#   equal digests mean equal values. Anything else (floats, bools, sets, dicts) comes back as data.
WRAPPER = "_execrl_call"
DIGEST_MARK = "__execrl_digest__"
DIGEST_MIN_ITEMS = 50_000
_PRELUDE = """
import hashlib as _execrl_hashlib
import itertools as _execrl_itertools
import marshal as _execrl_marshal

class MissingFunction(Exception):
    pass

class SkippedAfterFailure(Exception):
    pass

_execrl_state = {{}}

def _execrl_compact(out, _sha=_execrl_hashlib.sha256, _dumps=_execrl_marshal.dumps,
                    _chain=_execrl_itertools.chain.from_iterable,
                    _containers=(list, tuple), _leaves=(str, int, bytes, type(None))):
    if type(out) not in _containers or len(out) < {min_items}:
        return out
    items = lambda: out
    while True:
        kinds = set(map(type, items()))
        if not kinds <= {{*_containers, *_leaves}}:
            return out
        if not kinds & set(_containers):
            break
        items = (lambda level: lambda: _chain(x for x in level() if type(x) in _containers))(items)
    digest = _sha(type(out).__name__.encode())
    try:
        for start in range(0, len(out), 10_000):
            digest.update(_dumps(out[start:start + 10_000], 0))
    except ValueError:  # nested too deeply for marshal: send the value itself
        return out
    return ({mark!r}, len(out), digest.hexdigest())

def _execrl_call(*args):
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
    "plain": "_execrl_compact(out)",
    "set_eq": "out",  # compared as sets: the value itself is needed
    "candidate_not_none": "out if isinstance(out, bool) else out is not None",
    "reference_not_none": "out is not None",
}


def wrapper_prelude(entry_point: str, transform: str, min_items: int = DIGEST_MIN_ITEMS) -> str:
    """The prelude that defines the wrapper; ``transform`` is a key of ``TRANSFORMS``."""
    return _PRELUDE.format(
        name=entry_point, transform=TRANSFORMS[transform], min_items=min_items, mark=DIGEST_MARK
    )


def inputs_of(task: PlusTask, split: Split) -> tuple[tuple, ...]:
    return task.base_inputs if split == "base" else task.plus_inputs


def time_limits(reference_times: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(max(MIN_TIME_LIMIT_S, TIME_LIMIT_FACTOR * t) for t in reference_times)


def split_job(program: str, task: PlusTask, split: Split, reference_times: tuple[float, ...] | None) -> Job:
    """The job that runs ``program`` on one split; ``reference_times`` None means it is the canonical run."""
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
    transform = "set_eq" if task.entry_point in SET_EQ_FUNCTIONS else "plain"
    if task.entry_point in NOT_NONE_FUNCTIONS:
        transform = "reference_not_none" if reference_times is None else "candidate_not_none"
    prelude = wrapper_prelude(task.entry_point, transform)
    tests = CallTests(function=WRAPPER, inputs=inputs, call_timeouts_s=call_limits)
    return Job(code=program, tests=tests, limits=limits, prelude=prelude)
