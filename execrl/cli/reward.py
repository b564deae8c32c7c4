"""``execrl reward``: score a JSONL file of responses with the reward formula, down to each token."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reward",
        help="score responses with the judges and per-token credit",
        description="Score each response of a JSONL file ({prompt, response, tests | task_id} per line) "
        "with the reward formula and write its total, per-judge scores and findings, and per-token rewards.",
    )
    parser.add_argument("--samples", metavar="S.jsonl", help="input samples, one JSON object per line")
    parser.add_argument("--config", metavar="C.yaml", help="reward config (default: the built-in formula)")
    parser.add_argument(
        "--tokenizer", metavar="NAME_OR_PATH",
        help="tokenizer: an embedded model (smollm2), a local directory or a Hugging Face id",
    )
    parser.add_argument("--out", metavar="O.jsonl", help="where to write the scored samples")
    parser.add_argument("--data-dir", metavar="DIR", help="benchmark data directory, for task_id lines")
    parser.add_argument("--batch-size", type=int, default=64, help="responses judged per batch (default 64)")
    parser.add_argument(
        "--print-default-config", action="store_true", help="print the default config YAML and exit"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from execrl.rewards import DEFAULT_CONFIG_YAML

    if args.print_default_config:
        sys.stdout.write(DEFAULT_CONFIG_YAML)
        return 0
    missing = [
        flag
        for flag, value in (("--samples", args.samples), ("--tokenizer", args.tokenizer), ("--out", args.out))
        if not value
    ]
    if missing:
        raise ExecrlError(f"execrl reward needs {', '.join(missing)} (or --print-default-config)")
    if args.batch_size < 1:
        raise ExecrlError("--batch-size must be at least 1")
    return score_file(args.samples, args.out, args.tokenizer, args.config, args.data_dir, args.batch_size)


def score_file(
    samples: str, out: str, tokenizer_name: str, config: str | None, data_dir: str | None, batch_size: int
) -> int:
    """Score every readable line; report unreadable ones on stderr. Exit code 1 if any line was skipped."""
    from execrl.credit import token_offsets
    from execrl.models import load_tokenizer
    from execrl.rewards import RewardFormula
    from execrl.rewards.samples import BadLine, SampleLine, ScoredSample, read_samples
    from execrl.viz.token_rewards import token_pieces

    formula = RewardFormula.from_file(config)
    tokenizer = load_tokenizer(tokenizer_name)
    skipped = written = 0
    try:
        handle = Path(out).open("w", encoding="utf-8")  # noqa: SIM115 -- closed by the `with` below
    except OSError as exc:
        raise ExecrlError(f"cannot write {out}: {exc.strerror or exc}") from exc
    with handle:
        for batch in _batches(read_samples(samples, data_dir), batch_size):
            good: list[SampleLine] = []
            for item in batch:
                if isinstance(item, BadLine):
                    print(f"execrl: {samples} line {item.line}: {item.problem}; skipped", file=sys.stderr)
                    skipped += 1
                else:
                    good.append(item)
            if not good:
                continue
            candidates = [
                formula.candidate(
                    item.sample.response,
                    tests=item.tests,
                    test_setup=item.test_setup,
                    task_id=None if item.sample.task_id is None else str(item.sample.task_id),
                    shown_tests=item.shown_tests,
                )
                for item in good
            ]
            for item, breakdown in zip(good, formula.score_batch(candidates).breakdowns, strict=True):
                offsets = token_offsets(tokenizer, item.sample.response)
                tokens = token_pieces(item.sample.response, offsets)
                record = ScoredSample.build(item, breakdown, offsets, tokens)
                # stdlib json: it escapes lone surrogates instead of failing on them
                handle.write(json.dumps(record.model_dump()) + "\n")
                written += 1
    print(
        f"execrl: wrote {written} scored samples to {out}"
        + (f" ({skipped} lines skipped)" if skipped else ""),
        file=sys.stderr,
    )
    return 1 if skipped else 0


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
