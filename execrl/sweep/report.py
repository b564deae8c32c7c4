"""The sweep's Markdown report and ``results.json``: the tables, plots, command, statistics notes and compute."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from execrl.sweep.analysis import ArmStats, MetricTable, SweepResults
from execrl.sweep.stats import RESAMPLES

REPORT_FILE, RESULTS_FILE = "report.md", "results.json"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _arm_row(row: ArmStats, baseline: str) -> str:
    d = row.description
    spread = f"{_num(d.mean)} ± {_num(d.std)}" if d.std is not None else _num(d.mean)
    ci = f"[{_num(d.ci.low)}, {_num(d.ci.high)}]" if d.ci else "—"
    seeds = ", ".join(f"{s}: {_num(v)}" for s, v in zip(row.seeds, row.values))
    test = row.versus_baseline
    if row.arm == baseline:
        versus = ["(baseline)", "—", "—"]
    elif test is None:
        versus = [f"no test ({row.shared_seeds} shared seed{'s' if row.shared_seeds != 1 else ''})", "—", "—"]
    else:
        exact = "" if test.exact else " (sampled)"
        versus = [
            f"{test.mean_diff:+.4g} [{_num(test.diff_ci.low)}, {_num(test.diff_ci.high)}] (n={test.n})",
            _p(test.t_p) if test.t_p is not None else "— (equal differences)",
            f"{_p(test.sign_flip_p)} (of {test.sign_patterns}{exact})",
        ]
    return "| " + " | ".join([row.arm, str(d.n), spread, ci, seeds, *versus]) + " |"


def _table(table: MetricTable, baseline: str) -> list[str]:
    lines = [
        f"### {table.title}",
        "",
        ("| arm | seeds | mean ± std | 95% bootstrap CI | per seed | difference to baseline, mean [95% CI] "
        "| paired t-test p | sign-flip p |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_arm_row(row, baseline) for row in table.arms]
    for model, value in table.base_model.items():
        lines.append(f"| base model (`{model}`, untrained) | — | {_num(value)} | — | — | — | — | — |")
    return [*lines, ""]


def _reach(results: SweepResults) -> list[str]:
    reach = results.reach
    lines = ["## Samples needed to reach the baseline's final reward", ""]
    if reach is None:
        return [*lines, f"Not available: the baseline arm `{results.baseline}` has no finished run yet.", ""]
    lines += [
        (f"Target: {_num(reach.target)}, the final reward of `{results.baseline}` (mean over its seeds). A run "
        f"reaches it at the first step where its reward, averaged over the last {reach.smoothing} steps, is at "
        "least the target; samples = step x responses per step. A seed that never reaches it counts as "
        "infinitely many samples, so the median is \"not reached\" when half or more of the seeds never do."),
        "",
        "| arm | median samples | seeds that reached it | per seed |",
        "|---|---|---|---|",
    ]
    for arm in reach.arms:
        median = "not reached" if arm.median is None else f"{arm.median:g}"
        seeds = ", ".join(f"{s}: {'not reached' if v is None else v}" for s, v in arm.per_seed.items())
        lines.append(f"| {arm.arm} | {median} | {arm.reached}/{len(arm.per_seed)} | {seeds} |")
    return [*lines, ""]


def _statistics_notes(results: SweepResults) -> list[str]:
    n = len(results.seeds)
    lines = [
        "## How to read the statistics",
        "",
        "- **mean ± std**: over seeds, sample standard deviation (n - 1).",
        (f"- **95% bootstrap CI**: percentile bootstrap of the mean over seeds ({RESAMPLES:,} resamples). With few "
        "seeds it is too narrow: it never reaches beyond the values observed."),
        ("- **Paired tests** compare each arm with the baseline on the seeds both have (same seed: same task order "
        "and initialisation): the difference's mean with its bootstrap CI, a two-sided paired t-test (assumes "
        "roughly normal differences; undefined when all differences are equal) and a two-sided sign-flip "
        "permutation test, exact over all 2^n sign patterns."),
    ]
    if n == 1:
        lines.append(
            "- **One seed**: the tables show the values only; no interval or test is possible with one seed."
        )
    else:
        lines.append(
            f"- With {n} seeds the sign-flip test has {2 ** n} sign patterns, and since the observed pattern and its "
            f"mirror image always count, its smallest possible p-value is 2/{2 ** n} = {2 / 2 ** n:.4g}"
            + (": it cannot reach 0.05 with this many seeds." if 2 / 2**n > 0.05 else ".")
        )
    lines += ["- No correction for multiple comparisons: read each p-value on its own.", ""]
    return lines


def _compute(results: SweepResults) -> list[str]:
    lines = [
        "## Compute",
        "",
        ("Trainer time: the sum of the trainer's `time/*` (rollout, reward, update) over steps, without evaluations "
        "and model loading. Wall time: the sweep's training calls, measured around them (n/a when the sweep did "
        "not train the run, e.g. a run copied in)."),
        "",
        "| arm | seed | steps | samples | trainer time (s) | wall time (s) | device |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in results.runs:
        c = run.compute
        wall = "n/a" if c.wall_s is None else f"{c.wall_s:.1f}"
        lines.append(
            f"| {run.arm} | {run.seed} | {c.steps} | {c.samples} | {c.train_s:.1f} | {wall} | {c.device or 'n/a'} |"
        )
    steps = sum(r.compute.steps for r in results.runs)
    samples = sum(r.compute.samples for r in results.runs)
    train_s = sum(r.compute.train_s for r in results.runs)
    walls = [r.compute.wall_s for r in results.runs if r.compute.wall_s is not None]
    wall_total = f"{sum(walls):.1f}" if walls else "n/a"
    lines.append(f"| **total** | | {steps} | {samples} | {train_s:.1f} | {wall_total} | |")
    return [*lines, ""]


def render(results: SweepResults, plots: dict[str, Path | None], out_dir: Path) -> str:
    finished = len(results.runs)
    total = finished + len(results.missing)
    lines = [
        f"# Sweep `{results.name}`",
        "",
        "Reproduce (rerunning skips finished runs; `--report-only` rewrites this report from the runs on disk):",
        "",
        "```bash",
        results.command,
        "```",
        "",
        (f"Base training config: `{results.base}`; seeds: {', '.join(map(str, results.seeds))}; "
        f"baseline arm: `{results.baseline}`. Runs finished: {finished} of {total}."),
        "",
        "| arm | overrides of the base config |",
        "|---|---|",
    ]
    for arm, overrides in results.arms.items():
        shown = ", ".join(f"`{k}={json.dumps(v)}`" for k, v in overrides.items()) or "(none)"
        lines.append(f"| {arm} | {shown} |")
    lines.append("")
    if results.evaluate:
        lines += ["Benchmarks, run on each finished run's final model:", ""]
        lines += [f"- `{json.dumps(spec)}`" for spec in results.evaluate]
        lines.append("")
    if results.missing:
        lines += [f"**Not finished (left out of the tables):** {', '.join(results.missing)}", ""]
    lines += ["## Results", ""]
    for table in results.tables:
        lines += _table(table, results.baseline)
    lines += _reach(results)
    shown = [(title, path) for title, path in plots.items() if path is not None]
    if shown:
        lines += ["## Plots", ""]
        lines += [f"![{title}]({path.relative_to(out_dir).as_posix()})" for title, path in shown]
        lines.append("")
    lines += _statistics_notes(results)
    lines += _compute(results)
    return "\n".join(lines)


def write_report(results: SweepResults, plots: dict[str, Path | None], out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``results.json`` into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / REPORT_FILE
    report.write_text(render(results, plots, out_dir), encoding="utf-8")
    data = dataclasses.asdict(results)
    data["plots"] = {title: None if path is None else str(path) for title, path in plots.items()}
    data_path = out_dir / RESULTS_FILE
    data_path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return report, data_path
