"""``execrl sweep``: train arms x seeds from a sweep file, then report tables, paired tests and plots."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run an experiment grid (arms x seeds) and report statistics",
        description="Train every arm of a sweep file on every seed (resumable: finished runs are skipped), "
        "evaluate the final models, and write report.md and results.json; see docs/sweeps.md.",
    )
    parser.add_argument("--config", type=Path, required=True, help="sweep file (YAML)")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the runs on disk without training"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar over the runs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from execrl.sweep import sweep

    output = sweep(args.config, report_only=args.report_only, progress=not args.no_progress)
    if output.results.missing:
        print(f"not finished: {', '.join(output.results.missing)}")
    print(f"report:  {output.report}\nresults: {output.results_json}")
    return 0
