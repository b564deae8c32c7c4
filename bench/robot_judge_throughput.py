"""Robot judging speed: this tree against a baseline tree, on the same batches, alternated.

A batch is 64 generated robot tasks' reference programs in chat responses (``generate_robot_tasks(64,
seed=--seed)``), scored by a formula of the simulator and completion judges on 3 world states each
(192 runs, shared between the two judges), with the memo of runs cleared before every batch. Each
side runs in its own process (``PYTHONPATH`` = its tree) with a sandbox of --workers workers, one
warm-up batch and then --batches timed batches; the sides alternate (A B, B A, ...) for --pairs
pairs. Reported: the median batch time of each side and the median of the per-pair ratios.

    python bench/robot_judge_throughput.py --baseline /path/to/old/checkout [--pairs 5] [--batches 3]
        [--workers 2] [--write docs/benchmarks.md]

The baseline is any checkout of execrl with the same judges (``git archive <commit> | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TITLE = "Robot judge throughput"


def child(args: argparse.Namespace) -> None:
    """One side: time --batches batches after a warm-up; print the times (s) as JSON."""
    from execrl.rewards import RewardFormula, parse_config
    from execrl.robot.batch import forget_runs
    from execrl.sandbox import Sandbox, set_default_sandbox
    from execrl.tasks.robot_gen import generate_robot_tasks

    states = {"settings": {"states": 3}}
    formula = RewardFormula(parse_config({"judges": {"simulator": states, "completion": states}}, "bench"))
    tasks = generate_robot_tasks(64, seed=args.seed)
    batch = [formula.candidate(f"```python\n{t.canonical_solution}```", task=t) for t in tasks]
    times = []
    with Sandbox(workers=args.workers) as sandbox:
        set_default_sandbox(sandbox)
        for index in range(args.batches + 1):
            forget_runs()
            start = time.perf_counter()
            scored = formula.score_batch(batch).breakdowns
            if index:  # the first batch warms the sandbox up
                times.append(time.perf_counter() - start)
    totals = sorted({round(b.total, 6) for b in scored})
    print(json.dumps({"times": times, "totals": totals, "execrl": __import__("execrl").__file__}))


def run_side(tree: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [
        sys.executable,
        __file__,
        "--child",
        "--batches",
        str(args.batches),
        "--workers",
        str(args.workers),
    ]
    command += ["--seed", str(args.seed)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, help="checkout to compare against")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", type=Path, help="write the section into this Markdown file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.baseline is None:
        parser.error("--baseline is required")
    sides = {"baseline": args.baseline.resolve(), "this tree": REPO}
    times: dict[str, list[float]] = {name: [] for name in sides}
    ratios = []
    load = os.getloadavg()[0]
    for pair in range(args.pairs):
        order = list(sides) if pair % 2 == 0 else list(reversed(sides))
        medians = {}
        for name in order:
            result = run_side(sides[name], args)
            times[name] += result["times"]
            medians[name] = statistics.median(result["times"])
            print(f"pair {pair + 1} {name}: {medians[name] * 1000:.0f} ms/batch, totals {result['totals']}")
        ratios.append(medians["this tree"] / medians["baseline"])
    base, new = (statistics.median(times[name]) * 1000 for name in ("baseline", "this tree"))
    ratio = statistics.median(ratios)
    body = f"""`python bench/robot_judge_throughput.py --baseline DIR --pairs {args.pairs} --batches {args.batches} --workers {args.workers}` on {os.cpu_count()} CPUs (CPython {platform.python_version()}): a batch is the reference programs of 64 generated robot tasks (seed {args.seed}) in chat responses, scored by the simulator and completion judges on 3 world states each (192 sandbox runs shared by the two judges), the memo of runs cleared before each batch; each side in its own process with a sandbox of {args.workers} workers, one warm-up batch, then {args.batches} timed batches; sides alternated over {args.pairs} pairs. Baseline: main before the robot rework (b59e7da: the simulator in the program's process, the trace read from its output); this tree: the world and the trace in a parent-side service reached through the host-call channel, each API call a pipe round trip. Load average when it started: {load:.1f}.

| side | median ms per batch of 64 | min ms | max ms |
|---|---|---|---|
| baseline | {base:.0f} | {min(times["baseline"]) * 1000:.0f} | {max(times["baseline"]) * 1000:.0f} |
| this tree | {new:.0f} | {min(times["this tree"]) * 1000:.0f} | {max(times["this tree"]) * 1000:.0f} |

Ratio (this tree / baseline), median of the per-pair ratios: **{ratio:.2f}** [{min(ratios):.2f}-{max(ratios):.2f}].
"""
    print(body)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section(args.write, TITLE, body)


if __name__ == "__main__":
    main()
