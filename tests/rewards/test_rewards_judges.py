from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from execrl.rewards.base import Candidate
from execrl.rewards.judges import style

# imported as a module: pytest would try to collect classes named Test* imported here
from execrl.rewards.judges import tests as tests_kind
from execrl.rewards.judges.security import SecurityJudge, SecuritySettings
from execrl.rewards.judges.style import StyleJudge, StyleSettings
from execrl.rewards.judges.syntax import SyntaxJudge, SyntaxSettings
from execrl.tasks.types import Task


def fenced(code: str) -> str:
    return f"Here is my answer.\n```python\n{code}```\nHope this helps."


def texts(candidate: Candidate, result) -> list[tuple[str, str]]:
    return [(f.rule, candidate.response[f.start : f.end]) for f in result.findings]


# -- syntax ------------------------------------------------------------------------------------------


def test_syntax_ok_scores_zero_and_error_is_located() -> None:
    good = Candidate.from_response(fenced("def f(x):\n    return x\n"))
    bad = Candidate.from_response(fenced("x = 'é'\ndef f(x:\n    return x\n"))
    ok, error = SyntaxJudge(SyntaxSettings())([good, bad])
    assert (ok.score, ok.findings) == (0.0, ())
    assert error.score == -1.0
    (finding,) = error.findings
    assert finding.rule == "SyntaxError"
    assert bad.response[finding.start : finding.end] in {"(", ":"}
    assert bad.response[finding.start - 5 : finding.start] == "def f"


def test_syntax_reports_no_code_and_null_bytes() -> None:
    empty, null = Candidate.from_response(""), Candidate.from_response("x = 1\0\n")
    no_code, null_result = SyntaxJudge(SyntaxSettings())([empty, null])
    assert no_code.score == -1.0 and [f.rule for f in no_code.findings] == ["no-code"]
    assert null_result.score == -1.0
    assert null.response[null_result.findings[0].start] == "\0"


def test_syntax_penalises_a_cut_response_even_if_its_head_compiles() -> None:
    candidate = Candidate.from_response("x = 1\n" * 100, max_chars=60)
    (result,) = SyntaxJudge(SyntaxSettings())([candidate])
    assert result.score == -1.0
    assert [f.rule for f in result.findings] == ["response-too-long"]


# -- style (real ruff) ---------------------------------------------------------------------------------


def test_style_findings_are_located_with_unicode_columns() -> None:
    code = "import os\ndef f(x):\n    s = 'éé'; return x == None\n"
    candidate = Candidate.from_response(fenced(code))
    clean = Candidate.from_response(fenced("def f(x):\n    return x + 1\n"))
    result, clean_result = StyleJudge(StyleSettings())([candidate, clean])
    found = texts(candidate, result)
    assert ("F401", "os") in found
    assert ("E711", "None") in found  # after two 2-byte characters: columns count characters
    assert ("E702", ";") in found
    assert result.score == -min(1.0, len(result.findings) / 4)  # four statements
    assert clean_result == type(clean_result)(0.0)


def test_style_rule_selection_is_configurable() -> None:
    candidate = Candidate.from_response(fenced("import os\nx = 1 \n"))
    (result,) = StyleJudge(StyleSettings(select=("W291",), ignore=()))([candidate])
    assert texts(candidate, result) == [("W291", " ")]


SUPPRESSED_F401 = {
    "noqa": "import os  # noqa\n",
    "noqa_code": "import os  # noqa: F401\n",
    "noqa_upper_no_space": "import os  #NOQA:F401\n",
    "ruff_file": "# ruff: noqa\nimport os\n",
    "ruff_file_code": "# ruff: noqa: F401\nimport os\n",
    "flake8_file": "# flake8: noqa\nimport os\n",
    "flake8_file_code": "# flake8: noqa: F401\nimport os\n",
    "ruff_range": "# ruff: disable[F401]\nimport os\n# ruff: enable[F401]\n",
    "ruff_ignore": "import os  # ruff: ignore[F401]\n",
    "noqa_on_docstring": '"""\nimport os\n"""  # noqa\nimport os  # noqa\n',
}


@pytest.mark.parametrize("code", SUPPRESSED_F401.values(), ids=SUPPRESSED_F401.keys())
def test_style_ignores_suppression_comments(code: str) -> None:
    candidate = Candidate.from_response(fenced(code + "print(1)\n"))
    (result,) = StyleJudge(StyleSettings())([candidate])
    assert [rule for rule, _ in texts(candidate, result)] == ["F401"]
    assert result.score < 0


LINTED = "import os\ndef add(a, b):\n    return a + b\n"  # one violation in three statements
# padding -> how many statements it honestly adds (one assignment, however long, is one)
PADDINGS = {
    "60 comment lines": (LINTED + "# padding\n" * 60, 0),
    "60 U+2028 in one comment": (LINTED + "# " + "\u2028" * 60 + "\n", 0),
    "60 U+2029 in one comment": (LINTED + "# " + "\u2029" * 60 + "\n", 0),
    "form feeds, vertical tabs, file separators": (LINTED + "# " + "\x0c\x0b\x1c\x1d\x1e\x85" * 10 + "\n", 0),
    "blank-ish lines": (LINTED + "\x0c\n" * 30 + "   \n" * 30, 0),
    "60-line docstring": ('"""' + "doc\n" * 60 + '"""\n' + LINTED, 0),
    "docstring in the function": (LINTED.replace("    return", '    """' + "doc\n" * 60 + '    """\n    return'), 0),
    "60 pass": (LINTED + "pass\n" * 60, 0),
    "60 ellipses": (LINTED + "...\n" * 60, 0),
    "60 string statements": (LINTED + "'padding'\n" * 60, 0),
    "60 numbers": (LINTED + "0\n" * 60, 0),
    "60 repeats of one assignment": (LINTED + "_ = 0\n" * 60, 0),
    "semicolon repeats": (LINTED + "_ = 0; " * 30 + "_ = 0\n", 0),
    "60 distinct unread constants": (LINTED + "".join(f"_{i} = {i}\n" for i in range(60)), 0),
    "unread annotated and unpacked constants": (LINTED + "".join(f"a{i}: int = {i}\nb{i}, c{i} = {i}, -{i}\n" for i in range(20)), 0),
    "separators in a string": (LINTED + "s = '" + "\u2028" * 60 + "'\n", 0),
    "one long literal": (LINTED + "_ = [\n" + "    0,\n" * 60 + "]\n", 0),
    "a constant that is read": (LINTED + "LIMIT = 10\nprint(LIMIT)\n", 2),
    "60 repeats of a call": (LINTED + "print(add(1, 2))\n" * 60, 1),
    "a call stored in an unread name": (LINTED + "_ = print(1)\n", 1),
}


@pytest.mark.parametrize(("padded", "added"), PADDINGS.values(), ids=PADDINGS.keys())
def test_padding_does_not_dilute_the_lint_rate(padded: str, added: int) -> None:
    base, pad = Candidate.from_response(fenced(LINTED)), Candidate.from_response(fenced(padded))
    base_result, padded_result = StyleJudge(StyleSettings())([base, pad])
    assert base_result.score == pytest.approx(-1 / 3)
    assert style.code_statements(padded) == 3 + added
    # padding may add findings of its own (W291, E702, ...), never dilute beyond what it honestly adds
    assert padded_result.score <= -1 / (3 + added) + 1e-12


def test_the_lint_rate_counts_statements_of_honest_code() -> None:
    code = "import os\n\n\ndef f(xs):\n    # the total\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
    assert style.code_statements(code) == 6  # import, def, assignment, for, augmented assignment, return
    (result,) = StyleJudge(StyleSettings())([Candidate.from_response(fenced(code))])
    assert result.score == pytest.approx(-1 / 6)
    # code that does not parse: its lines that hold more than a comment
    assert style.code_statements("x = (\n# note\n\x0c\n\ny = 2\n") == 2


def test_a_program_ruff_cannot_check_fails_alone() -> None:
    clean = Candidate.from_response(fenced("def f(x):\n    return x + 1\n"))
    linted = Candidate.from_response(fenced(LINTED))
    crashes_in_company = Candidate.from_response(fenced("y = " + "-" * 3000 + "1\n"))  # alone, Ruff copes
    crashes_alone = Candidate.from_response(fenced("y = " + "-" * 12000 + "1\n"))
    judge = StyleJudge(StyleSettings())
    results = judge([clean, crashes_in_company, linted, crashes_in_company, crashes_alone])
    assert results[0] == judge([clean])[0] and results[0].score == 0.0
    assert results[2] == judge([linted])[0] and results[2].score == pytest.approx(-1 / 3)
    assert results[1] == results[3] == judge([crashes_in_company])[0]
    assert results[1].error is None and {f.rule for f in results[1].findings} == {"B002"}  # `--` is no decrement
    assert results[4].score == -1.0 and "overflowed its stack" in results[4].error
    assert [f.rule for f in results[4].findings] == ["ruff-failed"]


@pytest.mark.parametrize(
    ("stdout", "stderr"),
    [
        ("[]", "warning: Failed to lint /dev/shm/execrl-style-x/c1.py: stream did not contain valid UTF-8"),
        ("[]", "error: Panicked while linting c1.py: This indicates a bug in Ruff."),
        ('[{"filename": "%s", "code": "E902", "message": "No such file"}]', ""),
        ('[{"filename": "%s", "code": "panic", "message": "index out of range"}]', ""),
    ],
    ids=["failed to lint", "panicked", "io-error", "panic diagnostic"],
)
def test_a_file_ruff_reports_it_did_not_lint_fails(monkeypatch, stdout: str, stderr: str) -> None:
    judge = StyleJudge(StyleSettings())
    batch = [Candidate.from_response(fenced("import os\n")), Candidate.from_response(fenced("x = 1\n"))]

    def ruff_output(command, **kwargs):  # what Ruff prints when it could not lint c1.py
        path = os.path.join(command[-1], "c1.py")
        return subprocess.CompletedProcess(command, 0, stdout.replace("%s", path), stderr)

    monkeypatch.setattr(style.subprocess, "run", ruff_output)
    first, second = judge(batch)
    assert (first.score, first.error) == (0.0, None)
    assert second.score == -1.0 and second.error.startswith("ruff did not lint this program")


def test_style_leaves_syntax_errors_and_empty_code_alone() -> None:
    broken, empty = Candidate.from_response("def f(:\n"), Candidate.from_response("no code here at all.")
    assert [r.score for r in StyleJudge(StyleSettings())([broken, empty])] == [0.0, 0.0]


def test_style_bad_rule_selector_fails_at_configuration() -> None:
    from execrl.errors import ExecrlError

    with pytest.raises(ExecrlError, match="XYZ999"):
        StyleJudge(StyleSettings(select=("XYZ999",)))


# -- security (real bandit) -----------------------------------------------------------------------------

INSECURE = (
    "import subprocess\n"
    "s = 'ééé'; y = eval(\n"
    "    '1 + 1')\n"
    "def run(cmd):\n"
    "    assert cmd\n"
    "    return subprocess.call(cmd, shell=True)\n"
)


def test_security_weights_and_byte_columns() -> None:
    candidate = Candidate.from_response(fenced(INSECURE))
    safe = Candidate.from_response(fenced("def f(x):\n    return x\n"))
    result, safe_result = SecurityJudge(SecuritySettings())([candidate, safe])
    found = dict(texts(candidate, result))
    assert found["B307"] == "eval(\n    '1 + 1')"  # starts after 3 two-byte characters
    assert found["B602"] == "subprocess.call(cmd, shell=True)"
    assert "B101" not in found  # skipped by default
    weights = {f.rule: f.severity for f in result.findings}
    assert weights["B602"] == 3.0 and weights["B307"] == 2.0
    assert result.score == -1.0  # saturated
    assert (safe_result.score, safe_result.findings) == (0.0, ())


def test_security_skips_unparsable_code() -> None:
    (result,) = SecurityJudge(SecuritySettings())([Candidate.from_response("eval(x")])
    assert result.score == 0.0


SHELL = "import subprocess\nsubprocess.call('ls', shell=True)"
NOSEC = {
    "nosec": f"{SHELL}  # nosec\n",
    "nosec_test_id": f"{SHELL}  # nosec B602\n",
    "nosec_no_space": f"{SHELL}  #nosec\n",
    "nosec_colon": f"{SHELL}  # nosec: B602, B607\n",
    "nosec_upper": f"{SHELL}  # NOSEC\n",
    "nosec_with_noqa": f"{SHELL}  # noqa # nosec\n",
    "nosec_on_the_call_line": "import subprocess\nsubprocess.call(  # nosec\n    'ls',\n    shell=True,\n)\n",
}


@pytest.mark.parametrize("code", NOSEC.values(), ids=NOSEC.keys())
def test_security_ignores_nosec_comments(code: str) -> None:
    candidate = Candidate.from_response(fenced(code))
    (result,) = SecurityJudge(SecuritySettings())([candidate])
    assert "B602" in {f.rule for f in result.findings}
    assert result.score == -1.0


UNANALYSABLE = {
    "bogus coding": f"# coding: xyz\n{SHELL}\n",
    "bogus coding after a shebang": f"#!/usr/bin/env python\n# -*- coding: no-such-codec -*-\n{SHELL}\n",
    "bogus vim fileencoding": f"# vim: set fileencoding=xyz :\n{SHELL}\n",
    "1000-term sum": f"{SHELL}\ny = 1" + " + 1" * 1000 + "\n",
    "a Bandit test that raises (B703 on mark_safe())": "from django.utils.safestring import mark_safe\nmark_safe()\n",
}


@pytest.mark.parametrize("code", UNANALYSABLE.values(), ids=UNANALYSABLE.keys())
def test_a_file_bandit_could_not_analyse_scores_as_a_failure(code: str) -> None:
    candidate, clean = Candidate.from_response(fenced(code)), Candidate.from_response(fenced("x = 1\n"))
    result, clean_result = SecurityJudge(SecuritySettings())([candidate, clean])
    assert result.score == -1.0 and result.error
    assert [f.rule for f in result.findings] == ["bandit-skipped"]
    assert (clean_result.score, clean_result.error) == (0.0, None)


def test_a_real_coding_declaration_is_analysed() -> None:
    code = "# -*- coding: latin-1 -*-\nx = 'caf\u00e9'\n"
    (result,) = SecurityJudge(SecuritySettings())([Candidate.from_response(fenced(code))])
    assert (result.score, result.error) == (0.0, None)


def test_bandit_in_process_matches_the_bandit_cli(tmp_path) -> None:
    """The in-process path uses bandit's private _parse_file: this pins it to the CLI's results."""
    (tmp_path / "c0.py").write_text(INSECURE, encoding="utf-8")
    cli = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "--ignore-nosec", "-f", "json", "-s", "B101", str(tmp_path / "c0.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    expected = sorted(
        (r["test_id"], r["line_number"], r["col_offset"], r["issue_severity"], r["issue_confidence"])
        for r in json.loads(cli.stdout)["results"]
    )
    judge = SecurityJudge(
        SecuritySettings(
            severity_weights={"LOW": 1, "MEDIUM": 10, "HIGH": 100},
            confidence_weights={"LOW": 1, "MEDIUM": 2, "HIGH": 3},
            saturation=1e9,
        )
    )
    candidate = Candidate.from_response(INSECURE)
    (result,) = judge([candidate])
    assert expected and len(result.findings) == len(expected)
    assert sorted(f.rule for f in result.findings) == sorted(e[0] for e in expected)
    levels = {"LOW": 1, "MEDIUM": 10, "HIGH": 100}
    conf = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
    assert sorted(f.severity for f in result.findings) == sorted(levels[e[3]] * conf[e[4]] for e in expected)


# -- tests (sandbox) -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tests_judge() -> tests_kind.TestsJudge:
    return tests_kind.TestsJudge(tests_kind.TestsSettings(all_pass_bonus=0.5, timeout_s=1.0, trace_lines=True))


def test_tests_judge_scores_all_or_nothing_by_default(tests_judge) -> None:
    code = "def add(a, b):\n    return a + b\n"
    tests = ("assert add(1, 2) == 3", "assert add(2, 2) == 4")
    right = Candidate.from_response(fenced(code), tests=tests)
    half = Candidate.from_response(fenced(code), tests=(*tests[:1], "assert add(2, 2) == 5"))
    full, partial = tests_judge([right, half])
    assert full.score == 1.5 and full.findings == ()
    assert partial.score == 0.0  # passing one of two tests earns nothing
    (finding,) = partial.findings
    assert finding.rule == "AssertionError"
    # a failed comparison blames the definition of the function the test calls
    assert half.response[finding.start : finding.end] == code.rstrip("\n")
    assert full.executed_spans and right.response[slice(*full.executed_spans[0])] == code.rstrip("\n")


def test_tests_judge_locates_runtime_errors_on_their_line(tests_judge) -> None:
    code = "def f(x):\n    if x > 2:\n        return 1 / 0\n    return x\n"
    candidate = Candidate.from_response(fenced(code), tests=("assert f(1) == 1", "assert f(3) == 3"))
    (result,) = tests_judge([candidate])
    assert result.score == 0.0
    assert texts(candidate, result) == [("ZeroDivisionError", "return 1 / 0")]


def test_tests_judge_reports_timeouts_load_errors_and_early_exits(tests_judge) -> None:
    loop = Candidate.from_response(fenced("def f():\n    while True:\n        pass\n"), tests=("assert f()",))
    load = Candidate.from_response(fenced("x = 1\nraise ValueError('boom')\n"), tests=("assert x == 1",))
    exit_ = Candidate.from_response(fenced("import os\nos._exit(0)\n"), tests=("assert False",))
    timeout, load_error, early = tests_judge([loop, load, exit_])
    assert timeout.score == 0.0 and [f.rule for f in timeout.findings] == ["Timeout"]
    assert load_error.score == 0.0 and texts(load, load_error) == [("ValueError", "raise ValueError('boom')")]
    assert early.score == 0.0 and len(early.findings) == 1


def test_partial_scoring_counts_only_the_tests_the_prompt_does_not_show() -> None:
    judge = tests_kind.TestsJudge(tests_kind.TestsSettings(scoring="partial", timeout_s=1.0))
    tests = ("assert sq(2) == 4", "assert sq(3) == 9", "assert sq(4) == 16", "assert sq(5) == 25")
    task = Task("t", "Write `sq(x)`. For example: `sq(2) == 4`.", "sq", "def sq(x):\n    return x * x\n", tests)
    hard_coded = "def sq(x):\n    return 4 if x == 2 else 0\n"
    half = "def sq(x):\n    return x * x if x < 4 else 0\n"
    right = "def sq(x):\n    return x * x\n"
    batch = [Candidate.from_response(fenced(code), tests=tests, task=task) for code in (hard_coded, half, right)]
    assert batch[0].shown_tests == (0,)  # read from the prompt
    assert [r.score for r in judge(batch)] == [0.0, 1 / 3, 1.5]  # sq(3) of the three hidden ones; all + bonus
    # with every test shown there is nothing hidden: then every test counts
    shown_all = Candidate.from_response(fenced(half), tests=tests, shown_tests=(0, 1, 2, 3))
    assert [r.score for r in judge([shown_all])] == [0.5]


def test_tests_judge_leaves_out_unparsable_tests(tests_judge) -> None:
    code = "def f():\n    return 1\n"
    candidate = Candidate.from_response(
        fenced(code), tests=("assert f() == 1", "assert f( ==", "assert f() ==")
    )
    all_bad = Candidate.from_response(fenced(code), tests=("assert (",))
    result, none_valid = tests_judge([candidate, all_bad])
    assert result.score == 1.5  # the one valid test passed
    assert [f.rule for f in result.findings] == ["invalid-test", "invalid-test"]
    assert none_valid.score == 0.0 and [f.rule for f in none_valid.findings] == ["invalid-test"]
    assert none_valid.executed_spans is None


def test_tests_judge_without_tests_or_code_scores_zero(tests_judge) -> None:
    no_tests = Candidate.from_response(fenced("x = 1\n"))
    no_code = Candidate.from_response("I cannot.", tests=("assert True",))
    assert [r.score for r in tests_judge([no_tests, no_code])] == [0.0, 0.0]


def test_a_bandit_failure_that_does_not_recur_leaves_no_trace(monkeypatch) -> None:
    """A Bandit test that raised once (seen once in CI on a plain program) costs the response nothing."""
    from bandit.core import manager

    real, calls = manager.BanditManager._execute_ast_visitor, []

    def once(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            raise RuntimeError("transient")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(manager.BanditManager, "_execute_ast_visitor", once)
    code = "import subprocess\nsubprocess.call('ls', shell=True)\n"
    first, second = SecurityJudge(SecuritySettings())([Candidate.from_response(fenced(c)) for c in (code, code)])
    assert first == second and first.error is None and first.score == -1.0
    assert [f.rule for f in first.findings] == ["B404", "B607", "B602"]
    assert calls == ["c0.py", "c1.py", "c0.py"]
