from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execrl.credit import STRATEGIES, CreditPart, assign, combine, get_strategy, register_strategy
from execrl.credit.strategies import finding_weights
from execrl.records import Finding, JudgeResult

BUILT_IN = ("terminal", "uniform", "localized", "executed")


@st.composite
def token_spans(draw: st.DrawFn, max_tokens: int = 40) -> list[tuple[int, int]]:
    """Monotone spans like a tokenizer's: mostly contiguous, some empty (special) or shared (multi-byte)."""
    spans: list[tuple[int, int]] = []
    position = 0
    for _ in range(draw(st.integers(0, max_tokens))):
        kind = draw(st.sampled_from(["piece", "piece", "piece", "empty", "shared"]))
        if kind == "empty":
            spans.append((position, position))
        elif kind == "shared" and spans and spans[-1][1] > spans[-1][0]:
            spans.append(spans[-1])
        else:
            width = draw(st.integers(1, 6))
            spans.append((position, position + width))
            position += width
    return spans


@st.composite
def findings(draw: st.DrawFn, text_length: int) -> tuple[Finding, ...]:
    result = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, text_length + 3))
        end = draw(st.integers(start, start + 8))
        severity = draw(st.floats(0.1, 5.0))
        result.append(Finding(start, end, severity, "rule", "message"))
    return tuple(result)


@st.composite
def cases(draw: st.DrawFn) -> tuple[float, JudgeResult, list[tuple[int, int]]]:
    spans = draw(token_spans())
    length = max((end for _, end in spans), default=0)
    executed = draw(
        st.none()
        | st.lists(st.tuples(st.integers(0, length + 2), st.integers(0, 10)), max_size=3).map(
            lambda pairs: tuple((start, start + width) for start, width in pairs)
        )
    )
    result = JudgeResult(score=0.0, findings=draw(findings(length)), executed_spans=executed)
    reward = draw(st.floats(-10.0, 10.0, allow_nan=False))
    return reward, result, spans


@pytest.mark.parametrize("name", BUILT_IN)
@settings(max_examples=150, deadline=None)
@given(case=cases())
def test_every_strategy_conserves_the_reward(name: str, case) -> None:
    reward, result, spans = case
    values = assign(name, reward, result, spans)
    assert len(values) == len(spans)
    if spans:
        assert math.isclose(sum(values), reward, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(case=cases(), fraction=st.floats(0.05, 1.0))
def test_localized_penalises_finding_tokens_strictly_more(case, fraction: float) -> None:
    reward, result, spans = case
    penalty = -abs(reward) - 0.5
    values = assign("localized", penalty, result, spans, fraction=fraction)
    weights = finding_weights(result.findings, spans)
    flagged = [v for v, w in zip(values, weights) if w > 0]
    others = [v for v, w in zip(values, weights) if w == 0]
    if result.findings and any(start < end for start, end in spans):
        assert flagged, "every finding lands on some token when a non-empty token exists"
    if flagged and others:
        assert max(flagged) < min(others)


def test_empty_response_gets_no_values() -> None:
    result = JudgeResult(score=0.0, findings=(Finding(0, 0, 1.0, "syntax", "unexpected EOF"),))
    for name in BUILT_IN:
        assert assign(name, -1.0, result, []) == []
    assert combine([CreditPart("localized", -1.0, result)], []) == []


def test_terminal_puts_everything_on_the_last_token() -> None:
    assert assign("terminal", 2.0, JudgeResult(1.0), [(0, 1), (1, 3), (3, 3)]) == [0.0, 0.0, 2.0]


def test_localized_exact_values() -> None:
    # 4 tokens; a finding of severity 2 covering token 1 entirely and half of token 2 (chars 2..5).
    spans = [(0, 2), (2, 4), (4, 6), (6, 8)]
    result = JudgeResult(0.0, (Finding(2, 5, 2.0, "E", "m"),))
    values = assign("localized", -4.0, result, spans, fraction=0.5)
    # uniform half: -0.5 each; localized half (-2) split 2:1 by overlap characters.
    assert values == pytest.approx([-0.5, -0.5 - 2 * 2 / 3, -0.5 - 2 / 3, -0.5])


def test_localized_severity_weights_between_findings() -> None:
    spans = [(0, 1), (1, 2), (2, 3)]
    result = JudgeResult(0.0, (Finding(0, 1, 3.0, "a", ""), Finding(2, 3, 1.0, "b", "")))
    values = assign("localized", -1.0, result, spans, fraction=1.0)
    assert values == pytest.approx([-0.75, 0.0, -0.25])


def test_localized_is_uniform_for_positive_reward_or_no_findings() -> None:
    spans = [(0, 1), (1, 2)]
    with_finding = JudgeResult(0.0, (Finding(0, 1, 1.0, "a", ""),))
    assert assign("localized", 1.0, with_finding, spans) == [0.5, 0.5]
    assert assign("localized", -1.0, JudgeResult(0.0), spans) == [-0.5, -0.5]


def test_localized_finding_outside_tokens_goes_to_nearest() -> None:
    spans = [(0, 3), (3, 6), (6, 6)]  # the last token is an EOS with an empty span
    at_end = JudgeResult(0.0, (Finding(6, 6, 1.0, "syntax", "unexpected EOF"),))
    assert assign("localized", -1.0, at_end, spans, fraction=1.0) == [0.0, -1.0, 0.0]
    at_boundary = JudgeResult(0.0, (Finding(3, 3, 1.0, "syntax", "here"),))
    assert assign("localized", -1.0, at_boundary, spans, fraction=1.0) == [0.0, -1.0, 0.0]
    past_end = JudgeResult(0.0, (Finding(10, 12, 1.0, "x", ""),))
    assert assign("localized", -1.0, past_end, spans, fraction=1.0) == [0.0, -1.0, 0.0]
    at_start = JudgeResult(0.0, (Finding(0, 0, 1.0, "x", ""),))
    assert assign("localized", -1.0, at_start, spans, fraction=1.0) == [-1.0, 0.0, 0.0]


def test_localized_with_only_empty_tokens_is_uniform() -> None:
    result = JudgeResult(0.0, (Finding(0, 0, 1.0, "x", ""),))
    assert assign("localized", -1.0, result, [(0, 0)]) == [-1.0]


def test_localized_rejects_bad_fraction_and_severity() -> None:
    result = JudgeResult(0.0, (Finding(0, 1, 1.0, "x", ""),))
    with pytest.raises(ValueError, match="fraction"):
        assign("localized", -1.0, result, [(0, 1)], fraction=1.5)
    negative = JudgeResult(0.0, (Finding(0, 1, -1.0, "x", ""),))
    with pytest.raises(ValueError, match="severity"):
        assign("localized", -1.0, negative, [(0, 1)])


def test_executed_masks_to_executed_tokens() -> None:
    spans = [(0, 4), (4, 8), (8, 12), (12, 12)]
    result = JudgeResult(1.0, executed_spans=((0, 4), (9, 10)))
    assert assign("executed", 1.0, result, spans) == [0.5, 0.0, 0.5, 0.0]


@pytest.mark.parametrize("executed_spans", [None, (), ((20, 30),), ((2, 2),)])
def test_executed_falls_back_to_uniform(executed_spans) -> None:
    result = JudgeResult(1.0, executed_spans=executed_spans)
    assert assign("executed", 1.0, result, [(0, 2), (2, 4)]) == [0.5, 0.5]


def test_combine_sums_parts() -> None:
    spans = [(0, 2), (2, 4)]
    parts = [
        CreditPart("terminal", 1.0, JudgeResult(1.0)),
        CreditPart("localized", -2.0, JudgeResult(0.0, (Finding(0, 1, 1.0, "x", ""),)), {"fraction": 1.0}),
    ]
    assert combine(parts, spans) == [-2.0, 1.0]


def test_unknown_strategy_lists_known_names() -> None:
    with pytest.raises(ValueError) as error:
        get_strategy("dense")
    for name in BUILT_IN:
        assert name in str(error.value)


def test_assign_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        assign("uniform", math.nan, JudgeResult(0.0), [(0, 1)])
    with pytest.raises(ValueError, match="invalid span"):
        assign("uniform", 1.0, JudgeResult(0.0), [(3, 1)])
    with pytest.raises(TypeError):
        assign("terminal", 1.0, JudgeResult(0.0), [(0, 1)], fraction=0.5)


def test_register_strategy_adds_and_refuses_duplicates() -> None:
    @register_strategy("test-first-token")
    def first_token(reward, result, offsets):
        return [reward] + [0.0] * (len(offsets) - 1) if offsets else []

    try:
        assert assign("test-first-token", 3.0, JudgeResult(0.0), [(0, 1), (1, 2)]) == [3.0, 0.0]
        with pytest.raises(ValueError, match="already registered"):
            register_strategy("uniform")(first_token)
    finally:
        del STRATEGIES["test-first-token"]
