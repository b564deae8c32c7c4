"""The training configuration: one YAML file, validated with pydantic, overridable with ``--set a.b=value``."""

from __future__ import annotations

import os
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from execrl.errors import ExecrlError
from execrl.models import GenerationSettings, LoraSettings
from execrl.rl.estimators import ESTIMATORS
from execrl.yaml_files import read_yaml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ModelConfig(_Section):
    name: str = "smollm2"  # a Hub id, a local directory, or an embedded model (smollm2)
    lora: LoraSettings = LoraSettings()
    value: Literal["shared", "separate", "none"] = "shared"  # value head on the policy trunk, a critic, or none
    critic: str | None = None  # the separate critic's model (default: the policy's model)
    # shared: whether the value loss also trains the policy's adapter (False: the head reads the
    # policy's features without pushing them; see docs/training.md, "The critic")
    critic_trains_trunk: bool = False
    gradient_checkpointing: bool = False  # recompute activations in the update's backward: less memory, ~30% slower
    system_prompt: str | None = "Write a Python function that solves the task. Answer with one ```python code block."
    # chat: the task in the tokenizer's chat template; completion: the task's prompt text as is, for the
    # model to continue (robot tasks, as RoboEval prompts them). None: the task source's own format.
    prompt_format: Literal["chat", "completion"] | None = None


class TasksConfig(_Section):
    source: Literal["builtin", "mbpp", "robot"] = "builtin"
    # builtin, robot: tasks generated (robot with a file: a cap); mbpp: a cap (None: the whole split)
    train_size: int | None = Field(256, gt=0)
    eval_size: int | None = Field(16, gt=0)
    levels: tuple[int, ...] = (1,)  # builtin difficulty levels
    seed: int = 0  # builtin / robot generator seed
    file: str | None = None  # robot: a task file from `execrl tasks robot` to train on instead of generating
    split: str = "train"  # mbpp split to train on
    # the evaluation tasks: mbpp, a split (None: validation); builtin, heldout (None: the held-out
    # instances) or train (training-split instances that are not among the training tasks: for tuning)
    eval_split: str | None = None
    show_tests: int = Field(1, ge=0)  # mbpp: how many test asserts the prompt shows
    data_dir: str | None = None  # mbpp: defaults to $EXECRL_DATA_DIR

    @model_validator(mode="after")
    def _file_for_robot(self) -> TasksConfig:
        if self.file is not None and self.source != "robot":
            raise ValueError("file is a robot task file: it needs source: robot")
        if self.source == "builtin" and self.eval_split not in (None, "heldout", "train"):
            raise ValueError("builtin tasks: eval_split is heldout (the default) or train")
        if self.source == "robot" and self.eval_split is not None:
            raise ValueError("robot tasks are evaluated on generated held-out tasks: leave eval_split unset")
        return self


class KLConfig(_Section):
    estimator: Literal["k1", "k3"] = "k1"
    coef: float = Field(0.05, ge=0)
    target: float | None = Field(None, gt=0)  # set: adapt coef towards this KL per response
    horizon: int = Field(10_000, gt=0)


class AlgorithmConfig(_Section):
    estimator: str = "gae"
    baseline: Literal["sequence", "position"] = "sequence"  # rloo / grpo: how a group is compared
    steps: int = Field(20, gt=0)
    prompts_per_step: int = Field(4, gt=0)
    samples_per_prompt: int = Field(2, gt=0)  # responses per prompt: the group of rloo / grpo
    epochs: int = Field(2, gt=0)  # passes over each rollout batch
    minibatch_size: int = Field(4, gt=0)  # responses per optimiser step
    micro_batch_size: int = Field(2, gt=0)  # responses per forward pass (gradient accumulation)
    learning_rate: float = Field(1e-4, gt=0)
    value_learning_rate: float | None = Field(None, gt=0)  # the value head's (and critic's); None: learning_rate
    critic_warmup_steps: int = Field(0, ge=0)  # first steps train only the critic (the policy frozen)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    gamma: float = Field(1.0, ge=0, le=1)
    lam: float = Field(1.0, ge=0, le=1)  # 1.0 as verl: GAE's advantages are then G_t - V_t
    clip_range: float = Field(0.2, gt=0)
    value_clip_range: float = Field(0.2, gt=0)
    value_coef: float = Field(0.1, ge=0)  # TRL's default
    entropy_coef: float = Field(0.0, ge=0)
    whiten_advantages: bool | None = None  # None: the estimator's default
    kl: KLConfig = KLConfig()

    @model_validator(mode="after")
    def _consistent(self) -> AlgorithmConfig:
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {self.estimator!r}; known: {', '.join(sorted(ESTIMATORS))}")
        if ESTIMATORS[self.estimator].uses_groups and self.samples_per_prompt < 2:
            raise ValueError(f"estimator {self.estimator} compares responses to one prompt: samples_per_prompt >= 2")
        if self.minibatch_size % self.micro_batch_size:
            raise ValueError("minibatch_size must be a multiple of micro_batch_size")
        if (self.prompts_per_step * self.samples_per_prompt) % self.minibatch_size:
            raise ValueError("prompts_per_step * samples_per_prompt must be a multiple of minibatch_size")
        return self

    @property
    def batch_size(self) -> int:
        return self.prompts_per_step * self.samples_per_prompt


class CheckpointConfig(_Section):
    every: int = Field(10, gt=0)  # steps between checkpoints (the last step always gets one)
    keep_last: int = Field(2, gt=0)


class EvalConfig(_Section):
    enabled: bool = True
    every: int | None = Field(None, gt=0)  # steps between evaluations; None: only before and after training
    at_start: bool = True
    timeout_s: float = Field(5.0, gt=0)
    # Greedy responses generated together. Decoding is memory-bound (every step reads all weights), so
    # 64 rows cost little more per step than 8: the held-out set is evaluated in one or a few batches.
    batch_size: int = Field(64, gt=0)


class LoggingConfig(_Section):
    tensorboard: bool = True
    plots: bool = True
    progress: bool = True


class ExportConfig(_Section):
    adapter: bool = True
    merged: bool = False


class TrainConfig(_Section):
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # auto: bf16 where the device computes it natively (CUDA, or a CPU with AVX512-BF16/AMX), else fp32
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    output_dir: str = "runs/execrl"
    model: ModelConfig = ModelConfig()
    tasks: TasksConfig = TasksConfig()
    generation: GenerationSettings = GenerationSettings()
    reward: dict[str, Any] | None = None  # an inline reward config (docs/rewards.md)
    reward_config: str | None = None  # or a path to one; neither: the default formula
    algorithm: AlgorithmConfig = AlgorithmConfig()
    checkpoint: CheckpointConfig = CheckpointConfig()
    eval: EvalConfig = EvalConfig()
    logging: LoggingConfig = LoggingConfig()
    export: ExportConfig = ExportConfig()

    @model_validator(mode="after")
    def _one_reward(self) -> TrainConfig:
        if self.reward is not None and self.reward_config is not None:
            raise ValueError("give either reward (inline) or reward_config (a path), not both")
        if self.model.value == "none" and ESTIMATORS[self.algorithm.estimator].needs_critic:
            raise ValueError(f"estimator {self.algorithm.estimator} needs a value head: set model.value: shared")
        if self.generation.temperature <= 0:
            raise ValueError(
                "generation.temperature must be > 0 for training: PPO needs sampled responses and their "
                "probabilities (evaluation is greedy on its own)"
            )
        if self.tasks.source == "robot" and self.model.prompt_format == "chat":
            raise ValueError("robot tasks are prompted completion-style: set model.prompt_format: completion")
        return self

    @property
    def prompt_format(self) -> Literal["chat", "completion"]:
        """The model's prompt format: the configured one, else the task source's."""
        if self.model.prompt_format is not None:
            return self.model.prompt_format
        return "completion" if self.tasks.source == "robot" else "chat"


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a", "b", "c"], value parsed as a YAML scalar or flow collection)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ExecrlError(f"--set {item!r}: expected key=value, e.g. --set algorithm.steps=10")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ExecrlError(f"--set {item!r}: the value is not valid YAML ({exc})") from exc
    return key.strip().split("."), value


def set_dotted(data: dict[str, Any], path: list[str], value: Any, label: str) -> None:
    """``data[a][b][c] = value`` for the path ``[a, b, c]``, creating sections; ``label`` names it in errors."""
    node = data
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ExecrlError(f"{label}: {part!r} is a value, not a section")
        node = child
    node[path[-1]] = value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        path, value = parse_override(item)
        set_dotted(data, path, value, f"--set {item!r}")
    return data


def _validation_message(exc: ValidationError, source: str) -> str:
    lines = [f"invalid training config ({source}):"]
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (see docs/training.md for the keys)"
        lines.append(f"  {path}: {message}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> TrainConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ExecrlError(f"{source}: a training config is a YAML mapping, got {type(data).__name__}")
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ExecrlError(_validation_message(exc, source)) from exc


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    data = read_yaml(path, "training config")
    return data if data is not None else {}


def load_config(path: str | os.PathLike[str] | None, overrides: list[str] = ()) -> TrainConfig:
    """The config at ``path`` (defaults when None) with ``key=value`` overrides applied, validated."""
    data = read_config_file(path) if path is not None else {}
    if not isinstance(data, dict):
        raise ExecrlError(f"{path}: a training config is a YAML mapping, got {type(data).__name__}")
    return parse_config(apply_overrides(data, list(overrides)), str(path or "defaults"))


def dump_config(config: TrainConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
