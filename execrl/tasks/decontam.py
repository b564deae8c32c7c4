"""Decontamination: keep generated instructions away from RoboEval's prompts.

RoboEval may only be used for evaluation, so no training instruction may be a near-duplicate of one of
its 80 prompts. Texts are compared as sets of word n-grams (lowercased words, punctuation dropped;
3-grams by default). A generated instruction's overlap with a prompt is the overlap coefficient
``|A & B| / min(|A|, |B|)``: the share of the shorter text's n-grams found in the other, so a short
instruction copied out of a long prompt scores as high as a full copy. Its score is the maximum over
the prompts; instructions scoring above the threshold are excluded. Jaccard similarity is reported
alongside. RoboEval's prompts are read for this check only.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from execrl.data_dir import data_file
from execrl.errors import ExecrlError

PROMPTS_FILE = "roboeval/roboeval_prompts.jsonl"
DEFAULT_NGRAM = 3
DEFAULT_MAX_OVERLAP = 0.4
HISTOGRAM_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def ngrams(text: str, n: int = DEFAULT_NGRAM) -> frozenset[tuple[str, ...]]:
    """The text's word n-grams; a text shorter than ``n`` words is its one (shorter) gram."""
    tokens = words(text)
    if len(tokens) < n:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class Reference:
    id: str
    text: str


@dataclass(frozen=True)
class Overlap:
    """How close one text comes to the references: the largest overlap coefficient, the largest Jaccard
    similarity, and the reference with the largest overlap."""

    overlap: float
    jaccard: float
    nearest: str | None


class NgramIndex:
    """The references' n-gram sets, and the overlap of any text with them."""

    def __init__(self, references: Sequence[Reference], n: int = DEFAULT_NGRAM) -> None:
        self.n = n
        self.references = [(ref.id, ngrams(ref.text, n)) for ref in references]

    def overlap(self, text: str) -> Overlap:
        grams = ngrams(text, self.n)
        best = Overlap(0.0, 0.0, None)
        jaccard = 0.0
        for ref_id, ref_grams in self.references:
            shared = len(grams & ref_grams)
            if not shared:
                continue
            coefficient = shared / min(len(grams), len(ref_grams))
            jaccard = max(jaccard, shared / len(grams | ref_grams))
            if coefficient > best.overlap:
                best = Overlap(coefficient, 0.0, ref_id)
        return Overlap(best.overlap, jaccard, best.nearest)


def load_roboeval_prompts(data_dir: str | os.PathLike[str] | None = None) -> list[Reference]:
    """RoboEval's 80 prompts, for decontamination only."""
    path = data_file(PROMPTS_FILE, data_dir)
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Reference(str(row["id"]), str(row["prompt"])) for row in rows]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ExecrlError(f"{path} is not a RoboEval prompts file ({exc!r}); see shared/data/README.md") from None


@dataclass(frozen=True)
class DecontamReport:
    """The overlap distribution of a set of texts with the references, and what the threshold excluded."""

    n: int
    threshold: float
    count: int
    excluded: int
    max_overlap: float
    max_jaccard: float
    mean_overlap: float
    quantiles: tuple[tuple[float, float], ...]  # (q, overlap at q)
    histogram: tuple[tuple[float, float, int], ...]  # (low, high, count); the last bin includes 1.0
    worst_text: str | None
    worst_nearest: str | None

    def render(self) -> str:
        lines = [
            (f"decontamination against RoboEval prompts: word {self.n}-gram overlap coefficient "
            f"(max over prompts), threshold {self.threshold:g}"),
            f"  texts {self.count}, excluded {self.excluded} (overlap > {self.threshold:g})",
            (f"  max overlap {self.max_overlap:.3f}, max jaccard {self.max_jaccard:.3f}, mean overlap "
            f"{self.mean_overlap:.3f}"),
            "  quantiles " + ", ".join(f"q{q * 100:g}={v:.3f}" for q, v in self.quantiles),
        ]
        if self.worst_text is not None:
            lines.append(f"  highest: {self.worst_text!r} (nearest {self.worst_nearest})")
        lines.append("  histogram:")
        lines.extend(f"    [{low:.1f}, {high:.1f}{']' if high >= 1 else ')'} {count}" for low, high, count in self.histogram)
        return "\n".join(lines)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(int(q * len(sorted_values)), len(sorted_values) - 1)]


def decontaminate(
    texts: Sequence[str], index: NgramIndex, threshold: float = DEFAULT_MAX_OVERLAP
) -> tuple[list[bool], DecontamReport]:
    """Whether each text is kept (overlap at most ``threshold``), and the report over all of them."""
    overlaps = [index.overlap(text) for text in texts]
    keep = [o.overlap <= threshold for o in overlaps]
    values = sorted(o.overlap for o in overlaps)
    histogram = []
    for low, high in itertools.pairwise(HISTOGRAM_EDGES):
        last = high >= HISTOGRAM_EDGES[-1]
        histogram.append((low, high, sum(low <= v < high or (last and v == high) for v in values)))
    worst = max(range(len(texts)), key=lambda i: overlaps[i].overlap, default=None)
    report = DecontamReport(
        n=index.n,
        threshold=threshold,
        count=len(texts),
        excluded=keep.count(False),
        max_overlap=values[-1] if values else 0.0,
        max_jaccard=max((o.jaccard for o in overlaps), default=0.0),
        mean_overlap=sum(values) / len(values) if values else 0.0,
        quantiles=tuple((q, _quantile(values, q)) for q in (0.5, 0.9, 0.99)),
        histogram=tuple(histogram),
        worst_text=None if worst is None else texts[worst],
        worst_nearest=None if worst is None else overlaps[worst].nearest,
    )
    return keep, report
