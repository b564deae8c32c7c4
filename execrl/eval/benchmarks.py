"""One entry point for every benchmark's evaluator: samples in, the JSON result and its report view out."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the evaluators load lazily: the CLI imports this module on every start
    from execrl.eval.report import ReportView
    from execrl.sandbox import Sandbox

BENCHMARKS = ("mbpp", "mbppplus", "roboeval")


@dataclass(frozen=True)
class BenchmarkResult:
    data: dict[str, Any]  # the evaluator's JSON result
    view: ReportView  # headline metrics and breakdowns for reports
    evaluated: int  # samples (RoboEval: programs) that could be evaluated


def evaluate_benchmark(
    benchmark: str,
    samples: Iterable[Any],
    data_dir: str | os.PathLike[str] | None,
    sandbox: Sandbox,
    *,
    roboeval_semantics: str = "upstream",
) -> BenchmarkResult:
    """Evaluate ``samples`` (records from ``generate_samples`` or a samples file) on ``benchmark``.

    ``roboeval_semantics``: how RoboEval programs run, ``upstream`` (the benchmark's textual rewrite, as
    published results) or ``injected`` (execrl.robot.rewrite)."""
    from execrl.eval import report as reports

    if benchmark == "roboeval":
        from execrl.eval.roboeval import evaluate_roboeval

        robo = evaluate_roboeval(samples, data_dir, sandbox, semantics=roboeval_semantics)  # type: ignore[arg-type]
        return BenchmarkResult(robo.to_json(), reports.roboeval_view(robo), robo.summary.programs)
    if benchmark == "mbppplus":
        from execrl.eval.mbppplus import evaluate_mbppplus

        plus = evaluate_mbppplus(samples, data_dir, sandbox)
        return BenchmarkResult(plus.to_json(), reports.mbppplus_view(plus), sum(map(len, plus.results.values())))
    if benchmark == "mbpp":
        from execrl.eval.mbpp import evaluate_mbpp

        mbpp = evaluate_mbpp(samples, data_dir, sandbox)
        return BenchmarkResult(mbpp.to_json(), reports.mbpp_view(mbpp), sum(map(len, mbpp.results.values())))
    raise ValueError(f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")


def json_default(value: Any) -> Any:
    """``json.dumps``' fallback for evaluator results, which may hold sets, tuples, complex numbers or bytes."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, complex):
        return repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)
