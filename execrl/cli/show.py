"""``execrl show``: draw the responses of an ``execrl reward`` output with tokens coloured by reward."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from execrl.errors import ExecrlError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "show",
        help="show per-token rewards of scored samples",
        description="Render each response of an `execrl reward` output with its tokens coloured by reward.",
    )
    parser.add_argument("scored", metavar="O.jsonl", help="output of `execrl reward`")
    parser.add_argument("--html", metavar="out.html", help="also write a self-contained HTML page")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from rich.console import Console

    from execrl.rewards.samples import ScoredSample
    from execrl.viz.token_rewards import TokenRewardRecord, render_html, render_terminal

    try:
        lines = Path(args.scored).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ExecrlError(f"cannot read {args.scored}: {exc.strerror or exc}") from exc
    console = Console()
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            scored = ScoredSample.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ExecrlError(
                f"{args.scored} line {number} is not an `execrl reward` output record: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        scores = ", ".join(f"{name} {part.score:+.3g}" for name, part in scored.components.items())
        title = f"line {scored.line}: reward {scored.reward:+.3f} ({scores})"
        render_terminal(console, scored.tokens, scored.token_rewards, title)
        records.append(TokenRewardRecord(title, tuple(scored.tokens), tuple(scored.token_rewards)))
    if args.html:
        path = render_html(records, args.html)
        console.print(f"wrote {path}")
    return 0
