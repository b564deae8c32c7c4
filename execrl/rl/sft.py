"""Supervised warm start: teach a model the answer format on the built-in Python tasks' canonical solutions.

Only the TRAIN split is used (the held-out instances stay unseen). Each example is the prompt exactly as
the trainer of ``train_config`` builds it (chat template, system prompt, left truncation), followed by the
answer as one ```python block ending with its closing fence (what the PPO configs' stop string ``\\n````
looks for) and the eos token. The loss covers the answer tokens only. The result is a full model
directory, usable as ``model.name`` in a training config.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from execrl.errors import ExecrlError
from execrl.models import encode_prompts, format_prompt, load_causal_lm, load_tokenizer
from execrl.models.tiny import build_tiny_model, is_tiny_spec, parse_tiny_spec, save_model_dir
from execrl.rl.config import TrainConfig, apply_overrides, load_config
from execrl.tasks.builtin import generate_python_tasks
from execrl.tasks.types import Task
from execrl.yaml_files import read_yaml

IGNORE = -100  # the label of a token outside the loss (torch's cross-entropy ignore_index)
TRAIN_SPLIT = "train"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SFTTasks(_Section):
    count: int = Field(2000, gt=0)  # distinct training-split tasks
    seed: int = 1  # generator seed; the levels come from the training config


class SFTConfig(_Section):
    model: str = "tiny:"  # a Hub id, a local directory, an embedded model, or a tiny:... spec (fresh weights)
    tokenizer: str | None = None  # None: the model's own (for a tiny: spec, the embedded smollm2's)
    train_config: str | None = None  # prompts formatted as this training config's trainer formats them
    tasks: SFTTasks = SFTTasks()
    steps: int = Field(300, gt=0)  # optimiser steps
    batch_size: int = Field(16, gt=0)
    learning_rate: float = Field(3e-3, gt=0)
    warmup_steps: int = Field(20, ge=0)  # linear warm-up, then cosine decay to zero
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    seed: int = 0
    output_dir: str = "runs/sft"
    progress: bool = True


@dataclass(frozen=True)
class SFTExample:
    task_id: str
    input_ids: list[int]
    labels: list[int]  # IGNORE on the prompt, the token id on the answer


@dataclass(frozen=True)
class SFTSummary:
    output_dir: str
    steps: int
    examples: int
    epochs: float
    loss_first: float  # mean loss of the first steps
    loss_last: float  # ... and of the last ones
    seconds: float
    parameters: int


def load_sft_config(path: str | os.PathLike[str], overrides: list[str] = ()) -> SFTConfig:
    data = read_yaml(path, "SFT config") or {}
    if not isinstance(data, dict):
        raise ExecrlError(f"{path}: an SFT config is a YAML mapping, got {type(data).__name__}")
    try:
        return SFTConfig.model_validate(apply_overrides(data, list(overrides)))
    except ValidationError as exc:
        lines = [f"invalid SFT config ({path}):"]
        lines += [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ExecrlError("\n".join(lines)) from exc


def answer_text(task: Task) -> str:
    """The target response: the canonical solution as one fenced block, ending with the closing fence."""
    return f"```python\n{task.canonical_solution.rstrip()}\n```"


def sft_tasks(config: SFTConfig, train: TrainConfig) -> list[Task]:
    if train.tasks.source != "builtin":
        raise ExecrlError(
            f"execrl sft warm-starts on the built-in Python tasks; the training config has tasks.source: "
            f"{train.tasks.source} (use a training config with tasks.source: builtin)"
        )
    return generate_python_tasks(
        config.tasks.count, seed=config.tasks.seed, levels=list(train.tasks.levels), split=TRAIN_SPLIT
    )


def build_examples(tokenizer: Any, tasks: list[Task], train: TrainConfig) -> list[SFTExample]:
    """Prompt ids as the trainer builds them, then the answer's ids and eos, labelled on the answer only."""
    if train.prompt_format == "completion":
        texts = [task.prompt for task in tasks]
    else:
        texts = [format_prompt(tokenizer, task.prompt, train.model.system_prompt) for task in tasks]
    prompts = encode_prompts(tokenizer, texts, train.generation.max_prompt_tokens)
    examples = []
    for task, prompt in zip(tasks, prompts):
        answer = tokenizer(answer_text(task), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        examples.append(SFTExample(task.task_id, prompt + answer, [IGNORE] * len(prompt) + answer))
    return examples


def collate(examples: list[SFTExample], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded input ids, attention mask and labels (IGNORE on padding)."""
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(example.labels)
    return ids, mask, labels


def answer_loss(model: Any, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy over the labelled tokens.

    The output projection runs on the labelled positions only: with a large vocabulary and a small
    model it is most of the compute, and the prompt positions would be thrown away.
    """
    hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
    targets = labels[:, 1:]
    chosen = targets != IGNORE
    logits = model.get_output_embeddings()(hidden[chosen])
    return torch.nn.functional.cross_entropy(logits.float(), targets[chosen])


def _schedule(step: int, config: SFTConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * progress))


def load_model_and_tokenizer(config: SFTConfig) -> tuple[Any, Any]:
    if is_tiny_spec(config.model):
        tokenizer = load_tokenizer(config.tokenizer or "smollm2")
        return build_tiny_model(parse_tiny_spec(config.model), tokenizer, seed=config.seed), tokenizer
    return load_causal_lm(config.model), load_tokenizer(config.tokenizer or config.model)


class _Batches:
    """Examples in epochs, each a fresh seeded permutation."""

    def __init__(self, examples: list[SFTExample], batch_size: int, seed: int) -> None:
        self.examples, self.batch_size, self.seed = examples, batch_size, seed
        self.position = 0

    def take(self) -> list[SFTExample]:
        out = []
        for _ in range(self.batch_size):
            epoch, index = divmod(self.position, len(self.examples))
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.examples))
            out.append(self.examples[int(order[index])])
            self.position += 1
        return out


def train_sft(config: SFTConfig, console: Console | None = None) -> SFTSummary:
    console = console or Console(stderr=True)
    train = load_config(config.train_config) if config.train_config else TrainConfig()
    started = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(config)
    examples = build_examples(tokenizer, sft_tasks(config, train), train)
    batches = _Batches(examples, config.batch_size, config.seed)
    torch.manual_seed(config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _schedule(step, config))
    model.train()
    losses: list[float] = []
    columns = (TextColumn("sft"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not config.progress) as progress:
        bar = progress.add_task("sft", total=config.steps, loss="")
        for _ in range(config.steps):
            loss = answer_loss(model, *collate(batches.take(), tokenizer.pad_token_id))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            progress.update(bar, advance=1, loss=f"loss {np.mean(losses[-10:]):.3f}")
    model.eval()
    output = save_model_dir(model, tokenizer, config.output_dir)
    window = max(1, min(10, len(losses) // 4))
    summary = SFTSummary(
        output_dir=str(output),
        steps=config.steps,
        examples=len(examples),
        epochs=batches.position / len(examples),
        loss_first=float(np.mean(losses[:window])),
        loss_last=float(np.mean(losses[-window:])),
        seconds=time.perf_counter() - started,
        parameters=sum(p.numel() for p in model.parameters()),
    )
    (output / "sft_config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    (output / "sft_summary.json").write_text(json.dumps({**asdict(summary), "losses": losses}, indent=2))
    return summary

