"""Syntax-error, lint and security-finding rates of a benchmark's generated code, beside its pass@k
(``execrl.rewards.code_quality`` on the responses a sweep's generation cache holds)."""

from __future__ import annotations

import json
from pathlib import Path

from execrl.rewards.code_quality import code_quality

PYTHON_BENCHMARKS = ("mbpp", "mbppplus")


def samples_quality(samples_file: Path) -> dict[str, float | None]:
    """``code_quality`` of the raw responses in a generation cache (``<spec key>.samples.jsonl``)."""
    responses = []
    for line in samples_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            sample = json.loads(line)["sample"]
            responses.append(sample.get("raw") or sample.get("solution") or sample.get("completion") or "")
    return code_quality(responses)
