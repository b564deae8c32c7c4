"""Markdown reports with plots for benchmark results: what people look at after an evaluation.

Each benchmark's report is first reduced to a ``ReportView`` (headline metrics, a per-task score,
an outcome breakdown); one writer turns any view into ``R.md`` and ``R.png`` beside ``R.json``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from execrl.eval.mbpp import MbppReport
from execrl.eval.mbppplus import MbppPlusReport
from execrl.eval.roboeval import RoboEvalReport


@dataclass(frozen=True)
class ReportView:
    title: str
    metrics: dict[str, float | int | str | None]
    per_task: dict[str, float]  # task -> share of samples that passed
    breakdown: dict[str, int]  # outcome -> count
    breakdown_label: str = "outcomes"
    notes: list[str] = field(default_factory=list)


def roboeval_view(report: RoboEvalReport) -> ReportView:
    summary = report.summary
    return ReportView(
        # Every report says how the programs were run: published tables use the upstream semantics.
        title=f"RoboEval ({summary.semantics} semantics)",
        metrics={
            "semantics": summary.semantics_description,
            "programs": summary.programs,
            "pass@1": summary.pass_at_1,
            "execution failures (RobotExecutionError + PythonError)": summary.execution_failure_share,
            "invalid input lines": summary.invalid_inputs,
        },
        per_task=dict(summary.pass_at_1_by_task),
        breakdown=dict(summary.categories),
        breakdown_label="error category per program",
        notes=[f"line {e.line}: {e.message}" for e in report.input_errors][:20],
    )


def mbppplus_view(report: MbppPlusReport) -> ReportView:
    outcomes = Counter(f"base {r.base.status} / plus {r.plus.status}" for rs in report.results.values() for r in rs)
    return _samples_view("MBPP+ (EvalPlus 0.3.1 semantics)", report, outcomes)


def mbpp_view(report: MbppReport) -> ReportView:
    outcomes = Counter(r.tests.status for rs in report.results.values() for r in rs)
    return _samples_view("MBPP", report, outcomes)


def _samples_view(title: str, report: MbppReport | MbppPlusReport, outcomes: Counter[str]) -> ReportView:
    """The view of a report holding several samples per task, each sample passing or not."""
    metrics: dict[str, float | int | None] = {
        "tasks": len(report.results),
        "samples": sum(map(len, report.results.values())),
    }
    for group, values in report.pass_at_k().items():
        for name, value in values.items():
            metrics[f"{group} {name}"] = value
    return ReportView(
        title=title,
        metrics=metrics,
        per_task={t: sum(r.passed for r in rs) / len(rs) for t, rs in report.results.items() if rs},
        breakdown=dict(outcomes),
        notes=list(report.problems)[:20],
    )


def write_report(view: ReportView, json_path: Path) -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.png`` beside the JSON result; returns their paths."""
    markdown_path = json_path.with_suffix(".md")
    plot_path = json_path.with_suffix(".png")
    _plot(view, plot_path)
    lines = [f"# {view.title}", "", f"Results: `{json_path.name}`", "", "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {_format(value)} |" for name, value in view.metrics.items()]
    lines += ["", f"![per-task scores and {view.breakdown_label}]({plot_path.name})", ""]
    lines += [f"## {view.breakdown_label.capitalize()}", "", "| outcome | count |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in sorted(view.breakdown.items(), key=lambda kv: -kv[1])]
    if view.notes:
        lines += ["", "## Problems with the input", ""] + [f"- {note}" for note in view.notes]
    markdown_path.write_text("\n".join(lines) + "\n")
    return markdown_path, plot_path


def _format(value: float | str | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _plot(view: ReportView, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(view.per_task)
    many = len(tasks) > 40  # hundreds of MBPP tasks: a histogram reads better than bars
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, max(4.0, 0.22 * len(tasks) if not many else 4.0)))
    if many:
        left.hist([view.per_task[t] for t in tasks], bins=20, range=(0, 1), color="#4c72b0")
        left.set_xlabel("share of samples passing")
        left.set_ylabel("tasks")
    else:
        left.barh(tasks, [view.per_task[t] for t in tasks], color="#4c72b0")
        left.set_xlim(0, 1)
        left.set_xlabel("share of samples passing")
        left.invert_yaxis()
    left.set_title("per task")
    names = sorted(view.breakdown, key=lambda n: -view.breakdown[n])
    right.barh(names, [view.breakdown[n] for n in names], color="#dd8452")
    right.invert_yaxis()
    right.set_title(view.breakdown_label)
    right.set_xlabel("count")
    fig.suptitle(view.title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
