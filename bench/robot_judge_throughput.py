"""Robot judging speed: this tree against a baseline tree, on the same batches, alternated.

Two loads, each a batch of 64 generated robot tasks (``generate_robot_tasks(64, seed=--seed)``) scored
by a formula of the simulator and completion judges on 3 world states each (192 runs, shared by the
two judges), with the memo of runs cleared before every batch: ``references``, the tasks' reference
programs in chat responses (tens of API calls a run), and ``polling``, a program that checks the room
until its trace fills the 64 KiB bound (about 1,800 calls a run, the most a program makes within its
budget: the worst case for a pipe round trip per call). Each side runs in its own process
(``PYTHONPATH`` = its tree) with a sandbox of --workers workers, one warm-up batch of each load, then
--batches timed batches of each; the sides alternate (A B, B A, ...) for --pairs pairs. Reported: the
median batch time of each side and load, and the median of the per-pair ratios.

    python bench/robot_judge_throughput.py --baseline DIR [--pairs 5] [--batches 3] [--workers 2]
        [--write docs/benchmarks.md]

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
POLLING = (
    'def task_program():\n    go_to(get_all_rooms()[0])\n    while True:\n        is_in_room("person")\n'
)
LOADS = ("references", "polling")


def child(args: argparse.Namespace) -> None:
    """One side: time --batches batches of each load after a warm-up; print the times (s) as JSON."""
    from execrl.rewards import RewardFormula, parse_config
    from execrl.robot.batch import forget_runs
    from execrl.sandbox import Sandbox, set_default_sandbox
    from execrl.tasks.robot_gen import generate_robot_tasks

    states = {"settings": {"states": 3}}
    formula = RewardFormula(parse_config({"judges": {"simulator": states, "completion": states}}, "bench"))
    tasks = generate_robot_tasks(64, seed=args.seed)
    batches = {
        "references": [formula.candidate(f"```python\n{t.canonical_solution}```", task=t) for t in tasks],
        "polling": [formula.candidate(f"```python\n{POLLING}```", task=t) for t in tasks],
    }
    times: dict[str, list[float]] = {load: [] for load in LOADS}
    totals = {}
    with Sandbox(workers=args.workers) as sandbox:
        set_default_sandbox(sandbox)
        for index in range(args.batches + 1):
            for load in LOADS:
                forget_runs()
                start = time.perf_counter()
                scored = formula.score_batch(batches[load]).breakdowns
                if index:  # the first batch of each load warms up
                    times[load].append(time.perf_counter() - start)
                totals[load] = sorted({round(b.total, 6) for b in scored})
    print(json.dumps({"times": times, "totals": totals}))


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
    done = subprocess.run(
        [*command, "--seed", str(args.seed)], env=env, capture_output=True, text=True, check=True
    )
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
    times: dict[tuple[str, str], list[float]] = {(name, load): [] for name in sides for load in LOADS}
    ratios: dict[str, list[float]] = {load: [] for load in LOADS}
    load_average = os.getloadavg()[0]
    for pair in range(args.pairs):
        medians = {}
        for name in list(sides) if pair % 2 == 0 else list(reversed(sides)):
            result = run_side(sides[name], args)
            for load in LOADS:
                times[name, load] += result["times"][load]
                medians[name, load] = statistics.median(result["times"][load])
                print(
                    f"pair {pair + 1} {name} {load}: {medians[name, load] * 1000:.0f} ms, totals {result['totals'][load]}"
                )
        for load in LOADS:
            ratios[load].append(medians["this tree", load] / medians["baseline", load])
    rows = "\n".join(
        f"| {load} | {name} | {statistics.median(times[name, load]) * 1000:.0f} | "
        f"{min(times[name, load]) * 1000:.0f} | {max(times[name, load]) * 1000:.0f} |"
        for load in LOADS
        for name in sides
    )
    summary = "; ".join(
        f"{load} **{statistics.median(r):.2f}** [{min(r):.2f}-{max(r):.2f}]" for load, r in ratios.items()
    )
    body = f"""
`python bench/robot_judge_throughput.py --baseline DIR --pairs {args.pairs} --batches {args.batches} --workers {args.workers}` on {os.cpu_count()} CPUs (CPython {platform.python_version()}): batches of 64 generated robot tasks (seed {args.seed}) scored by the simulator and completion judges on 3 world states each (192 sandbox runs shared by the two judges), the memo of runs cleared before each batch. `references`: the tasks' reference programs (tens of API calls a run); `polling`: a program that checks the room until its trace fills the 64 KiB bound (about 1,800 calls a run, the worst case for a round trip per call). Each side in its own process with a sandbox of {args.workers} workers, one warm-up batch of each load, then {args.batches} timed batches of each; sides alternated over {args.pairs} pairs. Baseline (DIR): `git archive b59e7da`, main before the robot rework (the simulator in the program's process, the trace read from its output); this tree: the world and the trace in a parent-side service reached through the host-call channel, the calls whose reply the program's process knows batched with the next one that needs an answer. Load average when it started: {load_average:.1f} (other engineers' work on the machine slows both sides alike).

| load | side | median ms per batch of 64 | min ms | max ms |
|---|---|---|---|---|
{rows}

Ratio (this tree / baseline), median of the per-pair ratios with their range: {summary}.
"""
    print(body)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import write_section

        write_section(args.write, TITLE, body)


if __name__ == "__main__":
    main()
