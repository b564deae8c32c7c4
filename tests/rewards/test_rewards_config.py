from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from execrl.errors import ExecrlError
from execrl.rewards import DEFAULT_CONFIG_YAML, RewardFormula, load_config, parse_config
from execrl.rewards.config import resolve

REPO = Path(__file__).resolve().parents[2]


def test_configs_file_is_the_built_in_default() -> None:
    assert (REPO / "configs" / "reward_default.yaml").read_text(encoding="utf-8") == DEFAULT_CONFIG_YAML


def test_default_is_the_papers_formula() -> None:
    entries = {e.name: e for e in resolve(load_config())}
    assert list(entries) == ["syntax", "tests", "style", "security"]
    assert entries["tests"].credit == "uniform"
    assert {entries[n].credit for n in ("syntax", "style", "security")} == {"localized"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"judges": {"style": {"weigth": 1}}}, "judges.style.weigth: Extra inputs are not permitted"),
        ({"judges": {"style": {"weight": "heavy"}}}, "judges.style.weight"),
        ({"judges": {"style": {"settings": {"selct": ["F"]}}}}, "judges.style.settings.selct"),
        ({"judges": {"tests": {"settings": {"timeout_s": -1}}}}, "judges.tests.settings.timeout_s"),
        (
            {"judges": {"syntax": {"credit": "magic"}}},
            "judges.syntax.credit: Value error, unknown credit strategy",
        ),
        ({"judges": {"syntax": {"clip": [1, -1]}}}, "judges.syntax.clip"),
        (
            {"judges": {"style": {"credit_options": {"fractoin": 0.5}}}},
            "judges.style.credit_options: fractoin",
        ),
        ({"judges": {"speed": {}}}, "judges.speed: unknown judge kind 'speed'"),
        ({"judges": {"x": {"kind": "nope"}}}, "judges.x.kind: unknown judge kind"),
        ({"judges": {}}, "judges:"),
        ({"judges": {"syntax": {}}, "extra": 1}, "extra: Extra inputs are not permitted"),
        (
            {"judges": {"security": {"settings": {"severity_weights": {"LOW": 1}}}}},
            "judges.security.settings.severity_weights",
        ),
        (
            {"judges": {"p": {"kind": "plugin", "settings": {"callable": "no_colon"}}}},
            "judges.p.settings.callable",
        ),
    ],
)
def test_bad_configs_name_the_bad_key(config, message) -> None:
    with pytest.raises(ExecrlError) as error:
        parse_config(config, "my.yaml")
    assert f"my.yaml: {message}" in str(error.value)


def test_config_files_errors(tmp_path) -> None:
    with pytest.raises(ExecrlError, match="cannot read reward config"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("judges: [unclosed\n", encoding="utf-8")
    with pytest.raises(ExecrlError, match="not valid YAML"):
        load_config(bad)


def test_a_config_file_round_trips(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            """
            judges:
              syntax: {weight: 2.0}
              lint:
                kind: style
                weight: 0.1
                credit: terminal
                normalize: true
                clip: [-2, 2]
                settings: {select: [F401]}
            """
        ),
        encoding="utf-8",
    )
    (syntax, lint) = resolve(load_config(path))
    assert (syntax.kind, syntax.weight, syntax.credit) == ("syntax", 2.0, "localized")
    assert (lint.kind, lint.credit, lint.normalize, lint.clip) == ("style", "terminal", True, (-2.0, 2.0))
    assert lint.settings.select == ("F401",)
    assert yaml.safe_load(DEFAULT_CONFIG_YAML)["judges"]["tests"]["settings"]["all_pass_bonus"] == 0.5


# -- plugins -----------------------------------------------------------------------------------------

PLUGIN = '''
from execrl.records import Finding, JudgeResult

def todo_judge(batch):
    """-1 per TODO comment, located on the comment."""
    results = []
    for c in batch:
        at = c.code.find("# TODO")
        if at < 0:
            results.append(JudgeResult(0.0))
        else:
            start, end = c.extracted.span(at, at + len("# TODO"))
            results.append(JudgeResult(-1.0, (Finding(start, end, 1.0, "todo", "unfinished"),)))
    return results

def wrong_length(batch):
    return []

def explodes(batch):
    raise RuntimeError("kaboom")

NOT_CALLABLE = 3
'''


@pytest.fixture
def plugin_module(tmp_path, monkeypatch) -> str:
    (tmp_path / "my_reward_plugin.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / "broken_reward_plugin.py").write_text("import no_such_module_here\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_reward_plugin"


def _plugin_formula(reference: str) -> RewardFormula:
    return RewardFormula(
        parse_config(
            {"judges": {"todo": {"kind": "plugin", "weight": 0.5, "settings": {"callable": reference}}}}
        )
    )


def test_plugin_judge_is_loaded_and_used(plugin_module) -> None:
    formula = _plugin_formula(f"{plugin_module}:todo_judge")
    batch = [formula.candidate("```python\nx = 1  # TODO\n```"), formula.candidate("x = 1")]
    first, second = formula.score_batch(batch).breakdowns
    assert (first.total, second.total) == (-0.5, 0.0)
    (finding,) = first.component("todo").result.findings
    assert batch[0].response[finding.start : finding.end] == "# TODO"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_such_plugin_module:f", "cannot import module 'no_such_plugin_module'"),
        ("broken_reward_plugin:f", "cannot import module 'broken_reward_plugin'.*ModuleNotFoundError"),
        ("my_reward_plugin:missing", "has no attribute 'missing'"),
        ("my_reward_plugin:NOT_CALLABLE", "not a callable"),
    ],
)
def test_plugin_load_errors_are_clear(plugin_module, reference, message) -> None:
    with pytest.raises(ExecrlError, match=message):
        _plugin_formula(reference)


def test_plugin_misbehaving_at_run_time_is_reported(plugin_module) -> None:
    batch = [RewardFormula().candidate("x = 1")]
    with pytest.raises(ExecrlError, match="returned 0 results for a batch of 1"):
        _plugin_formula(f"{plugin_module}:wrong_length").score_batch(batch)
    with pytest.raises(ExecrlError, match="raised RuntimeError: kaboom"):
        _plugin_formula(f"{plugin_module}:explodes").score_batch(batch)


def test_executed_credit_switches_line_tracing_on():
    from execrl.rewards.config import parse_config, resolve

    plain = parse_config({"judges": {"tests": {"weight": 1.0}}}, "t")
    executed = parse_config({"judges": {"tests": {"weight": 1.0, "credit": "executed"}}}, "t")
    assert resolve(plain)[0].settings.trace_lines is False
    assert resolve(executed)[0].settings.trace_lines is True
