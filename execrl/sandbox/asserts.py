"""Assert-style tests, split so that the candidate's process only computes the candidate's side.

A test ``assert set(f(x)) == set((4, 5))`` is split here, in the parent, into

- **chains**: the candidate-side expressions, ``f(x)`` here: a name the candidate defines followed by
  the calls, attribute reads and subscripts applied to it. Only these run in the job's process, which
  evaluates each one link by link until its value is plain data (``f`` is a function, ``f(x)`` a
  list: it stops there) and reports that value as untrusted data;
- the **outer expression**: everything else, ``set(<chain 0>) == set((4, 5))``. It never reaches the
  job's process. When it is made only of comparisons, boolean operators and literals it is evaluated
  here on the returned data; otherwise (library calls such as ``math.isclose``, ``set``, ``sorted``)
  in a separate *judge* process that never ran candidate code (:data:`JUDGE_PROGRAM`).

Builtins, modules of the standard library and names the test setup binds are the test's own:
``len``, ``math.isclose`` and ``set`` in a test always mean the real ones, whatever the candidate
defines or patches. A statement that cannot be split (not a single ``assert``, a chain that uses a
comprehension's variable, a candidate function passed as an argument, an outer expression that
needs setup names the setup can only bind with the candidate's help) runs in a fresh process of its
own, with the candidate and that one statement only (``isolated``): nothing of the judge is there.
"""

from __future__ import annotations

import ast
import builtins
import copy
import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = "__execrl_e"  # the outer expression's stand-in for a chain's value: __execrl_e(0), ...
LINK_VALUE = "__execrl_t"  # a link's stand-in for the value it applies to: __execrl_t(1), __execrl_t.y

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
# Builtins whose single argument may be a generator or another iterable that is not plain data: the
# job may then send the items it yields (``list(f(x))`` with ``f`` a generator).
_ITERATING = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "dict"}
)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) - {"this", "antigravity"}
_BUILTINS = frozenset(dir(builtins))


class TestParseError(ValueError):
    """A test statement that is not valid Python."""


@dataclass(frozen=True)
class Chain:
    """One candidate-side expression: ``root``, then ``links`` applied one at a time in the job."""

    root: str
    links: tuple[str, ...]  # each an expression over LINK_VALUE
    context: str  # "bool": only its truth is used; "iter": only its items; "": its value
    prefixes: tuple[ast.expr, ...] = field(compare=False, repr=False)  # the root, then each link's node

    def to_wire(self) -> dict[str, Any]:
        return {"root": self.root, "links": list(self.links), "ctx": self.context}


@dataclass(frozen=True)
class AssertPlan:
    """How one test statement is judged: ``split`` (chains in the job, the rest outside), ``isolated``
    (alone in a fresh process), or ``invalid`` (the test itself does not parse; ``reason`` says why)."""

    statement: str
    mode: str
    chains: tuple[Chain, ...] = ()
    test: ast.expr | None = field(default=None, compare=False, repr=False)
    reason: str = ""
    modules: tuple[str, ...] = ()  # standard-library modules the outer expression names
    needs_setup: bool = False  # the outer expression uses names the setup binds


@dataclass(frozen=True)
class SetupInfo:
    """What the test setup binds, and whether it can run without the candidate (in the judge)."""

    source: str
    bound: frozenset[str]
    standalone: bool


def analyse_setup(setup: str) -> SetupInfo:
    if not setup.strip():
        return SetupInfo("", frozenset(), True)
    try:
        tree = ast.parse(setup)
    except (SyntaxError, ValueError):
        return SetupInfo(setup, frozenset(), False)
    bound = _bound_names(tree)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    standalone = all(name in bound or name in _BUILTINS or name in _STDLIB for name in used)
    return SetupInfo(setup, frozenset(bound), standalone)


def _bound_names(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def plan_assert(statement: str, setup: SetupInfo | None = None) -> AssertPlan:
    setup = setup or SetupInfo("", frozenset(), True)
    try:
        module = ast.parse(statement)
    except (SyntaxError, ValueError) as exc:
        raise TestParseError(f"test does not parse: {exc}") from exc
    body = module.body
    if len(body) != 1 or not isinstance(body[0], ast.Assert):
        return AssertPlan(statement, "isolated", reason="not a single assert statement")
    test = body[0].test
    finder = _ChainFinder(setup.bound)
    try:
        finder.visit(test)
    except _Unsplittable as exc:
        return AssertPlan(statement, "isolated", reason=str(exc))
    chains = tuple(finder.chains)

    # Modules: any the outer expression might name (importing one too many costs nothing); setup
    # names: those it names when every chain runs to its end in the job, as chains rooted at a
    # function always do (a link's arguments then run in the job, where the setup has run).
    def names(depths: list[int]) -> set[str]:
        tree = outer_tree(test, chains, depths)
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - {PLACEHOLDER}

    modules = tuple(sorted(n for n in names([0] * len(chains)) if n in _STDLIB and n not in setup.bound))
    needs_setup = bool(names([len(c.links) for c in chains]) & setup.bound)
    if needs_setup and not setup.standalone:
        return AssertPlan(
            statement, "isolated", reason="the expected side needs a setup that uses the candidate"
        )
    return AssertPlan(statement, "split", chains, test, modules=modules, needs_setup=needs_setup)


class _Unsplittable(Exception):
    pass


class _ChainFinder(ast.NodeVisitor):
    """Finds the chains of a test expression: every name that is not the test's own starts one."""

    def __init__(self, test_names: frozenset[str]) -> None:
        self.test_names = test_names
        self.chains: list[Chain] = []
        self.scoped: list[set[str]] = []  # names bound by enclosing lambdas and comprehensions
        self.parents: dict[int, ast.AST] = {}
        self.link_calls: set[int] = set()  # calls that are links of a chain: their arguments run in the job

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.parents[id(child)] = node
        super().generic_visit(node)

    def _scope(self, node: ast.AST, names: set[str]) -> None:
        self.scoped.append(names)
        self.generic_visit(node)
        self.scoped.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node, {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)})

    def _comprehension(self, node: ast.AST) -> None:
        names = {n.id for gen in node.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
        self._scope(node, names)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        raise _Unsplittable("the test binds a name (:=)")

    def visit_Await(self, node: ast.Await) -> None:
        raise _Unsplittable("the test awaits")

    def visit_Starred(self, node: ast.Starred) -> None:
        raise _Unsplittable("the test unpacks with *")

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if any(name in scope for scope in self.scoped):
            return
        if name in self.test_names or name in _BUILTINS or name in _STDLIB:
            return
        if self.scoped:
            raise _Unsplittable("a candidate name inside a lambda or comprehension")
        self._chain(node)

    def _chain(self, root: ast.Name) -> None:
        prefixes: list[ast.expr] = [root]
        links: list[str] = []
        node: ast.expr = root
        while True:
            parent = self.parents.get(id(node))
            if isinstance(parent, ast.Call) and parent.func is node:
                self.link_calls.add(id(parent))
                link = ast.Call(ast.Name(LINK_VALUE, ast.Load()), parent.args, parent.keywords)
            elif isinstance(parent, ast.Attribute) and parent.value is node:
                link = ast.Attribute(ast.Name(LINK_VALUE, ast.Load()), parent.attr, ast.Load())
            elif isinstance(parent, ast.Subscript) and parent.value is node:
                link = ast.Subscript(ast.Name(LINK_VALUE, ast.Load()), parent.slice, ast.Load())
            else:
                break
            links.append(ast.unparse(link))
            prefixes.append(parent)
            node = parent
        parent = self.parents.get(id(node))
        call = self.parents.get(id(parent)) if isinstance(parent, ast.keyword) else parent
        if len(prefixes) == 1 and isinstance(call, ast.Call) and id(call) not in self.link_calls:
            raise _Unsplittable("a candidate name passed as a value (a function given to another)")
        context = ""
        if (
            isinstance(parent, ast.Call)
            and isinstance(parent.func, ast.Name)
            and parent.func.id in _ITERATING
        ):
            if len(parent.args) == 1 and parent.args[0] is node and not parent.keywords:
                context = "iter"
        elif (
            parent is None
            or isinstance(parent, (ast.BoolOp, ast.IfExp))
            or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not))
        ):
            if not (isinstance(parent, ast.IfExp) and parent.test is not node):
                context = "bool"
        self.chains.append(Chain(root.id, tuple(links), context, tuple(prefixes)))
        # A link's arguments may hold further chains (f(x).get(g(1))): they become chains of their own,
        # whose values stand in for them when this chain stops before that link.


def outer_tree(test: ast.expr, chains: tuple[Chain, ...], depths: list[int]) -> ast.expr:
    """``test`` with each chain's prefix at its depth replaced by ``__execrl_e(k)`` (depth -1: whole chain)."""
    targets = {
        id(chain.prefixes[-1] if depth < 0 else chain.prefixes[depth]): k
        for k, (chain, depth) in enumerate(zip(chains, depths))
    }

    class Replace(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            k = targets.get(id(node))
            if k is not None:
                return ast.Call(ast.Name(PLACEHOLDER, ast.Load()), [ast.Constant(k)], [])
            return self.generic_visit(copy.copy(node))

        def generic_visit(self, node: ast.AST) -> ast.AST:
            for name, value in ast.iter_fields(node):
                if isinstance(value, list):
                    setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
                elif isinstance(value, ast.AST):
                    setattr(node, name, self.visit(value))
            return node

    return ast.fix_missing_locations(Replace().visit(test))


# ----------------------------------------------------------------------------------------------
# Judging a split test from what the job reported
# ----------------------------------------------------------------------------------------------


class ChainError(Exception):
    """A chain raised in the job: the test fails with that error when its value is needed."""

    def __init__(self, error_type: str, message: str, line: int | None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.line = error_type, message, line


@dataclass(frozen=True)
class ChainValue:
    """One chain as the job reported it, validated: its depth and value, or the error it raised."""

    depth: int  # how many links ran in the job; -1: reduced to its truth or items
    value: Any = None
    error: ChainError | None = None
    kind: str = "v"  # "v" value, "b" truth, "it" items, "e" error


class MalformedReport(ValueError):
    """The job's report for a test is not what the harness sends: the test fails."""


def read_chain_values(plan: AssertPlan, vals: Any, line_ok: Callable[[Any], int | None]) -> list[ChainValue]:
    """The job's report for one split test, checked: exactly one well-formed entry per chain."""
    if type(vals) is not list or len(vals) != len(plan.chains):
        raise MalformedReport(f"expected {len(plan.chains)} value(s), got a report of another shape")
    out = []
    for chain, entry in zip(plan.chains, vals):
        if type(entry) is not list or not entry or entry[0] not in ("v", "e", "b", "it"):
            raise MalformedReport("unknown value entry")
        kind = entry[0]
        if kind in ("v", "e"):
            if len(entry) != 3 or type(entry[1]) is not int or not 0 <= entry[1] <= len(chain.links):
                raise MalformedReport("bad chain depth")
            if kind == "v":
                out.append(ChainValue(entry[1], entry[2]))
                continue
            error = entry[2]
            if type(error) is not dict:
                raise MalformedReport("bad error entry")
            out.append(
                ChainValue(
                    entry[1],
                    error=ChainError(
                        _text(error.get("type"), 100) or "Exception",
                        _text(error.get("msg"), 2000) or "",
                        line_ok(error.get("line")),
                    ),
                    kind="e",
                )
            )
        elif kind == "b":
            if chain.context != "bool" or len(entry) != 2 or type(entry[1]) is not bool:
                raise MalformedReport("a truth value where none may be sent")
            out.append(ChainValue(-1, entry[1], kind="b"))
        else:
            if chain.context != "iter" or len(entry) != 2 or type(entry[1]) is not list:
                raise MalformedReport("items where none may be sent")
            out.append(ChainValue(-1, entry[1], kind="it"))
    return out


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if type(value) is str else None


def placeholder_function(values: list[ChainValue]) -> Callable[[int], Any]:
    def value_of(k: int) -> Any:
        chain = values[k]
        if chain.error is not None:
            raise chain.error
        return iter(chain.value) if chain.kind == "it" else chain.value

    return value_of


_PARENT_NODES = (
    ast.Expression, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.IfExp, ast.Constant, ast.Tuple, ast.List,
    ast.Set, ast.Dict, ast.Load, ast.cmpop, ast.boolop, ast.Not, ast.USub, ast.UAdd, ast.Invert,
)  # fmt: skip


def parent_evaluable(tree: ast.expr) -> bool:
    """Whether the outer expression is only comparisons, boolean operators, literals and chain values."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id == PLACEHOLDER and len(node.args) == 1):
                return False
        elif isinstance(node, ast.Name):
            if node.id != PLACEHOLDER:
                return False
        elif not isinstance(node, _PARENT_NODES):
            return False
    return True


class Evaluation:
    """What a test's outer expression evaluated to here, with the operands of a top-level comparison."""

    def __init__(self, value_of: Callable[[int], Any]) -> None:
        self.value_of = value_of
        self.operands: list[Any] = []

    def top(self, tree: ast.expr) -> Any:
        if isinstance(tree, ast.Compare):
            left = self.eval(tree.left)
            self.operands.append(left)
            for op, right_node in zip(tree.ops, tree.comparators):
                right = self.eval(right_node)
                self.operands.append(right)
                if not _COMPARATORS[type(op)](left, right):
                    return False
                left = right
            return True
        return self.eval(tree)

    def eval(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Call):
            return self.value_of(node.args[0].value)
        if isinstance(node, ast.Compare):
            left = self.eval(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.eval(right_node)
                if not _COMPARATORS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.BoolOp):
            result: Any = None
            for part in node.values:
                result = self.eval(part)
                if isinstance(node.op, ast.And) and not result:
                    return result
                if isinstance(node.op, ast.Or) and result:
                    return result
            return result
        if isinstance(node, ast.UnaryOp):
            operand = self.eval(node.operand)
            if isinstance(node.op, ast.Not):
                return not operand
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return +operand
            return ~operand
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
        if isinstance(node, ast.Tuple):
            return tuple(self.eval(e) for e in node.elts)
        if isinstance(node, ast.List):
            return [self.eval(e) for e in node.elts]
        if isinstance(node, ast.Set):
            return {self.eval(e) for e in node.elts}
        if isinstance(node, ast.Dict):
            return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
        raise TypeError(f"cannot evaluate {type(node).__name__} here")


# The judge: a program that never sees candidate code. It gets, as call inputs (plain data), the
# setup if its names are needed, the standard-library modules to import, and each test's outer
# expression with the chain values the job reported; it answers, per test, whether it holds.
JUDGE_FUNCTION = "_execrl_judge"
JUDGE_PROGRAM = f'''
import builtins as _builtins


class _ChainFailed(Exception):
    pass


def {JUDGE_FUNCTION}(setup, modules, items):
    base = {{"__builtins__": _builtins, "__name__": "__execrl_judge__"}}
    for name in modules:
        base[name] = __import__(name)
    if setup:
        try:
            exec(compile(setup, "<test-setup>", "exec"), base)
        except BaseException as exc:
            failure = ["error", type(exc).__name__, "the test setup failed: " + str(exc)[:500]]
            return [failure for _ in items]
    answers = []
    for source, values in items:
        def value_of(k, values=values):
            kind, payload = values[k]
            if kind == "e":
                raise _ChainFailed(k)
            return iter(payload) if kind == "it" else payload
        scope = dict(base)
        scope["{PLACEHOLDER}"] = value_of
        try:
            answers.append(["ok", bool(eval(compile(source, "<test>", "eval"), scope))])
        except _ChainFailed as exc:
            answers.append(["chain", exc.args[0]])
        except BaseException as exc:
            answers.append(["error", type(exc).__name__, str(exc)[:500]])
    return answers
'''


def judge_item(tree: ast.expr, values: list[ChainValue]) -> tuple[str, list[list[Any]]]:
    """One test as the judge receives it: its outer expression and the chain values."""
    wire = [["e", None] if v.error is not None else [v.kind, v.value] for v in values]
    return ast.unparse(tree), wire
