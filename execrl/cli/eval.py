"""``execrl eval BENCH``: evaluate samples (or a model's generations) on MBPP, MBPP+ or RoboEval.

Writes the JSON result, a Markdown report and a plot beside it, and prints a summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from execrl.errors import ExecrlError
from execrl.eval.benchmarks import BENCHMARKS, json_default


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate samples or a model on MBPP, MBPP+ or RoboEval",
        description="Evaluate on a benchmark. Samples: EvalPlus's format for MBPP/MBPP+ (task_id plus "
        "solution or completion), {id, task, prompt_index, program} lines for RoboEval.",
    )
    parser.add_argument("benchmark", choices=BENCHMARKS)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", type=Path, help="JSONL file of samples to evaluate")
    source.add_argument("--model", help="generate samples with this model (HF id, local dir or 'smollm2')")
    parser.add_argument("--out", type=Path, required=True, help="JSON result file (a .md and .png go beside it)")
    parser.add_argument("--data-dir", help="benchmark data directory (default: $EXECRL_DATA_DIR)")
    parser.add_argument("--workers", type=int, default=None, help="sandbox workers (default: one per CPU)")
    parser.add_argument("--adapter", type=Path, help="a LoRA adapter directory to apply to --model")
    parser.add_argument("--n", type=int, default=None, help="samples per task (default 1 greedy; RoboEval 20)")
    parser.add_argument("--temperature", type=float, default=None, help="0 = greedy (default; RoboEval 0.2)")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks (quick looks)")
    parser.add_argument("--split", default="test", help="MBPP split to generate for (default: test)")
    parser.add_argument(
        "--roboeval-semantics",
        choices=("upstream", "injected"),
        default="upstream",
        help="how RoboEval programs run: upstream (default) = the benchmark's textual API rewrite and "
        "timed-out trace reading, as in published results; injected = the API injected into the "
        "program's namespace (s.replace(...) and the like then work). Reports say which was used.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from execrl.eval import report as reports
    from execrl.eval.benchmarks import evaluate_benchmark
    from execrl.eval.samples import load_samples
    from execrl.sandbox import Sandbox, default_sandbox

    if args.benchmark != "roboeval" and args.roboeval_semantics != "upstream":
        raise ExecrlError("--roboeval-semantics applies to `execrl eval roboeval` only")
    samples = _generate(args) if args.model else None
    if samples is None:
        samples = _read_lines(args.samples) if args.benchmark == "roboeval" else load_samples(args.samples)
    sandbox = Sandbox(workers=args.workers) if args.workers else default_sandbox()
    try:
        result = evaluate_benchmark(
            args.benchmark, samples, args.data_dir, sandbox, roboeval_semantics=args.roboeval_semantics
        )
    finally:
        if args.workers:
            sandbox.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result.data, indent=1, default=json_default) + "\n")
    markdown, plot = reports.write_report(result.view, args.out)
    _print_summary(result.view, args.out, markdown, plot)
    if result.evaluated == 0:
        raise ExecrlError("no sample could be evaluated (see the problems listed above)")
    return 0


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ExecrlError(f"cannot read samples file {path}: {exc.strerror}") from exc


def _print_summary(view: Any, out: Path, markdown: Path, plot: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=view.title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in view.metrics.items():
        table.add_row(name, "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value))
    console = Console()
    console.print(table)
    for note in view.notes[:10]:
        console.print(f"[yellow]skipped:[/] {note}")
    console.print(f"results: {out}\nreport:  {markdown}\nplot:    {plot}")


def _generate(args: argparse.Namespace) -> list[dict[str, Any]]:
    from execrl.eval.generate import generate_samples

    return generate_samples(
        args.benchmark,
        model=args.model,
        adapter=args.adapter,
        n=args.n,
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        limit=args.limit,
        split=args.split,
        data_dir=args.data_dir,
        cache_path=args.out.with_suffix(".samples.jsonl"),
    )
