from __future__ import annotations

import json
from pathlib import Path

import pytest

from execrl.rewards.code_quality import code_quality
from execrl.sweep.code_quality import samples_quality

CLEAN = "```python\ndef add(a, b):\n    return a + b\n```"
BROKEN = "```python\ndef add(a, b)\n    return a + b\n```"
LINTED = "```python\nimport os\ndef add(a, b):\n    return a + b\n```"  # F401: os imported, unused
INSECURE = "```python\nimport subprocess\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n```"


def test_rates_count_what_the_judges_find() -> None:
    rates = code_quality([CLEAN, BROKEN, LINTED, INSECURE])
    assert rates["syntax error rate"] == pytest.approx(1 / 4)
    # Lint and Bandit rates are over the three programs that compile.
    assert rates["lint rate"] == pytest.approx(1 / 3)
    assert rates["ruff findings per program"] == pytest.approx(1 / 3)
    assert rates["bandit rate"] == pytest.approx(1 / 3)


def test_nothing_compiles_leaves_lint_and_security_undefined() -> None:
    rates = code_quality([BROKEN, "no code at all"])
    assert rates["syntax error rate"] == 1.0
    assert rates["lint rate"] is None and rates["bandit rate"] is None


def test_reads_raw_responses_from_a_generation_cache(tmp_path: Path) -> None:
    cache = tmp_path / "mbpp.samples.jsonl"
    lines = [{"key": f"Mbpp/{i}#0", "sample": {"task_id": f"Mbpp/{i}", "solution": "x", "raw": raw}}
             for i, raw in enumerate([CLEAN, BROKEN])]
    cache.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert samples_quality(cache)["syntax error rate"] == pytest.approx(0.5)
