"""``execrl train``: RL fine-tuning from a YAML config; ``--resume`` continues a run, ``--export`` exports one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="fine-tune a code model with PPO under execution-aware, token-level rewards",
        description="Train with PPO (or RLOO, GRPO, REINFORCE++) from a YAML config; see docs/training.md.",
    )
    parser.add_argument("--config", type=Path, help="training config (YAML); optional with --resume")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config key, e.g. --set algorithm.steps=10 (repeatable; values are YAML)",
    )
    parser.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", nargs="?", const=True, default=None,
        help="continue from the latest checkpoint (of RUN_DIR, else of the config's output_dir)",
    )
    parser.add_argument("--export", type=Path, metavar="RUN_DIR", help="export RUN_DIR's latest checkpoint and exit")
    parser.add_argument("--output", type=Path, help="with --export: where to write (default RUN_DIR/export)")
    parser.add_argument("--no-merged", action="store_true", help="with --export: the adapter only")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from execrl.rl.config import load_config

    if args.export is not None:
        from execrl.rl.export import export_run

        target = export_run(args.export, args.output or args.export / "export", merged=not args.no_merged)
        print(f"exported to {target}")
        return 0
    config_path = args.config
    overrides = list(args.overrides)
    if isinstance(args.resume, Path):
        config_path = config_path or args.resume / "config.yaml"
        overrides.append(f"output_dir={args.resume}")
    if config_path is None:
        raise ExecrlError("give --config CONFIG.yaml (or --resume RUN_DIR to continue a run)")
    config = load_config(config_path, overrides)

    from execrl.rl.distributed import end_launched_rank, is_main_process
    from execrl.rl.trainer import train

    summary = train(config, resume=args.resume is not None)
    if not is_main_process():  # a data-parallel launch: rank 0 reports the run
        end_launched_rank(0)
        return 0
    print_summary(summary)
    end_launched_rank(0)
    return 0


def print_summary(summary: Any) -> None:
    """The run's before/after table on the held-out tasks (greedy), then its cost."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"run: {summary.run_dir} ({summary.steps} steps, {summary.responses} responses)")
    console.print(f"training reward {summary.reward_before:+.3f} (first steps) -> {summary.reward_after:+.3f} (last steps)")
    if summary.eval_tasks:
        table = Table(title=f"held-out tasks, greedy ({summary.eval_tasks} tasks)")
        table.add_column("")
        table.add_column("before", justify="right")
        table.add_column("after", justify="right")
        rows = (
            ("pass rate", "pass_rate", "{:.1%}"),
            ("syntax-error rate", "syntax_error_rate", "{:.1%}"),
            ("Ruff findings per program", "ruff_findings_per_program", "{:.2f}"),
            ("mean reward", "mean_reward", "{:+.3f}"),
        )
        for label, key, fmt in rows:
            before, after = getattr(summary, f"{key}_before"), getattr(summary, f"{key}_after")
            if before is None and after is None:
                continue
            table.add_row(label, "n/a" if before is None else fmt.format(before), "n/a" if after is None else fmt.format(after))
        console.print(table)
    console.print(f"wall time: training {summary.train_s / 60:.1f} min, held-out evaluation {summary.eval_s / 60:.1f} min")
    if summary.learning_curves:
        console.print(f"learning curves: {summary.learning_curves}")
