"""Where an MBPP+ evaluation's time goes: each sandbox job's wall time, for the 378 canonical solutions.

Runs ``evaluate_mbppplus`` in this process with a warm expected-output cache (a first, untimed
evaluation fills it), then lists the slowest jobs with their time inside the calls (the programs' own
work, digests included) and outside them (loading, encoding and sending values), and the sum over all
jobs, which bounds how fast N workers can finish. Writes the table to docs/benchmarks.md under
"MBPP+ evaluation: where the time goes"; docs/mbpp.md quotes it.

    python bench/mbppplus_job_times.py [--workers N] [--top K] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import execrl.eval.mbppplus as mbppplus
from execrl.sandbox import JobResult, Sandbox
from execrl.tasks.mbppplus import load_mbppplus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

ROOT = Path(__file__).resolve().parents[1]
SECTION = "MBPP+ evaluation: where the time goes"


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
    lines = ["| job | wall s | inside the calls s | outside s |", "|---|---|---|---|"]
    for i in sorted(range(len(results)), key=lambda i: -results[i].wall_s)[: args.top]:
        calls = sum(t.duration_s for t in results[i].tests)
        lines.append(f"| {names[i]} | {results[i].wall_s:.2f} | {calls:.2f} | {results[i].wall_s - calls:.2f} |")
    body = (
        f"`python bench/mbppplus_job_times.py --workers {args.workers}` on {os.cpu_count()} CPUs (CPython "
        f"{platform.python_version()}): the {len(samples)} canonical solutions evaluated in-process with a warm "
        f"expected-output cache in {total:.1f} s ({passed} pass); the {len(results)} sandbox jobs' wall times sum "
        f"to {sum(r.wall_s for r in results):.1f} s. The slowest jobs:\n\n" + "\n".join(lines)
    )
    print(body)
    write_section(ROOT / "docs" / "benchmarks.md", SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
