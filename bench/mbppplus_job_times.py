"""Where an MBPP+ evaluation's time goes: each sandbox job's wall time, for the 378 canonical solutions.

Runs ``evaluate_mbppplus`` in this process with a warm expected-output cache (a first, untimed
evaluation fills it), then lists the slowest jobs with their time inside the calls (the programs' own
work, digests included) and outside them (loading, encoding and sending values), and the sum over all
jobs, which bounds how fast N workers can finish. Prints; docs/mbpp.md quotes it.

    python bench/mbppplus_job_times.py [--workers N] [--top K] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import execrl.eval.mbppplus as mbppplus
from execrl.sandbox import JobResult, Sandbox
from execrl.tasks.mbppplus import load_mbppplus

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument(
        "--data-dir", default=os.environ.get("EXECRL_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    )
    args = parser.parse_args()
    dataset = load_mbppplus(args.data_dir)
    samples = [{"task_id": t.task_id, "solution": t.reference_code} for t in dataset.tasks.values()]

    ran: list[list[JobResult]] = []
    run_jobs = mbppplus.run_longest_first

    def recording(*call_args: object, **kwargs: object) -> list[JobResult]:
        ran.append(run_jobs(*call_args, **kwargs))  # type: ignore[arg-type]
        return ran[-1]

    mbppplus.run_longest_first = recording  # the evaluation's only call into the sandbox
    with Sandbox(workers=args.workers) as sandbox:
        mbppplus.evaluate_mbppplus(samples, dataset=dataset, sandbox=sandbox, progress=False)  # fills the cache
        start = time.perf_counter()
        report = mbppplus.evaluate_mbppplus(samples, dataset=dataset, sandbox=sandbox, progress=False)
        total = time.perf_counter() - start
    results = ran[-1]
    names = [f"{sample['task_id']} {split}" for sample in samples for split in mbppplus.SPLITS]
    passed = sum(r.passed for rs in report.results.values() for r in rs)
    print(f"{len(samples)} canonical solutions, {args.workers} workers, warm cache: {total:.1f} s; {passed} pass")
    print(f"sum of the {len(results)} jobs' wall times: {sum(r.wall_s for r in results):.1f} s")
    print(f"{'job':<16} {'wall s':>7} {'in calls s':>10} {'outside s':>9}")
    for i in sorted(range(len(results)), key=lambda i: -results[i].wall_s)[: args.top]:
        calls = sum(t.duration_s for t in results[i].tests)
        print(f"{names[i]:<16} {results[i].wall_s:7.2f} {calls:10.2f} {results[i].wall_s - calls:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
