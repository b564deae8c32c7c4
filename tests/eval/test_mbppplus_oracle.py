from __future__ import annotations

from execrl.eval.mbppplus_oracle import (
    OutputChecker,
    digit_distance_alternative,
    is_floats,
    surface_area_alternative,
)


def test_plain_equality_comes_first() -> None:
    checker = OutputChecker("f", 0)
    assert checker.check(3.0, 3, ())  # expected int, got an equal float
    assert checker.check(True, 1, ())
    assert checker.check((1, 2), (1, 2), ())
    assert not checker.check([1, 2], (1, 2), ())  # list vs tuple are not equal
    assert not checker.check("3", 3, ())


def test_float_expected_switches_to_tolerance_and_needs_the_same_type() -> None:
    checker = OutputChecker("f", 0)
    assert checker.check(0.1 + 0.2, 0.3, ())
    assert checker.check(1.0000005, 1.0, ())
    assert not checker.check(1.00001, 1.0, ())
    assert not OutputChecker("f", 0).check(3, 3.0000001, ())  # int vs float near miss
    assert OutputChecker("f", 0).check([1.0, 2.0000001], [1.0, 2.0], ())
    assert not OutputChecker("f", 0).check((1.0, 2.0000001), [1.0, 2.0], ())
    assert not OutputChecker("f", 0).check([1.0], [1.0, 2.0], ())


def test_tolerance_sticks_for_the_rest_of_the_split() -> None:
    checker = OutputChecker("f", 0)
    assert not checker.check(10.0000001, 10, ())  # int expected: no tolerance yet
    assert checker.check(0.5, 0.5, ())  # a float expected turns it on ...
    assert checker.check(10.0000001, 10.0, ())
    assert not checker.check(10.0000001, 10, ())  # ... but an int vs float near miss still fails


def test_stated_atol_is_used() -> None:
    assert OutputChecker("f", 1e-4).check(2.00005, 2.0, ())
    assert not OutputChecker("f", 1e-4).check(2.001, 2.0, ())
    assert not OutputChecker("f", 0).check(2.00005, 2.0, ())


def test_set_oracle_ignores_order_duplicates_and_container_type() -> None:
    checker = OutputChecker("similar_elements", 0)
    assert checker.check([5, 4, 4], (4, 5), ())
    assert not checker.check([5], (4, 5), ())
    assert not checker.check(None, (4, 5), ())  # set(None) raises: a failed input


def test_not_none_oracle() -> None:
    checker = OutputChecker("text_match_three", 0)
    assert checker.check(True, True, ())
    assert not checker.check(False, True, ())
    assert checker.check("match", True, ())
    assert not checker.check(None, True, ())


def test_alternative_formulas_of_581_and_558() -> None:
    assert OutputChecker("surface_Area", 0).check(surface_area_alternative(3, 4), 33, (3, 4))
    assert OutputChecker("digit_distance_nums", 0).check(digit_distance_alternative(123, 45), 999, (123, 45))
    assert not OutputChecker("digit_distance_nums", 0).check(-1, 999, (123, 45))


_EVALPLUS_ORACLES = """
import json
from evalplus.eval import _special_oracle as oracle
print(json.dumps({
    "surface_Area": [oracle._surface_Area(*a) for a in [(3, 4), (5, 5), (1.5, 2.25), (0, 7)]],
    "digit_distance_nums": [oracle._digit_distance_nums(*a) for a in [(123, 256), (1, 1000), (0, 99), (98765, 1)]],
    "not_none": sorted(oracle.MBPP_OUTPUT_NOT_NONE_TASKS),
}))
"""


def test_alternatives_match_evalplus(evalplus) -> None:
    theirs = evalplus(_EVALPLUS_ORACLES)
    assert [surface_area_alternative(*a) for a in [(3, 4), (5, 5), (1.5, 2.25), (0, 7)]] == theirs["surface_Area"]
    assert [
        digit_distance_alternative(*a) for a in [(123, 256), (1, 1000), (0, 99), (98765, 1)]
    ] == theirs["digit_distance_nums"]
    assert set(theirs["not_none"]) == {"check_str", "text_match_three", "text_starta_endb"}


def test_is_floats() -> None:
    assert is_floats(1.0) and is_floats([1.0, 2.0]) and is_floats((0.5,))
    assert not is_floats([]) and not is_floats([1.0, 2]) and not is_floats(1)
