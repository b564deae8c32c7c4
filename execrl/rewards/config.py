"""The reward configuration: which judges, their weights, settings, credit, normalisation and clipping.

Validated with pydantic; every problem becomes an ``ExecrlError`` naming the offending key's path
(``judges.style.settings.select``). ``DEFAULT_CONFIG_YAML`` is the paper's formula (syntax, tests,
style, security); configs/reward_default.yaml is the same text, checked by tests/rewards.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from execrl import credit
from execrl.errors import ExecrlError
from execrl.rewards.base import JudgeSettings, judge_kind
from execrl.rewards.extract import DEFAULT_MAX_CHARS
from execrl.yaml_files import read_yaml

DEFAULT_CONFIG_YAML = """\
# The reward R = sum_k weight_k * R_k over the judges below, then spread over the response's tokens
# by each judge's credit strategy. Schema and score definitions: docs/rewards.md.
max_response_chars: 20000   # longer responses are cut here (a response-too-long finding)
judges:
  syntax:                   # 0 if the code compiles, -1 if not (or no code)
    weight: 1.0
    credit: localized
  tests:                    # 1 + all_pass_bonus if every test passes, else 0 (scoring: all)
    weight: 1.0
    credit: uniform
    settings:
      all_pass_bonus: 0.5
      timeout_s: 5.0
  style:                    # -(Ruff violations per statement), capped at -max_penalty
    weight: 0.25
    credit: localized
    settings:
      select: [E4, E7, E9, F, W, B, C4, SIM, UP, N]
      ignore: [W292]
  security:                 # -(Bandit severity x confidence) / saturation, capped at -1
    weight: 0.5
    credit: localized
    settings:
      skip: [B101]
"""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class JudgeConfig(_Strict):
    """One term of the formula. ``kind`` defaults to the entry's name, so ``style:`` needs no kind."""

    kind: str | None = None
    weight: float = 1.0
    credit: str | None = None  # None: the judge kind's own default
    credit_options: dict[str, Any] = Field(default_factory=dict)
    normalize: bool = False  # divide by a running std after subtracting a running mean
    clip: tuple[float, float] | None = None  # applied after normalisation, before the weight
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("credit")
    @classmethod
    def _known_strategy(cls, name: str | None) -> str | None:
        if name is not None and name not in credit.STRATEGIES:
            raise ValueError(
                f"unknown credit strategy {name!r}; known: {', '.join(sorted(credit.STRATEGIES))}"
            )
        return name

    @field_validator("clip")
    @classmethod
    def _ordered(cls, clip: tuple[float, float] | None) -> tuple[float, float] | None:
        if clip is not None and not clip[0] < clip[1]:
            raise ValueError("clip must be [low, high] with low < high")
        return clip


class RewardConfig(_Strict):
    max_response_chars: int = Field(DEFAULT_MAX_CHARS, gt=0)
    judges: dict[str, JudgeConfig] = Field(min_length=1)


class ResolvedJudge(BaseModel):
    """A judge entry with its kind, credit strategy and settings resolved and validated."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    kind: str
    weight: float
    credit: str
    credit_options: dict[str, Any]
    normalize: bool
    clip: tuple[float, float] | None
    settings: JudgeSettings


def resolve(config: RewardConfig, source: str = "reward config") -> list[ResolvedJudge]:
    """Each judge entry with its kind's settings model applied; errors name ``judges.<name>...``."""
    resolved = []
    for name, entry in config.judges.items():
        try:
            kind = judge_kind(entry.kind or name)
        except ExecrlError as exc:
            raise ExecrlError(f"{source}: judges.{name}{'.kind' if entry.kind else ''}: {exc}") from exc
        try:
            settings = kind.settings.model_validate(entry.settings)
        except ValidationError as exc:
            raise ExecrlError(validation_message(exc, f"judges.{name}.settings", source)) from exc
        strategy = entry.credit or kind.credit
        if strategy == "executed" and getattr(settings, "trace_lines", True) is False:
            # The executed credit needs the lines that ran; without them it would silently be uniform.
            settings = settings.model_copy(update={"trace_lines": True})
        unknown = _unknown_options(strategy, entry.credit_options)
        if unknown:
            raise ExecrlError(
                f"{source}: judges.{name}.credit_options: {', '.join(unknown)} "
                f"not accepted by credit strategy {strategy!r}"
            )
        resolved.append(
            ResolvedJudge(
                name=name,
                kind=kind.name,
                weight=entry.weight,
                credit=strategy,
                credit_options=entry.credit_options,
                normalize=entry.normalize,
                clip=entry.clip,
                settings=settings,
            )
        )
    return resolved


def _unknown_options(strategy: str, options: dict[str, Any]) -> list[str]:
    """Option names the strategy does not take (its signature is ``(reward, result, offsets, **options)``)."""
    parameters = list(inspect.signature(credit.get_strategy(strategy)).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return []
    accepted = {p.name for p in parameters[3:]}
    return sorted(set(options) - accepted)


def validation_message(exc: ValidationError, prefix: str = "", source: str = "reward config") -> str:
    """A pydantic error as lines ``source: path.to.key: problem``."""
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
        lines.append(f"{source}: {path or '(top level)'}: {error['msg']}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "reward config") -> RewardConfig:
    """Validate already-loaded YAML data, judge kinds and their settings included."""
    try:
        config = RewardConfig.model_validate(data)
    except ValidationError as exc:
        raise ExecrlError(validation_message(exc, source=source)) from exc
    resolve(config, source)
    return config


def load_config(path: str | os.PathLike[str] | None = None) -> RewardConfig:
    """The config at ``path``, or the default one when ``path`` is None."""
    if path is None:
        return parse_config(yaml.safe_load(DEFAULT_CONFIG_YAML), "default reward config")
    return parse_config(read_yaml(path, "reward config"), str(path))
