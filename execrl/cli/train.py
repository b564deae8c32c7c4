"""``execrl train``: RL fine-tuning from a YAML config; ``--resume`` continues a run, ``--export`` exports one."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    print(f"run: {summary.run_dir} ({summary.steps} steps)")
    print(f"reward    {summary.reward_before:+.3f} (first steps) -> {summary.reward_after:+.3f} (last steps)")
    if summary.pass_rate_after is not None:
        before = "n/a" if summary.pass_rate_before is None else f"{summary.pass_rate_before:.1%}"
        print(f"pass rate {before} (before) -> {summary.pass_rate_after:.1%} (after, held-out, greedy)")
    if summary.learning_curves:
        print(f"learning curves: {summary.learning_curves}")
    end_launched_rank(0)
    return 0
