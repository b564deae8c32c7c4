"""Which keyword a model's ``forward`` takes its KV cache by: transformers renamed ``past_key_values`` to
``cache`` (the old name warns, and goes in 5.40); older releases know only ``past_key_values``."""

from __future__ import annotations

import inspect
from typing import Any


def cache_keyword(model: Any) -> str:
    return "cache" if "cache" in inspect.signature(type(model).forward).parameters else "past_key_values"
