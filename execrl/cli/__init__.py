"""The ``execrl`` command.

Each subcommand lives in its own module here and exposes ``register(subparsers)``, which adds its
parser and sets ``func`` (taking the parsed args, returning an exit code). Adding a command never
means editing the others.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from execrl.errors import ExecrlError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="execrl", description="RL fine-tuning of code LLMs with execution-aware, dense rewards."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ExecrlError as exc:
        print(f"execrl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("execrl: interrupted", file=sys.stderr)
        return 130
