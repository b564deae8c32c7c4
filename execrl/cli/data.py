"""``execrl data fetch``: download the benchmark data from upstream into a data directory."""

from __future__ import annotations

import argparse
import sys

from execrl.errors import ExecrlError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="download the benchmark data (MBPP, sanitized MBPP, MBPP+, RoboEval)",
        description="Manage the benchmark data directory that every loader reads (docs/data.md).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser(
        "fetch",
        help="download every data file from its upstream source and check its sha256",
        description="Download MBPP, sanitized MBPP, MBPP+ (v0.2.0, and v0.1.0 for the EvalPlus cross-checks) "
        "and the RoboEval files from their pinned upstream locations, check each file's sha256 and write the "
        "layout the loaders read. Files already present with the right hash are kept. Without network access "
        "it stops at the first connection failure and lists the files to put in place by hand.",
    )
    fetch.add_argument("--data-dir", metavar="DIR", help="where to write (default $EXECRL_DATA_DIR); created if needed")
    fetch.add_argument(
        "--mirror", metavar="URL",
        help="fetch from this base URL instead of upstream, laid out as URL/<host>/<path> "
        "(default $EXECRL_DATA_MIRROR)",
    )
    fetch.add_argument("--timeout", type=float, default=None, metavar="S", help="seconds per connection (default 20)")
    fetch.add_argument("--force", action="store_true", help="replace files whose contents differ from upstream")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    from execrl.data_dir import ENV_VAR, configured_data_dir
    from execrl.tasks.download import DEFAULT_TIMEOUT_S, fetch_all

    root = configured_data_dir(args.data_dir)
    if root is None:
        raise ExecrlError(f"execrl data fetch needs --data-dir DIR (or {ENV_VAR}=DIR): where to write the data")
    if root.exists() and not root.is_dir():
        raise ExecrlError(f"{root} exists and is not a directory")
    timeout = DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout
    if timeout <= 0:
        raise ExecrlError("--timeout must be positive")

    report = fetch_all(
        root, timeout_s=timeout, mirror=args.mirror, force=args.force,
        progress=lambda message: print(f"execrl: {message}", file=sys.stderr),
    )
    for relative, why in report.failed.items():
        print(f"execrl: {root / relative}: {why}", file=sys.stderr)
    print(
        f"execrl: {root}: {len(report.written)} files written, {len(report.present)} already present"
        + (f", {len(report.failed)} failed" if report.failed else "")
        + (f"; use it with --data-dir {root} or {ENV_VAR}={root}" if not report.failed else ""),
        file=sys.stderr,
    )
    return 1 if report.failed else 0
