"""One response only ever affects its own score (issue 19, hole 5).

A response that breaks a judge (RecursionError in a compiler, Ruff overflowing its stack, Bandit giving
up) gets that judge's failure score with a finding; every other response of the batch is scored exactly
as it would be without it; ``score_batch`` never raises because of one response, and a judge broken
for every response is still a clear error.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from execrl.errors import ExecrlError
from execrl.records import JudgeResult
from execrl.rewards import Candidate, JudgeSettings, RewardFormula, extract_code, parse_config, register_judge
from execrl.rewards.base import JUDGE_ERROR, judge_kind
from execrl.rewards.judges import security as security_kind
from execrl.rewards.judges import style as style_kind
from execrl.rewards.judges import syntax as syntax_kind
from execrl.rewards.judges import tests as tests_kind  # as a module: pytest would collect Test* classes
from execrl.rewards.judges.syntax import SyntaxJudge, SyntaxSettings
from execrl.tasks.builtin import generate_python_tasks

# -- a judge that fails where the tests tell it to ------------------------------------------------------


class FragileSettings(JudgeSettings):
    batch_breaker: str = "BREAKS_BATCH"  # a batch holding this fails as a whole, a batch of one does not
    poison: str = "POISON"  # a response holding this fails however it is judged
    failure_score: float = -2.0


@register_judge("fragile_for_tests", FragileSettings)
class FragileJudge:
    """Scores 1.0 per response, and fails like real tools do: on one response, or on a whole batch."""

    def __init__(self, settings: FragileSettings) -> None:
        self.settings = settings
        self.failure_score = settings.failure_score
        self.calls: list[int] = []

    def __call__(self, batch: Sequence[Candidate]) -> list[JudgeResult]:
        self.calls.append(len(batch))
        if len(batch) > 1 and any(self.settings.batch_breaker in c.response for c in batch):
            raise RuntimeError("the whole batch crashed")
        if any(self.settings.poison in c.response for c in batch):
            raise RecursionError("maximum recursion depth exceeded")
        return [JudgeResult(1.0) for _ in batch]


def fragile_formula() -> RewardFormula:
    return RewardFormula(parse_config({"judges": {"fragile": {"kind": "fragile_for_tests"}}}))


def test_a_batch_that_fails_as_a_whole_is_judged_one_response_at_a_time() -> None:
    formula = fragile_formula()
    batch = [formula.candidate(text) for text in ("x = 1", "x = 2  # BREAKS_BATCH", "x = 3")]
    totals = [b.total for b in formula.score_batch(batch).breakdowns]
    assert totals == [1.0, 1.0, 1.0]  # alone, even the one that broke the batch is judged
    assert formula.judges["fragile"].calls == [3, 1, 1, 1]


def test_a_response_that_breaks_its_judge_gets_the_failure_score_with_a_finding() -> None:
    formula = fragile_formula()
    batch = [formula.candidate(text) for text in ("x = 1", "```python\nx = 2  # POISON\n```", "x = 3")]
    first, poisoned, last = formula.score_batch(batch).breakdowns
    assert (first.total, last.total) == (1.0, 1.0)
    result = poisoned.component("fragile").result
    assert result.score == -2.0 and "RecursionError" in result.error
    (finding,) = result.findings
    assert finding.rule == JUDGE_ERROR and "RecursionError" in finding.message
    assert batch[1].response[finding.start : finding.end] == "x = 2  # POISON\n"


def test_a_batch_of_one_poison_response_does_not_raise() -> None:
    formula = fragile_formula()
    (breakdown,) = formula.score_batch([formula.candidate("x = 1  # POISON")]).breakdowns
    assert breakdown.total == -2.0  # the trivial program it is then tried on works: the judge is fine


def test_a_judge_broken_for_every_response_is_a_clear_error() -> None:
    formula = RewardFormula(
        parse_config({"judges": {"fragile": {"kind": "fragile_for_tests", "settings": {"poison": "return"}}}})
    )
    batch = [formula.candidate(f"def f():\n    return {i}\n") for i in range(4)]
    with pytest.raises(ExecrlError, match=r"judge 'fragile' is broken: it judged none of the 4 responses"):
        formula.score_batch(batch)


def test_a_missing_tool_is_a_clear_error_not_a_batch_of_failures() -> None:
    formula = RewardFormula()
    formula.judges["style"].ruff = "/nonexistent/ruff"
    batch = [formula.candidate("```python\nx = 1\n```", tests=("assert x == 1",)) for _ in range(3)]
    with pytest.raises(ExecrlError, match=r"judge 'style' is broken.*No such file"):
        formula.score_batch(batch)


def test_a_plugin_that_raises_on_one_response_gives_it_the_configured_failure_score(
    tmp_path, monkeypatch
) -> None:
    (tmp_path / "picky_plugin.py").write_text(
        "from execrl.records import JudgeResult\n"
        "def picky(batch):\n"
        "    return [JudgeResult(1 / (len(c.code) - 5)) for c in batch]\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {
        "judges": {
            "picky": {"kind": "plugin", "settings": {"callable": "picky_plugin:picky", "failure_score": -1}}
        }
    }
    formula = RewardFormula(parse_config(config))
    batch = [formula.candidate(text) for text in ("x = 10", "x = 1", "x = 100")]  # 6, 5, 7 characters
    scores = [b.component("picky").raw for b in formula.score_batch(batch).breakdowns]
    assert scores == [1.0, -1.0, 0.5]


# -- the built-in judges on programs that break compilers and linters ------------------------------------

POISON = {
    # RecursionError in CPython's compiler; Ruff overflows its stack on it when it lints several files
    "minus_3000": "y = " + "-" * 3000 + "1\n",
    # MemoryError from CPython's parser; Ruff overflows its stack even on this file alone
    "minus_12000": "y = " + "-" * 12000 + "1\n",
    "power_tower": "y = 2" + "**2" * 5000 + "\n",
    "not_chain": "y = " + "not " * 4000 + "x\n",
    "attribute_chain": "y = a" + ".b" * 6000 + "\n",
    # compiles, but Bandit's walker overflows the recursion limit, and so does a naive AST walk
    "sum_1000": "y = 1" + " + 1" * 1000 + "\n",
    # Python ignores a coding declaration in a str; Bandit reads bytes and fails on it
    "bogus_coding": "# coding: xyz\nimport subprocess\nsubprocess.call('ls', shell=True)\n",
    "null_byte": "def f():\n    return 1\0\n",
    "huge_int": "y = " + "9" * 5000 + "\n",
}
COMPILES = {"sum_1000", "bogus_coding"}


@pytest.mark.parametrize("name", POISON)
def test_extraction_and_the_syntax_judge_never_raise_on_poison(name: str) -> None:
    code = POISON[name]
    for response in (code, f"Here:\n{code}\nDone.", f"```python\n{code}```"):
        extracted = extract_code(response)
        (result,) = SyntaxJudge(SyntaxSettings())([Candidate(response, extracted)])
        assert result.error is None  # a verdict, not a judge failure: CPython cannot compile it
        if name not in COMPILES and response.startswith("```"):
            assert result.score == -1.0


def _honest_batch() -> list[tuple[str, tuple[str, ...]]]:
    """63 programs for built-in tasks: correct, wrong, linted, insecure and broken ones."""
    programs = []
    for n, task in enumerate(generate_python_tasks(63, seed=5)):
        code = task.canonical_solution
        if n % 5 == 1:
            code = code.replace("return ", "return None or ", 1)  # usually still right
        if n % 5 == 2:
            code += f"\n\ndef {task.entry_point}(*args):\n    return None\n"  # wrong
        if n % 7 == 3:
            code = "import os\n" + code  # lint
        if n % 9 == 4:
            code = "import subprocess\n" + code + "\nsubprocess.call('ls', shell=True)\n"  # insecure
        if n % 11 == 5:
            code += "\ndef broken(:\n"  # does not compile
        programs.append((f"Here it is:\n```python\n{code}```\n", task.test_asserts))
    return programs


@pytest.fixture(scope="module")
def default_formula() -> RewardFormula:
    return RewardFormula()


@pytest.fixture(scope="module")
def honest(default_formula) -> tuple[list[Candidate], list]:
    candidates = [default_formula.candidate(text, tests=tests) for text, tests in _honest_batch()]
    return candidates, default_formula.score_batch(candidates).breakdowns


def test_the_honest_batch_spans_the_reward_range(honest) -> None:
    totals = [b.total for b in honest[1]]
    assert max(totals) == 1.5 and min(totals) <= -1.0 and len(set(totals)) >= 4


@pytest.mark.parametrize("name", POISON)
def test_one_poison_response_leaves_the_other_63_exactly_as_they_were(default_formula, honest, name) -> None:
    candidates, expected = honest
    at = 17
    poison = default_formula.candidate(f"```python\n{POISON[name]}```", tests=("assert y == 1",))
    batch = [*candidates[:at], poison, *candidates[at:]]
    assert len(batch) == 64
    scored = default_formula.score_batch(batch).breakdowns  # does not raise
    others = scored[:at] + scored[at + 1 :]
    assert [b.total for b in others] == [b.total for b in expected]
    for got, want in zip(others, expected, strict=True):
        assert [(c.name, c.result) for c in got.components] == [(c.name, c.result) for c in want.components]
    # and the poison gets no more than an honest program that does not compile, or a wrong one
    assert scored[at].total <= (0.0 if name in COMPILES else -1.0)


# -- the robot judge: a program that replaces the simulator's entry function ------------------------------

ROBOT_POISON = {
    "empty_report": 'def task_program():\n    say("done")\n\ndef _execrl_run_robot(state, timeout_s):\n    return {}\n',
    "not_a_report": "def task_program():\n    pass\n\n_execrl_run_robot = lambda state, timeout_s: 'success'\n",
    "bad_trace": (
        "def task_program():\n    pass\n\ndef _execrl_run_robot(state, timeout_s):\n"
        "    return {'status': 'success', 'trace': 5, 'error_type': None, 'error_message': None, 'error_line': None}\n"
    ),
}


@pytest.fixture(scope="module")
def robot_batch() -> tuple[RewardFormula, list[Candidate], list]:
    from execrl.tasks.robot_gen import generate_robot_tasks

    formula = RewardFormula(
        parse_config({"judges": {"syntax": {}, "simulator": {"settings": {"states": 1}}}})
    )
    tasks = generate_robot_tasks(63, seed=3)
    programs = [
        t.canonical_solution if n % 3 else 'def task_program():\n    go_to("the moon")\n'
        for n, t in enumerate(tasks)
    ]
    candidates = [
        formula.candidate(f"```python\n{p}```", task=t) for p, t in zip(programs, tasks, strict=True)
    ]
    return formula, candidates, formula.score_batch(candidates).breakdowns


@pytest.mark.parametrize("name", ROBOT_POISON)
def test_a_robot_program_that_rebinds_the_entry_function_fails_alone(robot_batch, name) -> None:
    formula, candidates, expected = robot_batch
    assert {b.component("simulator").raw for b in expected} == {0.0, 1.0}
    poison = formula.candidate(f"```python\n{ROBOT_POISON[name]}```", task=candidates[0].task)
    scored = formula.score_batch([*candidates[:40], poison, *candidates[40:]]).breakdowns
    others = scored[:40] + scored[41:]
    assert [[c.result for c in b.components] for b in others] == [
        [c.result for c in b.components] for b in expected
    ]
    result = scored[40].component("simulator").result
    assert result.score == 0.0 and result.error is None  # a verdict of the simulator judge, not a crash
    assert [f.rule for f in result.findings] == ["InvalidReport"]


@pytest.mark.parametrize(
    ("kind", "owner", "attribute", "worst"),
    [
        ("syntax", syntax_kind, "judge_syntax", -1.0),
        ("tests", tests_kind.TestsJudge, "_result", 0.0),
        ("style", style_kind.StyleJudge, "_result", -1.0),
        ("security", security_kind.SecurityJudge, "_result", -1.0),
    ],
)
def test_each_built_in_judge_confines_an_unexpected_error_to_its_response(
    monkeypatch, kind, owner, attribute, worst
) -> None:
    """Whatever breaks inside a judge on one response (here: its verdict code raising) is that
    response's failure at the judge's worst score, without the formula's retry."""
    real = getattr(owner, attribute)

    def fragile(*args, **kwargs):
        candidate = next(a for a in args if isinstance(a, Candidate))
        if "POISON" in candidate.code:
            raise RecursionError("maximum recursion depth exceeded")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, attribute, fragile)
    judge = judge_kind(kind).build(judge_kind(kind).settings())
    code = "def add(a, b):\n    return a + b\n"
    batch = [
        Candidate.from_response(f"```python\n{code}# {mark}\n```", tests=("assert add(1, 2) == 3",))
        for mark in ("ok", "POISON", "ok")
    ]
    first, poisoned, last = judge(batch)
    assert first == last and first.error is None
    assert poisoned.score == worst and "RecursionError" in poisoned.error
    assert [f.rule for f in poisoned.findings] == [JUDGE_ERROR]
