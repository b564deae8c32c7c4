"""The wrapper that calls the entry point in the sandbox, run here directly (it is stdlib-only code)."""

from __future__ import annotations

import math

import pytest

from execrl.eval.mbppplus_jobs import DIGEST_MARK, is_digest, wrapper_prelude

IDENTITY = "def f(x):\n    return x\n"


def wrapper(body: str, transform: str = "plain", digested: frozenset[int] = frozenset(), exact: bool = True):
    namespace: dict = {}
    prelude = wrapper_prelude("f", transform, digested, exact, min_items=3)
    exec(prelude, namespace)  # noqa: S102 - our own harness code
    exec(body, namespace)  # noqa: S102 - a test program
    return namespace["_execrl_call"]


def compact(value):
    """The canonical run's transform: large plain values become digests."""
    return wrapper(IDENTITY)(value)


def like_reference(value):
    """A candidate's transform on an input whose expected value is a digest."""
    return wrapper(IDENTITY, "like_reference", frozenset({0}))(value)


def test_small_values_come_back_as_they_are() -> None:
    assert compact([1, 2]) == [1, 2]
    assert compact("abcdef") == "abcdef"


def test_large_plain_sequences_become_digests_that_respect_equality() -> None:
    a = compact([("a", 1), ("b", None), ("c", b"x")])
    assert a[0] == DIGEST_MARK and is_digest(a)
    assert a == compact([("a", 1), ("b", None), ("c", b"x")])
    assert a != compact([["a", 1], ["b", None], ["c", b"x"]])  # tuples vs lists differ, as with ==
    assert a != compact([("a", 1), ("b", None), ("c", b"y")])
    assert compact((1, 2, 3)) != compact([1, 2, 3])


def test_items_at_every_depth_count_towards_the_threshold() -> None:
    assert compact([("a", "b")]) != [("a", "b")]  # 1 + 2 items
    assert compact([("a",)]) == [("a",)]  # 1 + 1 items: below 3


def test_digests_do_not_depend_on_shared_or_interned_objects() -> None:
    shared = ("ab", "ab")
    built = tuple("".join(["a", "b"]) for _ in range(2))  # equal strings, distinct objects
    assert built[0] is not built[1]
    assert compact([shared, shared, shared]) == compact([built, tuple(built), ("ab", "ab")])
    big = 2**70
    assert compact([big, big, big]) == compact([2**70, 2**70 + 0, int(str(2**70))])


def test_a_candidate_value_equal_under_eq_gets_the_same_digest() -> None:
    expected = compact([1, 2, [3, 4]])
    assert like_reference([1, 2, [3, 4]]) == expected
    assert like_reference([True, 2.0, [3, 4.0]]) == expected  # True == 1 and 2.0 == 2, as == says
    assert like_reference([1, 2, [3, 5]]) != expected
    assert like_reference([1, 2, (3, 4)]) != expected  # a tuple is not equal to a list
    assert like_reference([1.5, 2, [3, 4]]) != expected
    # not plain data (a set, NaN, a complex, a str subclass that could lie in __eq__): never the digest
    for value in ([1, 2, {3, 4}], [1, 2, [3, float("nan")]], [1, 2, [3, 4j]]):
        assert like_reference(value) != expected
    text = compact(["a", "b", "c"])
    assert like_reference(["a", "b", "c"]) == text
    # a "G" byte looks like a float opcode: the value is walked, with the same result
    assert like_reference(["Green", "b", "c"]) == compact(["Green", "b", "c"])

    class Liar(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    assert like_reference([Liar("a"), "b", "c"]) != text
    # small values are digested too on such an input, so that they can be compared
    assert is_digest(like_reference([1]))


def test_a_value_that_cannot_be_pickled_comes_back_as_it_is() -> None:
    body = "class Odd:\n    def __reduce__(self):\n        raise RuntimeError('no')\n" + IDENTITY
    call = wrapper(body, "like_reference", frozenset({0}))
    value = call.__globals__["Odd"]()
    assert call([value]) == [value]


def test_only_inputs_with_a_digested_expected_value_are_digested() -> None:
    call = wrapper(IDENTITY, "like_reference", frozenset({1}))
    assert call([1, 2, 3, 4]) == [1, 2, 3, 4]
    assert is_digest(call([1, 2, 3, 4]))
    assert call([1, 2, 3, 4]) == [1, 2, 3, 4]


def test_cyclic_and_very_deep_values_come_back_as_data() -> None:
    cyclic: list = [1, 2, 3]
    cyclic.append(cyclic)
    assert compact(cyclic) is cyclic  # returned, not walked forever
    assert like_reference(cyclic) is cyclic
    deep: list = ["x", "y", "z"]
    for _ in range(150):
        deep = [deep]
    assert compact(deep) is deep


def test_values_that_need_more_than_eq_come_back_as_data() -> None:
    # a list of floats turns EvalPlus's tolerance on; sets and dicts are not sequences; NaN != NaN
    for value in ([1.0, 2.0, 3.0], [{1}, {2}, {3}], [{"a": 1}] * 3, [1, 2, [float("nan")]]):
        assert compact(value) == value
        assert not is_digest(compact(value))


def test_numbers_are_digested_as_eq_compares_them() -> None:
    assert is_digest(compact([True, 2.0, [3, 4.5]]))
    assert compact([True, 2.0, [3, 4.5]]) == compact([1, 2, [3, 4.5]])  # True == 1, 2.0 == 2
    assert compact([-0.0, 2, 3]) == compact([0, 2, 3])
    assert compact([0.1, 2, 3]) != compact([math.nextafter(0.1, 1.0), 2, 3])  # the next double differs
    assert compact([[0.1, 0.2], [0.3], [0.4]]) == compact([[0.1, 0.2], [0.3], [0.4]])
    assert compact([[0.1, 0.2], [0.3], [0.4]]) != compact([[0.1, 0.2], [0.3], [0.5]])


def test_no_digest_once_evalplus_compares_with_a_tolerance() -> None:
    call = wrapper(IDENTITY)
    assert is_digest(call([1, 2, 3]))
    assert call(1.5) == 1.5  # a float output: the rest of the split is compared with a tolerance
    assert call([1, 2, 3]) == [1, 2, 3]
    assert wrapper(IDENTITY, exact=False)([1, 2, 3]) == [1, 2, 3]  # a task with atol or a special oracle


def test_set_and_not_none_transforms() -> None:
    assert wrapper("def f(x):\n    return x\n", "set_eq")([3, 2, 1]) == [3, 2, 1]
    match = "import re\ndef f(x):\n    return re.match('a', x)\n"
    assert wrapper(match, "candidate_not_none")("abc") is True
    assert wrapper(match, "candidate_not_none")("xyz") is False
    assert wrapper("def f(x):\n    return False\n", "candidate_not_none")("a") is False
    assert wrapper("def f(x):\n    return False\n", "reference_not_none")("a") is True


def test_a_split_stops_after_its_first_failing_call() -> None:
    call = wrapper("def f(x):\n    return 1 / x\n")
    assert call(1) == 1
    with pytest.raises(ZeroDivisionError):
        call(0)
    with pytest.raises(Exception, match="earlier input"):
        call(1)


def test_a_missing_function_is_named() -> None:
    call = wrapper("g = 1\n")
    with pytest.raises(Exception, match="no function named f"):
        call(1)
