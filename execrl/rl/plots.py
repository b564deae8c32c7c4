"""Learning curves as a PNG (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

_PANELS = (
    ("Reward", ("reward/mean",)),
    ("Judges (raw score)", None),  # every judge/* key
    ("KL to reference", ("kl",)),
    ("Entropy", ("entropy",)),
    ("Clip fraction", ("clip_fraction",)),
    ("Held-out pass rate", ("eval/pass_rate",)),
)


def plot_learning_curves(history: Sequence[dict[str, float]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    judges = sorted({k for record in history for k in record if k.startswith("judge/")})
    figure, axes = plt.subplots(2, 3, figsize=(13, 7))
    for axis, (title, keys) in zip(axes.flat, _PANELS):
        for key in keys or judges:
            points = [(r["step"], r[key]) for r in history if key in r]
            if points:
                steps, values = zip(*points)
                axis.plot(steps, values, marker="o" if len(points) < 20 else None, label=key.split("/")[-1])
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if keys is None and judges:
            axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
