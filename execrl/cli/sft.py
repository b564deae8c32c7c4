"""``execrl sft``: supervised warm start on the built-in Python tasks' canonical solutions (train split)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sft",
        help="warm-start a model on the built-in Python tasks' canonical solutions (answer format)",
        description=(
            "Supervised fine-tuning on the built-in Python tasks' train split, prompted as the training "
            "config's trainer prompts them; saves a full model directory for model.name. See docs/ablation_setup.md."
        ),
    )
    parser.add_argument("--config", type=Path, required=True, help="SFT config (YAML)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key, e.g. --set steps=50 (repeatable; values are YAML)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from execrl.rl.sft import load_sft_config, train_sft

    summary = train_sft(load_sft_config(args.config, args.overrides))
    print(f"model: {summary.output_dir} ({summary.parameters / 1e6:.1f}M parameters)")
    print(
        f"loss {summary.loss_first:.3f} (first steps) -> {summary.loss_last:.3f} (last steps); "
        f"{summary.steps} steps, {summary.epochs:.1f} epochs of {summary.examples} tasks, {summary.seconds:.0f} s"
    )
    return 0
