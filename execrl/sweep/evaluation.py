"""Benchmark evaluations of a model (a finished run's, or the untrained one), cached per model and spec.

``<dir>/<spec key>.json`` holds the spec, the headline metrics and the evaluator's full result; it is
written last and atomically, so its presence means done. Generation itself is resumable through
``<spec key>.samples.jsonl`` (``generate_samples``' cache). Python benchmarks also get the generated
code's syntax-error, lint and Bandit rates (execrl/sweep/code_quality.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from execrl.sweep.code_quality import PYTHON_BENCHMARKS, samples_quality
from execrl.sweep.config import EvalSpec

Metrics = dict[str, float | int | None]


def eval_file(eval_dir: Path, spec: EvalSpec) -> Path:
    return eval_dir / f"{spec.key}.json"


def read_eval_metrics(eval_dir: Path, spec: EvalSpec) -> Metrics | None:
    """The cached headline metrics, or None when this spec was not evaluated there yet.

    A Python benchmark's result cached before code-quality rates were measured gets them now, from
    its cached samples."""
    path = eval_file(eval_dir, spec)
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    samples = eval_dir / f"{spec.key}.samples.jsonl"
    if spec.benchmark in PYTHON_BENCHMARKS and "quality" not in record and samples.is_file():
        record["quality"] = samples_quality(samples)
        record["metrics"] = {**record["metrics"], **record["quality"]}
        _write_atomically(path, record)
    return record["metrics"]


def evaluate_model(
    model: str, adapter: Path | None, spec: EvalSpec, eval_dir: Path, data_dir: str | None
) -> Metrics:
    """Generate with ``model`` (plus ``adapter``) as ``spec`` says, evaluate, cache; cached results are reused."""
    cached = read_eval_metrics(eval_dir, spec)
    if cached is not None:
        return cached
    from execrl.eval.benchmarks import evaluate_benchmark
    from execrl.eval.generate import generate_samples
    from execrl.sandbox import default_sandbox

    samples_file = eval_dir / f"{spec.key}.samples.jsonl"

    samples = generate_samples(
        spec.benchmark,
        model=model,
        adapter=adapter,
        n=spec.n,
        temperature=spec.temperature,
        max_new_tokens=spec.max_new_tokens,
        batch_size=spec.batch_size,
        limit=spec.limit,
        split=spec.split,
        data_dir=data_dir,
        cache_path=samples_file,
    )
    result = evaluate_benchmark(spec.benchmark, samples, data_dir, default_sandbox())
    quality = samples_quality(samples_file) if spec.benchmark in PYTHON_BENCHMARKS else {}
    record = {
        "spec": spec.model_dump(mode="json"),
        "model": model,
        "adapter": None if adapter is None else str(adapter),
        "metrics": {**result.view.metrics, **quality},
        "quality": quality,
        "notes": result.view.notes,
        "result": result.data,
    }
    _write_atomically(eval_file(eval_dir, spec), record)
    return record["metrics"]


def _write_atomically(path: Path, record: dict) -> None:
    from execrl.eval.benchmarks import json_default

    staging = path.with_suffix(".json.tmp")
    staging.write_text(json.dumps(record, indent=1, default=json_default) + "\n", encoding="utf-8")
    os.replace(staging, path)

