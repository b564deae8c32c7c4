"""EvalPlus's type fix-ups for MBPP+ inputs after JSON loading, as data keyed by task number.

JSON has no tuples, sets or complex numbers, so EvalPlus 0.3.1 rebuilds them per task
(``evalplus/data/mbpp.py::mbpp_deserialize_inputs``). Each rule below takes one input (the JSON
argument list) and returns it fixed, with the same quirks (e.g. rules that keep only two arguments);
a test checks them against the evalplus package on every task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Input = Any
Rule = Callable[[Input], Input]


def _args_to_tuples(inp: Input) -> Input:
    return [tuple(arg) for arg in inp]


def _arg_items_to_tuples(inp: Input) -> Input:
    return [[tuple(item) for item in arg] for arg in inp]


def _first_arg_items_to_tuples(inp: Input) -> Input:
    return [[tuple(item) for item in inp[0]], inp[1]]


def _second_arg_to_tuple(inp: Input) -> Input:
    return [inp[0], tuple(inp[1])]


def _first_arg_sets(inp: Input) -> Input:
    # EvalPlus turns an empty list into {} (a dict), not set(): kept as it is.
    return [[set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]]]


def _float_and_complex(inp: Input) -> Input:
    return (float(inp[0]), complex(inp[1]))


def _first_arg_to_tuple(inp: Input) -> Input:
    return [tuple(inp[0]), inp[1]]


def _nested_tuples(inp: Input) -> Input:
    return _args_to_tuples(_arg_items_to_tuples(inp))


def _first_arg_lists_to_tuples_then_args(inp: Input) -> Input:
    return _args_to_tuples([[tuple(item) if isinstance(item, list) else item for item in inp[0]]])


def _first_arg_to_tuple_of_three(inp: Input) -> Input:
    return [tuple(inp[0]), inp[1], inp[2]]


def _dict_values_to_tuples(inp: Input) -> Input:
    return [{key: tuple(value) for key, value in inp[0].items()}, *inp[1:]]


def _complex_arg(inp: Input) -> Input:
    return [complex(inp[0])]


def _all_lists_to_tuples(inp: Input) -> Input:
    if isinstance(inp, list):
        return tuple(_all_lists_to_tuples(item) for item in inp)
    return inp


def _rules(numbers: list[int], rule: Rule) -> dict[int, Rule]:
    return dict.fromkeys(numbers, rule)


FIXUPS: dict[int, Rule] = {
    **_rules(
        [
            2,
            116,
            132,
            143,
            222,
            261,
            273,
            394,
            399,
            421,
            424,
            429,
            470,
            560,
            579,
            596,
            616,
            630,
            726,
            740,
            744,
            809,
        ],
        _args_to_tuples,
    ),
    **_rules([63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780], _arg_items_to_tuples),
    **_rules([75, 413, 444, 753], _first_arg_items_to_tuples),
    **_rules([106, 750], _second_arg_to_tuple),
    115: _first_arg_sets,
    124: _float_and_complex,
    **_rules([250, 405, 446, 617, 720, 763, 808], _first_arg_to_tuple),
    **_rules([259, 401, 445], _nested_tuples),
    278: _first_arg_lists_to_tuples_then_args,
    307: _first_arg_to_tuple_of_three,
    722: _dict_values_to_tuples,
    252: _complex_arg,
    **_rules([580, 615, 791], _all_lists_to_tuples),
}


def fix_inputs(task_number: int, inputs: list[Input]) -> tuple[tuple[Any, ...], ...]:
    """The inputs of one split as argument tuples, after the task's fix-up (if it has one)."""
    rule = FIXUPS.get(task_number)
    return tuple(tuple(rule(inp) if rule else inp) for inp in inputs)


def serialize_failing_inputs(task_number: int, inputs: list[tuple[Any, ...]]) -> list[Any]:
    """Failing inputs as EvalPlus writes them to its result file (``mbpp_serialize_inputs``), JSON-ready."""
    if task_number == 115:
        return [[[list(item) for item in inp[0]]] for inp in inputs]
    if task_number == 124:
        return [[str(inp[0]), str(inp[1])] for inp in inputs]
    if task_number == 252:
        return [[str(inp[0])] for inp in inputs]
    return [jsonable(inp) for inp in inputs]


def jsonable(value: Any) -> Any:
    """``value`` with tuples and sets as lists and complex numbers as strings, so ``json.dump`` accepts it."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {
            key if isinstance(key, (str, int, float, bool)) else str(key): jsonable(v)
            for key, v in value.items()
        }
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value
