"""Syntax-error, lint and security-finding rates of generated code, measured with the reward's own judges.

The judges run as the default formula configures them (docs/rewards.md), on the code extracted from
each raw response: the rates describe what the reward would see. Lint and security rates are over
the responses whose code compiles (Ruff and Bandit say little about code that does not parse).
"""

from __future__ import annotations

from collections.abc import Sequence

from execrl.rewards.formula import RewardFormula


def code_quality(responses: Sequence[str]) -> dict[str, float | None]:
    """The ``syntax error rate``, ``lint rate``, ``ruff findings per program`` and ``bandit rate``."""
    formula = RewardFormula()
    candidates = [formula.candidate(text) for text in responses]
    if not candidates:
        return {}
    syntax = formula.judges["syntax"](candidates)
    compiles = [c for c, r in zip(candidates, syntax) if r.score == 0]
    style = formula.judges["style"](compiles) if compiles else []
    security = formula.judges["security"](compiles) if compiles else []

    def share(flags: list[bool]) -> float | None:
        return sum(flags) / len(flags) if flags else None

    return {
        "syntax error rate": (len(candidates) - len(compiles)) / len(candidates),
        "lint rate": share([bool(r.findings) for r in style]),
        "ruff findings per program": share([len(r.findings) for r in style]),  # a mean, not a share
        "bandit rate": share([bool(r.findings) for r in security]),
    }
