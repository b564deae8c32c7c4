"""The sweep's figures (matplotlib, Agg: no display): learning curves per arm and final metrics with CIs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from execrl.sweep.analysis import MetricTable
from execrl.sweep.gather import RunResult


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(panels: int) -> tuple[int, int]:
    columns = min(3, panels)
    return math.ceil(panels / columns), columns


def plot_learning_curves(runs: list[RunResult], arms: list[str], path: Path) -> Path | None:
    """One panel per logged metric; per arm the mean over seeds against training samples, band min..max."""
    metrics = list(dict.fromkeys(m for r in runs for m in r.curves))
    if not metrics:
        return None
    plt = _pyplot()
    rows, columns = _grid(len(metrics))
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis, metric in zip(axes.flat, metrics):
        for index, arm in enumerate(arms):
            seeds = [dict(r.curves[metric]) for r in runs if r.arm == arm and metric in r.curves]
            if not seeds:
                continue
            steps = sorted(set.intersection(*(set(curve) for curve in seeds)))
            values = np.array([[curve[s] for s in steps] for curve in seeds])
            batch = next(r.batch_size for r in runs if r.arm == arm)
            samples = np.array(steps) * batch
            marker = "o" if len(steps) < 20 else None
            color = f"C{index % 10}"
            axis.plot(samples, values.mean(0), marker=marker, color=color, label=f"{arm} (n={len(seeds)})")
            axis.fill_between(samples, values.min(0), values.max(0), color=color, alpha=0.2)
        axis.set_title(metric)
        axis.set_xlabel("training samples")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    for axis in list(axes.flat)[len(metrics) :]:
        axis.set_visible(False)
    figure.suptitle("Mean over seeds; band: min..max over seeds")
    return _save(plt, figure, path)


def plot_final_metrics(tables: list[MetricTable], arms: list[str], path: Path) -> Path | None:
    """One panel per metric: each arm's mean with its 95% bootstrap CI and the seeds as dots; base model grey."""
    tables = [t for t in tables if t.arms or t.base_model]
    if not tables:
        return None
    plt = _pyplot()
    rows, columns = _grid(len(tables))
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis, table in zip(axes.flat, tables):
        labels, means, low, high = [], [], [], []
        for row in table.arms:
            ci = row.description.ci
            labels.append(row.arm)
            means.append(row.description.mean)
            low.append(row.description.mean - ci.low if ci else 0.0)
            high.append(ci.high - row.description.mean if ci else 0.0)
        positions = np.arange(len(labels))
        colors = [f"C{arms.index(row.arm) % 10}" for row in table.arms]  # as in the learning curves
        axis.bar(positions, means, yerr=[low, high], capsize=4, alpha=0.7, color=colors)
        for position, row in zip(positions, table.arms):
            axis.plot([position] * len(row.values), row.values, "k.", alpha=0.6)
        for offset, (model, value) in enumerate(table.base_model.items()):
            axis.bar(len(labels) + offset, value, color="grey", hatch="//", alpha=0.6)
            labels.append("base model" if len(table.base_model) == 1 else f"base {Path(model).name}")
        axis.set_xticks(np.arange(len(labels)), labels, rotation=20, fontsize=8)
        axis.set_title(table.metric, fontsize=9)
        axis.grid(alpha=0.3, axis="y")
    for axis in list(axes.flat)[len(tables) :]:
        axis.set_visible(False)
    figure.suptitle("Mean over seeds with 95% bootstrap CI; dots: seeds")
    return _save(plt, figure, path)


def _save(plt, figure, path: Path) -> Path:
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
