"""The wrapper that calls the entry point in the sandbox, run here directly (it is stdlib-only code)."""

from __future__ import annotations

import pytest

from execrl.eval.mbppplus_jobs import DIGEST_MARK, wrapper_prelude


def wrapper(body: str, transform: str = "plain"):
    namespace: dict = {}
    exec(wrapper_prelude("f", transform, min_items=3), namespace)  # noqa: S102 - our own harness code
    exec(body, namespace)  # noqa: S102 - a test program
    return namespace["_execrl_call"]


def compact(value):
    return wrapper("def f(x):\n    return x\n")(value)


def test_small_values_come_back_as_they_are() -> None:
    assert compact([1, 2]) == [1, 2]
    assert compact("abcdef") == "abcdef"


def test_large_plain_sequences_become_digests_that_respect_equality() -> None:
    a = compact([("a", 1), ("b", None), ("c", b"x")])
    assert a[0] == DIGEST_MARK and a[1] == 3
    assert a == compact([("a", 1), ("b", None), ("c", b"x")])
    assert a != compact([["a", 1], ["b", None], ["c", b"x"]])  # tuples vs lists differ, as with ==
    assert a != compact([("a", 1), ("b", None), ("c", b"y")])
    assert compact((1, 2, 3)) != compact([1, 2, 3])


def test_large_sequences_with_other_types_come_back_as_data() -> None:
    # floats (3 == 3.0), bools (True == 1), sets and dicts need a real comparison in the parent
    for value in ([1.0, 2.0, 3.0], [True, 1, 2], [{1}, {2}, {3}], [{"a": 1}] * 3, [[1.5], [2], [3]]):
        assert compact(value) == value


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
