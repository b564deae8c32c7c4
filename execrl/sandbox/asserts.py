"""Assert-style tests, split so that the child computes values and the parent judges them.

``assert f(x) == y`` becomes "compute ``f(x)`` and ``y`` in the child, compare here": an object
whose ``__eq__`` always returns True never reaches the comparison, because only plain data comes
back. Statements that are not a single assert run in the child and pass if nothing is raised.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from typing import Any, Callable

_COMPARATORS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


class TestParseError(ValueError):
    """A test statement that is not valid Python."""


@dataclass(frozen=True)
class AssertPlan:
    mode: str  # "cmp": compare operands; "value": truth of one value; "exec": run, pass if no error;
    # "invalid": the test itself does not parse (sources holds the reason)
    sources: tuple[str, ...]
    ops: tuple[type[ast.cmpop], ...] = ()
    negate: bool = False

    def to_wire(self) -> dict[str, Any]:
        if self.mode in ("exec", "invalid"):
            return {"m": self.mode, "src": self.sources[0]}
        return {"m": self.mode, "ops": list(self.sources)}

    def judge(self, values: list[Any]) -> bool:
        """Whether the test passes, given the decoded operand values from the child."""
        if self.mode == "exec":
            return True
        if self.mode == "value":
            return bool(values[0]) != self.negate
        return all(cmp(a, b) for cmp, a, b in zip((_COMPARATORS[o] for o in self.ops), values, values[1:]))


def plan_assert(statement: str) -> AssertPlan:
    try:
        module = ast.parse(statement)
    except (SyntaxError, ValueError) as exc:
        raise TestParseError(f"test does not parse: {exc}") from exc
    body = module.body
    if len(body) != 1 or not isinstance(body[0], ast.Assert):
        return AssertPlan("exec", (statement,))
    test = body[0].test
    negate = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, negate = test.operand, True
    if isinstance(test, ast.Compare) and not negate:
        operands = [test.left, *test.comparators]
        return AssertPlan("cmp", tuple(ast.unparse(o) for o in operands), tuple(type(o) for o in test.ops))
    return AssertPlan("value", (ast.unparse(test),), negate=negate)
