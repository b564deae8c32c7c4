"""The syntax judge: does the extracted code compile?

Score: 0.0 when it compiles, -1.0 when it does not, when there is no code, or when the response was
cut at the length cap. Findings: the syntax error's span, plus extraction's notes (no code, cut-off
tail, characters that are not valid Unicode). Code nested too deeply for CPython's compiler
(``RecursionError``, or ``MemoryError`` from its parser: ``y = ---...-1`` with thousands of signs) does
not compile either: the sandbox could not run it.
"""

from __future__ import annotations

from collections.abc import Sequence

from execrl.records import Finding, JudgeResult
from execrl.rewards.base import Candidate, JudgeSettings, describe, failed, register_judge
from execrl.rewards.extract import ExtractedCode


class SyntaxSettings(JudgeSettings):
    pass


def syntax_finding(extracted: ExtractedCode) -> Finding | None:
    """The compile error of the code as a response-span finding, or ``None`` when it compiles."""
    try:
        compile(extracted.code, "<candidate>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        if exc.lineno is None:  # e.g. a null byte: no position, so point at the first one
            start, end = extracted.span(max(extracted.code.find("\0"), 0), 0)
        else:
            # SyntaxError offsets are 1-based characters; end_offset <= 0 means "unknown".
            start, end = extracted.position_span(
                exc.lineno,
                (exc.offset or 1) - 1,
                exc.end_lineno,
                (exc.end_offset - 1) if exc.end_offset and exc.end_offset > 0 else None,
            )
        return Finding(start, end, 1.0, type(exc).__name__, str(exc.msg))
    except ValueError as exc:  # null bytes on older Pythons
        start, end = extracted.span(max(extracted.code.find("\0"), 0), 0)
        return Finding(start, end, 1.0, "SyntaxError", str(exc))
    except (RecursionError, MemoryError) as exc:
        start, end = extracted.code_span()
        return Finding(start, end, 1.0, type(exc).__name__, "too deeply nested for Python to compile")
    return None


def judge_syntax(candidate: Candidate) -> JudgeResult:
    notes = candidate.extracted.notes
    if not candidate.extracted.has_code:
        return JudgeResult(-1.0, notes)
    error = syntax_finding(candidate.extracted)
    findings = notes if error is None else (*notes, error)
    return JudgeResult(-1.0 if error is not None or candidate.extracted.truncated else 0.0, findings)


@register_judge("syntax", SyntaxSettings)
class SyntaxJudge:
    failure_score = -1.0

    def __init__(self, settings: SyntaxSettings) -> None:
        self.settings = settings

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        return [self._judge(c) for c in batch]

    def _judge(self, candidate: Candidate) -> JudgeResult:
        try:
            return judge_syntax(candidate)
        except Exception as exc:  # noqa: BLE001 - whatever it is, it is this response's alone
            return failed(candidate, self.failure_score, f"the syntax check failed: {describe(exc)}")
