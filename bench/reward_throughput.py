"""Reward throughput: the full default formula (syntax + tests + style + security, localized credit)
on batches of 64 MBPP-sized responses, with per-judge times. Target: <= 1.0 s per batch on 2 cores.

Responses are real MBPP reference solutions (tasks 1, 2, ...) wrapped in chat prose and a fenced
block, with their real tests; of every four, one gets a last line that raises and one a last line
that does not compile. (Cutting solutions short instead makes some loop forever, and then the batch
takes the tests' timeout, 5 s, whatever the judges cost.)
The same batches are then timed with their last response replaced by one that makes Ruff overflow
its stack when it lints several files (``y = ---...-1``, 3,000 signs): the style judge then checks
halves of the batch again until that program is alone, which is the cost of keeping one response
from failing the batch.
The table is printed and written to docs/benchmarks.md under "## Reward throughput" (only that
section is replaced).

    python bench/reward_throughput.py [--data-dir DIR] [--batches 5] [--tokenizer NAME_OR_DIR]

--tokenizer takes what every execrl command takes: an embedded model (smollm2), a directory or a Hub id.

Without --tokenizer, the tiny byte-level BPE tokenizer of the tests (tests/fixtures/tokenizer.py)
is trained on the spot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _report import write_section

from execrl.credit import token_offsets
from execrl.data_dir import data_file
from execrl.rewards import Candidate, RewardFormula, load_config, parse_config

REPO = Path(__file__).resolve().parents[1]
BATCH = 64
TITLE = "Reward throughput"
POISON = "Here:\n```python\ny = " + "-" * 3000 + "1\n```\n"


def mbpp_candidates(formula: RewardFormula, data_dir: str | None) -> list[Candidate]:
    candidates = []
    with data_file("mbpp/mbpp.jsonl", data_dir).open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            task = json.loads(line)
            code = task["code"].replace("\r\n", "\n")
            if n % 4 == 2:  # fails at load, on its last line
                code += "\nraise ValueError('unfinished')"
            elif n % 4 == 3:  # does not compile
                code += "\ndef helper(x:"
            response = f"Here is a solution.\n```python\n{code}\n```\nIt uses only the standard library."
            candidates.append(
                formula.candidate(
                    response,
                    tests=task["test_list"],
                    test_setup=task["test_setup_code"],
                    task_id=str(task["task_id"]),
                )
            )
    return candidates


def load_tokenizer(name: str | None, scratch: str):
    from execrl.models import load_tokenizer as load_named_tokenizer

    if name is None:
        sys.path.insert(0, str(REPO / "tests"))
        from fixtures.tokenizer import make_tiny_tokenizer

        make_tiny_tokenizer(scratch)
        name = scratch
    return load_named_tokenizer(name)  # embedded names (smollm2), directories and Hub ids alike


def localized_default() -> RewardFormula:
    config = load_config().model_dump()
    for judge in config["judges"].values():
        judge["credit"] = "localized"
    return RewardFormula(parse_config(config, "benchmark config"))


def run(args: argparse.Namespace) -> str:
    load = os.getloadavg()[0]
    formula = localized_default()
    candidates = mbpp_candidates(formula, args.data_dir)
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = load_tokenizer(args.tokenizer, scratch)
    batches = [candidates[i * BATCH : (i + 1) * BATCH] for i in range(args.batches + 1)]
    formula.score_batch(batches[0])  # warm-up: sandbox workers start, first Ruff run
    judge_times: dict[str, list[float]] = {name: [] for name in formula.judges}
    credit_times, totals = [], []
    timed_out: list[str] = []
    poisoned_totals, poisoned_style = [], []
    poison = formula.candidate(POISON, tests=["assert y == 1"])
    for batch in batches[1:]:
        started = time.perf_counter()
        scored = formula.score_batch(batch)
        credit_started = time.perf_counter()
        for candidate, breakdown in zip(batch, scored.breakdowns, strict=True):
            breakdown.token_rewards(token_offsets(tokenizer, candidate.response))
        finished = time.perf_counter()
        poisoned = [*batch[:-1], poison]
        # Judges only: tokenizing 3,000 minus signs with the tiny BPE tokenizer takes seconds, which
        # measures the tokenizer (the trainer decodes generated ids instead).
        poison_started = time.perf_counter()
        poisoned_scored = formula.score_batch(poisoned)
        poisoned_totals.append(time.perf_counter() - poison_started)
        poisoned_style.append(poisoned_scored.judge_seconds["style"])
        timed_out += [
            str(c.task_id)
            for c, b in zip(batch, scored.breakdowns, strict=True)
            if any(f.rule == "Timeout" for f in b.component("tests").result.findings)
        ]
        for name, seconds in scored.judge_seconds.items():
            judge_times[name].append(seconds)
        credit_times.append(finished - credit_started)
        totals.append(finished - started)

    def row(label: str, values: list[float]) -> str:
        return f"| {label} | {statistics.median(values) * 1000:.1f} | {max(values) * 1000:.1f} |"

    lines = [
        (
            f"`python bench/reward_throughput.py` on {os.cpu_count()} CPUs "
            f"({platform.python_implementation()} {platform.python_version()}): {args.batches} batches "
            f"of {BATCH} MBPP reference solutions in chat responses (of every four, one raises at load "
            "and one does not compile), with their tests; default formula with localized credit for "
            "every judge; sandbox with one worker per CPU. Times per batch of 64, after one warm-up "
            "batch. The judges run in parallel threads, so their times overlap. The last two rows: the "
            "same batches with their last response replaced by `y = ---...-1` (3,000 signs), on which "
            "Ruff overflows its stack when it lints several files, so that the style judge checks halves "
            "of the batch again until that program is alone (judges only, without token offsets and "
            f"credit). Load average when it started: {load:.1f} (other work on the machine "
            "slows every row)."
        ),
        "",
        "| stage | median ms | max ms |",
        "|---|---|---|",
        *(row(f"judge `{name}`", values) for name, values in judge_times.items()),
        row("token offsets + credit", credit_times),
        row("**total**", totals),
        row("judge `style`, one response that crashes Ruff in the batch", poisoned_style),
        row("judges (`score_batch`), one response that crashes Ruff in the batch", poisoned_totals),
        "",
        f"Target: <= 1000 ms per batch of 64; median {statistics.median(totals) * 1000:.0f} ms "
        f"({BATCH / statistics.median(totals):.0f} responses/s); the judges on a batch with one response "
        f"that crashes Ruff: median {statistics.median(poisoned_totals) * 1000:.0f} ms. A batch holding a "
        "program that runs into "
        "the tests' timeout takes at least that timeout; "
        + (f"here MBPP task(s) {', '.join(timed_out)} did (max column)." if timed_out else "none did here."),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="benchmark data directory (default: $EXECRL_DATA_DIR)")
    parser.add_argument("--batches", type=int, default=5, help="timed batches of 64 (default 5)")
    parser.add_argument(
        "--tokenizer", help="smollm2, a tokenizer directory or a Hub id (default: the tests' tiny tokenizer)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    section = run(args)
    print(section)
    if not args.no_write:
        path = REPO / "docs" / "benchmarks.md"
        write_section(path, TITLE, section)
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
