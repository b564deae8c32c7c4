# tests/ is on sys.path (pytest adds a rootdir conftest's directory), so shared helpers import as
# `fixtures.*`; not `tests.fixtures.*`, which a site-packages `tests` package can shadow.
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fixtures import prerequisites
from fixtures.tokenizer import make_tiny_tokenizer


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The benchmark data directory; a test that asks for it is skipped (or, in CI, failed) without it."""
    path, missing = prerequisites.data_directory()
    if missing:
        prerequisites.unavailable(prerequisites.DATA, missing)
    return path


@pytest.fixture(scope="session")
def evalplus() -> Callable[..., Any]:
    """``evalplus(code, *args)``: run ``code`` in an interpreter that has EvalPlus 0.3.1, return its JSON output."""
    python, origin = prerequisites.evalplus_python()
    if python is None:
        prerequisites.unavailable(prerequisites.EVALPLUS, origin)
    return partial(prerequisites.run_evalplus, python)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            reasons.append(str(longrepr[2]).removeprefix("Skipped: "))
    for line in prerequisites.summary_lines(reasons):
        terminalreporter.write_line(line, yellow=True, bold=True)


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the tiny byte-level BPE tokenizer (``AutoTokenizer.from_pretrained`` loads it)."""
    directory = tmp_path_factory.mktemp("tiny_tokenizer")
    make_tiny_tokenizer(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_tokenizer_dir: Path):
    """The tiny tokenizer, loaded back from its directory as a model's tokenizer would be."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
