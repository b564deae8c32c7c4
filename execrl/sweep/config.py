"""The sweep file: arms (training-config overrides) x seeds over one base config, all validated up front.

Every run's merged config is checked with ``TrainConfig`` before anything trains, so a typo in the last
arm fails in a second, not after hours of training the first ones.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from execrl.errors import ExecrlError
from execrl.rl.config import TrainConfig, parse_config, read_config_file, set_dotted
from execrl.yaml_files import read_yaml

BASE_MODEL_DIR = "base_model"  # where the untrained model's evaluations go, beside the arms' directories
_ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SET_BY_SWEEP = ("seed", "output_dir")


class EvalSpec(BaseModel):
    """One benchmark evaluation of each finished run's final model (``execrl eval``'s options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    benchmark: Literal["mbpp", "mbppplus", "roboeval"]
    name: str | None = None  # the label in tables (default: the benchmark); needed to tell two specs apart
    n: int | None = Field(None, gt=0)  # samples per task (default 1; RoboEval 20)
    temperature: float | None = Field(None, ge=0)  # 0: greedy (default; RoboEval 0.2)
    limit: int | None = Field(None, gt=0)  # only the first N tasks
    max_new_tokens: int = Field(512, gt=0)
    batch_size: int = Field(8, gt=0)
    split: str = "test"  # MBPP split

    @model_validator(mode="after")
    def _sampled_when_several(self) -> EvalSpec:
        if self.n is not None and self.n > 1 and not self.temperature:
            raise ValueError(f"n: {self.n} samples per task need temperature > 0 (greedy would repeat one answer)")
        return self

    @property
    def label(self) -> str:
        return self.name or self.benchmark

    @property
    def key(self) -> str:
        """A file name for this spec's results: a changed spec never reuses another's cached results."""
        digest = hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', self.label)}-{digest[:8]}"


class SweepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    output_dir: str  # one sub-directory per run: <arm>/seed<k>
    base: str  # a training config (relative paths: to the working directory)
    seeds: list[int] = Field(min_length=1)
    baseline: str  # the arm the others are compared with
    arms: dict[str, dict[str, Any]] = Field(min_length=1)  # arm -> {dotted.key: value}, as `execrl train --set`
    evaluate: list[EvalSpec] = []
    include_base_model: bool = False  # also evaluate the untrained model once, as its own row
    smoothing: int = Field(5, gt=0)  # steps in the moving average of "samples to reach the baseline"
    data_dir: str | None = None  # benchmark data (default: $EXECRL_DATA_DIR)

    @field_validator("arms", mode="before")
    @classmethod
    def _empty_arm(cls, arms: Any) -> Any:
        # `uniform:` with nothing after it reads as None: an arm that is the base config as is
        return {k: ({} if v is None else v) for k, v in arms.items()} if isinstance(arms, dict) else arms

    @model_validator(mode="after")
    def _consistent(self) -> SweepConfig:
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds repeat: {self.seeds}")
        for arm, overrides in self.arms.items():
            if not _ARM_NAME.fullmatch(arm) or arm == BASE_MODEL_DIR:
                raise ValueError(
                    f"arm name {arm!r} must be letters, digits, '_', '.' or '-' (it names a directory), "
                    f"and not {BASE_MODEL_DIR!r}"
                )
            fixed = [k for k in overrides if k in _SET_BY_SWEEP]
            if fixed:
                raise ValueError(f"arm {arm!r} sets {', '.join(fixed)}: the sweep sets these itself (seeds, output_dir)")
        if self.baseline not in self.arms:
            raise ValueError(f"baseline {self.baseline!r} is not an arm; arms: {', '.join(self.arms)}")
        labels = [spec.label for spec in self.evaluate]
        if len(set(labels)) != len(labels):
            raise ValueError(f"two evaluations share a label ({', '.join(labels)}): give them distinct `name`s")
        return self


@dataclass(frozen=True)
class PlannedRun:
    arm: str
    seed: int
    run_dir: Path
    config: TrainConfig

    def trained_model(self) -> tuple[str, Path | None] | None:
        """What the benchmarks evaluate, (model, adapter): the final LoRA adapter on the base model, else the
        exported merged model (full fine-tuning); None when the run exports neither."""
        if self.config.model.lora.enabled and self.config.export.adapter:
            return self.config.model.name, self.run_dir / "final" / "adapter"
        if self.config.export.merged:
            return str(self.run_dir / "final" / "merged"), None
        return None


def _message(exc: ValidationError, source: str) -> str:
    lines = [f"invalid sweep file {source}:"]
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key (a sweep file has: {', '.join(SweepConfig.model_fields)}; see docs/sweeps.md)"
        lines.append(f"  {path}: {message}")
    return "\n".join(lines)


def load_sweep(path: str | os.PathLike[str]) -> SweepConfig:
    data = read_yaml(path, "sweep file")
    if not isinstance(data, dict):
        raise ExecrlError(f"sweep file {path}: expected a YAML mapping (see docs/sweeps.md), got {type(data).__name__}")
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ExecrlError(_message(exc, str(path))) from exc


def run_dir(sweep: SweepConfig, arm: str, seed: int) -> Path:
    return Path(sweep.output_dir) / arm / f"seed{seed}"


def plan_runs(sweep: SweepConfig) -> list[PlannedRun]:
    """Every (arm, seed) run with its merged, validated training config, arms in file order then seeds."""
    base = read_config_file(sweep.base)
    if not isinstance(base, dict):
        raise ExecrlError(f"{sweep.base}: a training config is a YAML mapping, got {type(base).__name__}")
    runs = []
    for arm, overrides in sweep.arms.items():
        for seed in sweep.seeds:
            data = copy.deepcopy(base)
            for key, value in overrides.items():
                set_dotted(data, key.split("."), copy.deepcopy(value), f"arm {arm!r}, override {key!r}")
            target = run_dir(sweep, arm, seed)
            data.update(seed=seed, output_dir=str(target))
            config = parse_config(data, f"{sweep.base} with arm {arm!r}, seed {seed}")
            run = PlannedRun(arm, seed, target, config)
            if sweep.evaluate and run.trained_model() is None:
                raise ExecrlError(
                    f"arm {arm!r}: the sweep evaluates each run's final model, which the training config does not "
                    "export: set export.adapter: true (with LoRA) or export.merged: true"
                )
            runs.append(run)
    return runs
