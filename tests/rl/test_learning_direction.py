"""Training moves the policy the right way: for every estimator, a rewarded token becomes likelier
and a located penalty makes the penalised token rarer.

Each test runs the whole trainer (rollout, judges, credit, KL, estimator, PPO update) on a tiny
random model, on one prompt, and reads the policy's exact probability of the chosen first token
before and after a few steps. The token is one the untrained model already writes now and then
(so that it is sampled), whose text no other token's text starts with (so that a judge reading text
sees exactly that token). Flipping the sign of the reward, of the advantages or of the policy loss
makes these tests fail (tried by hand; listed in the closing note of issue #12).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import rl_test_judges
import torch
from fixtures.tiny_model import make_tiny_model

from execrl.rl import Trainer, parse_config

ESTIMATORS = ("gae", "rloo", "grpo", "reinforce_pp")
TEMPERATURE = 1.0
STEPS = 4


@pytest.fixture(scope="module")
def peaked_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # At the default init scale the logits are nearly uniform: no token is sampled often enough.
    return make_tiny_model(tmp_path_factory.mktemp("peaked_model"), init_std=0.3)


def toy_trainer(model_dir: Path, out: Path, estimator: str, judge: str, credit: dict[str, Any]) -> Trainer:
    config = {
        "seed": 0,
        "precision": "fp32",
        "output_dir": str(out),
        "model": {"name": str(model_dir), "lora": {"rank": 8, "alpha": 16},
                  "value": "shared" if estimator == "gae" else "none"},
        "tasks": {"train_size": 1, "eval_size": 1},
        "generation": {"max_new_tokens": 3, "max_prompt_tokens": 64, "temperature": TEMPERATURE},
        "reward": {"judges": {"toy": {"kind": "plugin", **credit, "settings": {"callable": f"rl_test_judges:{judge}"}}}},
        "algorithm": {"estimator": estimator, "steps": STEPS, "prompts_per_step": 1, "samples_per_prompt": 16,
                      "minibatch_size": 8, "micro_batch_size": 8, "epochs": 2, "learning_rate": 5e-3,
                      "kl": {"coef": 0.0}},
        "checkpoint": {"every": 100},
        "eval": {"enabled": False},
        "logging": {"tensorboard": False, "plots": False, "progress": False},
        "export": {"adapter": False},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(parse_config(config))


@torch.no_grad()
def first_token_probs(trainer: Trainer) -> torch.Tensor:
    (ids,) = trainer.prompt_ids(trainer.stream.tasks[:1])
    logits = trainer.model.policy(input_ids=torch.tensor([ids])).logits[0, -1].float()
    return torch.softmax(logits / TEMPERATURE, -1)


def pick_target(trainer: Trainer, low: float, high: float) -> int:
    """A first token with probability in [low, high] whose text is not a prefix of any other token's."""
    probs = first_token_probs(trainer)
    pieces = trainer.tokenizer.batch_decode([[i] for i in range(len(probs))], skip_special_tokens=True)
    for token in torch.argsort(probs, descending=True).tolist():
        piece = pieces[token]
        unique = piece and "\ufffd" not in piece and sum(p.startswith(piece) for p in pieces) == 1
        if unique and low <= float(probs[token]) <= high:
            return token
    raise AssertionError("the tiny model has no suitable first token")


def train(trainer: Trainer, token: int, monkeypatch: pytest.MonkeyPatch) -> tuple[float, float]:
    monkeypatch.setattr(rl_test_judges, "TARGET", trainer.tokenizer.decode([token]))
    before = float(first_token_probs(trainer)[token])
    for _ in range(STEPS):
        trainer.step()
        trainer.state.step += 1
    return before, float(first_token_probs(trainer)[token])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_a_rewarded_first_token_becomes_likelier(
    peaked_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, estimator: str
) -> None:
    trainer = toy_trainer(peaked_model_dir, tmp_path, estimator, "starts_with_target", {"credit": "terminal"})
    before, after = train(trainer, pick_target(trainer, 0.05, 0.2), monkeypatch)
    assert after > 2 * before and after > before + 0.15, (estimator, before, after)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_a_located_penalty_makes_the_penalised_token_rarer(
    peaked_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, estimator: str
) -> None:
    credit = {"credit": "localized", "credit_options": {"fraction": 1.0}}
    trainer = toy_trainer(peaked_model_dir, tmp_path, estimator, "penalise_target", credit)
    before, after = train(trainer, pick_target(trainer, 0.15, 0.6), monkeypatch)
    assert after < 0.5 * before, (estimator, before, after)
