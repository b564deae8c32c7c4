# tests/ is on sys.path (pytest adds a rootdir conftest's directory), so shared helpers import as
# `fixtures.*`; not `tests.fixtures.*`, which a site-packages `tests` package can shadow.
from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.tokenizer import make_tiny_tokenizer


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
