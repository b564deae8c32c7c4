from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from execrl.cli import main
from execrl.errors import ExecrlError
from execrl.models import GenerationSettings, encode_prompts, format_prompt, generate, load_tokenizer
from execrl.rl import sft
from execrl.models.precision import resolve_precision
from execrl.rl.build import Runtime, build_actor_critic
from execrl.rl.config import ModelConfig, TrainConfig, dump_config
from execrl.rl.sft import (
    IGNORE,
    SFTConfig,
    SFTTasks,
    answer_text,
    build_examples,
    collate,
    load_sft_config,
    sft_tasks,
    train_sft,
)
from execrl.tasks.builtin import generate_python_tasks

SPEC = "tiny:hidden=32,layers=1,heads=2,kv_heads=1,intermediate=64"


def _config(tmp_path: Path, tokenizer_dir: Path, **changes) -> SFTConfig:
    values = {
        "model": SPEC, "tokenizer": str(tokenizer_dir), "tasks": SFTTasks(count=24, seed=3), "steps": 12,
        "batch_size": 4, "learning_rate": 1e-2, "warmup_steps": 0, "output_dir": str(tmp_path / "sft"),
        "progress": False,
    }
    return SFTConfig(**{**values, **changes})


def test_only_the_answer_is_labelled(tiny_tokenizer_dir) -> None:
    tokenizer = load_tokenizer(str(tiny_tokenizer_dir))
    train = TrainConfig()
    tasks = generate_python_tasks(6, seed=0, levels=[1, 2])
    examples = build_examples(tokenizer, tasks, train)
    texts = [format_prompt(tokenizer, t.prompt, train.model.system_prompt) for t in tasks]
    prompts = encode_prompts(tokenizer, texts, train.generation.max_prompt_tokens)  # as the trainer encodes
    for task, prompt, example in zip(tasks, prompts, examples):
        n = len(prompt)
        assert example.input_ids[:n] == prompt
        assert example.labels[:n] == [IGNORE] * n
        assert example.labels[n:] == example.input_ids[n:]
        answer = example.labels[n:]
        assert answer[-1] == tokenizer.eos_token_id
        text = tokenizer.decode(answer[:-1])
        assert text == answer_text(task)
        assert text.startswith("```python\n") and text.endswith("\n```")  # the PPO configs' stop string
        assert task.canonical_solution.strip() in text


def test_collate_pads_outside_the_loss(tiny_tokenizer_dir) -> None:
    tokenizer = load_tokenizer(str(tiny_tokenizer_dir))
    examples = build_examples(tokenizer, generate_python_tasks(3, seed=1, levels=[1]), TrainConfig())
    ids, mask, labels = collate(examples, tokenizer.pad_token_id)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        assert mask[row].sum() == n
        assert labels[row, n:].eq(IGNORE).all()
        assert ids[row, :n].tolist() == example.input_ids


def test_answer_loss_ignores_prompt_tokens(tiny_tokenizer_dir) -> None:
    config = SFTConfig(model=SPEC, tokenizer=str(tiny_tokenizer_dir))
    model, tokenizer = sft.load_model_and_tokenizer(config)
    examples = build_examples(tokenizer, generate_python_tasks(2, seed=2, levels=[1]), TrainConfig())
    ids, mask, labels = collate(examples, tokenizer.pad_token_id)
    loss = sft.answer_loss(model, ids, mask, labels)
    # The same loss computed the plain way: full logits, shifted labels, ignore_index.
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
    assert torch.allclose(loss, expected, atol=1e-5)
    answers = sum(sum(label != IGNORE for label in e.labels) for e in examples)
    assert int((labels != IGNORE).sum()) == answers < int(mask.sum())


def test_held_out_tasks_are_never_used(monkeypatch, tmp_path, tiny_tokenizer_dir) -> None:
    calls = []

    def recording(*args, **kwargs):
        calls.append(kwargs.get("split", "train"))
        return generate_python_tasks(*args, **kwargs)

    monkeypatch.setattr(sft, "generate_python_tasks", recording)
    train = TrainConfig.model_validate({"tasks": {"levels": [1, 2, 3]}})
    tasks = sft_tasks(SFTConfig(tasks=SFTTasks(count=300, seed=5)), train)
    assert calls == ["train"]
    assert all(t.split == "train" for t in tasks)
    held = generate_python_tasks(200, seed=5, levels=[1, 2, 3], split="heldout")
    # An instance is its template, constants and tests (a prompt shows only one test, so prompts can recur).
    assert not {t.test_asserts for t in tasks} & {t.test_asserts for t in held}


def test_other_task_sources_are_refused() -> None:
    with pytest.raises(ExecrlError, match="builtin"):
        sft_tasks(SFTConfig(), TrainConfig.model_validate({"tasks": {"source": "mbpp"}}))


def test_loss_goes_down_and_the_saved_dir_trains_and_generates(tmp_path, tiny_tokenizer_dir) -> None:
    summary = train_sft(_config(tmp_path, tiny_tokenizer_dir))
    assert summary.loss_last < summary.loss_first - 0.5
    assert summary.examples == 24 and summary.epochs == pytest.approx(12 * 4 / 24)

    # The directory is a full model, loadable as a training config's model.name (full fine-tuning).
    model, tokenizer = build_actor_critic(
        ModelConfig.model_validate({"name": summary.output_dir, "lora": {"enabled": False}}),
        Runtime(torch.device("cpu"), resolve_precision("fp32", torch.device("cpu"))),
    )
    assert not model.uses_adapter
    prompt = encode_prompts(tokenizer, [format_prompt(tokenizer, "Write f(x).", "Answer in Python.")], 128)
    generated = generate(model.policy, tokenizer, prompt, GenerationSettings(max_new_tokens=8), greedy=True)
    assert generated.lengths[0] > 0
    assert (Path(summary.output_dir) / "sft_summary.json").is_file()


def test_cli_runs_a_config_with_overrides(tmp_path, tiny_tokenizer_dir, capsys) -> None:
    train_path = tmp_path / "train.yaml"
    train_path.write_text(dump_config(TrainConfig.model_validate({"tasks": {"levels": [2]}})))
    config = _config(tmp_path, tiny_tokenizer_dir, train_config=str(train_path)).model_dump(mode="json")
    path = tmp_path / "sft.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["sft", "--config", str(path), "--set", "steps=2", "--set", f"output_dir={tmp_path / 'out'}"]) == 0
    assert (tmp_path / "out" / "config.json").is_file()
    assert "2 steps" in capsys.readouterr().out


def test_config_errors_name_the_key(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("steps: 0\nlearning_rat: 1\n")
    with pytest.raises(ExecrlError) as error:
        load_sft_config(path)
    assert "steps" in str(error.value) and "learning_rat" in str(error.value)
